"""The XSLT trial (tried, not adopted; see PARSE_RESULTS.md): libxml2 (lxml) builds each
batch of finished records, one libxslt transform (in C) writes every field of the batch
as flat text, and Python splits that text into the same dicts as ingest.pubmed.parse.

parse_bench.py measures it as lxml-xslt. It is the extraction alone, without the
safety a real reader needs on top (the prolog and entity checks, a fallback to the
expat reader for what it cannot vouch for, the duplicate-PMID checks, keep_xml): on
both benchmark files it gave records identical, record by record, to ingest.pubmed.parse
at commit 869f715, and it was faster than ours on the baseline file only.
"""

from __future__ import annotations

import re

RECORD, FIELD, ITEM, PART, PAIR = "\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3", "\ufdd4"
_R, _F, _I, _S, _C = "&#xFDD0;", "&#xFDD1;", "&#xFDD2;", "&#xFDD3;", "&#xFDD4;"
LEAF = "node()[1][self::text()]"


def _leaf(path: str) -> str:
    return f"{path}/{LEAF}"


def _items(select: str, value: str) -> str:
    """One ITEM-led value per node of select."""
    return (f'<xsl:for-each select="{select}"><xsl:value-of select="concat(\'{_I}\', '
            f'{value})"/></xsl:for-each>')


def _parts(*values: str) -> str:
    return f", '{_S}', ".join(values)


FIELD_TEXT = f"<xsl:text>{_F}</xsl:text>"

# the fields of a PubmedArticle, in the order decode.article reads them
ARTICLE = f"""
  <xsl:text>{_R}A</xsl:text>
  <xsl:if test=".//comment()[not(preceding-sibling::*)] | .//processing-instruction()[not(preceding-sibling::*)]">!</xsl:if>
  <xsl:for-each select="MedlineCitation[1]">
    <xsl:value-of select="concat('{_F}', {_leaf('PMID[1]')}, '{_F}', count(PMID[1]/@Version), PMID[1]/@Version, '{_F}', {_leaf('MedlineJournalInfo[1]/MedlineTA[1]')})"/>
    {FIELD_TEXT}{_items("MeshHeadingList[1]/*/DescriptorName[1]", "normalize-space()")}
    {FIELD_TEXT}{_items("KeywordList/Keyword", "normalize-space()")}
    {FIELD_TEXT}{_items("CommentsCorrectionsList[1]/*", _parts("concat(count(@RefType), @RefType)", "normalize-space(RefSource[1])", _leaf("PMID[1]")))}
    {FIELD_TEXT}
    <xsl:for-each select="Article[1]">
      <xsl:value-of select="concat(normalize-space(ArticleTitle[1]), '{_F}', AuthorList[1]/@CompleteYN, '{_F}', normalize-space(Journal[1]/Title[1]), '{_F}', {_leaf('Journal[1]/ISOAbbreviation[1]')}, '{_F}', {_leaf('Journal[1]/JournalIssue[1]/Volume[1]')}, '{_F}', {_leaf('Journal[1]/JournalIssue[1]/Issue[1]')}, '{_F}', count(Pagination[1]), '{_S}', {_leaf('Pagination[1]/MedlinePgn[1]')}, '{_S}', {_leaf('Pagination[1]/StartPage[1]')}, '{_S}', {_leaf('Pagination[1]/EndPage[1]')}, '{_F}')"/>
      <xsl:for-each select="Journal[1]/JournalIssue[1]/PubDate[1]">
        <xsl:value-of select="concat({_leaf('MedlineDate[1]')}, '{_S}', {_leaf('Year[1]')})"/>
        <xsl:for-each select="*"><xsl:value-of select="concat('{_S}', {LEAF})"/></xsl:for-each>
      </xsl:for-each>
      {FIELD_TEXT}{_items("ArticleDate", _leaf("Year[1]"))}
      {FIELD_TEXT}{_items("ELocationID[@EIdType='doi' and not(@ValidYN='N')]", LEAF)}
      {FIELD_TEXT}{_items("AuthorList[1]/Author[not(@ValidYN='N')]", _parts("count(LastName)", "normalize-space(LastName[last()])", _leaf("Initials[last()]"), _leaf("ForeName[last()]"), "normalize-space(CollectiveName[last()])"))}
      {FIELD_TEXT}{_items("Abstract[1]/AbstractText", _parts("@Label", "normalize-space()"))}
      {FIELD_TEXT}{_items("PublicationTypeList[1]/PublicationType", "normalize-space()")}
      {FIELD_TEXT}{_items("Language", "normalize-space()")}
    </xsl:for-each>
  </xsl:for-each>
  <xsl:for-each select="PubmedData[1]">
    {FIELD_TEXT}{_items("ArticleIdList[1]/*[@IdType='doi' or @IdType='pmc']", _parts("@IdType", LEAF))}
    {FIELD_TEXT}<xsl:apply-templates select="ReferenceList"/>
  </xsl:for-each>
"""

# a reference: ITEM, its citation, then PART type PAIR id for each id of its ArticleIdList
REFERENCES = f"""
  <xsl:for-each select="Reference">
    <xsl:value-of select="concat('{_I}', normalize-space(Citation[last()]))"/>
    <xsl:for-each select="ArticleIdList[last()]/*"><xsl:value-of select="concat('{_S}', @IdType, '{_C}', {LEAF})"/></xsl:for-each>
  </xsl:for-each>
  <xsl:apply-templates select="ReferenceList"/>
"""

# $n: how many of the root's children (elements, comments, processing instructions) are
# finished; each element gives RECORD then A (an article), D (a deletion: its PMIDs as
# items) or X (anything else: the reference reader decides)
TEXT = f"""<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:param name="n" select="0"/>
<xsl:template match="/">
  <xsl:for-each select="*/node()[not(self::text())][position() &lt;= $n]">
    <xsl:choose>
      <xsl:when test="self::PubmedArticle"><xsl:call-template name="article"/></xsl:when>
      <xsl:when test="self::DeleteCitation or self::DeleteDocument"><xsl:text>{_R}D</xsl:text>{_items("PMID", LEAF)}</xsl:when>
      <xsl:when test="self::*"><xsl:text>{_R}X</xsl:text></xsl:when>
    </xsl:choose>
  </xsl:for-each>
</xsl:template>
<xsl:template name="article">{ARTICLE}</xsl:template>
<xsl:template match="ReferenceList">{REFERENCES}</xsl:template>
</xsl:stylesheet>
"""


YEAR = re.compile(r"\d{4}")
INITIAL_SPLIT = re.compile(r"[\s\-.]+")
ARTICLE_FIELDS = 23

class Unsure(Exception):
    """This reader cannot vouch for the records: let the reference reader read them."""


def batch(text: str) -> list[tuple]:
    """[("article", dict, PMID Version) or ("deleted", [raw PMIDs]), ...] for a batch's
    text."""
    out = []
    for rec in text.split(RECORD)[1:]:
        kind = rec[:1]
        if kind == "A" and rec[1:2] != "!":
            f = rec.split(FIELD)
            out.append(("article", article(f), version(f[2])))
        elif kind == "D":
            out.append(("deleted", rec.split(ITEM)[1:]))
        else:
            raise Unsure(rec[:1])
    return out


def _strip(raw: str):
    """fields' _leaf of the raw text: stripped, None when nothing is left."""
    return raw.strip() or None if raw else None


def _items(field: str) -> list[str]:
    return [t for t in field.split(ITEM)[1:] if t] if field else []


def _first(values) -> str | None:
    for raw in values:
        if raw:
            value = raw.strip()
            if value:
                return value
    return None


def _authors(field: str) -> list[str]:
    names = []
    if not field:
        return names
    for item in field.split(ITEM)[1:]:
        has_last, last, initials, fore, collective = item.split(PART)
        if has_last != "0":
            if not last:
                continue
            letters = _strip(initials)
            if letters is None:
                fore = _strip(fore)
                if fore:
                    letters = "".join(p[0] for p in INITIAL_SPLIT.split(fore) if p).upper()
            names.append(f"{last} {letters}" if letters else last)
        elif collective:
            names.append(collective)
    return names


def _date(field: str, article_dates: str):
    """(year, pub_date) as fields._date gives them, ArticleDate's year as the fallback."""
    year = pub_date = None
    if field:
        medline, year_raw, *parts = field.split(PART)
        medline = _strip(medline)
        if medline:
            m = YEAR.search(medline)
            year, pub_date = (int(m.group()) if m else None), medline
        else:
            parts = [t for t in map(_strip, parts) if t]
            y = _strip(year_raw)
            year = int(y) if y and y.isdecimal() else None
            pub_date = " ".join(parts) or None
    if year is None and article_dates:
        for y in article_dates.split(ITEM)[1:]:
            y = _strip(y)
            if y and y.isdecimal():
                year = int(y)
                break
    return year, pub_date


def _pages(field: str):
    present, pgn, start, end = field.split(PART)
    if present == "0":
        return None
    pgn = _strip(pgn)
    if pgn:
        return pgn
    start, end = _strip(start), _strip(end)
    if start and end:
        return f"{start}-{end}"
    return start or end


def _abstract(field: str):
    if not field:
        return None
    parts = []
    for item in field.split(ITEM)[1:]:
        label, text = item.split(PART)
        if label:
            label = label.strip()
        if label:
            parts.append(f"{label}: {text}" if text else f"{label}:")
        elif text:
            parts.append(text)
    return "\n".join(parts) if parts else None


def _ids(pairs) -> tuple[str | None, str | None, str | None]:
    """(pmid, doi, pmcid) of [(IdType, raw text), ...]: the first non-empty of each."""
    pmid = doi = pmcid = None
    for kind, raw in pairs:
        if kind == "doi":
            if doi is None:
                doi = _strip(raw)
        elif kind == "pubmed":
            if pmid is None:
                pmid = _strip(raw)
        elif kind == "pmc":
            if pmcid is None:
                pmcid = _strip(raw)
    return pmid, doi, pmcid


def _references(field: str) -> list[dict]:
    refs = []
    if not field:
        return refs
    append = refs.append
    for item in field.split(ITEM)[1:]:
        citation, *ids = item.split(PART)
        if ids:
            pmid, doi, pmcid = _ids(_pair(i) for i in ids)
        else:
            pmid = doi = pmcid = None
        append({"citation": citation or None, "pmid": pmid, "doi": doi, "pmcid": pmcid})
    return refs


def _pair(text: str) -> tuple[str, str]:
    kind, raw = text.split(PAIR)
    return kind, raw


def _comments(field: str) -> tuple[list[dict], bool]:
    comments, retracted = [], False
    if not field:
        return comments, retracted
    for item in field.split(ITEM)[1:]:
        kind, source, pmid = item.split(PART)
        kind = kind[1:] if kind[0] == "1" else None
        if kind == "RetractionIn":
            retracted = True
        comments.append({"type": kind, "source": source or None, "pmid": _strip(pmid)})
    return comments, retracted


def article(f: list[str]) -> dict:
    """The dict of a PubmedArticle from its FIELD-split text (see stylesheet.ARTICLE)."""
    if len(f) != ARTICLE_FIELDS:
        raise Unsure("an article of another shape")
    try:
        year, pub_date = _date(f[14], f[15])
        _, doi, pmcid = _ids(i.split(PART) for i in f[21].split(ITEM)[1:]) if f[21] \
            else (None,) * 3
        if doi is None and f[16]:
            doi = _first(f[16].split(ITEM)[1:])
        comments, retracted = _comments(f[6])
        publication_types = _items(f[19])
        abbrev = _strip(f[10])
        if abbrev is None:
            abbrev = _strip(f[3])
        return {
            "pmid": _strip(f[1]),
            "kind": "article",
            "title": f[7] or None,
            "authors": _authors(f[17]),
            "authors_complete": f[8] != "N",
            "journal": f[9] or None,
            "journal_abbrev": abbrev,
            "year": year,
            "pub_date": pub_date,
            "volume": _strip(f[11]),
            "issue": _strip(f[12]),
            "pages": _pages(f[13]),
            "doi": doi,
            "pmcid": pmcid,
            "abstract": _abstract(f[18]),
            "publication_types": publication_types,
            "mesh": _items(f[4]),
            "keywords": _items(f[5]),
            "language": _items(f[20]),
            "references": _references(f[22]),
            "comments_corrections": comments,
            "retracted": retracted or "Retracted Publication" in publication_types,
            "publisher": None,
            "place": None,
            "xml": None,
        }
    except ValueError:          # a part count off: not the shape this reader wrote
        raise Unsure("an article of another shape") from None


def version(f_version: str) -> str | None:
    """The PMID's Version attribute from its field (count, then the value)."""
    return f_version[1:] if f_version[:1] == "1" else None


def count(path, etree, pieces) -> int:
    """Records (articles) of a file read the trial's way: lxml's pull parser fed the
    pieces, the finished children of the root transformed and removed after each."""
    xslt = etree.XSLT(etree.XML(TEXT.encode()))
    parser = etree.XMLPullParser(
        events=("start",), tag="PubmedArticleSet", resolve_entities=False,
        no_network=True, load_dtd=False, huge_tree=False)
    root, n_records = None, 0
    for data in pieces:
        parser.feed(data)
        if root is None:
            for _, root in parser.read_events():
                break
            if root is None:
                continue
        n = len(root) - 1
        if n > 0:
            n_records += sum(1 for kind, *_ in batch(str(xslt(root, n=str(n))))
                             if kind == "article")
            del root[:n]
    parser.close()
    return n_records + sum(1 for kind, *_ in batch(str(xslt(root, n=str(len(root)))))
                           if kind == "article")
