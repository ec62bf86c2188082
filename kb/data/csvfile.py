"""Read a curated CSV file, keeping where every cell stands in the file.

Only the rows that parse cleanly are kept; everything else becomes a `Problem` with its
path, line and column, so that validation can report all of them at once. Cells are
located lazily (only when a problem needs a column), so large files stay fast.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while large files are read and loaded.

    Reading creates millions of row lists that all stay alive; the collector would scan
    them again and again (about a third of the time) and free none, since they hold only
    strings. Reference counting still frees everything else meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_QUOTED_TEXT = re.compile(r'(?:[^"]+|"")*')  # a quoted cell's inside, to its closing quote


def scan_line(line: str) -> tuple[list[int], int | None]:
    """Where each cell of one CSV line starts, and where its quoting first goes wrong.

    The second item is the offset of the first quote that closes a quoted cell without a
    comma (or the end of the line) after it, or None when the quoting is sound. A quote
    opens a quoted cell only at the start of a cell; a cell whose quote is never closed
    runs to the end of the line. The scanning is done by str.find and a regular
    expression, so a line of millions of characters takes milliseconds.
    """
    offsets = [0]
    error = None
    start = 0
    while True:
        end = start
        if line.startswith('"', start):
            closing = _QUOTED_TEXT.match(line, start + 1).end()
            if closing == len(line):
                return offsets, error
            end = closing + 1
            if error is None and line[end: end + 1] not in ("", ","):
                error = closing
        comma = line.find(",", end)
        if comma < 0:
            return offsets, error
        start = comma + 1
        offsets.append(start)


def cell_offsets(line: str) -> list[int]:
    """Character offsets at which each cell of one CSV line starts."""
    return scan_line(line)[0]


def quote_error_offset(line: str) -> int:
    """Offset of the first quote that ends a quoted cell too early (0 when none)."""
    error = scan_line(line)[1]
    return 0 if error is None else error


LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
             (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def wide_encoding(data: bytes) -> str | None:
    """How data shows it is UTF-16 or UTF-32 rather than UTF-8, or None.

    Either it starts with their byte-order mark, or every other byte of its start is
    NUL (and no byte between them is), as UTF-16 writes ASCII text.
    """
    for bom, name in WIDE_BOMS:
        if data.startswith(bom):
            return f"{name} (it starts with a {name} byte-order mark)"
    head = data[:256]
    for nul, text in ((head[0::2], head[1::2]), (head[1::2], head[0::2])):
        if len(head) >= 4 and not nul.strip(b"\0") and 0 not in text:
            return "UTF-16 (every other byte is NUL)"
    return None


def _legacy_hint(byte: int) -> str:
    """What a byte that is not UTF-8 means in Windows-1252 (whose printable characters
    include Latin-1's), the usual encoding of such files, if it means anything."""
    try:
        char = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return f", which is {char!r} in Windows-1252"


def _parse_one_row_per_line(lines: list[str]) -> list[list[str]] | None:
    """The cells of every line, or None when a row spans lines or its quoting is bad.

    This is the quick path for a well-formed file; `CsvFile._parse_with_recovery`
    reads the other files row by row to say where each problem is.
    """
    reader = csv.reader(lines, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    return rows if len(rows) == len(lines) else None


def _canonical(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


class CsvFile:
    """The clean rows of one CSV file and the problems met while reading it."""

    def __init__(self, path: Path, display: str | None = None):
        self.path = Path(path)
        self.display = display or str(path)
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.line_numbers: list[int] = []  # the file line each row starts on
        self.problems: list[Problem] = []
        self._lines: list[str] = []
        self._columns: dict[str, tuple[str, ...]] | None = None
        self._read()

    @classmethod
    def empty(cls, path: Path, display: str, header: Sequence[str]) -> "CsvFile":
        """An absent optional file, read as a header and no rows."""
        f = cls.__new__(cls)
        f.path, f.display, f.header = Path(path), display, list(header)
        f.rows, f.line_numbers, f.problems, f._lines = [], [], [], [",".join(header)]
        f._columns = None
        return f

    # -- locations -----------------------------------------------------------------

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(self.display, line, column, message))

    def column_at(self, line: int, cell: int) -> int:
        """1-based character column where cell number `cell` (0-based) starts."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        offsets = cell_offsets(text)
        return (offsets[cell] if cell < len(offsets) else len(text)) + 1

    def location(self, row: int, column: str) -> tuple[int, int]:
        """(line, column) of a named cell of a clean row."""
        line = self.line_numbers[row]
        return line, self.column_at(line, self.header.index(column))

    def header_location(self, column: str) -> tuple[int, int]:
        return 1, self.column_at(1, self.header.index(column))

    # -- access --------------------------------------------------------------------

    def column(self, name: str) -> tuple[str, ...]:
        if self._columns is None:
            transposed = list(zip(*self.rows)) if self.rows else [()] * len(self.header)
            self._columns = dict(zip(self.header, transposed))
        return self._columns.get(name, ("",) * len(self.rows))

    def dicts(self):
        for row in self.rows:
            yield dict(zip(self.header, row))

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
            self.problem(1, 1, f"file is {wide}, not UTF-8; save it as UTF-8")
            return
        text = self._line_endings(self._decode(data))
        self._check_nul(text)
        if not text.strip():
            self.problem(1, 1, "file is empty (expected a header row)")
            return
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        self._lines = lines
        self._parse(lines)

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
                             f"{_legacy_hint(raw[e.start])}; save the file as UTF-8")
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
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def _check_nul(self, text: str) -> None:
        """A problem for the first NUL character of each line that has one."""
        if "\0" not in text:
            return
        for number, line in enumerate(text.split("\n"), start=1):
            if "\0" in line:
                self.problem(number, line.index("\0") + 1, "NUL character (byte 0x00): "
                             "binary data or a stray control character; remove it")

    def _parse(self, lines: list[str]) -> None:
        rows = _parse_one_row_per_line(lines)
        if rows is not None:
            numbers: Sequence[int] = range(1, len(rows) + 1)
        else:
            numbered = self._parse_with_recovery(lines)
            numbers = [number for number, _ in numbered]
            rows = [cells for _, cells in numbered]
        if not rows or numbers[0] != 1:
            self.problem(1, 1, "the first line must be the header row")
            return
        self.header = rows[0]
        self._check_header()
        width = len(self.header)
        if width and all(len(cells) == width for cells in rows[1:]):
            # the usual case: every row has the header's width, nothing to report
            self.rows = rows[1:]
            self.line_numbers = list(numbers[1:])
        else:
            self._keep_full_rows(numbers[1:], rows[1:])
        self._check_canonical(lines)

    def _keep_full_rows(self, numbers: Sequence[int], rows: list[list[str]]) -> None:
        """Keep the rows that have the header's width; a problem for each other one."""
        width = len(self.header)
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
                self.rows.append(cells)
                self.line_numbers.append(number)

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
        text = self._lines[line - 1]
        limit = csv.field_size_limit()
        starts = cell_offsets(text)
        lengths = [end - start for start, end in zip(starts, [s - 1 for s in starts[1:]]
                                                      + [len(text)])]
        cell = next((i for i, length in enumerate(lengths) if length > limit), 0)
        self.problem(line, starts[cell] + 1, f"cell {cell + 1} is {lengths[cell]:,} "
                     f"characters long; a cell holds at most {limit:,}")

    def _bad_quoting(self, line: int, reason: str) -> None:
        text = self._lines[line - 1] if line <= len(self._lines) else ""
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

    def _check_canonical(self, lines: list[str]) -> None:
        """Rows must be written as Python's csv writer writes them: minimal quoting.

        A line without a quote character is canonical already (its cells hold no comma,
        quote or line break, so the writer would not quote them), unless a row has a
        single cell; only the other lines are written out again and compared.
        """
        single = len(self.header) == 1
        candidates = [(1, self.header, lines[0])] if single or '"' in lines[0] else []
        candidates += [(n, row, lines[n - 1]) for n, row in zip(self.line_numbers, self.rows)
                       if single or '"' in lines[n - 1]]
        if not candidates:
            return
        rendered = _canonical([cells for _, cells, _ in candidates]).split("\n")
        for (number, cells, text), expected in zip(candidates, rendered):
            if expected != text:
                at = _first_difference(expected, text)
                self.problem(number, at + 1, "not in canonical CSV form (quote only cells "
                             "that need it, double inner quotes); expected "
                             f"{expected[max(0, at - 10): at + 20]!r} here")
