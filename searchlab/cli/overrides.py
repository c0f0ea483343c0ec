"""Overrides the command rewrites before hydra reads them: the ``space=`` shorthand."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path


def space_overrides(overrides: Sequence[str]) -> list[str]:
    """``space=NAME`` without a YAML selects the plugin option; ``space=null`` drops the group.

    A space file of the user's (``space=FILE.yaml``, or ``space=NAME`` with
    ``conf/space/NAME.yaml`` in the working folder) is a configuration space read from it.
    """
    # the same package hydra composes from, whether installed or editable
    known = {p.name.removesuffix(".yaml") for p in (files("searchlab.conf") / "space").iterdir()}
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key == "space" and value == "null":
            out.append("~space")  # hydra's way to drop a default group: the text is raw
        elif sep and key == "space" and value and value not in known:
            mine = Path("conf", "space", f"{value}.yaml")
            if value.endswith((".yaml", ".yml")) or mine.is_file():
                path = Path(value) if value.endswith((".yaml", ".yml")) else mine
                out += ["space=plugin", "space.name=config", f"+space.args.file='{path}'"]
            else:
                out += ["space=plugin", f"space.name={value}"]
        else:
            out.append(item)
    return out
