"""The flat text `stylesheet` writes for a batch of records -> the records' dicts, by the
same rules as `fields` (the keys are documented in the package's docstring).

`Unsure` is raised for anything this reader does not handle itself (a book, an element
the set should not hold, a record whose text does not have the expected shape, a
comment or processing instruction where ElementTree would read text): the caller then
hands the document to the reference reader.
"""

from __future__ import annotations

from .fields import INITIAL_SPLIT, YEAR
from .stylesheet import FIELD, ITEM, PAIR, PART, RECORD

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
