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
forbid_external=True) is fed the stream in 16 KiB pieces of 256 KiB reads (gzip is
inflated by ISA-L, python-isal's `igzip`, about three times as fast as the standard
library's zlib). An entity declaration raises; a DOCTYPE is allowed, and its external
DTD is never read, whatever URL it names, because expat only loads external entities
through a handler and defusedxml's handler refuses them (expat's parameter-entity
parsing is left off, so the external subset of a DOCTYPE is not even asked for).
Instead of `iterparse`'s per-element Python event handlers, expat calls ElementTree's C
`TreeBuilder` directly, so building the tree costs no Python call per element, and with
pyexpat's `buffer_text` a text comes in one call rather than in one a line; after each
piece, the root's completed children (all but the last, which may still be open) are
converted and detached, and a read's records are yielded once it is parsed, so at most
one read's records are in memory. Fields are then looked up on the finished record
element with simple-tag `find`/`findall` (ElementTree's C fast path). Python's cyclic
garbage collector is paused while a read is parsed and its records made (never across a
yield): the elements and dicts are freed by reference counting, and the collector would
only scan them again and again.

The package: this module is the parse API; `stream.py` reads the stream safely (expat
through defusedxml, the depth limit, the raw record bytes, the PMID checks) and
`fields.py` turns one finished record element into its dict; `ingest/collector.py`
pauses the cyclic garbage collector while a read is parsed.
"""

from __future__ import annotations

import os
from typing import IO, Iterator

from .fields import RECORD_KEYS
from .stream import PubmedParseError, records

__all__ = ["PubmedParseError", "RECORD_KEYS", "parse"]


def parse(source: str | os.PathLike | IO[bytes], keep_xml: bool = False) -> Iterator[dict]:
    """Yield the records of a PubMed XML document (see the module docstring).

    source: a path (str or PathLike; gzip-compressed files are recognised by their
    magic bytes and decompressed on the fly) or a binary file object (likewise).
    keep_xml: also give each record's own element as UTF-8 bytes under "xml".
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            try:
                yield from records(f, keep_xml)
            except PubmedParseError as e:
                raise e.at(source) from None
    elif hasattr(source, "read"):
        yield from records(source, keep_xml)
    else:
        raise TypeError(f"parse() needs a path or a binary file object, not {type(source).__name__}")
