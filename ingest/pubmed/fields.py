"""One finished PubMed record element (PubmedArticle, PubmedBookArticle) -> its dict.

The keys and what each holds are documented in the package's docstring (`RECORD_KEYS`).
Fields are looked up with simple-tag `find`/`findall` (ElementTree's C fast path).
"""

from __future__ import annotations

import re

RECORD_KEYS = (
    "pmid", "kind", "title", "authors", "authors_complete", "journal", "journal_abbrev",
    "year", "pub_date", "volume", "issue", "pages", "doi", "pmcid", "abstract",
    "publication_types", "mesh", "keywords", "language", "references",
    "comments_corrections", "retracted", "publisher", "place", "xml",
)
_YEAR = re.compile(r"\d{4}")
_INITIAL_SPLIT = re.compile(r"[\s\-.]+")


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


def article(rec) -> dict:
    """The dict of a PubmedArticle element."""
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


def book(rec) -> dict:
    """The dict of a PubmedBookArticle element."""
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
