"""Read a curated CSV file, keeping where every cell stands in the file.

Only the rows that parse cleanly are kept, column by column; everything else becomes a
`Problem` with its path, line and column, so that validation can report all of them at
once. The file's lines are not kept: cells are located lazily (only when a problem needs
a column), reading the file's lines again then, so large files stay fast and small.
"""

from __future__ import annotations

import bisect
import csv
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ingest import collector

from .csvtext import (BOM, LINE_BREAK_BYTES, canonical, cell_offsets, first_difference,
                      legacy_hint, line_chunks, line_count, lines_of, quote_error_offset,
                      uncanonical_lines, wide_encoding, with_line_feeds)

CHUNK_CHARACTERS = 4 * 1024 ** 2  # of the text parsed at a time, then kept as columns
SAMPLE = 10_000  # cells of a column that tell whether its values repeat


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def gc_paused():
    """Python's cyclic collector paused while large files are read and loaded, what they
    made frozen after it (ingest.collector.paused)."""
    return collector.paused(freeze=True)


def shared(values: list[str]) -> tuple[str, ...]:
    """values as a tuple; when its first values repeat (at least every other one), with
    equal strings made one object: a column repeats its keys, terms and sources many
    times, and each copy costs some 50 bytes. A column of distinct text is left alone
    (making it shared would hash every cell for nothing)."""
    head = values[:SAMPLE]
    if len(set(head)) * 2 > len(head):
        return tuple(values)
    seen: dict[str, str] = {}
    return tuple(map(seen.setdefault, values, values))


class CsvFile:
    """The clean rows of one CSV file and the problems met while reading it."""

    def __init__(self, path: Path, display: str | None = None):
        self.path = Path(path)
        self.display = display or str(path)
        self.header: list[str] = []
        self.line_numbers: Sequence[int] = []  # the file line each row starts on
        self.problems: list[Problem] = []
        self._columns: list[tuple[str, ...]] = []  # the clean rows' cells, by column
        self._lines: list[str] | None = None  # the file's lines, while a problem needs them
        self._read()

    @classmethod
    def empty(cls, path: Path, display: str, header: Sequence[str]) -> "CsvFile":
        """An absent optional file, read as a header and no rows."""
        f = cls.__new__(cls)
        f.path, f.display, f.header = Path(path), display, list(header)
        f.line_numbers, f.problems, f._lines = [], [], [",".join(header)]
        f._columns = [() for _ in f.header]
        return f

    # -- locations -----------------------------------------------------------------

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(self.display, line, column, message))

    def column_at(self, line: int, cell: int) -> int:
        """1-based character column where cell number `cell` (0-based) starts."""
        text = self._line(line)
        offsets = cell_offsets(text)
        return (offsets[cell] if cell < len(offsets) else len(text)) + 1

    def location(self, row: int, column: str) -> tuple[int, int]:
        """(line, column) of a named cell of a clean row."""
        line = self.line_numbers[row]
        return line, self.column_at(line, self.header.index(column))

    def header_location(self, column: str) -> tuple[int, int]:
        return 1, self.column_at(1, self.header.index(column))

    def _line(self, number: int) -> str:
        """The text of line number (1-based; '' beyond the file), the file's lines read
        again the first time one is asked for."""
        if self._lines is None:
            try:
                self._lines = lines_of(self.path.read_bytes())
            except OSError:
                self._lines = []
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    # -- access --------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.line_numbers)

    @property
    def rows(self) -> list[list[str]]:
        """The clean rows, each a list of its cells (made afresh: the file keeps
        columns)."""
        return [list(cells) for cells in zip(*self._columns)]

    def column(self, name: str) -> tuple[str, ...]:
        if name in self.header:
            return self._columns[self.header.index(name)]
        return ("",) * self.row_count

    def dicts(self):
        for cells in zip(*self._columns):
            yield dict(zip(self.header, cells))

    # -- reading -------------------------------------------------------------------

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self.problem(1, 1, "file not found")
            return
        except OSError as e:
            self.problem(1, 1, f"cannot read file: {e.strerror}")
            return
        if data.startswith(BOM):
            self.problem(1, 1, "file starts with a byte-order mark (BOM); save it as "
                         "UTF-8 without BOM")
            data = data[len(BOM):]
        wide = wide_encoding(data)
        if wide:
            self._lines = []
            self.problem(1, 1, f"file is {wide}, not UTF-8; save it as UTF-8")
            return
        text = self._line_endings(self._decode(data))
        del data
        self._check_nul(text)
        if not text or text.isspace():  # (text.strip() would copy it)
            self.problem(1, 1, "file is empty (expected a header row)")
            return
        self._parse(text)

    def _decode(self, data: bytes) -> str:
        """The text of data; a problem for the first byte of each line that is not UTF-8."""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        for number, raw in enumerate(LINE_BREAK_BYTES.split(data), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                column = len(raw[: e.start].decode("utf-8", "replace")) + 1
                self.problem(number, column, f"not valid UTF-8 (byte 0x{raw[e.start]:02x})"
                             f"{legacy_hint(raw[e.start])}; save the file as UTF-8")
        return data.decode("utf-8", "replace")

    def _line_endings(self, text: str) -> str:
        """text with LF line endings; a problem at its first carriage return, if any."""
        at = text.find("\r")
        if at < 0:
            return text
        line_start = text.rfind("\n", 0, at) + 1
        if text.startswith("\r\n", at):
            message = "line ends in a carriage return (CRLF); use LF line endings"
        else:
            message = ("carriage return (CR) without a line feed: old Mac line endings, or "
                       "a CR inside a cell; use LF line endings and no CR")
        self.problem(text.count("\n", 0, at) + 1, at - line_start + 1, message)
        return with_line_feeds(text)

    def _check_nul(self, text: str) -> None:
        """A problem for the first NUL character of each line that has one."""
        if "\0" not in text:
            return
        for number, line in enumerate(text.split("\n"), start=1):
            if "\0" in line:
                self.problem(number, line.index("\0") + 1, "NUL character (byte 0x00): "
                             "binary data or a stray control character; remove it")

    def _parse(self, text: str) -> None:
        if self._parse_one_row_per_line(text):
            self._check_header()
        else:
            lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            self._lines = lines  # a file with problems: its lines are at hand
            numbered = self._parse_with_recovery(lines)
            if not numbered or numbered[0][0] != 1:
                self.problem(1, 1, "the first line must be the header row")
                return
            self.header = numbered[0][1]
            self._check_header()
            self._keep_full_rows([number for number, _ in numbered[1:]],
                                 [cells for _, cells in numbered[1:]])
        self._check_canonical(text)

    def _parse_one_row_per_line(self, text: str) -> bool:
        """Keep the rows of a well-formed file, every row one line of the header's width;
        False, keeping nothing, for any other (`_parse_with_recovery` then reads it row
        by row to say where each problem is). The lines are parsed a chunk at a time and
        kept as columns, so that the lines and row lists of a whole file never exist at
        once."""
        chunks: list[list[tuple[str, ...]]] = []
        header, count = None, 0
        for lines in line_chunks(text, CHUNK_CHARACTERS):
            reader = csv.reader(lines, strict=True)
            try:
                rows = list(reader)
            except csv.Error:
                return False
            if len(rows) != len(lines):
                return False  # a row spans lines
            if header is None:
                header = rows.pop(0)
            if not (header and all(len(cells) == len(header) for cells in rows)):
                return False
            count += len(rows)
            if rows:
                chunks.append(list(zip(*rows)))
        self.header = header
        self._columns = [
            shared(list(itertools.chain.from_iterable(chunk[i] for chunk in chunks)))
            for i in range(len(header))]
        self.line_numbers = range(2, count + 2)
        return True

    def _keep_full_rows(self, numbers: Sequence[int], rows: list[list[str]]) -> None:
        """Keep the rows that have the header's width; a problem for each other one."""
        width = len(self.header)
        kept_numbers, kept = [], []
        for number, cells in zip(numbers, rows):
            if cells == []:
                self.problem(number, 1, "blank line; remove it")
            elif len(cells) != width:
                column = self.column_at(number, min(len(cells), width))
                if len(cells) > width:
                    message = (f"{len(cells)} cells but the header has {width}; a cell "
                               "holds an unquoted comma, or a comma is stray (cell "
                               f"{width + 1} starts here)")
                else:
                    message = f"only {len(cells)} cells but the header has {width}"
                self.problem(number, column, message)
            else:
                kept.append(cells)
                kept_numbers.append(number)
        self.line_numbers = kept_numbers
        self._columns = [tuple(column) for column in zip(*kept)] if kept else [
            () for _ in range(width)]

    def _parse_with_recovery(self, lines: list[str]) -> list[tuple[int, list[str]]]:
        """(first line number, cells) of every row that parses; problems for the rest."""
        start = 0  # index into lines where the current reader starts
        parsed: list[tuple[int, list[str]]] = []
        while start < len(lines):
            reader = csv.reader(iter(lines[start:]), strict=True)
            previous_end = 0
            try:
                for cells in reader:
                    first = start + previous_end + 1
                    last = start + reader.line_num
                    previous_end = reader.line_num
                    if last > first:
                        self.problem(first, 1, f"a quoted cell runs from line {first} to "
                                     f"line {last}: a cell holds no line break (or is a "
                                     "closing quote missing?)")
                        continue
                    parsed.append((first, cells))
                start = len(lines)
            except csv.Error as e:
                first = start + previous_end + 1
                bad = start + max(reader.line_num, previous_end + 1)
                self._unparsable(first, bad, str(e))
                start = bad  # resume on the line after the bad one
        return parsed

    def _unparsable(self, first: int, bad: int, reason: str) -> None:
        """A problem for the row starting on line first that the csv module gave up on
        at line bad, for reason."""
        too_long = reason.startswith("field larger than field limit")
        if bad > first:
            how = (f"grows past {csv.field_size_limit():,} characters" if too_long
                   else "ends in bad quoting")
            self.problem(first, 1, f"a quoted cell runs from line {first} to line {bad} "
                         f"and {how}; is a closing quote missing?")
        elif too_long:
            self._long_cell(bad)
        else:
            self._bad_quoting(bad, reason)

    def _long_cell(self, line: int) -> None:
        """A problem at the first cell of line longer than the csv module reads."""
        text = self._line(line)
        limit = csv.field_size_limit()
        starts = cell_offsets(text)
        lengths = [end - start for start, end in zip(starts, [s - 1 for s in starts[1:]]
                                                      + [len(text)])]
        cell = next((i for i, length in enumerate(lengths) if length > limit), 0)
        self.problem(line, starts[cell] + 1, f"cell {cell + 1} is {lengths[cell]:,} "
                     f"characters long; a cell holds at most {limit:,}")

    def _bad_quoting(self, line: int, reason: str) -> None:
        text = self._line(line)
        column = quote_error_offset(text) + 1
        self.problem(line, column, f"bad quoting ({reason}); quote a cell that holds a "
                     'comma or quote, and double every quote inside it ("")')

    def _check_header(self) -> None:
        seen: set[str] = set()
        for index, name in enumerate(self.header):
            if name != name.strip() or not name:
                self.problem(1, self.column_at(1, index), f"header cell {name!r} is empty "
                             "or has spaces around it")
            if name in seen:
                self.problem(1, self.column_at(1, index), f"column {name!r} appears twice")
            seen.add(name)

    def _check_canonical(self, text: str) -> None:
        """Rows must be written as Python's csv writer writes them: minimal quoting.

        The lines not of a form that is surely canonical (csvtext.uncanonical_lines:
        few, as a rule) are written out again from their cells and compared; with a
        single column every line is (its blank cells are quoted).
        """
        if len(self.header) == 1:
            suspects = list(enumerate(text.split("\n")[:line_count(text)], start=1))
        else:
            suspects = list(uncanonical_lines(text))
        candidates = []
        for number, line in suspects:
            if number == 1:
                candidates.append((number, self.header, line))
                continue
            row = bisect.bisect_left(self.line_numbers, number)
            if row < len(self.line_numbers) and self.line_numbers[row] == number:
                candidates.append((number, [cells[row] for cells in self._columns], line))
        if not candidates:
            return
        rendered = canonical([cells for _, cells, _ in candidates]).split("\n")
        for (number, cells, line), expected in zip(candidates, rendered):
            if expected != line:
                at = first_difference(expected, line)
                self.problem(number, at + 1, "not in canonical CSV form (quote only cells "
                             "that need it, double inner quotes); expected "
                             f"{expected[max(0, at - 10): at + 20]!r} here")
