"""PubMed XML (efetch responses, baseline and update files) -> plain dict records.

Pure and streaming: no network, no `kb` imports, memory flat whatever the file size.

    for record in parse("pubmed25n0001.xml.gz"):
        ...

`parse(source, keep_xml=False)` yields, in document order, one dict per
`PubmedArticle` and `PubmedBookArticle`, and `{"pmid": ..., "deleted": True}` for each
PMID of a `DeleteCitation`. The root must be `PubmedArticleSet` (or
`PubmedBookArticleSet`). A record dict always has every key of `RECORD_KEYS`, None or
[] when the XML has nothing for it. Texts are whitespace-normalised (runs of XML
whitespace -> one space, stripped) and keep the text of inline markup (<i>, <sup>,
MathML...).

    pmid                str
    kind                "article" | "book"
    title               ArticleTitle; books: the chapter's ArticleTitle, else BookTitle;
                        None when empty (a VernacularTitle is not used)
    authors             ["Surname Initials", ...] in order: LastName + Initials (else the
                        initials of ForeName; else LastName alone), CollectiveName as
                        given; authors marked ValidYN="N" left out. Books: the
                        document's AuthorList Type="authors", else the Book's (editors
                        are not authors)
    authors_complete    AuthorList CompleteYN != "N" (True without an AuthorList)
    journal             Journal/Title; books: BookTitle
    journal_abbrev      ISOAbbreviation, else MedlineJournalInfo/MedlineTA; books: None
    year                int: PubDate/Year, else the first 4 digits of MedlineDate, else
                        ArticleDate/Year; books: the Book's PubDate
    pub_date            raw text: "2003 Feb 15" (PubDate's parts joined) or MedlineDate
    volume, issue       JournalIssue's; books: Book/Volume, None
    pages               MedlinePgn, else StartPage-EndPage
    doi                 the record's own PubmedData/ArticleIdList ArticleId IdType="doi"
                        (never one inside a ReferenceList), else ELocationID
                        EIdType="doi" with ValidYN != "N". Books: PubmedBookData's or
                        BookDocument's ids, BookDocument's ELocationID, and the Book's
                        ELocationID only when the record is the whole book
    pmcid               ArticleId IdType="pmc"
    abstract            AbstractText parts, "LABEL: text" when labelled, joined by "\n"
    publication_types   PublicationType texts
    mesh                MeshHeading/DescriptorName texts
    keywords            Keyword texts of every KeywordList
    language            Language texts
    references          [{"citation", "pmid", "doi", "pmcid"}] of every
                        PubmedData/ReferenceList (nested lists included, in order)
    comments_corrections  [{"type": RefType, "source": RefSource, "pmid": PMID or None}]
    retracted           a CommentsCorrections RefType="RetractionIn", or the publication
                        type "Retracted Publication"
    publisher           books: Publisher/PublisherName; articles: None
    place               books: Publisher/PublisherLocation; articles: None
    xml                 keep_xml: the record's own bytes as the input has them (UTF-8
                        input); otherwise its element serialised by ElementTree
                        as UTF-8 bytes (namespaced MathML gets ElementTree's ns0:
                        prefixes); else None

Malformed input (not XML, truncated, another root element or a DOCTYPE of another
document, an unknown element in the set, a record without a PMID or with a PMID that is
not 1 to 9 digits, the same PMID twice with different content, entity declarations,
elements nested absurdly deep, an encoding that cannot be read, a broken gzip stream)
raises `PubmedParseError`, whose message starts with where the XML parser stopped: the
(1-based) line and column, after the file's name when parse was given a path
("data.xml:12:4: no element found"; "line 12, column 4: no element found" for a file
object); a record's own problem also names the record ("record 3 ..."). Never another
exception type for bad input (a text-mode stream, a programming error, raises TypeError;
I/O errors stay OSError).
Records are yielded as the stream is read, so records fully parsed before the error
may already have been yielded; a caller that needs all-or-nothing collects first
(`list(parse(...))`).

How it is parsed (and why this way): defusedxml's `DefusedXMLParser` (the parser
`defusedxml.ElementTree.iterparse` builds, with forbid_dtd=False, forbid_entities=True,
forbid_external=True) is fed the stream in 16 KiB pieces. An entity declaration
raises; a DOCTYPE is allowed, and its external DTD is never read, whatever URL it
names, because expat only loads external entities through a handler and defusedxml's
handler refuses them (expat's parameter-entity parsing is left off, so the external
subset of a DOCTYPE is not even asked for). Instead of `iterparse`'s per-element
Python event handlers, expat calls ElementTree's C `TreeBuilder` directly, so building
the tree costs no Python call per element; after each piece, the root's completed
children (all but the last, which may still be open) are converted and detached, so
at most one piece's records are in memory. Fields are then looked up on the finished
record element with simple-tag `find`/`findall` (ElementTree's C fast path).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import deque
from typing import IO, Iterator
from pyexpat import ErrorString as _error_string
from pyexpat import error as _ExpatError
from xml.etree.ElementTree import TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

__all__ = ["PubmedParseError", "RECORD_KEYS", "parse"]

RECORD_KEYS = (
    "pmid", "kind", "title", "authors", "authors_complete", "journal", "journal_abbrev",
    "year", "pub_date", "volume", "issue", "pages", "doi", "pmcid", "abstract",
    "publication_types", "mesh", "keywords", "language", "references",
    "comments_corrections", "retracted", "publisher", "place", "xml",
)

ROOT_TAGS = ("PubmedArticleSet", "PubmedBookArticleSet")
PIECE = 16 * 1024          # bytes fed to expat at a time (measured: the fastest size)
READ = 256 * 1024          # bytes read from the file (or gzip stream) at a time
MAX_DEPTH = 256            # PubMed records nest about 10 deep, MathML a few more
_PMID = re.compile(r"[1-9][0-9]{0,8}")  # the record's PMID names its cache file
PMID_FORM = "1 to 9 digits, not starting with 0"
_PMID_PATHS = {"PubmedArticle": "MedlineCitation/PMID",
               "PubmedBookArticle": "BookDocument/PMID"}
_YEAR = re.compile(r"\d{4}")
_INITIAL_SPLIT = re.compile(r"[\s\-.]+")


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


def parse(source: str | os.PathLike | IO[bytes], keep_xml: bool = False) -> Iterator[dict]:
    """Yield the records of a PubMed XML document (see the module docstring).

    source: a path (str or PathLike; gzip-compressed files are recognised by their
    magic bytes and decompressed on the fly) or a binary file object (likewise).
    keep_xml: also give each record's own element as UTF-8 bytes under "xml".
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            try:
                yield from _parse_file(f, keep_xml)
            except PubmedParseError as e:
                raise e.at(source) from None
    elif hasattr(source, "read"):
        yield from _parse_file(source, keep_xml)
    else:
        raise TypeError(f"parse() needs a path or a binary file object, not {type(source).__name__}")


# --------------------------------------------------------------------------- stream


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


def _pieces(f: IO[bytes]) -> Iterator[bytes]:
    head = f.read(2)
    if not isinstance(head, bytes):
        raise TypeError("parse() needs a binary file object (opened with 'rb')")
    if head == b"\x1f\x8b":
        f = gzip.GzipFile(fileobj=_Prefixed(head, f), mode="rb")
        head = b""
    read = f.read
    data = head + _read(read)
    while data:
        if len(data) <= PIECE:
            yield data
        else:
            for i in range(0, len(data), PIECE):
                yield data[i:i + PIECE]
        data = _read(read)


def _read(read) -> bytes:
    try:
        return read(READ)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:   # bad, truncated, corrupt
        raise _Refused(f"broken gzip stream ({e})") from None


def _parse_file(f: IO[bytes], keep_xml: bool) -> Iterator[dict]:
    xp = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=False, forbid_entities=True,
                          forbid_external=True)
    expat = xp.parser
    tb = xp.target
    expat.ordered_attributes = 0   # attributes as a dict, as TreeBuilder.start wants them
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
            rec = _article(el)
        elif tag == "PubmedBookArticle":
            rec = _book(el)
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

    try:
        try:
            for data in _pieces(f):
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
                        yield from convert(el)
                    del done, el
                if len(root):
                    _check_depth(root, fail)
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

    CONTENT = ("title", "journal", "year", "volume", "issue", "pages", "doi", "pmcid",
               "abstract")

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
        version = el.find(_PMID_PATHS[tag]).get("Version")
        content = hash((tuple(rec["authors"]), *(rec[key] for key in self.CONTENT)))
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


# --------------------------------------------------------------------------- fields


_WS_RUN = re.compile(r"[ \t\n\r]+")


def _clean(text):
    """XML whitespace runs -> one space, stripped; None when nothing is left."""
    if not text:
        return None
    if "  " in text or "\n" in text or "\t" in text or "\r" in text \
            or text[0] == " " or text[-1] == " ":
        text = _WS_RUN.sub(" ", text).strip(" ")
    return text or None


def _all_text(el):
    """The element's whole text, inline markup (<i>, <sup>, MathML...) included,
    whitespace-normalised as _clean does."""
    if el is None:
        return None
    return _clean("".join(el.itertext()) if len(el) else el.text)


def _leaf(el):
    """Stripped text of an element that holds no markup (an id, a year, a page range)."""
    if el is None:
        return None
    text = el.text
    if text:
        text = text.strip()
        if text:
            return text
    return None


def _authors(author_list):
    """("Surname Initials" names, complete flag) of an AuthorList element (or None).

    Authors marked ValidYN="N" (names NLM flags as wrong) are left out."""
    if author_list is None:
        return [], True
    names = []
    for a in author_list:
        if a.tag != "Author" or a.get("ValidYN") == "N":
            continue
        last = initials = fore = collective = None
        for part in a:
            tag = part.tag
            if tag == "LastName":
                last = part
            elif tag == "Initials":
                initials = part
            elif tag == "ForeName":
                fore = part
            elif tag == "CollectiveName":
                collective = part
        if last is not None:
            name = _all_text(last)
            if name is None:
                continue
            letters = _leaf(initials)
            if letters is None:
                fore = _leaf(fore)
                if fore:
                    letters = "".join(p[0] for p in _INITIAL_SPLIT.split(fore) if p).upper()
            names.append(f"{name} {letters}" if letters else name)
        elif collective is not None:
            name = _all_text(collective)
            if name:
                names.append(name)
    return names, author_list.get("CompleteYN") != "N"


def _abstract(abstract):
    if abstract is None:
        return None
    parts = []
    for part in abstract.findall("AbstractText"):
        text = _all_text(part)
        label = part.get("Label")
        if label:
            label = label.strip()
        if label:
            parts.append(f"{label}: {text}" if text else f"{label}:")
        elif text:
            parts.append(text)
    return "\n".join(parts) if parts else None


def _pages(pagination):
    if pagination is None:
        return None
    pgn = _leaf(pagination.find("MedlinePgn"))
    if pgn:
        return pgn
    start = _leaf(pagination.find("StartPage"))
    end = _leaf(pagination.find("EndPage"))
    if start and end:
        return f"{start}-{end}"
    return start or end


def _date(pub_date):
    """(year, raw text) of a PubDate element: "2003 Feb 15", or the MedlineDate text."""
    if pub_date is None:
        return None, None
    medline = _leaf(pub_date.find("MedlineDate"))
    if medline:
        m = _YEAR.search(medline)
        return (int(m.group()) if m else None), medline
    parts = [t for t in map(_leaf, pub_date) if t]       # Year, Month or Season, Day
    year = _leaf(pub_date.find("Year"))
    return (int(year) if year and year.isdecimal() else None), (" ".join(parts) or None)


def _ids(id_list):
    """(pmid, doi, pmcid) of an ArticleIdList element (or None); the first of each."""
    pmid = doi = pmcid = None
    if id_list is not None:
        for i in id_list:
            kind = i.get("IdType")
            if kind == "doi":
                if doi is None:
                    doi = _leaf(i)
            elif kind == "pubmed":
                if pmid is None:
                    pmid = _leaf(i)
            elif kind == "pmc":
                if pmcid is None:
                    pmcid = _leaf(i)
    return pmid, doi, pmcid


def _elocation_doi(parent):
    if parent is not None:
        for e in parent.findall("ELocationID"):
            if e.get("EIdType") == "doi" and e.get("ValidYN") != "N":
                value = _leaf(e)
                if value:
                    return value
    return None


def _references(holder):
    """References of every ReferenceList of holder, nested lists included (in document
    order; iterative, so no nesting depth can exhaust the stack)."""
    refs = []
    append = refs.append
    stack = list(reversed(holder.findall("ReferenceList")))
    while stack:
        ref_list = stack.pop()
        nested = []
        for ref in ref_list:
            tag = ref.tag
            if tag == "Reference":
                citation = pmid = doi = pmcid = None
                for part in ref:
                    tag = part.tag
                    if tag == "Citation":
                        citation = _all_text(part)
                    elif tag == "ArticleIdList":
                        pmid, doi, pmcid = _ids(part)
                append({"citation": citation, "pmid": pmid, "doi": doi, "pmcid": pmcid})
            elif tag == "ReferenceList":
                nested.append(ref)
        stack.extend(reversed(nested))
    return refs


def _texts(parent, tag):
    if parent is None:
        return []
    return [t for t in map(_all_text, parent.findall(tag)) if t]


def _article(rec) -> dict:
    mc = _child(rec, "MedlineCitation")
    data = rec.find("PubmedData")
    art = _child(mc, "Article")
    journal = _child(art, "Journal")
    issue = _child(journal, "JournalIssue")

    year, pub_date = _date(issue.find("PubDate"))
    if year is None:
        for d in art.findall("ArticleDate"):
            y = _leaf(d.find("Year"))
            if y and y.isdecimal():
                year = int(y)
                break

    _, doi, pmcid = _ids(data.find("ArticleIdList")) if data is not None else _NO_IDS
    doi = doi or _elocation_doi(art)
    authors, complete = _authors(art.find("AuthorList"))

    publication_types = _texts(art.find("PublicationTypeList"), "PublicationType")
    comments = []
    retracted = "Retracted Publication" in publication_types
    cc_list = mc.find("CommentsCorrectionsList")
    if cc_list is not None:
        for cc in cc_list:
            kind = cc.get("RefType")
            if kind == "RetractionIn":
                retracted = True
            comments.append({"type": kind, "source": _all_text(cc.find("RefSource")),
                             "pmid": _leaf(cc.find("PMID"))})

    mesh = []
    mesh_list = mc.find("MeshHeadingList")
    if mesh_list is not None:
        for heading in mesh_list:
            d = _all_text(heading.find("DescriptorName"))
            if d:
                mesh.append(d)
    keywords = []
    for kw_list in mc.findall("KeywordList"):
        keywords.extend(_texts(kw_list, "Keyword"))

    abbrev = _leaf(journal.find("ISOAbbreviation"))
    if abbrev is None:
        info = mc.find("MedlineJournalInfo")
        if info is not None:
            abbrev = _leaf(info.find("MedlineTA"))

    return {
        "pmid": _leaf(mc.find("PMID")),
        "kind": "article",
        "title": _all_text(art.find("ArticleTitle")),
        "authors": authors,
        "authors_complete": complete,
        "journal": _all_text(journal.find("Title")),
        "journal_abbrev": abbrev,
        "year": year,
        "pub_date": pub_date,
        "volume": _leaf(issue.find("Volume")),
        "issue": _leaf(issue.find("Issue")),
        "pages": _pages(art.find("Pagination")),
        "doi": doi,
        "pmcid": pmcid,
        "abstract": _abstract(art.find("Abstract")),
        "publication_types": publication_types,
        "mesh": mesh,
        "keywords": keywords,
        "language": _texts(art, "Language"),
        "references": _references(data) if data is not None else [],
        "comments_corrections": comments,
        "retracted": retracted,
        "publisher": None,
        "place": None,
        "xml": None,
    }


def _book(rec) -> dict:
    doc = _child(rec, "BookDocument")
    data = rec.find("PubmedBookData")
    book = _child(doc, "Book")

    book_title = _all_text(book.find("BookTitle"))
    chapter_title = _all_text(doc.find("ArticleTitle"))
    year, pub_date = _date(book.find("PubDate"))

    # authors of this document (a chapter's own), else the book's; editors are not authors
    author_list = _typed_author_list(doc)
    if author_list is None:
        author_list = _typed_author_list(book)
    authors, complete = _authors(author_list)

    _, doi, pmcid = _ids(data.find("ArticleIdList")) if data is not None else _NO_IDS
    _, doc_doi, doc_pmcid = _ids(doc.find("ArticleIdList"))
    doi = doi or doc_doi or _elocation_doi(doc)
    if doi is None and chapter_title is None:    # the record is the whole book
        doi = _elocation_doi(book)

    publisher = book.find("Publisher")
    publication_types = _texts(doc, "PublicationType")
    keywords = []
    for kw_list in doc.findall("KeywordList"):
        keywords.extend(_texts(kw_list, "Keyword"))

    return {
        "pmid": _leaf(doc.find("PMID")),
        "kind": "book",
        "title": chapter_title or book_title,
        "authors": authors,
        "authors_complete": complete,
        "journal": book_title,
        "journal_abbrev": None,
        "year": year,
        "pub_date": pub_date,
        "volume": _leaf(book.find("Volume")),
        "issue": None,
        "pages": _pages(doc.find("Pagination")),
        "doi": doi,
        "pmcid": pmcid or doc_pmcid,
        "abstract": _abstract(doc.find("Abstract")),
        "publication_types": publication_types,
        "mesh": [],
        "keywords": keywords,
        "language": _texts(doc, "Language"),
        "references": _references(doc),
        "comments_corrections": [],
        "retracted": "Retracted Publication" in publication_types,
        "publisher": _all_text(publisher.find("PublisherName")) if publisher is not None else None,
        "place": _all_text(publisher.find("PublisherLocation")) if publisher is not None else None,
        "xml": None,
    }


def _typed_author_list(parent):
    for author_list in parent.findall("AuthorList"):
        if author_list.get("Type", "authors") == "authors":
            return author_list
    return None


class _Nothing:
    """Stands in for a missing container element: every lookup finds nothing."""

    def find(self, path):
        return None

    def findall(self, path):
        return []

    def get(self, key, default=None):
        return default

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(())


_EMPTY = _Nothing()


def _child(parent, tag):
    """A container element, or _EMPTY when it is missing, so that lookups go on."""
    el = parent.find(tag)
    return _EMPTY if el is None else el
_NO_IDS = (None, None, None)
