"""TabularBenchmark: measured metrics of a space's architectures, looked up by candidate.

Rows are indexed by the space's normalized genotype, so a lookup never builds a text; the
table still answers by candidate and names the candidate's key when a row is missing.

Example:
    >>> from searchlab.core.registry import load_space
    >>> table = load_space("nb201").benchmark()
    >>> best, value = table.best("acc_cifar10_test")
    >>> round(value, 3)
    94.373
"""

from __future__ import annotations

import csv
import io
import lzma
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from searchlab.core.candidate import Candidate, freeze_genotype

if TYPE_CHECKING:
    from searchlab.core.space import Space


class BenchmarkMissError(LookupError):
    """The benchmark holds no row for a candidate, or no such column."""


def _open_bytes(path: Path) -> BinaryIO:
    return lzma.open(path, "rb") if path.suffix == ".xz" else open(path, "rb")


def open_text(path: Path) -> io.TextIOBase:
    """Open a UTF-8 text file for reading (``.xz`` decompressed, a byte-order mark dropped)."""
    # utf-8-sig: spreadsheet programs start their CSV exports with a byte-order mark, which
    # plain utf-8 would glue onto the first column's name
    return io.TextIOWrapper(_open_bytes(path), encoding="utf-8-sig", newline="")


class CsvError(ValueError):
    """A CSV file that is not UTF-8 text or not CSV; the message names the file and line."""


class CsvRecords:
    """A CSV file's header and records, each with the line it starts on.

    Quoted fields may span lines; undecodable bytes and malformed CSV raise :class:`CsvError`.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text('a,b\\n1,"x\\ny"\\n\\n2,z\\n')
    >>> with CsvRecords(path) as records:
    ...     print(records.header, [(line, r["a"]) for line, r in records])
    ['a', 'b'] [(2, '1'), (5, '2')]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.header: list[str] = []

    def __enter__(self) -> CsvRecords:
        self._fh = open_text(self.path)
        self._reader = csv.reader(self._fh)
        try:
            self.header = self._guard(lambda: next(self._reader, []), 1)
        except BaseException:
            self._fh.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def __iter__(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        width = len(self.header)
        while True:
            start = self._reader.line_num + 1
            fields = self._guard(lambda: next(self._reader, None), start)
            if fields is None:
                return
            if fields:  # blank lines are skipped, as csv.DictReader does
                # a short row's missing fields are None, as in csv.DictReader
                yield start, dict(zip(self.header, fields + [None] * (width - len(fields))))

    def _guard(self, read: Callable[[], Any], start: int) -> Any:
        """Run one read, turning decoding and CSV errors into one line naming file and line."""
        try:
            return read()
        except UnicodeDecodeError:
            raise CsvError(self._not_utf8()) from None
        except csv.Error as exc:
            if "field limit" in str(exc):
                # The limit stays: candidate texts are a few KB and the model reads at most
                # max_input tokens of one, so a field this long is almost always an unclosed
                # quote that swallowed the lines after it.
                raise CsvError(
                    f"{self.path}, line {start}: a field longer than {csv.field_size_limit()} "
                    "characters starts on this line (an unclosed quote?)"
                ) from None
            raise CsvError(f"{self.path}, line {start}: not valid CSV: {exc}") from None

    def _not_utf8(self) -> str:
        """Where the first byte that is not UTF-8 lies: the decoder only knows its chunk."""
        with _open_bytes(self.path) as fh:
            data = fh.read()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            return (
                f"{self.path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                f"column {column}); save the file as UTF-8"
            )
        return f"{self.path}: not UTF-8 text; save the file as UTF-8"


class TabularBenchmark:
    """Metrics per architecture of one space; NaN where a value was not measured."""

    def __init__(
        self,
        space: Space,
        genotypes: Sequence[Any],
        columns: Sequence[str],
        values: np.ndarray,
        source: str = "",
    ) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(genotypes), len(columns)):
            raise ValueError(
                f"{source or 'benchmark'}: values have shape {values.shape}, "
                f"expected ({len(genotypes)}, {len(columns)})"
            )
        self.space = space
        self.columns = list(columns)
        self.values = values
        self.source = source
        self._genotypes = [space.validate(g) for g in genotypes]
        self._rows: dict[Any, int] = {}
        for row, genotype in enumerate(self._genotypes):
            self._rows.setdefault(_hashable(genotype), row)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        space: Space,
        genotype_column: str,
        columns: Sequence[str] | None = None,
    ) -> TabularBenchmark:
        """Read a CSV (optionally .xz) whose genotype column holds the space's native strings."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"benchmark file {path} does not exist")
        with CsvRecords(path) as records:
            header = records.header
            if genotype_column not in header:
                raise ValueError(f"{path}: no column {genotype_column!r} (columns: {header})")
            if columns is None:
                columns = [c for c in header if c != genotype_column and not c.endswith("_index")]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ValueError(f"{path}: missing column(s) {missing}")
            genotypes, rows = [], []
            for line, rec in records:
                try:
                    genotypes.append(space.genotype_from_str(rec[genotype_column]))
                except ValueError as exc:
                    raise ValueError(f"{path}, line {line}, {genotype_column}: {exc}") from None
                rows.append([_float(rec[c]) for c in columns])
        return cls(space, genotypes, columns, np.array(rows, dtype=np.float64), source=str(path))

    def __len__(self) -> int:
        return len(self._genotypes)

    def __contains__(self, candidate: Candidate) -> bool:
        return candidate.space == self.space.name and _hashable(candidate.genotype) in self._rows

    def row_of(self, candidate: Candidate) -> int:
        """Row index of a candidate, or BenchmarkMissError naming the space and key."""
        row = self._rows.get(_hashable(candidate.genotype))
        if row is None or candidate.space != self.space.name:
            raise BenchmarkMissError(
                f"benchmark {self.space.name!r} has no row for candidate {candidate.key} "
                f"of space {candidate.space!r} (genotype {candidate.genotype_json()})"
            )
        return row

    def lookup(
        self, candidate: Candidate, columns: Sequence[str] | None = None
    ) -> dict[str, float]:
        """Metrics of a candidate (all columns, or the ones asked for)."""
        row = self.row_of(candidate)
        cols = self.columns if columns is None else list(columns)
        return {c: float(self.values[row, self._column_index(c)]) for c in cols}

    def column(self, name: str) -> np.ndarray:
        """All rows' values of one metric."""
        return self.values[:, self._column_index(name)]

    def genotype(self, row: int) -> Any:
        """The normalized genotype of a row."""
        return self._genotypes[row]

    def candidate(self, row: int) -> Candidate:
        """The candidate of a row (builds its text)."""
        return self.space.candidate(self._genotypes[row])

    def candidates(self, rows: Sequence[int] | None = None) -> list[Candidate]:
        """Candidates of the given rows (all rows by default)."""
        rows = range(len(self)) if rows is None else rows
        return [self.candidate(int(r)) for r in rows]

    def best(self, column: str, maximize: bool = True) -> tuple[Candidate, float]:
        """The best row of a column (NaN ignored) as (candidate, value)."""
        values = self.column(column)
        row = int(np.nanargmax(values) if maximize else np.nanargmin(values))
        return self.candidate(row), float(values[row])

    def _column_index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise BenchmarkMissError(
                f"benchmark {self.space.name!r} has no column {name!r}; it has {self.columns}"
            ) from None


def _hashable(genotype: Any) -> Any:
    frozen = freeze_genotype(genotype)
    return tuple(sorted(frozen.items())) if isinstance(frozen, dict) else frozen


def _float(text: str) -> float:
    try:
        value = float(text) if text not in ("", "nan", "NaN") else math.nan
    except ValueError:
        return math.nan
    return value
