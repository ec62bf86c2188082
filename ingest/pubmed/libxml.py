"""The fast reader: libxml2 (through lxml) builds each batch of records, libxslt reads
their fields into flat text (`stylesheet`), and `decode` makes the dicts; no Python code
runs per element.

It reads only documents it can vouch for, and raises `Unsure` (before yielding anything
it cannot vouch for) for everything else, so that the caller hands the document to the
reference reader (`stream`, expat through defusedxml), which gives today's records and
today's errors, with their lines and columns:

- the prolog must be plain: an optional XML declaration (version 1.0, UTF-8), an
  optional DOCTYPE of PubmedArticleSet with no internal subset (so nothing can declare
  an entity), then <PubmedArticleSet> without attributes;
- libxml2 is configured not to resolve entities, load a DTD or use the network, and
  keeps its own depth limit (256, huge_tree off); any error or warning it reports is
  Unsure;
- an entity reference other than the five predefined ones (libxml2 leaves one the
  unread DTD might declare as an empty node; expat refuses it), and the stylesheet's
  separators (U+FDD0-U+FDD4, literally or as character references) are looked for in
  the bytes before they are parsed;
- a book, an unexpected element, a record of another shape, a comment or processing
  instruction where ElementTree would read text, a record the checks refuse (no PMID,
  a bad PMID, the same PMID with other content) or whose raw bytes cannot be cut
  (keep_xml) are Unsure.
"""

from __future__ import annotations

import re
from typing import IO, Iterator

from lxml import etree

from . import decode, stylesheet
from .checks import PMID, Seen
from .decode import Unsure
from .raw import RawRecords
from .stream import Refused, chunks

__all__ = ["Unsure", "records"]

PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?"
    rb"(?:<\?xml[ \t\r\n]+version=([\"'])1\.0\1"
    rb"(?:[ \t\r\n]+encoding=([\"'])(?:utf|UTF)-8\2)?"
    rb"(?:[ \t\r\n]+standalone=([\"'])(?:yes|no)\3)?[ \t\r\n]*\?>)?[ \t\r\n]*"
    rb"(?:<!DOCTYPE[ \t\r\n]+PubmedArticleSet"
    rb"(?:[ \t\r\n]+(?:PUBLIC[ \t\r\n]+\"[^\"<>\[\]]*\"|SYSTEM)[ \t\r\n]+\"[^\"<>\[\]]*\")?"
    rb"[ \t\r\n]*>)?[ \t\r\n]*<PubmedArticleSet>")
# what this reader leaves to the reference reader, wherever it is in the bytes (three
# patterns, each with a literal start, which re finds fast; one alternation is slow)
SUSPECT = (
    re.compile(rb"&(?!amp;|lt;|gt;|quot;|apos;|#)"),              # an entity reference
    re.compile(rb"\xef\xb7[\x90-\x94]"),                          # a separator, literally
    re.compile(rb"&#(?:[xX]0*[fF][dD][dD][0-4];|0*6497[6-9];|0*64980;"  # ... referenced
               rb"|[xX]?0{8})"),                                  # (or padded past TAIL)
)
TAIL = 64       # bytes of the previous chunk searched again (a match may straddle)
_XSLT = etree.XSLT(etree.XML(stylesheet.TEXT.encode()))


def records(f: IO[bytes], keep_xml: bool) -> Iterator[dict]:
    """The records of a binary stream, as `parse` yields them, or Unsure."""
    parser = etree.XMLPullParser(
        events=("start",), tag="PubmedArticleSet", resolve_entities=False,
        no_network=True, load_dtd=False, huge_tree=False)
    raw = RawRecords() if keep_xml else None
    seen = Seen()
    root = None
    tail = b""
    try:
        for data in chunks(f):
            if root is None and not tail and not PROLOG.match(data):
                raise Unsure("not a plain prolog")
            window = tail + data
            if _suspect(window, len(window) - TAIL):
                raise Unsure("an entity or a separator")
            tail = window[-TAIL:]
            if raw is not None:
                raw.feed(data)
            parser.feed(data)
            if parser.error_log:
                raise Unsure("libxml2 reported a problem")
            if root is None:
                for _, root in parser.read_events():
                    break
                if root is None:
                    continue
            n = len(root) - 1
            if n > 0:
                yield from _finished(root, n, seen, raw)
        if _suspect(tail, len(tail)):
            raise Unsure("an entity or a separator")
        parser.close()
        if parser.error_log or root is None:
            raise Unsure("libxml2 reported a problem")
        yield from _finished(root, len(root), seen, raw)
    except (etree.LxmlError, Refused):
        raise Unsure("libxml2 refused the document") from None


def _suspect(window: bytes, before: int) -> bool:
    """Whether something SUSPECT starts in window before `before` (a match after it may
    be cut short: it is looked for again with the next chunk)."""
    for pattern in SUSPECT:
        m = pattern.search(window)
        if m and m.start() < before:
            return True
    return False


def _finished(root, n: int, seen: Seen, raw: RawRecords | None) -> Iterator[dict]:
    """The dicts of the root's first n children, which are then removed; every record is
    checked before any is yielded."""
    done = decode.batch(str(_XSLT(root, n=str(n))))
    del root[:n]
    out = []
    for kind, value, *version in done:
        if kind == "deleted":
            for pmid in value:
                pmid = pmid.strip()
                if pmid and not PMID.fullmatch(pmid):
                    raise Unsure("a bad PMID")
                if pmid:
                    out.append({"pmid": pmid, "deleted": True})
            continue
        if seen.problem("PubmedArticle", value, version[0]):
            raise Unsure("a record the checks refuse")
        if raw is not None:
            if not raw.matches("PubmedArticle", value["pmid"]):
                raise Unsure("the record's bytes")
            value["xml"] = raw.records.popleft()
        out.append(value)
    return out
