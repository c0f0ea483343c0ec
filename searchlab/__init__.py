"""searchlab: neural architecture search with a Regression Language Model as evaluator."""

from searchlab.candidate import Candidate
from searchlab.categorical import CategoricalSpace
from searchlab.registry import available_spaces, load_space
from searchlab.space import Space, SpaceError
from searchlab.tabular import BenchmarkMissError, TabularBenchmark

__version__ = "0.1.0"

__all__ = [
    "BenchmarkMissError",
    "Candidate",
    "CategoricalSpace",
    "Space",
    "SpaceError",
    "TabularBenchmark",
    "available_spaces",
    "load_space",
]
