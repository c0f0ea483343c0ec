"""searchlab: neural architecture search with a Regression Language Model as evaluator.

The public names are here (``from searchlab import load_space, optimize, ...``). The package
is one folder a concept, each importing only those listed before it: ``core`` (candidates,
spaces, objectives, Pareto tools), then ``rlm``, ``strategies``, ``verifiers``, ``store`` and
``report``, then ``surrogates``, then ``campaign``, then ``cli`` and ``testing``
(conformance suites for plugin authors).
"""

from searchlab.core.candidate import Candidate
from searchlab.core.categorical import CategoricalSpace
from searchlab.core.registry import available_spaces, load_space
from searchlab.core.space import Space, SpaceError
from searchlab.core.tabular import BenchmarkMissError, TabularBenchmark

__version__ = "0.1.0"

#: imported on first use: the campaign machinery is heavier than the space contract
_LAZY = {
    "optimize": "searchlab.campaign.tuning",
    "OptimizeResult": "searchlab.campaign.tuning",
    "ConfigSpace": "searchlab.core.config_space",
    "RlmSampler": "searchlab.campaign.rlm_sampler",
    "Surrogate": "searchlab.surrogates.base",
}


def __getattr__(name: str) -> object:
    """``optimize``, ``ConfigSpace``, ``RlmSampler`` and ``Surrogate``, imported when first used."""
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
    "Surrogate",
    "TabularBenchmark",
    "available_spaces",
    "load_space",
    "optimize",
]
