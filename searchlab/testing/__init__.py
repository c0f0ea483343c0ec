"""Conformance suites for plugin authors: ``SpaceConformance`` for a search space,
``StrategyConformance`` for an optimizer. Each is a pytest mix-in (one test per property)
and a plain function (``check_space``, ``check_strategy``) raising AssertionError.

Example:
    >>> from searchlab.strategies import make_strategy
    >>> from searchlab.testing import check_options
    >>> def random_search(space, objectives, seed):
    ...     return make_strategy("random", space, objectives, seed)
    >>> check_options(random_search)
"""

from searchlab.testing.spaces import (
    ALL_CHECKS,
    SpaceConformance,
    check_determinism,
    check_encoding,
    check_keys,
    check_mutation,
    check_onnx_matches_torch,
    check_space,
    check_text_parses,
    check_torch_forward,
    parse_text,
    randomize_norm_layers,
)
from searchlab.testing.strategies import (
    STRATEGY_CHECKS,
    StrategyConformance,
    check_config_space,
    check_distinct_and_untold,
    check_failures_never_return,
    check_options,
    check_restore,
    check_runs_dry,
    check_seeded,
    check_strategy,
)

__all__ = [
    "ALL_CHECKS",
    "STRATEGY_CHECKS",
    "SpaceConformance",
    "StrategyConformance",
    "check_config_space",
    "check_determinism",
    "check_distinct_and_untold",
    "check_encoding",
    "check_failures_never_return",
    "check_keys",
    "check_mutation",
    "check_onnx_matches_torch",
    "check_options",
    "check_restore",
    "check_runs_dry",
    "check_seeded",
    "check_space",
    "check_strategy",
    "check_text_parses",
    "check_torch_forward",
    "parse_text",
    "randomize_norm_layers",
]
