"""Each record's own bytes, cut from the input as it is read (for keep_xml)."""

from __future__ import annotations

import re
from collections import deque


class RawRecords:
    """Each record's bytes exactly as the input has them, cut in document order.

    A record's own XML for the cache comes from here rather than from re-serialising
    its element: it is the record as NCBI sent it, and it costs a byte search instead
    of a Python serialiser. Every cut is checked against the parsed record (tag and
    PMID); on any doubt, or for an input that is not UTF-8, the element is serialised
    instead.
    """

    START = re.compile(rb"<(PubmedArticle|PubmedBookArticle)[\s>]")
    DECLARED = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)""")

    def __init__(self):
        self.buffer = bytearray()
        self.searched = 0   # where in buffer the search for the open record's end resumes
        self.records: deque[bytes] = deque()
        self.usable = True
        self.started = False

    def feed(self, data: bytes) -> None:
        if not self.usable:
            return
        if not self.started:
            self.started = True
            declared = self.DECLARED.match(data.lstrip(b"\xef\xbb\xbf"))
            if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
                self.usable = False
                return
        buf = self.buffer
        buf += data
        position = 0
        while True:
            start = self.START.search(buf, position)
            if not start:
                keep = max(position, len(buf) - 32)  # a start tag may be cut in two
                break
            end_tag = b"</" + start.group(1) + b">"
            end = buf.find(end_tag, max(start.end(), self.searched))
            if end < 0:   # the record goes on: next time, search only the new bytes
                keep = start.start()
                self.searched = len(buf) - len(end_tag) + 1
                break
            self.searched = 0
            position = end + len(end_tag)
            self.records.append(bytes(buf[start.start(): position]))
        del buf[:keep]
        self.searched = max(0, self.searched - keep)

    def matches(self, tag: str, pmid: str) -> bool:
        if self.usable and self.records:
            head = self.records[0]
            if head.startswith(b"<" + tag.encode()) and (
                    b">" + pmid.encode() + b"</PMID>") in head:
                return True
        self.usable = False  # from here on, serialise
        self.records.clear()
        return False
