"""Space: the contract every search space plugin fulfils.

A space samples, mutates and crosses genotypes and renders each one as a canonical text that
identifies the candidate. A network space renders a weight-free ONNX graph (``_onnx``, whose
canonical text is the candidate's) and a buildable torch module; any other space (a
configuration, :mod:`searchlab.core.config_space`) renders its own text with ``_text`` instead.
Public methods validate and wrap; subclasses override the underscored ``_`` methods.

Example (a complete space, two layers of widths to choose):
    >>> import numpy as np, onnx, torch
    >>> from onnx import helper, TensorProto
    >>> from searchlab.core.space import Space
    >>> class Widths(Space):
    ...     name = "widths"
    ...     input_shape = (4,)
    ...     def _sample(self, rng):
    ...         return [int(rng.choice([2, 4, 8])) for _ in range(2)]
    ...     def _mutate(self, g, rng):
    ...         g = list(g); g[int(rng.integers(2))] = int(rng.choice([2, 4, 8])); return g
    ...     def _validate(self, g):
    ...         assert len(g) == 2 and all(w in (2, 4, 8) for w in g), g; return list(g)
    ...     def _onnx(self, g):
    ...         a, b = g
    ...         vi = helper.make_tensor_value_info
    ...         nodes = [helper.make_node("Gemm", ["x", "w0", "b0"], ["h"], transB=1),
    ...                  helper.make_node("Relu", ["h"], ["r"]),
    ...                  helper.make_node("Gemm", ["r", "w1", "b1"], ["y"], transB=1)]
    ...         ins = [vi("x", TensorProto.FLOAT, ["N", 4]), vi("w0", TensorProto.FLOAT, [a, 4]),
    ...                vi("b0", TensorProto.FLOAT, [a]), vi("w1", TensorProto.FLOAT, [b, a]),
    ...                vi("b1", TensorProto.FLOAT, [b])]
    ...         out = [vi("y", TensorProto.FLOAT, ["N", b])]
    ...         graph = helper.make_graph(nodes, "widths", ins, out)
    ...         opset = [helper.make_opsetid("", 17)]
    ...         return helper.make_model(graph, opset_imports=opset, ir_version=8)
    ...     def _torch(self, g):
    ...         lin = torch.nn.Linear
    ...         return torch.nn.Sequential(lin(4, g[0]), torch.nn.ReLU(), lin(g[0], g[1]))
    ...     def _export_weights(self, g, module):
    ...         p = [t.detach().numpy() for t in module.parameters()]
    ...         return dict(zip(["w0", "b0", "w1", "b1"], p))
    >>> space = Widths()
    >>> c = space.sample(np.random.default_rng(0))
    >>> space.params(c) == sum(p.numel() for p in space.to_torch(c).parameters())
    True
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from searchlab.core.candidate import Candidate
from searchlab.core.graph_cost import count_flops, count_params
from searchlab.core.onnx_text import canonical_model, to_text

if TYPE_CHECKING:
    import torch

    from searchlab.core.tabular import TabularBenchmark

MUTATION_TRIES = 32
#: rendered graphs kept for the costs of recent candidates (about a few pools' worth)
RECENT_MODELS = 4096


class SpaceError(ValueError):
    """A space rejected a genotype, or a plugin's own code raised."""


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


class Space(ABC):
    """A search space: sample/mutate/crossover genotypes, render them as ONNX and torch."""

    name: str = ""
    #: shape of one input example, without the batch dimension
    input_shape: tuple[int, ...] = ()

    def __init__(self) -> None:
        self._cost_cache: dict[str, tuple[int, int]] = {}
        self._recent_models: OrderedDict[str, onnx.ModelProto] = OrderedDict()
        if not self.name:
            raise SpaceError(f"{type(self).__name__} must set a class attribute 'name'")
        if not self.renders_network and type(self)._text is Space._text:
            raise SpaceError(
                f"{type(self).__name__} must define _onnx (a network space) or _text (any other)"
            )

    @property
    def renders_network(self) -> bool:
        """Whether candidates are networks (ONNX, torch, params, FLOPs) rather than texts."""
        return type(self)._onnx is not Space._onnx

    # ----- to override ---------------------------------------------------------------
    @abstractmethod
    def _sample(self, rng: np.random.Generator) -> Any:
        """Draw one genotype."""

    @abstractmethod
    def _mutate(self, genotype: Any, rng: np.random.Generator) -> Any:
        """Return a genotype one small change away."""

    def _crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any:
        """Combine two genotypes (optional)."""
        raise NotImplementedError(f"space {self.name!r} defines no crossover")

    def _validate(self, genotype: Any) -> Any:
        """Return the genotype normalized, or raise ValueError naming the problem."""
        return genotype

    def _onnx(self, genotype: Any) -> onnx.ModelProto:
        """The weight-free ONNX model of a genotype (deterministic names and order)."""
        raise NotImplementedError(f"space {self.name!r} renders no network")

    def _torch(self, genotype: Any) -> torch.nn.Module:
        """A freshly initialized torch module computing the same network as ``_onnx``."""
        raise NotImplementedError(f"space {self.name!r} renders no network")

    def _export_weights(self, genotype: Any, module: torch.nn.Module) -> dict[str, np.ndarray]:
        """Values for the ONNX graph's weight inputs taken from a module built by ``_torch``."""
        raise NotImplementedError(f"space {self.name!r} renders no network")

    def _text(self, genotype: Any) -> str:
        """The canonical text of a space that renders no network (one text per candidate)."""
        raise NotImplementedError(f"space {self.name!r} defines neither _onnx nor _text")

    def _encode(self, genotype: Any) -> np.ndarray:
        """A flat numeric vector for baseline predictors."""
        raise NotImplementedError(f"space {self.name!r} defines no encoding")

    def genotype_from_str(self, text: str) -> Any:
        """Parse the space's native string form of a genotype (JSON by default)."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpaceError(f"space {self.name!r}: genotype {text!r} is not JSON: {exc}") from None

    def genotype_to_str(self, genotype: Any) -> str:
        """The space's native string form of a genotype (JSON by default)."""
        return json.dumps(genotype, separators=(",", ":"), sort_keys=True)

    def benchmark(self) -> TabularBenchmark | None:
        """The tabular benchmark bundled with this space, if any."""
        return None

    # ----- public API ----------------------------------------------------------------
    def validate(self, genotype: Any) -> Any:
        """Normalize a genotype or raise SpaceError naming the space and the problem."""
        try:
            return self._validate(genotype)
        except SpaceError:
            raise
        except Exception as exc:
            raise SpaceError(f"space {self.name!r}: invalid genotype {genotype!r}: {exc}") from None

    def candidate(self, genotype: Any) -> Candidate:
        """Build the candidate (canonical text and key) of a genotype."""
        genotype = self.validate(genotype)
        if not self.renders_network:
            text = self._call("text", self._text, genotype)
            if not isinstance(text, str) or not text:
                raise SpaceError(f"space {self.name!r}: _text returned {text!r}, not a text")
            return Candidate(space=self.name, genotype=genotype, text=text)
        model = self._canonical(genotype)[0]
        cand = Candidate(space=self.name, genotype=genotype, text=to_text(model))
        # the graph just rendered is kept a while: a cost asked of a fresh candidate (a
        # pool's params / FLOPs) then needs no second rendering
        self._recent_models[cand.key] = model
        while len(self._recent_models) > RECENT_MODELS:
            self._recent_models.popitem(last=False)
        return cand

    def from_str(self, text: str) -> Candidate:
        """Candidate from the space's native genotype string."""
        return self.candidate(self.genotype_from_str(text))

    def sample(self, rng: np.random.Generator) -> Candidate:
        """Draw a random candidate."""
        return self.candidate(self._call("sample", self._sample, _check_rng(rng)))

    def mutate(self, candidate: Candidate, rng: np.random.Generator) -> Candidate:
        """A valid candidate one small change away, never the same as the input."""
        self._own(candidate)
        _check_rng(rng)
        for _ in range(MUTATION_TRIES):
            child = self._call("mutate", self._mutate, candidate.genotype, rng)
            out = self.candidate(child)
            if out.key != candidate.key:
                return out
        raise SpaceError(
            f"space {self.name!r}: mutate returned the parent {MUTATION_TRIES} times "
            f"for candidate {candidate.key}"
        )

    def crossover(self, a: Candidate, b: Candidate, rng: np.random.Generator) -> Candidate:
        """A child combining two parents (raises NotImplementedError if the space has none)."""
        self._own(a)
        self._own(b)
        return self.candidate(
            self._call("crossover", self._crossover, a.genotype, b.genotype, _check_rng(rng))
        )

    def has_crossover(self) -> bool:
        """Whether the space overrides ``_crossover``."""
        return type(self)._crossover is not Space._crossover

    def to_onnx(self, candidate: Candidate) -> onnx.ModelProto:
        """The candidate's canonical weight-free ONNX model (the graph its text renders)."""
        self._own(candidate)
        return self._canonical(candidate.genotype)[0]

    def to_text(self, candidate: Candidate) -> str:
        """The candidate's canonical text (ONNX text for a network)."""
        self._own(candidate)
        return candidate.text

    def to_torch(self, candidate: Candidate) -> torch.nn.Module:
        """A freshly initialized torch module of the candidate."""
        self._own(candidate)
        return self._call("to_torch", self._torch, candidate.genotype)

    def export_weights(
        self, candidate: Candidate, module: torch.nn.Module
    ) -> dict[str, np.ndarray]:
        """Values for the ONNX weight inputs from a module built by :meth:`to_torch`."""
        self._own(candidate)
        _, renames = self._canonical(candidate.genotype)
        raw = self._call("export_weights", self._export_weights, candidate.genotype, module)
        return {renames.get(name, name): value for name, value in raw.items()}

    def authored(
        self, candidate: Candidate, module: torch.nn.Module
    ) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        """The plugin's own graph and exported weights, under the names its author wrote
        (before the canonical renaming): what a conformance check compares."""
        self._own(candidate)
        model = self._call("to_onnx", self._onnx, candidate.genotype)
        raw = self._call("export_weights", self._export_weights, candidate.genotype, module)
        return model, raw

    def encode(self, candidate: Candidate) -> np.ndarray:
        """A flat float vector (one-hot or ordinal) for baseline predictors."""
        self._own(candidate)
        vec = self._call("encode", self._encode, candidate.genotype)
        return np.asarray(vec, dtype=np.float32).ravel()

    def params(self, candidate: Candidate) -> int:
        """Number of weights in the candidate's graph."""
        return self._costs(candidate)[0]

    def flops(self, candidate: Candidate) -> int:
        """Multiply-accumulates of the candidate's graph at batch size 1."""
        return self._costs(candidate)[1]

    # ----- helpers -------------------------------------------------------------------
    def _canonical(self, genotype: Any) -> tuple[onnx.ModelProto, dict[str, str]]:
        model = self._call("to_onnx", self._onnx, genotype)
        if not isinstance(model, onnx.ModelProto):
            raise SpaceError(
                f"space {self.name!r}: _onnx returned {type(model).__name__}, "
                "not an onnx.ModelProto"
            )
        return canonical_model(model)

    def _costs(self, candidate: Candidate) -> tuple[int, int]:
        if not self.renders_network:
            raise SpaceError(f"space {self.name!r} renders no network: it has no params or flops")
        if candidate.key not in self._cost_cache:
            model = self._recent_models.pop(candidate.key, None) or self.to_onnx(candidate)
            self._cost_cache[candidate.key] = (count_params(model), count_flops(model))
        return self._cost_cache[candidate.key]

    def _own(self, candidate: Candidate) -> None:
        if not isinstance(candidate, Candidate):
            raise TypeError(f"expected a Candidate, got {type(candidate).__name__}")
        if candidate.space != self.name:
            raise SpaceError(
                f"candidate {candidate.key} belongs to space {candidate.space!r}, not {self.name!r}"
            )

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        """Run plugin code, turning any exception into one clear SpaceError."""
        try:
            return fn(*args)
        except (SpaceError, NotImplementedError):
            raise
        except Exception as exc:
            raise SpaceError(
                f"space {self.name!r}: {what} raised {type(exc).__name__}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
