"""RlmSampler: the RLM inside an optuna study, screening an inner sampler's proposals.

``optuna.create_study(sampler=RlmSampler(space))`` is all it takes. Before each trial the
inner sampler (TPE by default) proposes ``pool`` configurations; the RLM, fine-tuned on the
study's completed trials (their configurations as canonical YAML text), samples each one's
objectives and the acquisition (expected improvement, or expected hypervolume improvement
for a multi-objective study) picks one. Under the trust rule (:mod:`searchlab.campaign.trust`) the
pick is the RLM's with the probability its measured ranking health earns, else the inner
sampler's own first proposal, so a study whose RLM ranks like chance behaves like the inner
sampler alone. The objective then receives the chosen values through its ordinary
``trial.suggest_*`` calls; anything else it asks goes to the inner sampler.

``surrogate``: an RLM checkpoint (``"default"``: the bundled one), a surrogate object with
the campaign surrogate's methods, or None for the inner sampler alone. ``space``: a
:class:`~searchlab.core.config_space.ConfigSpace` (or its ``params`` mapping, or a
space file), whose conditions decide which parameters a proposal has. Without it, the space
is read from the study's trials: every parameter seen so far, each always present.

The study's trials live in its storage, so a study resumed in a new process continues: the
RLM is fine-tuned again on every completed trial before its first screened pick. The
predictions made before each verification (what health is measured on) live in this
sampler; a new sampler starts measuring afresh from the surrogate's self-check.

Example:
    >>> import optuna
    >>> from searchlab.campaign.rlm_sampler import RlmSampler
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> space = {"x": {"type": "float", "low": -2, "high": 2}}
    >>> sampler = RlmSampler(space, surrogate=None, seed=0)  # None: the inner sampler alone
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=20)
    >>> abs(study.best_params["x"] - 1) < 0.3
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from searchlab.campaign.acquisition import default_acquisition, make_acquisition
from searchlab.campaign.screening import judge
from searchlab.campaign.trust import Health, TrustRule
from searchlab.core.candidate import Candidate
from searchlab.core.config_params import Param
from searchlab.core.config_space import ConfigSpace
from searchlab.core.objectives import Objectives


def param_of(name: str, dist: BaseDistribution) -> Param:
    """A configuration parameter from an optuna distribution."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return Param(name, "categorical", tuple(dist.choices))
    kind = "int" if isinstance(dist, IntDistribution) else "float"
    return Param(name, kind, low=dist.low, high=dist.high, log=dist.log)


class RlmSampler(BaseSampler):
    """Screens an inner optuna sampler's proposals with the RLM under the trust rule."""

    def __init__(
        self,
        space: ConfigSpace | Mapping[str, Any] | str | Path | None = None,
        inner: BaseSampler | None = None,
        surrogate: str | Any | None = "default",
        pool: int = 64,
        k: int = 8,
        initial: int = 5,
        finetune_every: int = 10,
        seed: int | None = None,
        device: str = "auto",
    ) -> None:
        from searchlab.campaign.tuning import as_space

        self.space = None if space is None else as_space(space)
        self.inner = inner or optuna.samplers.TPESampler(seed=seed)
        self.pool, self.k, self.initial = int(pool), int(k), int(initial)
        self.finetune_every = int(finetune_every)
        self.rng = np.random.default_rng(seed)
        self.seed = 0 if seed is None else int(seed)
        self.rule = TrustRule()
        self.surrogate = surrogate  # a checkpoint name is loaded; a surrogate object used as is
        if isinstance(surrogate, (str, Path)):
            from searchlab.surrogates.rlm import RlmSurrogate

            self.surrogate = RlmSurrogate(surrogate, device=device, seed=self.seed)
        self._tuned_on = 0  #: completed trials the surrogate was last fine-tuned on
        self._plans: dict[int, dict[str, Any]] = {}  #: trial number -> chosen params
        self._predicted: dict[int, np.ndarray] = {}  #: trial number -> [M] point prediction
        #: per trial, who chose its configuration ("surrogate", "inner") and the trust share
        self.picks: dict[int, tuple[str, float]] = {}

    # ----- optuna's sampler contract ---------------------------------------------------------
    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Nothing jointly: the chosen configuration is handed out parameter by parameter."""
        return {}

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Nothing jointly (see :meth:`sample_independent`)."""
        return {}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """The chosen configuration's value, or the inner sampler's for anything else."""
        plan = self._plans.get(trial.number, {})
        if param_name in plan:
            value = plan[param_name]
            if _admits(param_distribution, value):
                return value
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Choose this trial's configuration: the RLM's pick or the inner sampler's."""
        self.inner.before_trial(study, trial)
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if self.surrogate is None or len(done) < self.initial:
            return
        space = self.space or self._space_from(study)
        names = self._names(study)
        self._maybe_finetune(space, done, names)
        proposals = self._proposals(study, trial, space, {self._key(space, t) for t in done})
        if not proposals:
            return
        samples = self.surrogate.predict(proposals, names, self.k, self.seed + trial.number)
        point = getattr(self.surrogate, "predict_point", None)  # else the samples' median
        points = point(proposals, names) if point else np.median(samples, axis=1)
        share = self.rule.share(self._health(done, names))
        pick, by = 0, "inner"
        if self.rng.random() < share:
            objs = Objectives.parse(
                [{"name": n, "direction": d.name.lower()} for n, d in zip(names, study.directions)]
            )
            known = np.array([t.values for t in done], dtype=float).reshape(-1, len(names))
            acq = make_acquisition(default_acquisition(objs))
            pick, by = int(acq.select(samples, objs, known, 1, self.rng)[0]), "surrogate"
        self._plans[trial.number] = dict(proposals[pick].genotype)
        self._predicted[trial.number] = np.asarray(points[pick], dtype=float)
        self.picks[trial.number] = (by, share)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Forget the plan; the inner sampler hears of the trial too."""
        self._plans.pop(trial.number, None)
        if state != TrialState.COMPLETE:
            self._predicted.pop(trial.number, None)
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """New random streams (optuna calls this for parallel workers)."""
        self.inner.reseed_rng()
        self.rng = np.random.default_rng()

    # ----- pieces ------------------------------------------------------------------------------
    @staticmethod
    def _names(study: optuna.Study) -> list[str]:
        """Objective names the RLM decodes: the study's metric names, else value / value_i."""
        names = study.metric_names
        if names:
            return list(names)
        n = len(study.directions)
        return ["value"] if n == 1 else [f"value_{i}" for i in range(n)]

    @staticmethod
    def _space_from(study: optuna.Study) -> ConfigSpace:
        """A flat space of every parameter the study's trials have used."""
        dists: dict[str, BaseDistribution] = {}
        for t in study.get_trials(deepcopy=False):
            dists.update(t.distributions)
        return ConfigSpace([param_of(n, d) for n, d in dists.items()], name="study")

    def _candidate(self, space: ConfigSpace, params: Mapping[str, Any]) -> Candidate | None:
        """The canonical candidate of a trial's parameters (None if the space refuses them)."""
        try:
            if self.space is None:  # a flat space: every parameter, whatever was asked
                params = space.complete(params, None)
            return space.candidate({n: params[n] for n in space.by_name if n in params})
        except (ValueError, KeyError):
            return None

    def _key(self, space: ConfigSpace, trial: FrozenTrial) -> str | None:
        cand = self._candidate(space, trial.params)
        return None if cand is None else cand.key

    def _proposals(
        self, study: optuna.Study, trial: FrozenTrial, space: ConfigSpace, seen: set[str | None]
    ) -> list[Candidate]:
        """Up to ``pool`` distinct new configurations, as the inner sampler proposes them."""
        out: list[Candidate] = []
        keys = set(seen)
        # the same for every proposal of this trial: asked once
        relative = self.inner.infer_relative_search_space(study, trial)
        dists = space.distributions()
        for _ in range(2 * self.pool):
            if len(out) >= self.pool:
                break
            values = dict(self.inner.sample_relative(study, trial, relative))
            for p in space.parameters:
                if p.active(values) and p.name not in values:
                    values[p.name] = self.inner.sample_independent(
                        study, trial, p.name, dists[p.name]
                    )
            cand = self._candidate(space, values)
            if cand is not None and cand.key not in keys:
                keys.add(cand.key)
                out.append(cand)
        return out

    def _maybe_finetune(
        self, space: ConfigSpace, done: list[FrozenTrial], names: list[str]
    ) -> None:
        """Fine-tune on every completed trial once ``finetune_every`` new ones arrived."""
        if self._tuned_on and len(done) - self._tuned_on < self.finetune_every:
            return
        rows = [(self._candidate(space, t.params), t.values) for t in done]
        rows = [(c, v) for c, v in rows if c is not None]
        self.surrogate.update(
            [c for c, _ in rows],
            [dict(zip(names, v)) for _, v in rows],
            names,
            {"campaign": "optuna", "verified": len(rows)},
        )
        self._tuned_on = len(done)

    def _health(self, done: list[FrozenTrial], names: list[str]) -> Health:
        """The health screening would judge: the predictions made before verification
        (latest window), else the surrogate's self-check."""
        rows = [t for t in done if t.number in self._predicted][-self.rule.window :]
        predicted = np.array([self._predicted[t.number] for t in rows]).reshape(-1, len(names))
        true = np.array([t.values for t in rows], dtype=float).reshape(-1, len(names))
        return judge(self.rule, self.surrogate, names, predicted, true).health


def _admits(distribution: BaseDistribution, value: Any) -> bool:
    """Whether optuna's distribution holds the value (its public fields, not ``_contains``)."""
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return value in distribution.choices
    low, high = getattr(distribution, "low", None), getattr(distribution, "high", None)
    if low is None or high is None or isinstance(value, (str, bool)):
        return False
    step = getattr(distribution, "step", None)
    on_grid = step is None or abs(((value - low) / step) - round((value - low) / step)) < 1e-8
    return low <= value <= high and on_grid
