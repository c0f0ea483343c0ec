"""Claims: atomic, heartbeat-guarded ownership of candidates shared by a campaign's workers.

Optuna storage has no insert-if-absent on attributes, so two workers reading the same
history could verify the same candidate. A small table beside optuna's, in the same
database (``searchlab_claims``), gives each (campaign, key) one row: inserting the row *is*
the claim, made atomic by the primary key in SQLite and PostgreSQL alike. The owner beats a
heartbeat while it verifies; a claim whose owner stopped beating for ``grace`` seconds is
taken over by exactly one other worker (a compare-and-swap ``UPDATE``). Rounds are
numbered through the same table (``round:NNNNN`` rows), so two workers never write the
same round record.

An owner that comes back under the same name (a single ``searchlab run`` restarted after a
kill) finds its own unfinished claims re-entrant: it does not wait for the grace period.

Example:
    >>> from searchlab.store.claims import Claims
    >>> a = Claims("sqlite:///:memory:", "demo", owner="a")
    >>> b = Claims(a, owner="b")  # same table, another worker
    >>> a.acquire("k1"), b.acquire("k1"), a.acquire("k1")
    (True, False, True)
    >>> a.finish("k1"); [c.key for c in b.recoverable()]
    []
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

TABLE = "searchlab_claims"
ROUND = "round:"


@dataclass(frozen=True)
class Claim:
    """One row: who holds a key, its optuna trial number (once created), last heartbeat."""

    key: str
    owner: str
    trial: int | None
    beat: float
    done: bool


class Claims:
    """The claims of one campaign as seen by one owner (a worker or a single run)."""

    def __init__(
        self,
        url_or_peer: str | Claims,
        campaign: str | None = None,
        owner: str = "main",
        grace: float = 60.0,
    ) -> None:
        if isinstance(url_or_peer, Claims):  # share the peer's engine (one in-memory db)
            peer = url_or_peer
            self.engine, self.table = peer.engine, peer.table
            self.campaign = campaign or peer.campaign
        else:
            if campaign is None:
                raise ValueError("Claims needs a campaign name")
            self.engine = _engine(url_or_peer)
            meta = sa.MetaData()
            self.table = sa.Table(
                TABLE,
                meta,
                sa.Column("campaign", sa.String(512), primary_key=True),
                sa.Column("key", sa.String(128), primary_key=True),
                sa.Column("owner", sa.String(256), nullable=False),
                sa.Column("trial", sa.Integer, nullable=True),
                sa.Column("beat", sa.Float, nullable=False),
                sa.Column("done", sa.Boolean, nullable=False, default=False),
            )
            meta.create_all(self.engine, checkfirst=True)
            self.campaign = campaign
        if grace <= 0:
            raise ValueError(f"grace must be positive seconds, got {grace!r}")
        self.owner, self.grace = owner, float(grace)

    # ----- claiming ------------------------------------------------------------------------
    def acquire(self, key: str) -> bool:
        """Claim ``key``; False when another owner holds it or it is finished."""
        return self.take(key) is not None

    def take(self, key: str) -> str | None:
        """Claim ``key``: "new" when nobody had, "held" when this owner already holds it
        unfinished (a claim cut off earlier), None when another owner holds it or it is done."""
        t = self.table
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    t.insert().values(
                        campaign=self.campaign, key=key, owner=self.owner, trial=None,
                        beat=time.time(), done=False,
                    )
                )  # fmt: skip
            return "new"
        except IntegrityError:
            row = self.get(key)
            return "held" if row is not None and row.owner == self.owner and not row.done else None

    def attach(self, key: str, trial: int) -> None:
        """Record the optuna trial number created for a claimed key."""
        self._update(key, trial=int(trial))

    def finish(self, key: str) -> None:
        """Mark a claim done (its trial is finished): nobody takes it over again."""
        self._update(key, done=True)

    def release(self, key: str) -> None:
        """Forget a claim that never got a trial, so the key can be proposed again."""
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.campaign == self.campaign, t.c.key == key))

    def beat(self) -> None:
        """Heartbeat: every unfinished claim of this owner is alive now."""
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(
                t.update()
                .where(t.c.campaign == self.campaign, t.c.owner == self.owner, ~t.c.done)
                .values(beat=time.time())
            )

    # ----- recovery --------------------------------------------------------------------------
    def recoverable(self) -> list[Claim]:
        """Unfinished claims this owner may finish: its own, and others' gone stale."""
        t, cutoff = self.table, time.time() - self.grace
        rows = self._select(~t.c.done, sa.or_(t.c.owner == self.owner, t.c.beat < cutoff))
        return sorted(rows, key=lambda c: (c.trial is None, c.trial, c.key))

    def take_over(self, claim: Claim) -> bool:
        """Become the owner of a recoverable claim; False when another worker was first."""
        if claim.owner == self.owner:
            return True
        t = self.table
        with self.engine.begin() as conn:
            moved = conn.execute(
                t.update()
                .where(
                    t.c.campaign == self.campaign,
                    t.c.key == claim.key,
                    t.c.owner == claim.owner,
                    t.c.beat == claim.beat,
                    ~t.c.done,
                )
                .values(owner=self.owner, beat=time.time())
            ).rowcount
        return moved == 1

    def get(self, key: str) -> Claim | None:
        """The row of ``key`` (None when unclaimed)."""
        rows = self._select(self.table.c.key == key)
        return rows[0] if rows else None

    def live(self) -> list[Claim]:
        """Unfinished candidate claims of other owners that still beat (work in flight)."""
        return self.open_elsewhere(self.table.c.beat >= time.time() - self.grace)

    def open_elsewhere(self, *where: sa.ColumnElement[bool]) -> list[Claim]:
        """Unfinished candidate claims of other owners, beating or gone silent (or as
        ``where`` narrows them)."""
        t = self.table
        return self._select(~t.c.done, t.c.owner != self.owner, ~t.c.key.startswith(ROUND), *where)

    # ----- rounds ------------------------------------------------------------------------------
    def next_round(self, start: int) -> int:
        """The first round index from ``start`` this owner gets to write."""
        index = start
        while not self.acquire(round_key(index)):
            index += 1
        return index

    # ----- internals ---------------------------------------------------------------------------
    def _select(self, *where: sa.ColumnElement[bool]) -> list[Claim]:
        """This campaign's rows matching every condition."""
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.campaign == self.campaign, *where)).all()
        return [_claim(r) for r in rows]

    def _update(self, key: str, **values: object) -> None:
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(
                t.update().where(t.c.campaign == self.campaign, t.c.key == key).values(**values)
            )


def round_key(index: int) -> str:
    """The claims-table key that reserves round ``index``."""
    return f"{ROUND}{index:05d}"


class Heartbeat:
    """Context manager: beat an owner's claims every ``every`` seconds from a thread."""

    def __init__(self, claims: Claims, every: float) -> None:
        self.claims, self.every = claims, float(every)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self.claims.beat()
        self._thread = threading.Thread(target=self._run, name="searchlab-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.claims.beat()
            except Exception:  # noqa: BLE001  (a lost connection: try again next beat)
                continue

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _claim(row: sa.Row) -> Claim:
    m = row._mapping
    trial = m["trial"]
    return Claim(m["key"], m["owner"], None if trial is None else int(trial), m["beat"], m["done"])


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        # every connection to :memory: is a new database: keep one, shared by threads
        return sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 60})
    return sa.create_engine(url, pool_pre_ping=True)
