"""Pool verifier: runs any verifier's candidates in worker processes, with limits per candidate.

Each candidate runs in a "spawn"ed worker process (by default a fresh one per candidate, so a
leak, a crash or a stuck native call stays with it). A candidate running longer than
``time_limit`` seconds is killed and recorded as failed ``"timeout after T s"``; a worker
that dies (segfault, ``os._exit``, out of memory) is recorded as failed
``"worker died (exit code X)"``; the other candidates go on. Results are yielded as they
complete, so a slow candidate never holds back faster ones.

``memory_limit_gb`` caps each worker's address space (``RLIMIT_AS``): with
``workers * memory_limit_gb`` at most the machine's RAM (e.g. 3 workers x 7 GiB on a 24 GiB
machine) a runaway candidate fails with MemoryError instead of taking the machine down. It
counts virtual memory, not resident memory, so leave headroom; CUDA reserves far more address
space than it uses, so do not set it for workers that use a GPU.

The wrapped verifier travels to the workers by pickle: it must be picklable (the tabular and
latency verifiers are), which ``PoolVerifier`` checks up front. Workers import the verifier's
module by name, so its class must live in an importable module, not in ``__main__``; and as
"spawn" re-imports the main script in every worker, a script using the pool needs the
``if __name__ == "__main__":`` guard (without it each worker dies: "worker died (exit code 1)").
Without a time or memory limit and with ``workers`` 0 or 1, candidates run in this process.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.verifiers.pool import PoolVerifier
    >>> from searchlab.verifiers.lookup import TabularVerifier
    >>> space = load_space("nb201")
    >>> pool = PoolVerifier(TabularVerifier(space), workers=2, time_limit=60)
    >>> pool.name, pool.source, pool.settings()["workers"], pool.settings()["time_limit"]
    ('tabular', 'benchmark', 2, 60)
    >>> cands = [space.sample(np.random.default_rng(s)) for s in range(3)]
    >>> in_process = PoolVerifier(TabularVerifier(space), workers=0)
    >>> [e.ok for e in in_process.verify(cands, ["acc_cifar10_test"])]
    [True, True, True]
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation, Source
from searchlab.verifiers.base import Verifier, VerifierError

#: seconds a worker may take to start (import the verifier's modules) when limits are set
STARTUP_LIMIT_S = 300.0


def _worker_main(conn: Connection, memory_bytes: int | None, tasks: int) -> None:
    """Worker process: load the verifier, then evaluate the candidates sent, ``tasks`` at most."""
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # its own process group, so a kill also reaches processes it started
    # the pickled verifier (megabytes for a table) comes over the pipe once this process reads
    # it: as a Process argument it would be written before the child runs, and a child that
    # dies while starting would leave that write blocked forever
    conn.send(("hello", None))
    try:
        if memory_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        verifier = pickle.loads(conn.recv_bytes())
    except BaseException as exc:  # noqa: BLE001  (reported to the parent, which decides)
        conn.send(("broken", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    for _ in range(tasks):
        try:
            task = conn.recv()
        except EOFError:  # the parent went away
            return
        if task is None:
            return
        index, candidate, objectives = task
        conn.send(("done", (index, verifier.evaluate(candidate, objectives))))


def _died(code: int | None) -> str:
    """The reason recorded for a worker that exited while running a candidate."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"worker died (exit code {code}, killed by {signal.Signals(-code).name})"
    return f"worker died (exit code {code})"


class _Worker:
    """Parent-side handle of one worker process and the candidate it is running."""

    def __init__(self, pool: PoolVerifier, payload: bytes, task: tuple[int, Candidate]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        memory = int(pool.memory_limit_gb * 2**30) if pool.memory_limit_gb else None
        self.process = ctx.Process(target=_worker_main, args=(child, memory, pool.tasks_per_worker))
        self.process.start()
        child.close()
        self.payload = payload
        self.task: tuple[int, Candidate] | None = task
        self.tasks_left = pool.tasks_per_worker
        self.ready = False
        self.started = time.monotonic()
        self.deadline = self.started + STARTUP_LIMIT_S if pool.time_limit else None

    def assign(
        self, task: tuple[int, Candidate], objectives: Sequence[str], limit: float | None
    ) -> None:
        """Send a candidate to the (ready) worker and start its clock."""
        self.task, self.tasks_left = task, self.tasks_left - 1
        self.started = time.monotonic()
        self.deadline = self.started + limit if limit else None
        with contextlib.suppress(OSError):  # if it died meanwhile, its sentinel tells
            self.conn.send((task[0], task[1], list(objectives)))

    def messages(self) -> list[tuple[str, Any]]:
        """Every message waiting on the pipe (none once it is closed)."""
        out = []
        with contextlib.suppress(EOFError, OSError):
            while self.conn.poll():
                out.append(self.conn.recv())
        return out

    def stop(self) -> None:
        """Kill the worker (and its process group) if it still runs, and reap it."""
        if self.process.exitcode is None:
            try:
                # the pid cannot be reused before it is reaped, so this group is the worker's
                os.killpg(self.process.pid, signal.SIGKILL)
            except (AttributeError, ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


class PoolVerifier(Verifier):
    """Runs a wrapped verifier in worker processes, with per-candidate time and memory limits."""

    def __init__(
        self,
        inner: Verifier,
        workers: int = 2,
        time_limit: float | None = None,
        memory_limit_gb: float | None = None,
        tasks_per_worker: int = 1,
    ) -> None:
        super().__init__(inner.space)
        if not isinstance(workers, int) or workers < 0:
            raise VerifierError(f"pool: workers must be an int >= 0, got {workers!r}")
        if time_limit is not None and not time_limit > 0:
            raise VerifierError(f"pool: time_limit must be > 0 seconds, got {time_limit!r}")
        if memory_limit_gb is not None and not memory_limit_gb > 0:
            raise VerifierError(f"pool: memory_limit_gb must be > 0, got {memory_limit_gb!r}")
        if not isinstance(tasks_per_worker, int) or tasks_per_worker < 1:
            raise VerifierError(
                f"pool: tasks_per_worker must be an int >= 1, got {tasks_per_worker!r}"
            )
        self.inner = inner
        self.workers, self.time_limit, self.memory_limit_gb = workers, time_limit, memory_limit_gb
        self.tasks_per_worker = tasks_per_worker
        self._payload()  # fail now, not in the middle of a campaign

    @property
    def name(self) -> str:
        """The wrapped verifier's name."""
        return self.inner.name

    @property
    def source(self) -> Source:
        """The wrapped verifier's source."""
        return self.inner.source

    def provides(self, objective: str) -> bool:
        """Whatever the wrapped verifier provides."""
        return self.inner.provides(objective)

    def settings(self) -> dict[str, Any]:
        """The wrapped verifier's settings plus the pool's."""
        return {
            **self.inner.settings(),
            "workers": self.workers,
            "time_limit": self.time_limit,
            "memory_limit_gb": self.memory_limit_gb,
            "tasks_per_worker": self.tasks_per_worker,
        }

    def in_process(self) -> bool:
        """True when candidates run in this process (one worker and no limits to enforce)."""
        return self.workers <= 1 and self.time_limit is None and self.memory_limit_gb is None

    def iter_verify(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        """(index, evaluation) in completion order; timeouts and crashes become failures."""
        self.check(objectives)
        if self.in_process():
            yield from self.inner.iter_verify(candidates, objectives)
            return
        yield from self._run(self._payload(), list(enumerate(candidates)), list(objectives))

    def evaluate(self, candidate: Candidate, objectives: Sequence[str]) -> Evaluation:
        """Verify one candidate under the pool's limits."""
        if self.in_process():
            return self.inner.evaluate(candidate, objectives)
        return next(self._run(self._payload(), [(0, candidate)], list(objectives)))[1]

    def _verify_one(self, candidate: Candidate, objectives: Sequence[str]) -> dict[str, float]:
        evaluation = self.evaluate(candidate, objectives)
        if not evaluation.ok:
            raise RuntimeError(evaluation.error)
        return evaluation.values

    def _payload(self) -> bytes:
        try:
            return pickle.dumps(self.inner)
        except Exception as exc:
            raise VerifierError(
                f"pool: verifier {self.inner.name!r} cannot be pickled for the worker "
                f"processes ({type(exc).__name__}: {exc})"
            ) from None

    def _failure(self, worker: _Worker, reason: str) -> tuple[int, Evaluation]:
        assert worker.task is not None  # only called while it runs one
        index, candidate = worker.task
        seconds = time.monotonic() - worker.started
        return index, Evaluation.failure(candidate.key, self.source, reason, seconds)

    def _run(
        self, payload: bytes, tasks: list[tuple[int, Candidate]], objectives: list[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        pending, active = deque(tasks), []
        try:
            while pending or active:
                while pending and len(active) < max(1, self.workers):
                    active.append(_Worker(self, payload, pending.popleft()))
                deadlines = [w.deadline for w in active if w.deadline is not None]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                wait([w.conn for w in active] + [w.process.sentinel for w in active], timeout)
                for worker in list(active):
                    yield from self._serve(worker, pending, objectives)
                    if worker.task is None or worker.process.exitcode is not None:
                        if worker.task is not None:
                            yield self._failure(worker, _died(worker.process.exitcode))
                        worker.stop()
                        active.remove(worker)
        finally:
            for worker in active:
                worker.stop()

    def _serve(
        self, worker: _Worker, pending: deque[tuple[int, Candidate]], objectives: list[str]
    ) -> Iterator[tuple[int, Evaluation]]:
        """Handle one worker's messages and clock; leaves ``task`` None once it is done with."""
        for kind, body in worker.messages():
            if kind == "broken":  # the verifier cannot load: no candidate can run
                reason = f"worker could not load the verifier: {body}"
                yield self._failure(worker, reason)
                while pending:
                    index, candidate = pending.popleft()
                    yield index, Evaluation.failure(candidate.key, self.source, reason)
                worker.task = None
            elif kind == "hello":
                with contextlib.suppress(OSError):  # if it died meanwhile, its sentinel tells
                    worker.conn.send_bytes(worker.payload)
            elif kind == "ready":
                worker.ready = True
                assert worker.task is not None  # the candidate it was started for
                worker.assign(worker.task, objectives, self.time_limit)
            elif kind == "done":
                yield body
                worker.task = None
                if pending and worker.tasks_left > 0:
                    worker.assign(pending.popleft(), objectives, self.time_limit)
        if worker.task is not None and worker.deadline and time.monotonic() >= worker.deadline:
            if worker.ready:
                reason = f"timeout after {self.time_limit:g} s"
            else:
                reason = f"worker did not start within {STARTUP_LIMIT_S:g} s"
            yield self._failure(worker, reason)
            worker.task = None
