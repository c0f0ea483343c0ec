"""searchlab: neural architecture search with a Regression Language Model as evaluator."""

from searchlab.candidate import Candidate
from searchlab.categorical import CategoricalSpace
from searchlab.registry import available_spaces, load_space
from searchlab.space import Space, SpaceError
from searchlab.tabular import BenchmarkMissError, TabularBenchmark

__version__ = "0.1.0"

#: imported on first use: the campaign machinery is heavier than the space contract
_LAZY = {
    "optimize": "searchlab.tuning",
    "OptimizeResult": "searchlab.tuning",
    "ConfigSpace": "searchlab.config_space",
    "RlmSampler": "searchlab.rlm_sampler",
}


def __getattr__(name: str) -> object:
    """``searchlab.optimize``, ``ConfigSpace`` and ``RlmSampler``, imported when first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'searchlab' has no attribute {name!r}")


__all__ = [
    "BenchmarkMissError",
    "Candidate",
    "CategoricalSpace",
    "ConfigSpace",
    "OptimizeResult",
    "RlmSampler",
    "Space",
    "SpaceError",
    "TabularBenchmark",
    "available_spaces",
    "load_space",
    "optimize",
]
