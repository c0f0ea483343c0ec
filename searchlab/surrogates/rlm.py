"""Surrogate: what a campaign asks of a model: sampled predictions and fine-tuning on results.

``RlmSurrogate`` wraps a :class:`~searchlab.rlm.regressor.RegressionLanguageModel`
checkpoint. It refuses to search on a column its checkpoint was pretrained on (that would
score candidates on labels it has seen). On the campaign's verified values it first links
each objective to a blend of at most ``link_proxies`` pretrained columns of its kind that
rank them (:mod:`searchlab.rlm.transfer`: seconds, and the pretrained knowledge stays whole)
and fine-tunes only on the objectives no column ranks, continuing from its current weights;
each updated checkpoint goes to the run folder so a resumed campaign picks up the same model.

Example:
    >>> import numpy as np
    >>> from searchlab import load_space
    >>> from searchlab.surrogates.rlm import RlmSurrogate
    >>> space = load_space("nb201")
    >>> cands = [space.sample(np.random.default_rng(s)) for s in range(3)]
    >>> rlm = RlmSurrogate("default", device="cpu")
    >>> rlm.predict(cands, ["acc_cifar10_test", "lat_ms_hwnb_pixel3"], k=4, seed=0).shape
    (3, 4, 2)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.surrogates.base import Surrogate

BOUNDS_FILE = "campaign_bounds.json"


class SurrogateError(ValueError):
    """A surrogate cannot be used as configured (names the checkpoint and column)."""


class RlmSurrogate(Surrogate):
    """The RLM as a campaign's surrogate: k samples per candidate and objective."""

    def __init__(
        self,
        checkpoint: str | Path = "default",
        device: str = "auto",
        temperature: float = 1.0,
        finetune_steps: int = 150,
        finetune_lr: float = 5e-4,
        finetune_batch: int = 16,
        seed: int = 0,
        bound_samples: bool = True,
        link: bool = True,
        link_proxies: int = 2,
    ) -> None:
        from searchlab.rlm.checkpoint import checkpoint_id, checkpoint_path
        from searchlab.rlm.regressor import RegressionLanguageModel

        self.base = str(checkpoint)
        self.model = RegressionLanguageModel.load(checkpoint_path(str(checkpoint)), device=device)
        self.temperature, self.seed = float(temperature), int(seed)
        self.finetune_steps, self.finetune_lr = int(finetune_steps), float(finetune_lr)
        self.finetune_batch = int(finetune_batch)
        self.name = checkpoint_id(checkpoint_path(str(checkpoint)))
        #: per objective, a magnitude bound for sampling, set from the verified values
        self.bounds: dict[str, float] = {}
        self.bound_samples = bool(bound_samples)
        self.link = bool(link)
        if isinstance(link_proxies, bool) or not isinstance(link_proxies, int) or link_proxies < 1:
            raise SurrogateError(
                f"surrogate.link_proxies must be a whole number of at least 1, got {link_proxies!r}"
            )
        #: the most pretrained columns a link blends: each costs a decoding pass per round
        self.link_proxies = link_proxies
        #: (text, column) -> point prediction under the current weights, for linking again
        self._proxy_points: dict[tuple[str, str], float] = {}
        #: (candidate keys, objectives) -> the point predictions decoded with the last samples
        self._points: tuple[tuple[str, ...], tuple[str, ...], np.ndarray] | None = None

    def pretrained_columns(self) -> set[str]:
        """Columns the checkpoint learned outside any campaign (pretraining, ``fit``)."""
        cols: set[str] = set()
        for group in self.model.card.get("trained_on", []):
            if "campaign" not in group:
                cols.update(group.get("columns", []))
        return cols

    def check(self, objectives: Sequence[str]) -> None:
        """Refuse objectives whose labels the checkpoint was pretrained on (leakage)."""
        seen = sorted(set(objectives) & self.pretrained_columns())
        if seen:
            raise SurrogateError(
                f"checkpoint {self.name} was pretrained on {seen}: searching on them would use "
                "labels it has seen; choose a checkpoint whose model card holds them out"
            )

    def predict(
        self, candidates: Sequence[Candidate], objectives: Sequence[str], k: int, seed: int
    ) -> np.ndarray:
        """Samples [N, k, M] in natural units, objectives decoded jointly in the order given."""
        if not candidates:
            return np.zeros((0, k, len(objectives)))
        # the point predictions come from the same encoder pass, kept for predict_point
        density, points = self.model.predict_with_point(
            [c.text for c in candidates],
            list(objectives),
            k=k,
            temperature=self.temperature,
            seed=seed,
            bounds=self.bounds if self.bound_samples else None,
            reuse=True,  # a candidate back in a later pool keeps its draw: no decoding again
        )
        self._points = (tuple(c.key for c in candidates), tuple(objectives), points)
        return density.samples

    def predict_point(
        self, candidates: Sequence[Candidate], objectives: Sequence[str]
    ) -> np.ndarray:
        """[N, M] deterministic point predictions (the median read digit by digit)."""
        if not candidates:
            return np.zeros((0, len(objectives)))
        keys = tuple(c.key for c in candidates)
        if self._points is not None and self._points[:2] == (keys, tuple(objectives)):
            return self._points[2]  # decoded with the samples just drawn for them
        bounds = self.bounds if self.bound_samples else None
        return self.model.predict_point(
            [c.text for c in candidates], list(objectives), bounds=bounds
        )

    def self_check(self, objectives: Sequence[str]) -> dict[str, tuple[float, int]]:
        """{objective: (Kendall tau, rows)} of each linked objective's blend on the labels it
        was fitted on (a fixed blend of pretrained columns: little is fitted to the ranks)."""
        links = self.model.card.get("links", {})
        return {o: (float(links[o]["tau"]), int(links[o]["n"])) for o in objectives if o in links}

    def update(
        self,
        candidates: Sequence[Candidate],
        values: Sequence[Mapping[str, float]],
        objectives: Sequence[str],
        source: Mapping[str, Any],
    ) -> None:
        """Fine-tune on verified values (all of them so far), continuing from current weights."""
        from searchlab.rlm.train import Example, TrainConfig

        self._points = None  # links, bounds or weights change: decode afresh
        examples = [
            Example(c.text, tuple(objectives), tuple(float(v[o]) for o in objectives))
            for c, v in zip(candidates, values)
        ]
        if not examples:
            return
        # a sample of 1e12 % or ms would dominate any acquisition: bound each non-negative
        # objective to a power of ten above 10x the largest value verified
        for j, name in enumerate(objectives):
            seen = [ex.values[j] for ex in examples]
            if min(seen) >= 0 and max(seen) > 0:
                self.bounds[name] = 10.0 * max(seen)
        left = list(objectives)
        if self.link:
            left = self._link(candidates, examples, objectives, source)
        if not left:
            return
        cfg = TrainConfig(
            epochs=1,
            batch_size=self.finetune_batch,
            lr=self.finetune_lr,
            warmup_steps=10,
            min_steps=self.finetune_steps,
            seed=self.seed + len(examples),
        )
        examples = [ex.only(left) for ex in examples]
        self.model.fit(examples, (), cfg, log=lambda s: None, source=dict(source))
        self._proxy_points.clear()  # new weights: the proxies' predictions change

    def _link(
        self,
        candidates: Sequence[Candidate],
        examples: Sequence[Any],
        objectives: Sequence[str],
        source: Mapping[str, Any],
    ) -> list[str]:
        """Link the objectives a pretrained column ranks; return those left to fine-tune."""
        from searchlab.rlm.transfer import choose_links, proxy_columns, store_links

        space = candidates[0].space if candidates else None
        links = choose_links(
            self.model,
            [ex.text for ex in examples],
            list(objectives),
            np.array([ex.values for ex in examples]),
            proxy_columns(self.model.card, space),
            cache=self._proxy_points,
            max_proxies=self.link_proxies,
        )
        store_links(self.model.card, objectives, links)
        if links:  # the labels chose the links: list them as seen, as a fine-tune would
            self.model.card.setdefault("trained_on", []).append(
                {
                    **source,
                    "linked": sorted(links),
                    "columns": sorted(links),
                    "keys": sorted({c.key for c in candidates}),
                }
            )
        return [o for o in objectives if o not in links]

    def save(self, directory: str | Path) -> str:
        """Write the current weights as a checkpoint folder; return its id."""
        from searchlab.rlm.checkpoint import checkpoint_id

        folder = self.model.save(directory)
        (Path(folder) / BOUNDS_FILE).write_text(json.dumps(self.bounds, sort_keys=True))
        self.name = checkpoint_id(Path(folder))
        return self.name

    def load(self, directory: str | Path) -> None:
        """Continue from a checkpoint the campaign saved earlier."""
        from searchlab.rlm.checkpoint import checkpoint_id
        from searchlab.rlm.regressor import RegressionLanguageModel

        self.model = RegressionLanguageModel.load(directory, device=str(self.model.device))
        bounds = Path(directory) / BOUNDS_FILE
        self.bounds = json.loads(bounds.read_text()) if bounds.is_file() else {}
        self.name = checkpoint_id(Path(directory))
        self._proxy_points.clear()
        self._points = None

    def settings(self) -> dict[str, Any]:
        """JSON-ready settings (stored with the campaign)."""
        return {
            "checkpoint": self.base,
            "temperature": self.temperature,
            "finetune_steps": self.finetune_steps,
            "finetune_lr": self.finetune_lr,
            "finetune_batch": self.finetune_batch,
            "bound_samples": self.bound_samples,
            "link": self.link,
            "link_proxies": self.link_proxies,
        }
