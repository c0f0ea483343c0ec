"""Store: a campaign's durable state in optuna storage (SQLite by default, any RDB URL).

One optuna study per campaign, with the objectives as its directions, so the study opens
in optuna-dashboard as a normal multi-objective study. What lives where:

- **trials** are the candidates chosen for verification. A trial is created RUNNING when a
  candidate is *claimed* (user attrs: key, space, genotype, ONNX text, round, predicted
  medians / spreads / 80 % intervals and the checkpoint that predicted them), then finished
  COMPLETE with the verified values (attr ``source``: benchmark / measured), FAIL with the
  reason, or PRUNED when a multi-fidelity verifier stopped it early. Trial order is
  verification order; a key is never completed twice. A table beside optuna's
  (:mod:`searchlab.store.claims`) makes claims atomic across workers.
- **study system attrs** hold the campaign config (``searchlab:config``) and, per round,
  every candidate the surrogate scored (key, genotype, predictions), the strategy's ask
  count and the checkpoint used (``searchlab:round:NNNNN``), so a killed run resumes;
  once a round is verified, what it did (``searchlab:round-log:NNNNN``, see
  :mod:`searchlab.campaign.round_log`).

Example:
    >>> from searchlab import load_space
    >>> from searchlab.core.evaluation import Evaluation
    >>> from searchlab.core.objectives import Objectives
    >>> from searchlab.store.study import CampaignStore
    >>> objs = Objectives.parse(["acc_cifar10_test"])
    >>> store = CampaignStore.open("sqlite:///:memory:", "demo", {"seed": 0}, objs)
    >>> import numpy as np
    >>> cand = load_space("nb201").sample(np.random.default_rng(0))
    >>> number = store.claim(cand, round_index=0, genotype="g")
    >>> store.complete(number, Evaluation(cand.key, {"acc_cifar10_test": 93.1}, "benchmark"))
    True
    >>> [(r.key, r.values) for r in store.verified()] == [(cand.key, {"acc_cifar10_test": 93.1})]
    True
"""

from __future__ import annotations

import datetime
import logging
import warnings
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from searchlab.core.candidate import Candidate
from searchlab.core.evaluation import Evaluation
from searchlab.core.objectives import Objectives
from searchlab.store import checks as store_checks
from searchlab.store.claims import Claims
from searchlab.store.records import TrialRecord, record_from_trial

CONFIG_ATTR = "searchlab:config"
ROUND_PREFIX = "searchlab:round:"
LOG_PREFIX = "searchlab:round-log:"  # apart from the round: written once it is verified
FORMAT = 1


class StoreError(ValueError):
    """The store cannot be opened or used as asked (the message names URL, campaign, field)."""


def _quiet() -> None:
    optuna.logging.set_verbosity(logging.WARNING)


class CampaignStore:
    """A campaign's study: claims, verified values, rounds and config, all in optuna storage."""

    def __init__(
        self, study: optuna.Study, storage: optuna.storages.BaseStorage, objectives: Objectives
    ) -> None:
        self.study, self.objectives = study, objectives
        self.claims: Claims  # set by open()
        #: the study's storage, through optuna's public storage API (system attributes)
        self.storage = storage
        self._id = storage.get_study_id_from_name(study.study_name)

    # ----- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        url: str,
        name: str,
        config: Mapping[str, Any],
        objectives: Objectives,
        compare: tuple[str, ...] | None = None,
        owner: str = "main",
        grace: float = 60.0,
    ) -> CampaignStore:
        """Open or create the campaign ``name``; refuse one whose stored config differs.

        ``compare`` lists the config keys that must match a stored campaign (default: all);
        the rest (budget, time limit) may change when a campaign is resumed or extended.
        ``owner`` names this process among the campaign's workers (claims, heartbeats);
        ``grace`` is how long a silent owner keeps its claims.
        """
        _quiet()
        # what stored_config adds (format, budget) is the store's own, not the identity
        config = {k: v for k, v in config.items() if k != "format" and "searchlab:" not in k}
        try:
            storage = optuna.storages.get_storage(url)
        except Exception as exc:  # noqa: BLE001  (any driver error: report the URL)
            raise StoreError(f"cannot open storage {url!r}: {exc}") from None
        directions = [o.direction for o in objectives]
        # the campaign proposes; the study only keeps trials: its sampler is never asked for a
        # value, and a random one spares every claim's ask() the default TPE's bookkeeping
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            directions=directions,
            load_if_exists=True,
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        store = cls(study, storage, objectives)
        try:
            store.claims = Claims(url, name, owner=owner, grace=grace)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot open the claims table in {url!r}: {exc}") from None
        stored = store.config
        if stored is None:
            store._set_system(CONFIG_ATTR, {"format": FORMAT, **dict(config)})
            with warnings.catch_warnings():  # experimental in optuna, harmless here
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(objectives.names)
        else:
            keys = compare if compare is not None else tuple(config)
            diff = {
                k: (stored.get(k), config.get(k)) for k in keys if stored.get(k) != config.get(k)
            }
            if diff:
                detail = "; ".join(f"{k}: stored {a!r}, given {b!r}" for k, (a, b) in diff.items())
                raise StoreError(
                    f"campaign {name!r} in {url} was started with another config ({detail}); "
                    "use another run folder or campaign name"
                )
            if [d.name.lower() for d in study.directions] != directions:
                raise StoreError(f"campaign {name!r}: stored directions differ from {directions}")
        return store

    @staticmethod
    def stored_config(url: str, name: str) -> dict[str, Any]:
        """The config a stored campaign was started with (plus its budget), to join it."""
        _quiet()
        try:
            storage = optuna.storages.get_storage(url)
            names = optuna.get_all_study_names(storage)
        except Exception as exc:  # noqa: BLE001  (any driver error: report the URL)
            raise StoreError(f"cannot open storage {url!r}: {exc}") from None
        if name not in names:
            raise StoreError(f"no campaign {name!r} in {url} (campaigns there: {sorted(names)})")
        attrs = storage.get_study_system_attrs(storage.get_study_id_from_name(name))
        if CONFIG_ATTR not in attrs:
            raise StoreError(f"study {name!r} in {url} is not a searchlab campaign")
        config = dict(attrs[CONFIG_ATTR])
        if "searchlab:budget" in attrs:
            config["searchlab:budget"] = attrs["searchlab:budget"]
        return config

    @property
    def config(self) -> dict[str, Any] | None:
        """The config the campaign was created with (None for a new study)."""
        return self._system().get(CONFIG_ATTR)

    # ----- claims and results ----------------------------------------------------------------
    def claim(
        self,
        candidate: Candidate,
        round_index: int,
        genotype: str,
        prediction: Mapping[str, Any] | None = None,
    ) -> int | None:
        """Claim a candidate and create its RUNNING trial; its number (None: claimed by another).

        The claims table decides first, atomically, so two workers never verify one key.
        """
        taken = self.claims.take(candidate.key)
        if taken is None:
            return None
        # a claim of ours cut off after ask() left a RUNNING trial: finish that one
        running = self.running_trial(candidate.key) if taken == "held" else None
        if running is not None:
            self.claims.attach(candidate.key, running)
            return running
        trial = self.study.ask()
        attrs: dict[str, Any] = {
            "owner": self.claims.owner,
            "space": candidate.space,
            "genotype": candidate.genotype_json(),
            "genotype_str": genotype,
            "text": candidate.text,
            "round": int(round_index),
        }
        for name, value in (prediction or {}).items():
            attrs[name] = value
        # attrs are written one by one: the key goes last and marks a complete claim, so a
        # kill halfway leaves a trial that readers skip and `drop_incomplete_claims` ends
        attrs["key"] = candidate.key
        for name, value in attrs.items():
            trial.set_user_attr(name, value)
        self.claims.attach(candidate.key, trial.number)
        return trial.number

    def running_trial(self, key: str) -> int | None:
        """The RUNNING trial that claims ``key`` (None when there is none)."""
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t.user_attrs.get("key") == key:
                return t.number
        return None

    def drop_incomplete_claims(self) -> int:
        """Fail RUNNING trials whose claim was cut off before its key; how many.

        Only this owner's, or others' older than the grace period: a live worker may be
        writing its claim right now.
        """
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.claims.grace)
        cut = [
            t.number
            for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if "key" not in t.user_attrs
            and (
                t.user_attrs.get("owner") == self.claims.owner
                or (t.datetime_start is not None and t.datetime_start < cutoff)
            )
        ]
        for number in cut:
            self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
        return len(cut)

    def trial(self, number: int) -> TrialRecord | None:
        """The claimed candidate with this trial number (None when its claim is incomplete)."""
        frozen = self.storage.get_trial(
            self.storage.get_trial_id_from_study_id_trial_number(self._id, number)
        )
        return record_from_trial(frozen, self.objectives.names)

    def complete(self, number: int, evaluation: Evaluation) -> bool:
        """Finish a claim with verified values (COMPLETE) or its failure (FAIL).

        False when the trial was already finished: a worker presumed dead came back after
        another took its claim over; the first result stands.
        """
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self._id, number)
        if self.storage.get_trial(trial_id).state.is_finished():
            return False
        try:
            self._write_result(trial_id, number, evaluation)
        except optuna.exceptions.UpdateFinishedTrialError:
            return False
        self.claims.finish(evaluation.key)
        return True

    def _write_result(self, trial_id: int, number: int, evaluation: Evaluation) -> None:
        self.storage.set_trial_user_attr(trial_id, "source", evaluation.source)
        self.storage.set_trial_user_attr(trial_id, "seconds", round(evaluation.seconds, 3))
        if evaluation.extra:
            self.storage.set_trial_user_attr(trial_id, "verifier", evaluation.extra)
        # every number carries its own source (a combined verifier mixes them)
        sources = evaluation.extra.get("sources") or {
            n: evaluation.source for n in evaluation.values
        }
        self.storage.set_trial_user_attr(trial_id, "sources", sources)
        if not evaluation.ok:
            self.storage.set_trial_user_attr(trial_id, "error", evaluation.error)
            state = TrialState.PRUNED if evaluation.pruned else TrialState.FAIL
            self.study.tell(number, state=state, skip_if_finished=True)
            return
        missing = [n for n in self.objectives.names if n not in evaluation.values]
        if missing:
            raise StoreError(f"candidate {evaluation.key}: verified values lack {missing}")
        values = [evaluation.values[n] for n in self.objectives.names]
        violation = self.objectives.violation([evaluation.values])[0]
        # optuna's constrained samplers and the dashboard read this attr (<= 0 is feasible)
        self.storage.set_trial_system_attr(trial_id, "constraints", [float(violation)])
        self.study.tell(number, values, skip_if_finished=True)

    def trials(self) -> list[TrialRecord]:
        """Every claimed candidate in claim order, whatever its state."""
        out = [
            record_from_trial(t, self.objectives.names)
            for t in self.study.get_trials(deepcopy=False)
        ]
        return [r for r in out if r is not None]

    def verified(self) -> list[TrialRecord]:
        """Completed candidates in verification order."""
        return [t for t in self.trials() if t.state == "COMPLETE"]

    def finished(self) -> list[TrialRecord]:
        """Completed, failed and pruned candidates in order (a strategy's told history)."""
        return [t for t in self.trials() if t.state in ("COMPLETE", "FAIL", "PRUNED")]

    def pending(self) -> list[TrialRecord]:
        """Claimed candidates not finished yet (a killed run's verifications in flight)."""
        return [t for t in self.trials() if t.state == "RUNNING"]

    # ----- rounds ------------------------------------------------------------------------------
    def save_round(self, index: int, payload: Mapping[str, Any]) -> None:
        """Record a round's scored candidates, ask count and checkpoint before verifying."""
        self._set_system(f"{ROUND_PREFIX}{index:05d}", dict(payload))

    def save_round_log(self, index: int, log: Mapping[str, Any]) -> None:
        """Record what a round did once it is verified (``log`` in :meth:`rounds`)."""
        self._set_system(f"{LOG_PREFIX}{index:05d}", dict(log))

    def rounds(self) -> list[dict[str, Any]]:
        """Saved rounds in order, each with its ``log`` once the round is done (else None)."""
        attrs = self._system()
        ids = sorted(k[len(ROUND_PREFIX) :] for k in attrs if k.startswith(ROUND_PREFIX))
        return [
            {"index": int(i), **attrs[ROUND_PREFIX + i], "log": attrs.get(LOG_PREFIX + i)}
            for i in ids
        ]

    def set_state(self, name: str, value: Any) -> None:
        """Store a small JSON value under ``searchlab:NAME`` (e.g. the latest checkpoint)."""
        self._set_system(f"searchlab:{name}", value)

    def state(self, name: str, default: Any = None) -> Any:
        """A value stored with :meth:`set_state`."""
        return self._system().get(f"searchlab:{name}", default)

    # ----- checks ------------------------------------------------------------------------------
    def integrity(self) -> list[str]:
        """Problems found in the stored campaign (empty when sound)."""
        return store_checks.integrity(self)

    # ----- internals ---------------------------------------------------------------------------
    def _system(self) -> dict[str, Any]:
        return self.storage.get_study_system_attrs(self._id)

    def _set_system(self, key: str, value: Any) -> None:
        self.storage.set_study_system_attr(self._id, key, value)
