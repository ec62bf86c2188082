"""Reading a PubMed XML stream safely: expat through defusedxml (no entities, no external
DTD, no network), a depth limit, gzip sniffing, each record's own bytes, and the checks
on PMIDs; each finished record element is handed to `fields` (see the package's
docstring for the whole contract).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import deque
from operator import itemgetter
from typing import IO, Iterator
from pyexpat import ErrorString as _error_string
from pyexpat import error as _ExpatError
from xml.etree.ElementTree import TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from isal import igzip, isal_zlib

from .. import collector
from . import fields

ROOT_TAGS = ("PubmedArticleSet", "PubmedBookArticleSet")
PIECE = 16 * 1024          # bytes fed to expat at a time (measured: the fastest size)
READ = 256 * 1024          # bytes read from the file (or gzip stream) at a time
MAX_DEPTH = 256            # PubMed records nest about 10 deep, MathML a few more
_PMID = re.compile(r"[1-9][0-9]{0,8}")  # the record's PMID names its cache file
PMID_FORM = "1 to 9 digits, not starting with 0"
_PMID_HOLDERS = {"PubmedArticle": "MedlineCitation", "PubmedBookArticle": "BookDocument"}


class PubmedParseError(ValueError):
    """The input is not a well-formed PubMed XML document; the message says where.

    `line` and `column` (1-based) are where the XML parser stopped, `reason` what is
    wrong, `path` the file parsed (None for a file object).
    """

    def __init__(self, line: int, column: int, reason: str, path: str | None = None):
        self.line, self.column, self.reason, self.path = line, column, reason, path
        where = f"{path}:{line}:{column}" if path else f"line {line}, column {column}"
        super().__init__(f"{where}: {reason}")

    def at(self, path: str | os.PathLike) -> PubmedParseError:
        """The same error, naming the file it is in."""
        return PubmedParseError(self.line, self.column, self.reason, str(path))


class _Prefixed:
    """A file object that gives back the bytes already read to sniff the format."""

    def __init__(self, head: bytes, f: IO[bytes]):
        self.head, self.f = head, f

    def read(self, n: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            rest = self.f.read() if n is None or n < 0 else self.f.read(max(n - len(head), 0))
            return head + rest
        return self.f.read(n)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    """The stream READ bytes at a time, gunzipped (by ISA-L) when it is gzip."""
    head = f.read(2)
    if not isinstance(head, bytes):
        raise TypeError("parse() needs a binary file object (opened with 'rb')")
    if head == b"\x1f\x8b":
        f = igzip.IGzipFile(fileobj=_Prefixed(head, f), mode="rb")
        head = b""
    read = f.read
    data = head + _read(read)
    while data:
        yield data
        data = _read(read)


def _taken(made: list) -> list:
    """made's items, made emptied."""
    taken = made[:]
    made.clear()
    return taken


def _read(read) -> bytes:
    try:
        return read(READ)
    except (gzip.BadGzipFile, EOFError, zlib.error, isal_zlib.error) as e:  # bad, cut, corrupt
        raise _Refused(f"broken gzip stream ({e})") from None


def records(f: IO[bytes], keep_xml: bool) -> Iterator[dict]:
    """The records of a binary stream, as `parse` yields them; errors as PubmedParseError
    without a path (parse adds it)."""
    xp = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=False, forbid_entities=True,
                          forbid_external=True)
    expat = xp.parser
    tb = xp.target
    expat.ordered_attributes = 0   # attributes as a dict, as TreeBuilder.start wants them
    expat.buffer_text = True       # a text's pieces in one call (same text, fewer calls)
    state = {"root": None, "namespaces": False, "doctype": None}

    def doctype_seen(name, system_id, public_id, has_internal_subset):
        state["doctype"] = name

    def start_root(tag, attrs):
        if tag not in ROOT_TAGS:
            raise _Refused(f"the root element is <{_show(tag)}>, not <PubmedArticleSet>")
        if state["doctype"] not in (None, tag):
            raise _Refused(f"the DOCTYPE declares <{_show(state['doctype'])}>, but the "
                           f"root element is <{tag}>: not a PubMed document")
        root = state["root"] = tb.start(tag, attrs)
        expat.StartElementHandler = tb.start     # from now on no Python call per element
        return root

    def namespace_seen(prefix, uri):
        state["namespaces"] = True

    expat.StartDoctypeDeclHandler = doctype_seen
    expat.StartElementHandler = start_root
    expat.EndElementHandler = tb.end
    expat.CharacterDataHandler = tb.data
    expat.StartNamespaceDeclHandler = namespace_seen
    expat.EndNamespaceDeclHandler = None

    def fail(message: str) -> PubmedParseError:
        return PubmedParseError(expat.CurrentLineNumber, expat.CurrentColumnNumber + 1,
                                message)

    raw = _RawRecords() if keep_xml else None
    seen = _Seen()

    def convert(el) -> Iterator[dict]:
        tag = el.tag
        if tag == "PubmedArticle":
            rec = fields.article(el)
        elif tag == "PubmedBookArticle":
            rec = fields.book(el)
        elif tag in ("DeleteCitation", "DeleteDocument"):
            for p in el.findall("PMID"):
                pmid = (p.text or "").strip()
                if pmid and not _PMID.fullmatch(pmid):
                    raise fail(f"<{tag}> names {_shown(pmid)}, which is not a PMID "
                               f"({PMID_FORM})")
                if pmid:
                    yield {"pmid": pmid, "deleted": True}
            return
        else:
            raise fail(f"unexpected element <{_show(tag)}> in <{state['root'].tag}>")
        problem = seen.problem(tag, rec, el)
        if problem:
            raise fail(problem)
        if keep_xml and raw.matches(tag, rec["pmid"]):
            rec["xml"] = raw.records.popleft()
        elif keep_xml:
            el.tail = None
            if state["namespaces"]:
                _qualify(el)
            try:
                rec["xml"] = tostring(el, encoding="utf-8")
            except RecursionError:
                raise fail(f"elements nested too deep in <{tag}> {rec['pmid']}") from None
        yield rec

    def feed(data: bytes, final: bool) -> None:
        try:
            expat.Parse(data, final)
        except DefusedXmlException:
            raise
        except (LookupError, ValueError) as e:  # else only the codec of a declared encoding
            raise _Refused(f"cannot read the declared encoding ({e}); save the file as "
                           "UTF-8") from None

    made: list[dict] = []

    def parse_chunk(chunk: bytes) -> None:
        for i in range(0, len(chunk), PIECE):
            data = chunk[i:i + PIECE]
            if raw is not None:
                raw.feed(data)
            feed(data, False)
            root = state["root"]
            if root is None:
                continue
            n = len(root) - 1
            if n > 0:
                done = root[:n]
                del root[:n]
                for el in done:
                    for rec in convert(el):
                        made.append(rec)
                del done, el
            if len(root):
                _check_depth(root, fail)

    try:
        try:
            for chunk in _chunks(f):
                try:
                    with collector.paused():
                        parse_chunk(chunk)
                except Exception:
                    yield from _taken(made)  # the records made before the error come first
                    raise
                yield from _taken(made)
            feed(b"", True)
        except _ExpatError as e:
            raise PubmedParseError(e.lineno, e.offset + 1, _expat_message(e)) from None
        except DefusedXmlException as e:
            raise fail(_refusal(e)) from None
        except _Refused as e:
            raise fail(str(e)) from None
        root = state["root"]
        if root is None:                                  # pragma: no cover - expat says so first
            raise fail("no root element")
        rest = root[:]
        del root[:]
        for el in rest:
            yield from convert(el)
    finally:
        expat.StartElementHandler = expat.EndElementHandler = None
        expat.CharacterDataHandler = expat.StartNamespaceDeclHandler = None
        expat.StartDoctypeDeclHandler = None


class _RawRecords:
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


class _Seen:
    """Numbers a document's records and remembers what each PMID held, so that a record
    without a PMID of the right form, or a PMID given twice with different bibliographic
    content (the later would silently replace the earlier one in the cache), is refused.
    Versions of a PMID (<PMID Version="2">) are different records; a record given again
    with other MeSH terms or references only is a revision, and the later one is kept."""

    content = staticmethod(itemgetter("title", "journal", "year", "volume", "issue", "pages",
                                      "doi", "pmcid", "abstract"))

    def __init__(self):
        self.count = 0
        self.first: dict[tuple[str, str | None], tuple[int, int]] = {}

    def problem(self, tag: str, rec: dict, el) -> str | None:
        self.count += 1
        pmid = rec["pmid"]
        if pmid is None:
            return f"record {self.count} is a <{tag}> without a PMID"
        if not _PMID.fullmatch(pmid):
            return (f"record {self.count} (a <{tag}>) has the PMID {_shown(pmid)}, which "
                    f"is not a PMID ({PMID_FORM})")
        # the PMID the record's was read from: the first holder's first (simple-tag finds,
        # ElementTree's C fast path, not an ElementPath path)
        version = el.find(_PMID_HOLDERS[tag]).find("PMID").get("Version")
        content = hash((tuple(rec["authors"]), self.content(rec)))
        number, first = self.first.setdefault((pmid, version), (self.count, content))
        if first != content:
            return (f"record {self.count} has the PMID {pmid}, as record {number} has, but "
                    "another title, authors, source or abstract: which one is right?")
        return None


def _shown(text: str, limit: int = 40) -> str:
    """text quoted for a message, cut short (saying how long it is) when it is long."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


class _Refused(Exception):
    """Well-formed so far, but not a PubMed document (or a broken gzip stream)."""


def _expat_message(e) -> str:
    code = getattr(e, "code", None)
    if code:
        message = _error_string(code)
        if message:
            return message
    return str(e).split(": line ")[0]


def _refusal(e: DefusedXmlException) -> str:
    name = type(e).__name__
    if name == "EntitiesForbidden":
        return f"entity declarations are not allowed (entity {e.name!r})"
    if name == "ExternalReferenceForbidden":
        return f"external entity references are not allowed ({e.sysid!r})"
    return f"refused: {e}"


def _show(tag: str) -> str:
    """An element name as its start tag would give it: 'uri}name' (expat's spelling of a
    namespaced name) or '{uri}name' -> "name xmlns='uri'"."""
    if not isinstance(tag, str):
        return repr(tag)
    uri, brace, name = tag.lstrip("{").rpartition("}")
    return f"{name} xmlns={uri!r}" if brace else name


def _check_depth(root, fail) -> None:
    """The chain of last children is the path of elements still open (plus at most a
    finished tail); walking it after each piece catches runaway nesting early."""
    el, depth = root, 0
    while len(el):
        el = el[-1]
        depth += 1
        if depth > MAX_DEPTH:
            raise fail(f"elements nested more than {MAX_DEPTH} deep")


def _qualify(el) -> None:
    """expat reports namespaced names as 'uri}local'; ElementTree spells '{uri}local'."""
    for e in el.iter():
        tag = e.tag
        if "}" in tag and tag[0] != "{":
            e.tag = "{" + tag
        if e.attrib:
            for k in [k for k in e.attrib if "}" in k and k[0] != "{"]:
                e.attrib["{" + k] = e.attrib.pop(k)
