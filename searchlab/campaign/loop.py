"""Campaign: the surrogate-assisted search loop, and nothing else.

Each round: the surrogate's health on values it predicted before they were verified sets
its share of the batch (:mod:`~searchlab.campaign.trust`; :mod:`~searchlab.campaign.screening`
also lets params or FLOPs rank an objective they rank better); the strategy proposes a pool of new
candidates; the surrogate samples their expensive objectives (cheap ones are computed); the
acquisition picks the surrogate's share and the strategy's first proposals fill the rest
(with no share, only those are proposed, and predicted, so health is still measured); the
round is written to the store *before* anything is verified; each pick is claimed, verified
and finished in the store; the strategy is told the verified values. The surrogate is
fine-tuned on all verified values whenever ``finetune_every`` new ones have arrived. The
first ``initial`` verifications skip the surrogate (it has not seen these objectives yet).
Because every step is in the store, ``run`` on a store left by a killed process restores
the strategy, finishes the claims in flight and goes on; nothing verified is redone. Each
round logs one line and stores its figures with the round (:mod:`searchlab.campaign.round_log`).

Example:
    >>> from searchlab import load_space
    >>> from searchlab.campaign.loop import Campaign, CampaignSettings
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.store.study import CampaignStore
    >>> from searchlab.strategies import make_strategy
    >>> from searchlab.verifiers import TabularVerifier
    >>> space = load_space("nb201")
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> store = CampaignStore.open("sqlite:///:memory:", "doc", {}, objs)
    >>> run = Campaign(space, make_strategy("rea", space, objs, seed=0), None,
    ...                TabularVerifier(space), objs, store, CampaignSettings(batch=5))
    >>> run.run(budget=10).verified
    10
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from searchlab.campaign import resume, round_log, screening, upkeep
from searchlab.campaign.acquisition import default_acquisition, make_acquisition
from searchlab.campaign.round_log import RoundLog
from searchlab.campaign.settings import CampaignSettings
from searchlab.campaign.trust import TrustRule
from searchlab.core.candidate import Candidate
from searchlab.core.objectives import Objectives
from searchlab.core.space import Space
from searchlab.store.claims import Heartbeat, round_key
from searchlab.store.study import CampaignStore
from searchlab.strategies.base import Strategy
from searchlab.verifiers.base import Verifier


@dataclass
class Plan:
    """A round before it is stored: the pool, the picks (indices into it) and who made each."""

    pool: list[Candidate]
    chosen: list[int]
    picked_by: list[str]  #: "surrogate" or "strategy", one per pick
    scored: list[dict[str, Any]]  #: per pool candidate: predicted values (with a surrogate)
    model: str | None
    verdict: screening.Verdict | None  #: the surrogate's health and trust this round


@dataclass
class CampaignResult:
    """The state after ``run``: counts and the per-round logs of this call."""

    verified: int
    failed: int
    rounds: list[RoundLog]
    stopped: str
    pruned: int = 0  #: stopped early by a multi-fidelity verifier


class Campaign:
    """Strategy + surrogate + acquisition + verifier over one space, recorded in a store."""

    def __init__(
        self,
        space: Space,
        strategy: Strategy,
        surrogate: Any,
        verifier: Verifier,
        objectives: Objectives,
        store: CampaignStore,
        settings: CampaignSettings | None = None,
        run_dir: str | Path | None = None,
    ) -> None:
        self.space, self.strategy, self.surrogate = space, strategy, surrogate
        self.verifier, self.objectives, self.store = verifier, objectives, store
        self.settings = settings or CampaignSettings()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        verifier.check(objectives.expensive)
        if surrogate is not None:
            surrogate.check(objectives.expensive)
        name = self.settings.acquisition or default_acquisition(objectives)
        self.acquisition = make_acquisition(name)
        self.trust = TrustRule()
        self.features = screening.FeatureCache(space)  #: params / FLOPs of seen candidates
        self._restored = False
        #: fine-tune at the next update whatever the cadence (set when a resumed run finds
        #: that the weights it had fine-tuned were not kept)
        self.force_finetune = False

    # ----- the loop ------------------------------------------------------------------------
    def run(
        self,
        budget: int,
        max_minutes: float | None = None,
        progress: Callable[[RoundLog], None] | None = None,
    ) -> CampaignResult:
        """Verify until ``budget`` candidates are verified (or time runs out); resumable."""
        start = time.perf_counter()
        self._restore()
        round_log.started(self, budget)
        logs: list[RoundLog] = []
        stopped = "budget"
        while True:
            resume.recover(self)  # claims of workers that stopped beating
            done = self._n_finished()
            # at the budget, wait for peers' claims: a live peer finishes its own, a silent
            # one's go stale and ``recover`` takes them over, so no verification is left open
            if done >= budget and not self.store.claims.open_elsewhere():
                break
            if max_minutes is not None and time.perf_counter() - start > 60 * max_minutes:
                stopped = "time"
                break
            remaining = budget - done - len(self.store.claims.live())
            if remaining <= 0:  # other workers are verifying the last candidates: wait
                time.sleep(self.settings.heartbeat)
                continue
            log = self._round(remaining)
            if log is None:
                stopped = "exhausted"
                break
            round_log.finish(self, log, budget)  # one log line, and the figures stored
            logs.append(log)
            if progress is not None:
                progress(log)
        verified = len(self.store.verified())
        pruned = sum(t.state == "PRUNED" for t in self.store.finished())
        failed = self._n_finished() - verified - pruned
        return CampaignResult(verified, failed, logs, stopped, pruned)

    def _round(self, remaining: int) -> RoundLog | None:
        t0 = time.perf_counter()
        finetune_seconds = self._maybe_finetune()
        resume.sync_strategy(self)
        index = self.store.claims.next_round(len(self.store.rounds()))
        self.strategy.asks = index  # each round draws from its own generator, whoever runs it
        try:
            plan = self._propose(index, remaining)
        except BaseException:
            self.store.claims.release(round_key(index))  # e.g. a plugin raised: leave no trace
            raise
        if plan is None:
            self.store.claims.release(round_key(index))
            return None
        pool, chosen, scored, model = plan.pool, plan.chosen, plan.scored, plan.model
        self.store.save_round(
            index,
            {
                "asks": self.strategy.asks,
                "owner": self.store.claims.owner,
                "model": model,
                "scored": scored,
                "chosen": [pool[i].key for i in chosen],
                "picked_by": plan.picked_by,
                "trust": None if plan.verdict is None else plan.verdict.to_dict(),
                # without a surrogate nothing is scored: keep what rebuilds the picks on resume
                "chosen_genotypes": [pool[i].genotype_json() for i in chosen],
            },
        )
        self.store.claims.finish(round_key(index))
        picks = [(pool[i], scored[i] if scored else None) for i in chosen]
        claims = [self.claim(c, index, entry, model) for c, entry in picks]
        claims = [(n, c) for n, c in claims if n is not None]  # another worker was first
        failed, pruned = self.verify_and_tell(claims)
        log = RoundLog(
            round=index,
            proposed=len(pool),
            verified=len(claims) - failed - pruned,
            failed=failed,
            pruned=pruned,
            total_verified=len(self.store.verified()),
            model=model,
            seconds=time.perf_counter() - t0,
            finetune_seconds=finetune_seconds,
            picked_by_surrogate=plan.picked_by.count("surrogate"),
            picked_by_strategy=plan.picked_by.count("strategy"),
            trust=None if plan.verdict is None else plan.verdict.to_dict(),
        )
        return log

    def _propose(self, index: int, remaining: int) -> Plan | None:
        """The round's pool, the picks from it (and by whom), their scored entries."""
        s = self.settings
        n_done = self._n_finished()
        use_model = self.surrogate is not None and n_done >= s.initial
        q = min(s.batch, remaining)
        if self.surrogate is not None and not use_model:  # warm-up: only up to `initial`
            q = min(q, s.initial - n_done)
        verdict, by_surrogate = None, 0
        if use_model:
            verdict = screening.measure(self, self.trust, cheap=s.cheap_rankers)
            if s.trust == "always":
                verdict.share = 1.0
            by_surrogate = self.trust.split(q, verdict.share)[0]
        # a surrogate trusted with nothing still predicts the strategy's picks: its health
        # keeps being measured, so the trust can come back
        pool = self.strategy.ask(s.pool if by_surrogate else q)
        if not pool:
            return None
        taken = {t.key for t in self.store.trials()}  # claimed by other workers meanwhile
        pool = [c for c in pool if c.key not in taken] or pool
        chosen: list[int] = []
        scored: list[dict[str, Any]] = []
        if verdict is not None:
            samples, own, points = screening.predict(self, pool, index, verdict)
            if by_surrogate:
                names = self.objectives.names
                verified = [[r.values[n] for n in names] for r in self.store.verified()]
                known = np.array(verified).reshape(-1, len(names))
                rng = np.random.default_rng([s.seed, index])
                picks = self.acquisition.select(samples, self.objectives, known, by_surrogate, rng)
                chosen = [int(i) for i in picks]
            names = self.objectives.names
            scored = [screening.entry(c, names, own[i], points[i]) for i, c in enumerate(pool)]
        # the strategy fills the rest with its own proposals, in its own order
        taken_idx = set(chosen)
        rest = [i for i in range(len(pool)) if i not in taken_idx][: q - len(chosen)]
        picked_by = ["surrogate"] * len(chosen) + ["strategy"] * len(rest)
        model = self.surrogate.name if use_model else None
        return Plan(pool, chosen + rest, picked_by, scored, model, verdict)

    # ----- pieces -----------------------------------------------------------------------------
    def cheap_value(self, cand: Candidate, name: str) -> float:
        """A cheap objective's value (params or FLOPs), computed from the graph."""
        return float(self.space.params(cand) if name == "params" else self.space.flops(cand))

    def claim(
        self, cand: Candidate, index: int, entry: Mapping | None, model: str | None
    ) -> tuple[int | None, Candidate]:
        """Claim a candidate for round ``index`` with what the surrogate predicted of it
        (``entry``, by ``model``); its trial number (None: another worker holds it)."""
        prediction: dict[str, Any] = {}
        if entry is not None:
            prediction = {k: entry[k] for k in ("predicted", "spread", "interval")}
            prediction["model"] = model
        genotype = self.space.genotype_to_str(cand.genotype)
        return self.store.claim(cand, index, genotype, prediction), cand

    def verify_and_tell(self, claims: Sequence[tuple[int, Candidate]]) -> tuple[int, int]:
        """Verify claimed candidates, finish their trials, tell the strategy; (failed, pruned)."""
        if not claims:
            return 0, 0
        cands = [c for _, c in claims]
        told: list[dict[str, float] | None] = [None] * len(claims)
        failed = pruned = 0
        # each result is stored the moment it exists: a kill loses at most the ones in flight;
        # the heartbeat tells other workers these claims are alive meanwhile
        with Heartbeat(self.store.claims, self.settings.heartbeat):
            for i, ev in self.verifier.iter_verify(cands, self.objectives.expensive):
                number, cand = claims[i]
                if ev.ok:
                    values = dict(ev.values)
                    for name in self.objectives.cheap:
                        values[name] = self.cheap_value(cand, name)
                    ev = replace(ev, values=values)
                self.store.complete(number, ev)
                pruned += int(ev.pruned)
                failed += int(not ev.ok and not ev.pruned)
                told[i] = ev.values if ev.ok else None
        self.strategy.tell(cands, told)
        return failed, pruned

    def _n_finished(self) -> int:
        return len(self.store.finished())

    def _maybe_finetune(self) -> float:
        return upkeep.maybe_finetune(self)

    def _restore(self) -> None:
        """Bring a fresh strategy and surrogate to the stored state (once per object)."""
        if not self._restored:
            self._restored = True
            resume.restore(self)

    # ----- health -----------------------------------------------------------------------------
    def health(self) -> tuple[dict[str, float], dict[str, float]]:
        """Tau and 80 % coverage of predictions vs values verified since the last fine-tune."""
        return upkeep.health(self)

    def round_logs(self) -> list[dict[str, Any]]:
        """What every stored round did (counts, best, hypervolume, health), in order."""
        return round_log.stored_logs(self.store)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description of the parts (stored with the campaign)."""
        return {
            "space": self.space.name,
            "objectives": self.objectives.describe(),
            "constraints": [str(c) for c in self.objectives.constraints],
            "strategy": self.strategy.options(),
            "surrogate": None if self.surrogate is None else self.surrogate.settings(),
            "verifier": self.verifier.settings(),
            "settings": asdict(self.settings),
        }
