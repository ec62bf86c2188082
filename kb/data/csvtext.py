"""The text of a CSV file, before and beside its cells: its encoding, its lines, where
each cell of a line starts, and which lines are not in canonical form.

kb/data/csvfile.py reads a file with these; they never keep a file's lines, so that a
large file is read as a stream of rows.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Iterator

BOM = b"\xef\xbb\xbf"
LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
             (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))

_QUOTED_TEXT = re.compile(r'(?:[^"]+|"")*')  # a quoted cell's inside, to its closing quote

# A line Python's csv writer writes as it stands (minimal quoting): every cell is either
# bare, without a quote or comma, or quoted, holding a comma or a doubled quote. Lines
# hold no line break (kb/data/csvfile.py reads them so), and the writer quotes no other
# character, so a line of this form is canonical; the others are written out again and
# compared (csvfile.CsvFile._check_canonical), which finds what is wrong and where.
_CELL = r'(?:"[^",\n]*(?:,|"")[^"\n]*(?:""[^"\n]*)*"|[^",\n]*)'
_CANONICAL_LINES = re.compile(rf"(?:{_CELL}(?:,{_CELL})*\n){{0,4096}}")
_CANONICAL_LINE = re.compile(rf"{_CELL}(?:,{_CELL})*")


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


def legacy_hint(byte: int) -> str:
    """What a byte that is not UTF-8 means in Windows-1252 (whose printable characters
    include Latin-1's), the usual encoding of such files, if it means anything."""
    try:
        char = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return f", which is {char!r} in Windows-1252"


def with_line_feeds(text: str) -> str:
    """text with every CRLF and lone CR made a LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def lines_of(data: bytes) -> list[str]:
    """The lines of a file's bytes as CsvFile reads them: without a UTF-8 byte-order
    mark, bytes that are not UTF-8 replaced, every line break a LF; [] for UTF-16 or
    UTF-32, which is not read."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    if wide_encoding(data):
        return []
    lines = with_line_feeds(data.decode("utf-8", "replace")).split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def line_count(text: str) -> int:
    """How many lines text has (a last line without a line feed counts)."""
    return text.count("\n") + (not text.endswith("\n"))


def line_chunks(text: str, size: int) -> Iterator[list[str]]:
    """The lines of text (a last line feed ends the last line), as lists of lines of
    some size characters in all: a large text split a piece at a time."""
    start, end = 0, len(text) - text.endswith("\n")
    while True:
        stop = text.find("\n", start + size, end)
        stop = end if stop < 0 else stop
        yield text[start:stop].split("\n")
        if stop >= end:
            return
        start = stop + 1


def uncanonical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line of text that may not be in canonical form: the
    lines not of the form a canonical line surely has (see _CELL)."""
    number, position, end = 1, 0, len(text)
    while position < end:
        good = _CANONICAL_LINES.match(text, position).end()
        number += text.count("\n", position, good)
        position = good
        if position >= end:
            return
        stop = text.find("\n", position)
        stop = end if stop < 0 else stop
        if not _CANONICAL_LINE.fullmatch(text, position, stop):
            yield number, text[position:stop]
        number, position = number + 1, stop + 1


def canonical(rows: list[list[str]]) -> str:
    """rows as Python's csv writer writes them, one line each."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))
