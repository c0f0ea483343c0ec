"""Round logs: what each round of a campaign did, as one log line and as a stored record.

When a campaign starts, and after each of its rounds, one line goes to the
``searchlab.campaign.loop`` logger. Under ``searchlab run`` hydra's job logging writes it to the
console and to ``campaign.log`` in the run folder at once, whether or not the output is a
terminal (from Python, ``logging.basicConfig(level=logging.INFO)`` shows it). A round's line
gives the evaluations so far against the budget, the best verified feasible value of each
objective, the hypervolume (several objectives), the surrogate's Kendall tau and 80 %
interval coverage on the values it predicted *before* they were verified (since its last
update), who picked the round's batch (the surrogate's share, earned by its measured health:
:mod:`searchlab.campaign.trust`, and the strategy's) with the trust it came from, and the seconds
spent updating the surrogate (linking, or fine-tuning). The same figures are
stored with the round (``store.rounds()[i]["log"]``) and listed under ``rounds`` in
``summary.json``.

Example:
    >>> from searchlab.campaign.round_log import RoundLog
    >>> log = RoundLog(round=2, proposed=500, verified=10, failed=0, total_verified=30,
    ...                model="m", done=30, budget=100, best={"acc": 93.52},
    ...                tau={"acc": 0.41}, coverage80={"acc": 0.8}, health_on=10,
    ...                surrogate="m", finetune_seconds=12.34, seconds=60.0,
    ...                picked_by_surrogate=6, picked_by_strategy=4,
    ...                trust={"share": 0.6, "tau": 0.41, "on": 30, "from": "verified"})
    >>> print(log.line())  # doctest: +NORMALIZE_WHITESPACE
    round 2: 30/100 verified; best acc 93.52; surrogate m on 10 values predicted before
    verification: tau 0.41, 80 % interval coverage 0.80; picks: surrogate 6, strategy 4
    (trust 0.60: tau 0.41 on 30 values predicted before verification); surrogate update
    12.3 s, round 60.0 s
    >>> log.health_brief()
    'tau 0.41  cover80 0.80'
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from searchlab.campaign import upkeep
from searchlab.report.summary import plain, standing

logger = logging.getLogger("searchlab.campaign.loop")


@dataclass
class RoundLog:
    """What one round did (logged, stored with the round, shown by the progress bar)."""

    round: int
    proposed: int
    verified: int
    failed: int
    total_verified: int
    model: str | None
    tau: dict[str, float] = field(default_factory=dict)
    coverage80: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    pruned: int = 0  #: stopped early by a multi-fidelity verifier (not counted as failed)
    done: int = 0  #: candidates evaluated so far (verified, failed or stopped early)
    budget: int | None = None  #: the evaluations this run works towards
    best: dict[str, float | None] = field(default_factory=dict)  #: best verified feasible
    hypervolume: float | None = None  #: of the verified feasible front (several objectives)
    surrogate: str | None = None  #: the surrogate's model after the round (None: none used)
    health_on: int = 0  #: verified values that tau and coverage are measured on
    finetune_seconds: float = 0.0  #: spent updating the surrogate (links, fine-tuning) this round
    #: picks the surrogate made (its share, :mod:`~searchlab.campaign.trust`)
    picked_by_surrogate: int = 0
    picked_by_strategy: int = 0  #: picks the strategy's own proposals filled
    trust: dict[str, Any] | None = None  #: the health the split came from (``Verdict.to_dict``)

    def line(self) -> str:
        """The round's log line."""
        count = f"{self.done}/{self.budget}"
        count += " verified" if self.done == self.total_verified else " evaluated"
        if self.done != self.total_verified:
            count += f" ({self.total_verified} verified)"
        best = ", ".join(f"{n} {_num(v)}" for n, v in self.best.items())
        parts = [f"round {self.round}: {count}", f"best {best}"]
        if self.hypervolume is not None:
            parts.append(f"hypervolume {_num(self.hypervolume)}")
        parts.append(self._health())
        if self.trust is not None:
            parts.append(self._split())
        parts.append(f"surrogate update {self.finetune_seconds:.1f} s, round {self.seconds:.1f} s")
        return "; ".join(parts)

    def health_brief(self) -> str:
        """The surrogate's health in a few labelled words (for the progress bar)."""
        if self.surrogate is None:
            return "no surrogate"
        if not self.health_on:
            return "tau n/a"
        tau = "/".join(_fixed(self.tau.get(n)) for n in self.coverage80)
        cover = "/".join(_fixed(v) for v in self.coverage80.values())
        return f"tau {tau}  cover80 {cover}"

    def _health(self) -> str:
        if self.surrogate is None:
            return "no surrogate"
        if not self.health_on:
            return f"surrogate {self.surrogate}: nothing it predicted is verified yet"
        names = list(self.coverage80)

        def figures(values: dict[str, float]) -> str:
            if len(names) == 1:  # one predicted objective: a name would add nothing
                return _fixed(values.get(names[0]))
            return ", ".join(f"{n} {_fixed(values.get(n))}" for n in names)

        return (
            f"surrogate {self.surrogate} on {self.health_on} values predicted before "
            f"verification: tau {figures(self.tau)}, "
            f"80 % interval coverage {figures(self.coverage80)}"
        )

    def _split(self) -> str:
        """Who picked the batch, and the trust it came from."""
        t = self.trust or {}
        where = {
            "verified": "values predicted before verification",
            "self-check": "values it learned from (its own check)",
        }
        if t.get("from") in where:
            basis = f"tau {_fixed(t.get('tau'))} on {t.get('on')} {where[t['from']]}"
        else:
            basis = "nothing measured yet"
        text = (
            f"picks: surrogate {self.picked_by_surrogate}, strategy {self.picked_by_strategy} "
            f"(trust {_fixed(t.get('share'))}: {basis})"
        )
        cheap = [
            f"{n} by {r}" for n, (r, _) in (t.get("ranked_by") or {}).items() if r != "surrogate"
        ]
        return text + (f"; ranked {', '.join(cheap)}" if cheap else "")


def _num(value: float | None) -> str:
    return "none" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _fixed(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _where(c: Any) -> str:
    url = c.store.claims.engine.url.render_as_string(hide_password=True)
    folder = "" if c.run_dir is None else f"; run folder {c.run_dir}"
    return f"store {url}{folder}"


def started(c: Any, budget: int) -> None:
    """Log what campaign ``c`` runs and where, before its first round."""
    surrogate = "none" if c.surrogate is None else c.surrogate.name
    objectives = ", ".join(f"{o.name} ({o.direction[:3]})" for o in c.objectives)
    done = len(c.store.finished())
    logger.info(
        "campaign %s %s: space %s, strategy %s, surrogate %s, verifier %s, objectives %s; "
        "budget %d, %d evaluated; %s",
        c.store.study.study_name, "resuming" if done else "starting", c.space.name,
        c.strategy.name, surrogate, c.verifier.name, objectives, budget, done, _where(c),
    )  # fmt: skip


def finish(c: Any, log: RoundLog, budget: int) -> None:
    """Complete ``log`` with the campaign's standing and health; store it and log its line."""
    finished = c.store.finished()
    verified = [r.values for r in finished if r.state == "COMPLETE"]
    log.done, log.budget, log.total_verified = len(finished), int(budget), len(verified)
    log.best, log.hypervolume = standing(verified, c.objectives)
    if len(c.objectives) == 1:
        log.hypervolume = None  # one objective: the best value says it all
    if c.surrogate is not None:
        log.surrogate = c.surrogate.name
        rows = upkeep.predicted_since_finetune(c)  # read once: counted, then scored
        log.health_on = len(rows)
        log.tau, log.coverage80 = upkeep.health(c, rows)
    c.store.save_round_log(log.round, plain(asdict(log)))
    logger.info(log.line())


def stored_logs(store: Any) -> list[dict[str, Any]]:
    """The logs of every round of a store that has one, in round order."""
    return [r["log"] for r in store.rounds() if r.get("log")]
