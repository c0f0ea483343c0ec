"""Screening: what a round knows before it picks: the surrogate's health, the trust it earns,
which ranker each objective is read from, and the predicted samples of the pool.

``measure`` reads the store: the latest ``TrustRule.window`` verified rows that were
predicted before verification. Per expensive objective it compares the surrogate's Kendall
tau on them with the cheap features' (:mod:`searchlab.surrogates.cheap`) and keeps the better
ranker; the mean of the kept rankers' taus over the objectives is the health the
:class:`~searchlab.campaign.trust.TrustRule` turns into the surrogate's share of the batch. With no
such rows yet, the surrogate's ``self_check`` (when it has one) stands in, compared with the
features on every verified row. ``predict`` then gives the acquisition [N, k, M] samples:
the surrogate's for objectives it ranks best, a feature's line for the others, and the
cheap objectives computed. The surrogate's own point predictions are what the store keeps
as "predicted", so health always measures the surrogate itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from searchlab.campaign.trust import Health, TrustRule
from searchlab.core.candidate import Candidate
from searchlab.surrogates import cheap as cheap_ranker


@dataclass
class Verdict:
    """A round's reading of the surrogate: health, share of the batch, ranker per objective."""

    health: Health
    share: float
    #: objective -> (ranker: "surrogate" or a feature name, its tau on the compared rows)
    ranked_by: dict[str, tuple[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored with the round)."""
        return {
            "share": round(self.share, 4),
            "tau": None if not np.isfinite(self.health.tau) else round(self.health.tau, 4),
            "on": self.health.n,
            "from": self.health.source,
            "ranked_by": {k: [r, round(t, 4)] for k, (r, t) in self.ranked_by.items()},
        }


class FeatureCache:
    """Cheap features of candidates by key (a graph's cost is computed once per campaign)."""

    def __init__(self, space: Any) -> None:
        self.space = space
        self._values: dict[str, dict[str, float]] = {}

    def of(self, items: Sequence[Any]) -> dict[str, np.ndarray]:
        """{feature: [N] values} for candidates or trial records (a record's candidate is
        rebuilt only when its key is new: rendering a graph is the costly part)."""
        todo = [i for i in items if i.key not in self._values]
        cands = [i if isinstance(i, Candidate) else i.candidate() for i in todo]
        found = cheap_ranker.features(self.space, cands) if cands else {}
        for i, cand in enumerate(cands):
            self._values[cand.key] = {name: float(v[i]) for name, v in found.items()}
        names = self._values[items[0].key].keys() if items else ()
        return {n: np.array([self._values[i.key][n] for i in items]) for n in names}


def measure(c: Any, rule: TrustRule, cheap: bool = True) -> Verdict:
    """The surrogate's health and share for campaign ``c``'s next round (store reads only)."""
    expensive = c.objectives.expensive
    verified = c.store.verified()
    rows = [r for r in verified if r.predicted][-rule.window :]
    all_y = np.array([[r.values[n] for n in expensive] for r in verified]).reshape(
        -1, len(expensive)
    )
    use_features = cheap and len(verified) >= 3
    return judge(
        rule,
        c.surrogate,
        expensive,
        np.array([[r.predicted[n] for n in expensive] for r in rows]).reshape(-1, len(expensive)),
        np.array([[r.values[n] for n in expensive] for r in rows]).reshape(-1, len(expensive)),
        c.features.of(rows) if use_features and len(rows) >= 3 else {},
        c.features.of(verified) if use_features else {},
        all_y,
    )


def judge(
    rule: TrustRule,
    surrogate: Any,
    names: Sequence[str],
    predicted: np.ndarray,
    true: np.ndarray,
    x: dict[str, np.ndarray] | None = None,
    all_x: dict[str, np.ndarray] | None = None,
    all_y: np.ndarray | None = None,
) -> Verdict:
    """The verdict from the surrogate's predictions of verified rows (``predicted``, ``true``:
    [n, M], the latest window; 3 rows or more count), else from its ``self_check``.

    ``x`` (features of those rows), ``all_x`` and ``all_y`` (every verified row) let the cheap
    features compete per objective; without them the surrogate ranks every objective.
    """
    x, all_x = x or {}, all_x or {}
    ranked: dict[str, tuple[str, float]] = {}
    if len(predicted) >= 3:
        for j, name in enumerate(names):
            own = cheap_ranker.signed_tau(predicted[:, j], true[:, j])
            sign_y = None if all_y is None else all_y[:, j]
            ranked[name] = cheap_ranker.choose(own, x, true[:, j], all_x or None, sign_y)
        n, source = len(predicted), "verified"
    else:
        check = getattr(surrogate, "self_check", None)
        told = check(list(names)) if callable(check) else {}
        if not all(name in told for name in names):  # nothing to go on: the prior
            unknown = {name: ("surrogate", float("nan")) for name in names}
            return Verdict(Health(float("nan"), 0, "none"), rule.prior, unknown)
        for j, name in enumerate(names):
            own = float(told[name][0])
            y = all_y[:, j] if all_y is not None else np.zeros(0)
            ranked[name] = cheap_ranker.choose(own, all_x, y, all_x or None, y)
        n, source = min(int(told[name][1]) for name in names), "self-check"
    taus = [t for _, t in ranked.values()]
    health = Health(tau=float(np.mean(taus)), n=n, source=source)
    return Verdict(health=health, share=rule.share(health), ranked_by=ranked)


def predict(
    c: Any, pool: Sequence[Candidate], index: int, verdict: Verdict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([N, k, M] samples for the acquisition, [N, k, M] the surrogate's own samples and
    [N, M] its point values: what the store keeps as predicted)."""
    s, names = c.settings, c.objectives.names
    expensive = c.objectives.expensive
    samples = np.zeros((len(pool), s.k, len(names)))
    seed = s.seed * 100_003 + index
    if expensive:
        pred = c.surrogate.predict(pool, expensive, s.k, seed=seed)
        for j, name in enumerate(expensive):
            samples[:, :, names.index(name)] = pred[:, :, j]
    for name in c.objectives.cheap:
        vals = [c.cheap_value(cand, name) for cand in pool]
        samples[:, :, names.index(name)] = np.asarray(vals, dtype=float)[:, None]
    points = _points(c, pool, samples)
    own = samples.copy()
    by_feature = {n: r for n, (r, _) in verdict.ranked_by.items() if r != "surrogate"}
    if by_feature and len(pool):
        verified = c.store.verified()
        seen = c.features.of(verified)
        new = c.features.of(pool)
        rng = np.random.default_rng([s.seed, index, 7])
        for name, feature in by_feature.items():
            y = np.array([r.values[name] for r in verified])
            # the same residual draws for every candidate: the pool keeps the feature's order
            samples[:, :, names.index(name)] = cheap_ranker.feature_samples(
                seen[feature], y, new[feature], s.k, rng, shared=True
            )
    return samples, own, points


def _points(c: Any, pool: Sequence[Candidate], samples: np.ndarray) -> np.ndarray:
    """[N, M] the point value stored as predicted: the surrogate's own point prediction
    where it has one (deterministic: the median of 8 samples is noisy enough to scramble
    the ranking of close candidates), else the samples' median."""
    out = np.median(samples, axis=1)
    expensive = c.objectives.expensive
    point = getattr(c.surrogate, "predict_point", None)
    if expensive and point is not None:
        pred = point(pool, expensive)
        for j, name in enumerate(expensive):
            out[:, c.objectives.names.index(name)] = pred[:, j]
    return out


def entry(
    cand: Candidate, names: Sequence[str], samples: np.ndarray, point: np.ndarray
) -> dict[str, Any]:
    """What the round stores of one scored candidate: point values, spread, 80 % interval
    (``samples`` [k, M] and ``point`` [M] are the surrogate's own)."""
    lo, hi = np.quantile(samples, [0.1, 0.9], axis=0)
    return {
        "key": cand.key,
        "genotype": cand.genotype_json(),
        "predicted": dict(zip(names, np.round(point, 6).tolist())),
        "spread": dict(zip(names, samples.std(axis=0).round(6).tolist())),
        "interval": {n: [round(float(a), 6), round(float(b), 6)] for n, a, b in zip(names, lo, hi)},
    }
