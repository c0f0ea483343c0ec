"""CategoricalSpace: a space whose genotype is a fixed-length tuple of named choices.

Sampling, one-edit mutation, uniform crossover, one-hot encoding, validation and the full
one-edit neighbourhood come for free; a subclass defines ``choices`` and the renderings.

Example:
    >>> import numpy as np
    >>> from searchlab.core.categorical import CategoricalSpace
    >>> class Two(CategoricalSpace):
    ...     name = "two"
    ...     choices = (("a", "b"), ("a", "b", "c"))
    ...     _onnx = _torch = _export_weights = None  # renderings omitted in this example
    >>> Two().validate(["b", "c"])
    ('b', 'c')
    >>> Two().one_hot(("b", "c")).tolist()
    [0.0, 1.0, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from searchlab.core.candidate import Candidate
from searchlab.core.space import Space


class CategoricalSpace(Space):
    """Genotype = one choice per position; ``choices[i]`` lists the options of position i."""

    choices: tuple[tuple[str, ...], ...] = ()

    def _sample(self, rng: np.random.Generator) -> tuple[str, ...]:
        return tuple(str(opts[int(rng.integers(len(opts)))]) for opts in self.choices)

    def _mutate(self, genotype: Any, rng: np.random.Generator) -> tuple[str, ...]:
        genes = list(genotype)
        movable = [i for i, opts in enumerate(self.choices) if len(opts) > 1]
        pos = movable[int(rng.integers(len(movable)))]
        others = [o for o in self.choices[pos] if o != genes[pos]]
        genes[pos] = others[int(rng.integers(len(others)))]
        return tuple(genes)

    def _crossover(self, a: Any, b: Any, rng: np.random.Generator) -> tuple[str, ...]:
        take_a = rng.random(len(self.choices)) < 0.5
        return tuple(x if t else y for x, y, t in zip(a, b, take_a))

    def _validate(self, genotype: Any) -> tuple[str, ...]:
        if isinstance(genotype, str) or not hasattr(genotype, "__len__"):
            raise ValueError(f"expected a sequence of {len(self.choices)} choices")
        if len(genotype) != len(self.choices):
            raise ValueError(f"expected {len(self.choices)} choices, got {len(genotype)}")
        for i, (gene, opts) in enumerate(zip(genotype, self.choices)):
            if gene not in opts:
                raise ValueError(f"position {i}: {gene!r} is not one of {list(opts)}")
        return tuple(str(g) for g in genotype)

    def _encode(self, genotype: Any) -> np.ndarray:
        return self.one_hot(genotype)

    def one_hot(self, genotype: Any) -> np.ndarray:
        """Concatenated one-hot vectors, one block per position."""
        blocks = []
        for gene, opts in zip(genotype, self.choices):
            block = np.zeros(len(opts), dtype=np.float32)
            block[opts.index(gene)] = 1.0
            blocks.append(block)
        return np.concatenate(blocks)

    def neighbours(self, candidate: Candidate) -> list[Candidate]:
        """Every candidate that differs from this one in exactly one position."""
        self._own(candidate)
        out = []
        for pos, opts in enumerate(self.choices):
            for opt in opts:
                if opt != candidate.genotype[pos]:
                    genes = list(candidate.genotype)
                    genes[pos] = opt
                    out.append(self.candidate(genes))
        return out

    @property
    def size(self) -> int:
        """Number of distinct genotypes."""
        n = 1
        for opts in self.choices:
            n *= len(opts)
        return n
