"""Few-shot transfer: a column the checkpoint never saw, read through one it was pretrained on.

Measured on NB201 with the bundled checkpoint: fine-tuning on 30 or 90 labels of cifar10
(a column held out of pretraining) ranks unseen cells at Kendall tau 0.30 / 0.26, worse than
the same checkpoint asked for cifar100, which it was pretrained on (0.81 against the true
cifar10 values): a few labels overwrite what pretraining taught. So a new column is first
*linked* to a proxy: of the columns the checkpoint was pretrained on for the same space, the
one whose point predictions rank the labelled candidates best (Kendall tau, positive and at
least ``MIN_TAU``), mapped to the new column's scale by least squares on the same labels. The
weights do not change: the model decodes the proxy's digits as ever, and its samples of the
proxy, mapped, are the new column's samples, widened by the link's own error (the robust
spread of its residuals on the labels): the proxy's spread alone covered 31 % of true cifar10
values by its 80 % interval. A target with no such proxy is fine-tuned as before.

Example:
    >>> import numpy as np
    >>> link = ProxyLink("acc_cifar10_test", "acc_cifar100_test", 0.5, 50.0, 1.0, tau=0.8, n=30)
    >>> link.apply(np.array([60.0, 70.0]))
    array([80., 85.])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from scipy.stats import kendalltau, theilslopes

#: the least Kendall tau on the labelled rows for a proxy to be used: with 10 labels a tau of
#: 0.3 is about 1.3 standard errors, so a column unrelated to the target rarely passes
MIN_TAU = 0.3
#: fewer labels than this say too little to choose a proxy (tau of 4 rows is one of 7 values)
MIN_ROWS = 5


class PointPredictor(Protocol):
    """What choosing a proxy needs of a model: point predictions and its model card."""

    card: dict[str, Any]

    def predict_point_each(self, texts: Sequence[str], objectives: Sequence[str]) -> np.ndarray:
        """[N, n_objectives] point predictions, each objective asked alone."""
        ...


@dataclass(frozen=True)
class ProxyLink:
    """A target read as ``slope * proxy + intercept`` (slope >= 0, so quantiles map to
    quantiles), give or take ``residual`` (a robust standard deviation of the link's errors);
    tau: the proxy's Kendall tau on the n labelled rows it was chosen on."""

    target: str
    proxy: str
    slope: float
    intercept: float
    residual: float
    tau: float
    n: int

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The proxy's values (any shape) in the target's units."""
        return self.slope * np.asarray(values, dtype=float) + self.intercept

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored in the model card under ``links``)."""
        return asdict(self)


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
) -> dict[str, ProxyLink]:
    """Per target, the proxy that ranks its labelled ``values`` [N, len(targets)] best.

    ``cache`` maps (text, proxy) to the model's point prediction, so a campaign that links
    again after every round predicts only its new candidates (the weights do not change).
    """
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
        y = values[:, i]
        if np.ptp(y) == 0:
            continue
        taus = [_tau(table[:, j], y) for j in range(len(candidates))]
        best = int(np.argmax(taus))
        if taus[best] < MIN_TAU:
            continue
        x = table[:, best]
        # Theil-Sen: the median pairwise slope, positive with a positive tau and not tilted
        # by the few poor networks whose accuracies sit far below the rest
        slope = max(0.0, float(theilslopes(y, x).slope)) if np.ptp(x) > 0 else 0.0
        intercept = float(np.median(y - slope * x))
        errors = y - (slope * x + intercept)
        residual = 1.4826 * float(np.median(np.abs(errors - np.median(errors))))
        links[target] = ProxyLink(
            target, candidates[best], slope, intercept, residual, taus[best], len(texts)
        )
    return links


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    tau = kendalltau(x, y).statistic
    return -1.0 if np.isnan(tau) else float(tau)


def decoded_names(
    objectives: Sequence[str], links: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[str, ...], list[int]]:
    """The names to decode for ``objectives`` (a linked one by its proxy, each once, in the
    order first asked) and, per objective, its index among them."""
    names: list[str] = []
    index = []
    for name in objectives:
        decoded = links[name]["proxy"] if name in links else name
        if decoded not in names:
            names.append(decoded)
        index.append(names.index(decoded))
    return tuple(names), index


def map_decoded(
    decoded: np.ndarray,
    objectives: Sequence[str],
    index: Sequence[int],
    links: Mapping[str, Mapping[str, Any]],
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Decoded values [..., n_decoded] to the objectives' units [..., len(objectives)].

    With ``rng`` (samples, not point values) each linked value also gets the link's error,
    drawn normal with its ``residual`` spread.
    """
    out = np.empty(decoded.shape[:-1] + (len(objectives),))
    for j, name in enumerate(objectives):
        values = decoded[..., index[j]]
        link = links.get(name)
        if link is not None:
            values = link["slope"] * values + link["intercept"]
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
