"""Which reader reads a stream: the fast one (`libxml`) when the stream can be read again
from its start, and the reference reader (`stream`) for what the fast one is unsure of.

The fast reader vouches for what it yields; when it is unsure, the stream is read again
from its start by the reference reader, which skips the records already yielded and
goes on (or stops at the error it finds, with its line and column). A stream that
cannot seek back is read by the reference reader alone.
"""

from __future__ import annotations

from typing import IO, Iterator

from . import libxml, stream


def records(f: IO[bytes], keep_xml: bool) -> Iterator[dict]:
    """The records of a binary stream, as `parse` yields them; errors as PubmedParseError
    without a path (parse adds it)."""
    start = _start(f)
    if start is None:
        yield from stream.records(f, keep_xml)
        return
    given = 0
    try:
        for rec in libxml.records(f, keep_xml):
            yield rec
            given += 1
        return
    except libxml.Unsure:
        pass
    f.seek(start)
    again = stream.records(f, keep_xml)
    for _ in range(given):
        if next(again, None) is None:
            return
    yield from again


def _start(f) -> int | None:
    """Where the stream starts, when it can seek back there."""
    try:
        if f.seekable():
            return f.tell()
    except (AttributeError, OSError, ValueError):
        pass
    return None
