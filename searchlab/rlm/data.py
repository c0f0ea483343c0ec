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

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from searchlab.candidate import text_key
from searchlab.rlm.train import Example
from searchlab.space import Space
from searchlab.tabular import open_text


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


def read_rows(
    path: str | Path,
    targets: Sequence[str],
    text_column: str,
    space: Space | None,
    n: int | None = None,
    seed: int = 0,
) -> list[Row]:
    """Rows of a CSV: text from ``text_column`` (a genotype of ``space``, or raw text).

    Every value is checked first; texts are built only for the rows kept: ``n`` rows drawn
    with ``seed`` (all rows, in file order, when ``n`` is None).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist")
    if not targets:
        raise DataError("no targets given: name the columns to predict, e.g. targets=[acc]")
    with open_text(path) as fh:  # plain or .xz
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in [text_column, *targets] if c not in header]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}; columns are {header}")
        records = []
        for line, rec in enumerate(reader, start=2):
            where = f"{path}, line {line}"
            values = []
            for col in targets:
                raw = (rec[col] or "").strip()
                try:
                    value = float(raw)
                except ValueError:
                    raise DataError(f"{where}, column {col!r}: {raw!r} is not a number") from None
                values.append(check_value(value, col, where))
            records.append((where, rec[text_column] or "", tuple(values)))
    if not records:
        raise DataError(f"{path}: no data rows")
    if n is not None:
        if not 1 <= n <= len(records):
            raise DataError(f"n_train={n} but {path} has {len(records)} rows")
        records = [records[i] for i in np.random.default_rng(seed).permutation(len(records))[:n]]
    rows = []
    for where, source, values in records:
        if space is None:
            text = source
        else:
            try:
                text = space.from_str(source).text
            except ValueError as exc:
                raise DataError(f"{where}, column {text_column!r}: {exc}") from None
        if not text:
            raise DataError(f"{where}, column {text_column!r}: empty text")
        rows.append(Row(text, text_key(text), values))
    return rows


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
