"""Find spaces by name (entry-point group ``searchlab.spaces``) or by dotted path; count them.

A third-party package registers a space in its own ``pyproject.toml``::

    [project.entry-points."searchlab.spaces"]
    myspace = "mypkg.module:MySpace"

or a user names it directly: ``load_space("mypkg.module:MySpace")``.

Example:
    >>> from searchlab.core.registry import available_spaces, load_space
    >>> "nb201" in available_spaces()
    True
    >>> load_space("spaces.nb201:Nb201Space", num_classes=100).num_classes
    100
    >>> count_networks(load_space("fbnet"))
    'more than 20,000 genotypes'
"""

from __future__ import annotations

import itertools
import time
from importlib.metadata import entry_points
from typing import Any

from searchlab.core.categorical import CategoricalSpace
from searchlab.core.space import Space, SpaceError
from searchlab.core.targets import TargetError, resolve

GROUP = "searchlab.spaces"
# Counting distinct networks renders every genotype (about 2 ms each for NB201 on one core):
# beyond these bounds `searchlab spaces` would take minutes, so it says it did not count.
COUNT_MAX_GENOTYPES = 20_000
COUNT_MAX_SECONDS = 3.0
COUNT_PROBE_SECONDS = 0.3  # render this long before projecting the whole count's time


class UnknownSpaceError(SpaceError):
    """No space goes by that name or path, or its plugin failed to load."""


def available_spaces() -> dict[str, str]:
    """Registered space names mapped to their ``module:Class`` targets."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def _import(target: str, label: str) -> type:
    try:
        obj = resolve(target)
    except TargetError as exc:
        raise UnknownSpaceError(f"space {label!r}: {exc}") from exc
    if not (isinstance(obj, type) and issubclass(obj, Space)):
        raise UnknownSpaceError(f"space {label!r}: {target!r} is not a searchlab Space subclass")
    return obj


#: spaces built from a declaration rather than installed: never listed among the installed
#: ones (which are built without arguments), always available by name
DECLARED = {"config": "searchlab.core.config_space:ConfigSpace"}


def space_class(name: str) -> type:
    """The Space subclass registered as ``name`` or found at dotted path ``module:Class``
    (``config``: a configuration space, :mod:`searchlab.core.config_space`)."""
    if ":" in name:
        return _import(name, name)
    if name in DECLARED:
        return _import(DECLARED[name], name)
    registered = available_spaces()
    if name not in registered:
        known = ", ".join(sorted(registered)) or "none"
        raise UnknownSpaceError(
            f"unknown space {name!r}; registered spaces: {known} "
            "(or give a dotted path 'module:Class')"
        )
    return _import(registered[name], name)


def load_space(name: str, /, **kwargs: Any) -> Space:
    """Instantiate a space by registered name or dotted path, with keyword arguments."""
    cls = space_class(name)
    try:
        return cls(**kwargs)
    except SpaceError:
        raise
    except Exception as exc:
        raise UnknownSpaceError(
            f"space {name!r}: constructing {cls.__name__}({kwargs}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def count_networks(
    space: Space, max_genotypes: int = COUNT_MAX_GENOTYPES, max_seconds: float = COUNT_MAX_SECONDS
) -> int | str:
    """Distinct keys over every genotype of a small categorical space, or why not counted."""
    if not isinstance(space, CategoricalSpace):
        return "the space does not list its genotypes"
    size = space.size
    if size > max_genotypes:
        return f"more than {max_genotypes:,} genotypes"
    if size == 0:
        return 0
    genotypes = itertools.product(*space.choices)
    keys = {space.candidate(next(genotypes)).key}  # the first render pays one-off set-up
    started = time.perf_counter()
    for done, genotype in enumerate(genotypes, 1):
        keys.add(space.candidate(genotype).key)
        elapsed = time.perf_counter() - started
        if elapsed > COUNT_PROBE_SECONDS and elapsed / done * (size - 1) > max_seconds:
            return f"all {size:,} would take about {elapsed / done * (size - 1):.0f} s"
    return len(keys)
