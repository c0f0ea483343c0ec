"""Rows for the RLM from CSV files and bundled benchmarks, validated with clear errors.

A row is a candidate text (built from a space's genotype column, or raw text) and target
values. Bad input names the file, line, column and value, and nothing is trained on.

Example:
    >>> import tempfile, os
    >>> from searchlab.rlm.data import read_rows
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("text,lat\\nabc,1.5\\n")
    >>> rows = read_rows(path, ["lat"], "text", space=None)
    >>> rows[0].text, rows[0].values
    ('abc', (1.5,))
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from searchlab.core.candidate import text_key
from searchlab.core.space import Space
from searchlab.core.tabular import CsvError, CsvRecords
from searchlab.rlm.train import Example


class DataError(ValueError):
    """A data file or its contents cannot be used."""


@dataclass(frozen=True)
class Row:
    """One candidate's text, key and target values (in the order of the targets asked)."""

    text: str
    key: str
    values: tuple[float, ...]

    def example(self, targets: Sequence[str]) -> Example:
        """The joint example decoding all targets in order."""
        return Example(self.text, tuple(targets), self.values)


def check_value(value: float, column: str, where: str) -> float:
    """Reject NaN, inf and negative latencies, naming where the value came from."""
    if not math.isfinite(value):
        raise DataError(f"{where}, column {column!r}: value {value!r} is not a finite number")
    if value < 0 and ("lat" in column.lower() or "time" in column.lower()):
        raise DataError(f"{where}, column {column!r}: negative latency {value!r}")
    return value


def warn_stderr(message: str) -> None:
    """Print a warning line to stderr (standard output stays for results)."""
    print(f"warning: {message}", file=sys.stderr)


def read_rows(
    path: str | Path,
    targets: Sequence[str],
    text_column: str,
    space: Space | None,
    n: int | None = None,
    seed: int = 0,
    warn: Callable[[str], None] = warn_stderr,
) -> list[Row]:
    """Rows of a CSV: text from ``text_column`` (a genotype of ``space``, or raw text).

    Every value is checked first; texts are built only for the rows kept: ``n`` rows drawn
    with ``seed`` (all rows, in file order, when ``n`` is None). A candidate given again with
    the same values is kept once (``warn`` says which lines were dropped); given again with
    other values, it is a DataError.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist")
    if not targets:
        raise DataError("no targets given: name the columns to predict, e.g. targets=[acc]")
    records, unmeasured = _read_records(path, targets, text_column)
    if unmeasured:
        s = "s" if len(unmeasured) > 1 else ""
        shown = ", ".join(map(str, unmeasured[:10])) + (", ..." if len(unmeasured) > 10 else "")
        warn(
            f"{path}: skipped {len(unmeasured)} row{s} with an empty {targets} cell (line{s} "
            f"{shown}): not measured, so nothing to learn or score"
        )
    repeats = _Repeats(path, targets, text_column, space)
    # Repeated rows are found on the text as written before any text is built (cheap), so
    # ``n`` counts distinct candidates; the same candidate written two ways is found by key.
    records = repeats.drop(records, lambda r: r.source)
    if n is not None:
        if not 1 <= n <= len(records):
            raise DataError(f"n_train={n} but {path} has {len(records)} distinct rows")
        records = [records[i] for i in np.random.default_rng(seed).permutation(len(records))[:n]]
    built = [(r, _row(r, path, text_column, space)) for r in records]
    key_of = {r.line: row.key for r, row in built}
    kept = {r.line for r in repeats.drop(records, lambda r: key_of[r.line])}
    if repeats.dropped:
        lines = sorted(repeats.dropped)
        shown = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
        s = "s" if len(lines) > 1 else ""
        warn(
            f"{path}: dropped {len(lines)} repeated row{s} (line{s} {shown}): the same "
            "candidate with the same values as an earlier line, counted once"
        )
    return [row for r, row in built if r.line in kept]


def _read_records(
    path: Path, targets: Sequence[str], text_column: str
) -> tuple[list[_Record], list[int]]:
    """Every measured row's line, text column and checked target values, in file order, and
    the lines of rows with an empty target cell (a campaign's export lists candidates that
    were predicted but never verified: they are skipped, not an error)."""
    records: list[_Record] = []
    unmeasured: list[int] = []
    try:
        with CsvRecords(path) as csv_records:  # plain or .xz, UTF-8 with or without a BOM
            header = csv_records.header
            missing = [c for c in [text_column, *targets] if c not in header]
            if missing:
                raise DataError(f"{path}: missing column(s) {missing}; columns are {header}")
            for line, rec in csv_records:
                where = f"{path}, line {line}"
                if any(not (rec[col] or "").strip() for col in targets):
                    unmeasured.append(line)
                    continue
                values = []
                for col in targets:
                    raw = (rec[col] or "").strip()
                    try:
                        value = float(raw)
                    except ValueError:
                        raise DataError(
                            f"{where}, column {col!r}: {raw!r} is not a number"
                        ) from None
                    values.append(check_value(value, col, where))
                records.append(_Record(line, rec[text_column] or "", tuple(values)))
    except CsvError as exc:
        raise DataError(str(exc)) from None
    if not records:
        what = f" with a value for every target {list(targets)}" if unmeasured else ""
        raise DataError(f"{path}: no data rows{what}")
    return records, unmeasured


@dataclass(frozen=True)
class _Record:
    line: int
    source: str
    values: tuple[float, ...]


class _Repeats:
    """Finds rows giving a candidate again: the same values are dropped, others refused."""

    def __init__(
        self, path: Path, targets: Sequence[str], text_column: str, space: Space | None
    ) -> None:
        self.path, self.targets, self.text_column, self.space = path, targets, text_column, space
        self.dropped: list[int] = []

    def drop(self, records: list[_Record], identity: Callable[[_Record], str]) -> list[_Record]:
        """The records with later repeats of the same identity and values left out."""
        first: dict[str, _Record] = {}
        kept = []
        for rec in records:
            earlier = first.setdefault(identity(rec), rec)
            if earlier is rec:
                kept.append(rec)
            elif earlier.values == rec.values:
                self.dropped.append(rec.line)
            else:
                raise self._conflict(earlier, rec)
        return kept

    def _conflict(self, earlier: _Record, rec: _Record) -> DataError:
        # averaging or picking one would hide a join or copy mistake: the user decides
        key = _row(rec, self.path, self.text_column, self.space).key
        differ = "; ".join(
            f"{t} {a!r} here, {b!r} there"
            for t, a, b in zip(self.targets, rec.values, earlier.values)
            if a != b
        )
        return DataError(
            f"{self.path}, line {rec.line}: candidate {key} of line {earlier.line} again, "
            f"with other values ({differ}); keep one row per candidate (e.g. the mean)"
        )


def _row(rec: _Record, path: Path, text_column: str, space: Space | None) -> Row:
    """The row of a record: its text built (a space's genotype) or taken as written."""
    where = f"{path}, line {rec.line}"
    if space is None:
        text = rec.source
    else:
        try:
            text = space.from_str(rec.source).text
        except ValueError as exc:
            raise DataError(f"{where}, column {text_column!r}: {exc}") from None
    if not text:
        raise DataError(f"{where}, column {text_column!r}: empty text")
    return Row(text, text_key(text), rec.values)


def table_rows(space: Space, columns: Sequence[str], rows: Sequence[int]) -> list[Row]:
    """Rows of a space's bundled benchmark (NaN cells are left out by the caller's columns)."""
    table = space.benchmark()
    if table is None:
        raise DataError(f"space {space.name!r} has no bundled benchmark")
    index = [table.columns.index(c) for c in columns]
    out = []
    for r in rows:
        cand = table.candidate(int(r))
        out.append(Row(cand.text, cand.key, tuple(float(table.values[r, i]) for i in index)))
    return out


def split(n: int, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Disjoint index sets of the given fractions of ``range(n)`` (the rest last)."""
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for f in fractions:
        size = int(round(f * n))
        out.append(np.sort(perm[start : start + size]))
        start += size
    out.append(np.sort(perm[start:]))
    return out
