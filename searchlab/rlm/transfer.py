"""Few-shot transfer: a column the checkpoint never saw, read through ones it was pretrained on.

Measured on NB201 with the bundled checkpoint: fine-tuning on 30 or 90 labels of cifar10
(a column held out of pretraining) ranks unseen cells at Kendall tau 0.30 / 0.26, worse than
the same checkpoint asked for cifar100, which it was pretrained on (0.81 against the true
cifar10 values): a few labels overwrite what pretraining taught. So a new column is first
*linked*: the columns the checkpoint was pretrained on for the same space, of the target's kind
(accuracy-like or not, :func:`default_direction`; the other kind only when none qualifies),
whose point predictions rank the labelled candidates at Kendall tau ``MIN_TAU`` or more, are
blended with non-negative weights (ridge on standardized values, at most ``MAX_PROXIES``) and
the blend is mapped to the target's units by a Theil-Sen line. The network's weights do not
change: the model decodes each proxy's digits as ever, and its samples of the proxies,
blended, are the new column's samples, widened by the link's own error (the robust spread of
its errors on labelled rows it was not fitted on, :func:`_held_out_spread`).

Why a blend of one kind (a probe of the bundled checkpoint's points on the 1,562 held-out
NB201 cells, 32 draws of labelled cells; ``benchmarks/few_shot`` measures the same through
``searchlab fit``'s path): the single best column ranks pixel3 at Spearman 0.847 / 0.886 /
0.887 from 10 / 30 / 90 labels, the blend at 0.888 / 0.897 / 0.905; cifar10 at Kendall tau
0.836 / 0.841 / 0.844, the blend at 0.840 / 0.843 / 0.844. Blending both kinds (accuracies with
latencies) lost up to 0.025 tau on cifar10. A target with no proxy is fine-tuned as before.

Example:
    >>> import numpy as np
    >>> link = ProxyLink("acc_c10", ("acc_c100", "acc_in16"), (0.4, 0.1), 50.0, 1.0, 0.8, 30)
    >>> link.apply(np.array([[60.0, 40.0], [70.0, 40.0]]))
    array([78., 82.])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from scipy.optimize import nnls
from scipy.stats import kendalltau, theilslopes

from searchlab.core.objectives import default_direction

#: the least Kendall tau on the labelled rows for a proxy to be used: with 10 labels a tau of
#: 0.3 is about 1.3 standard errors, so a column unrelated to the target rarely passes
MIN_TAU = 0.3
#: fewer labels than this say too little to choose a proxy (tau of 4 rows is one of 7 values)
MIN_ROWS = 5
#: a blend reads at most this many proxies: each is decoded alone, one more decoding pass per
#: candidate; on NB201 pixel3 the fifth and later ones added less than 0.002 Spearman
MAX_PROXIES = 4
#: the blend's ridge penalty (standardized proxies and target): 10 labels cannot weigh 23
#: latency columns by least squares alone
RIDGE = 1.0


class PointPredictor(Protocol):
    """What choosing a proxy needs of a model: point predictions and its model card."""

    card: dict[str, Any]

    def predict_point_each(self, texts: Sequence[str], objectives: Sequence[str]) -> np.ndarray:
        """[N, n_objectives] point predictions, each objective asked alone."""
        ...


@dataclass(frozen=True)
class ProxyLink:
    """A target read as ``sum(weights * proxies) + intercept`` (weights >= 0, so a higher
    proxy never lowers the target), give or take ``residual`` (a robust standard deviation of
    the link's errors); tau: the blend's Kendall tau on the n labelled rows it was fitted on."""

    target: str
    proxies: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    residual: float
    tau: float
    n: int

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The proxies' values [..., len(proxies)] in the target's units [...]."""
        return np.asarray(values, dtype=float) @ np.asarray(self.weights) + self.intercept

    def describe(self) -> str:
        """The link as a formula, e.g. ``0.41 x acc_cifar100_test + 48.2``.

        >>> ProxyLink("lat_a", ("lat_b",), (2.0,), -1.5, 0.1, 0.9, 10).describe()
        '2 x lat_b - 1.5'
        """
        terms = " + ".join(f"{w:.4g} x {p}" for p, w in zip(self.proxies, self.weights))
        sign = "-" if self.intercept < 0 else "+"
        return f"{terms} {sign} {abs(self.intercept):.4g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored in the model card under ``links``)."""
        return {**asdict(self), "proxies": list(self.proxies), "weights": list(self.weights)}


def link_terms(link: Mapping[str, Any]) -> tuple[list[str], list[float]]:
    """A stored link's proxies and weights; a one-proxy card (``proxy``, ``slope``) reads too."""
    if "proxies" in link:
        return list(link["proxies"]), [float(w) for w in link["weights"]]
    return [link["proxy"]], [float(link["slope"])]


def proxy_columns(card: Mapping[str, Any], space: str | None = None) -> list[str]:
    """Columns the model was pretrained on for ``space`` (every space's with ``space`` None).

    A campaign's or a ``fit``'s columns are not proxies: only pretraining groups, which name
    their space, count. A space the model was never pretrained on has none: its texts would
    only match another space's column by chance.
    """
    groups = [g for g in card.get("trained_on", []) if "space" in g]
    columns: list[str] = []
    for group in groups:
        if space is None or group["space"] == space:
            columns += [c for c in group.get("columns", []) if c not in columns]
    return columns


def choose_links(
    model: PointPredictor,
    texts: Sequence[str],
    targets: Sequence[str],
    values: np.ndarray,
    proxies: Sequence[str],
    cache: dict[tuple[str, str], float] | None = None,
    max_proxies: int = MAX_PROXIES,
) -> dict[str, ProxyLink]:
    """Per target, the link its labelled ``values`` [N, len(targets)] choose (module docstring).

    ``cache`` maps (text, proxy) to the model's point prediction, so a campaign that links
    again after every round predicts only its new candidates (the weights do not change).
    ``max_proxies``: the most columns a blend reads (each is one more decoding pass).
    """
    if max_proxies < 1:
        raise ValueError(f"max_proxies must be at least 1, got {max_proxies!r}")
    values = np.asarray(values, dtype=float).reshape(len(texts), len(targets))
    candidates = [p for p in proxies if p not in targets]
    if len(texts) < MIN_ROWS or not candidates:
        return {}
    cache = {} if cache is None else cache
    todo = sorted({t for t in texts if any((t, p) not in cache for p in candidates)})
    if todo:
        for text, row in zip(todo, model.predict_point_each(todo, candidates)):
            cache.update({(text, p): float(v) for p, v in zip(candidates, row)})
    table = np.array([[cache[(t, p)] for p in candidates] for t in texts])
    links = {}
    for i, target in enumerate(targets):
        link = _fit_link(target, candidates, table, values[:, i], max_proxies)
        if link is not None:
            links[target] = link
    return links


def _fit_link(
    target: str,
    candidates: Sequence[str],
    table: np.ndarray,
    y: np.ndarray,
    max_proxies: int = MAX_PROXIES,
) -> ProxyLink | None:
    """The link of one target from its labels ``y`` [N] and the proxies' points [N, P]."""
    if np.ptp(y) == 0:
        return None
    taus = [_tau(table[:, j], y) for j in range(len(candidates))]
    kind = default_direction(target)
    same = [j for j, c in enumerate(candidates) if default_direction(c) == kind]
    other = [j for j in range(len(candidates)) if j not in same]
    for pool in (same, other):  # columns of the target's kind first
        pool = [j for j in pool if taus[j] >= MIN_TAU]
        if pool:
            break
    else:
        return None
    chosen, weights, intercept = _line(table[:, pool], y, max_proxies)
    residual = _held_out_spread(table[:, pool], y, max_proxies)
    x = table[:, pool][:, chosen] @ weights
    chosen = [pool[j] for j in chosen]
    order = np.argsort(-weights, kind="stable")
    return ProxyLink(
        target,
        tuple(candidates[chosen[j]] for j in order),
        tuple(float(weights[j]) for j in order),
        intercept,
        residual,
        _tau(x, y),
        len(y),
    )


def _line(x: np.ndarray, y: np.ndarray, most: int) -> tuple[list[int], np.ndarray, float]:
    """The blend of ``x`` [N, P] that reads ``y`` [N]: its columns, weights and intercept."""
    cols, direction = _blend(x, y, most)
    blend = x[:, cols] @ direction
    # Theil-Sen: the median pairwise slope, positive with a positive tau and not tilted by
    # the few poor networks whose accuracies sit far below the rest
    slope = max(0.0, float(theilslopes(y, blend).slope)) if np.ptp(blend) > 0 else 0.0
    return cols, slope * direction, float(np.median(y - slope * blend))


def _held_out_spread(x: np.ndarray, y: np.ndarray, most: int) -> float:
    """A robust standard deviation of the link's errors on rows it was not fitted on (10
    folds; one row each below 10 rows). The fitted rows' own errors understate it: a blend
    fitted to 10 pixel3 labels covered 36 % of unseen values by its 80 % interval."""
    order = np.random.default_rng(0).permutation(len(y))
    errors = []
    for fold in np.array_split(order, min(10, len(y))):
        rest = np.setdiff1d(order, fold)
        if np.ptp(y[rest]) == 0:
            continue
        cols, weights, intercept = _line(x[rest], y[rest], most)
        errors.append(y[fold] - (x[fold][:, cols] @ weights + intercept))
    if not errors:
        return 0.0
    e = np.concatenate(errors)
    return 1.4826 * float(np.median(np.abs(e - np.median(e))))


def _blend(x: np.ndarray, y: np.ndarray, most: int) -> tuple[list[int], np.ndarray]:
    """Columns of ``x`` [N, P] to blend and their weights in ``x``'s units (the scale is set
    later): non-negative ridge on standardized values, refitted on the ``most`` heaviest
    when more are used."""
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant column (a small fold) gets weight 0
    z = (x - mu) / sd
    target = (y - y.mean()) / y.std()

    def weights(cols: list[int]) -> np.ndarray:
        a = np.vstack([z[:, cols], np.sqrt(RIDGE) * np.eye(len(cols))])
        return nnls(a, np.concatenate([target, np.zeros(len(cols))]))[0]

    cols = list(range(x.shape[1]))
    w = weights(cols)
    if np.count_nonzero(w) > most:
        cols = sorted(np.argsort(-w, kind="stable")[:most].tolist())
        w = weights(cols)
    used = [c for c, v in zip(cols, w) if v > 0]
    if not used:  # every column's weight is zero: the best-ranked one alone
        best = int(np.argmax([_tau(x[:, j], y) for j in range(x.shape[1])]))
        return [best], np.ones(1)
    return used, np.array([v for v in w if v > 0]) / sd[used]


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    tau = kendalltau(x, y).statistic
    return -1.0 if np.isnan(tau) else float(tau)


def decoded_names(
    objectives: Sequence[str], links: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[str, ...], list[list[int]]]:
    """The names to decode for ``objectives`` (a linked one by its proxies, each once, in the
    order first asked) and, per objective, the indices of what it reads among them."""
    names: list[str] = []
    index = []
    for name in objectives:
        decoded = link_terms(links[name])[0] if name in links else [name]
        names += [d for d in decoded if d not in names]
        index.append([names.index(d) for d in decoded])
    return tuple(names), index


def map_decoded(
    decoded: np.ndarray,
    objectives: Sequence[str],
    index: Sequence[Sequence[int]],
    links: Mapping[str, Mapping[str, Any]],
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Decoded values [..., n_decoded] to the objectives' units [..., len(objectives)].

    With ``rng`` (samples, not point values) each linked value also gets the link's error,
    drawn normal with its ``residual`` spread.
    """
    out = np.empty(decoded.shape[:-1] + (len(objectives),))
    for j, name in enumerate(objectives):
        link = links.get(name)
        if link is None:
            out[..., j] = decoded[..., index[j][0]]
            continue
        values = decoded[..., list(index[j])] @ np.array(link_terms(link)[1])
        values = values + link["intercept"]
        if rng is not None and link.get("residual", 0.0) > 0:
            values = values + rng.normal(0.0, link["residual"], size=values.shape)
        out[..., j] = values
    return out


def store_links(
    card: dict[str, Any], targets: Sequence[str], links: Mapping[str, ProxyLink]
) -> None:
    """Record ``links`` in a model card; a target among ``targets`` without a link loses an
    older one (it is fitted again, and read the new way)."""
    stored = card.setdefault("links", {})
    for target in targets:
        stored.pop(target, None)
        if target in links:
            stored[target] = links[target].to_dict()
