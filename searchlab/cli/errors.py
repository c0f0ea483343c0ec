"""What the command does with a user's mistake: one line, exit status 2.

A user error is any of :func:`user_errors`; :func:`one_line` words it, with its cause's
first line when that adds something, and :func:`error_line` adds how to quote an override
hydra could not parse.
"""

from __future__ import annotations


class UsageError(Exception):
    """A user mistake on the command line or in a config."""


def user_errors() -> tuple[type[BaseException], ...]:
    """The exception types that are the user's mistake, reported in one line."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from searchlab.core.onnx_text import OnnxTextError
    from searchlab.core.space import SpaceError
    from searchlab.core.tabular import BenchmarkMissError

    return (
        UsageError,
        HydraException,
        OmegaConfBaseException,
        SpaceError,
        OnnxTextError,
        BenchmarkMissError,
        FileNotFoundError,
        ValueError,
    )


def error_line(exc: BaseException, command: str) -> str:
    """One line for a user error; an unparsable override also says how to quote."""
    from hydra.errors import OverrideParseException

    if isinstance(exc, OverrideParseException) and getattr(exc, "override", None):
        return (
            f"cannot read {exc.override!r}: a value holding < > = or spaces needs hydra quotes "
            "inside the shell's, e.g. 'objectives.constraints=[\"lat_ms_hwnb_pixel3<=5\"]' "
            f"(searchlab {command} --help)"
        )
    return one_line(exc)


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, with its cause's first line when it adds one."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in message:
        message += ": " + str(cause).strip().splitlines()[0]
    return message
