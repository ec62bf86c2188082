"""Citation writers: one conversion turns a `sources` row into a CSL-JSON item; BibTeX
(written by bibtexparser, LaTeX's special characters escaped), RIS (written by rispy)
and CSL-JSON are all made from that item, and the formatted styles
(kb/export/citeproc.py) render it.

Conventions a reader of the exports should know:
- "Surname Initials" names become family + given initials ("Rossi RE" -> Rossi, R. E.);
  a name that does not end in initials (a group, or a surname alone) is kept whole as a
  literal name.
- An author list known only in part ends in "et al." in CSL-JSON and RIS, and in
  "and others" (BibTeX's own convention) in BibTeX.
- PMID, PMCID and DOI: CSL-JSON `PMID`/`PMCID`/`DOI`; BibTeX `pmid`/`pmcid`/`doi`;
  RIS `AN` (PMID), `C2` (PMCID), `DO` (DOI), as PubMed-aware reference managers use them.
- A work PubMed records as retracted carries a note saying so in every format.
"""

from __future__ import annotations

import json
import re

from kb.data.schema import PMID_VERIFIED
from kb.data.text import ET_AL

FORMATS = ("bibtex", "ris", "csl-json")
RETRACTED_NOTE = "RETRACTED: PubMed records a retraction of this work"

# pub_type -> CSL type; other types are journal articles, or "article" without a journal
CSL_TYPES = {"book": "book", "chapter": "chapter"}
BIBTEX_TYPES = {"article-journal": "article", "book": "book", "chapter": "incollection",
                "article": "misc"}
RIS_TYPES = {"article-journal": "JOUR", "book": "BOOK", "chapter": "CHAP", "article": "GEN"}


# -- names ------------------------------------------------------------------------------


def _is_initials(token: str) -> bool:
    return 1 <= len(token) <= 4 and token.isalpha() and token.isupper()


def csl_name(name: str) -> dict:
    """'Rossi RE' -> {'family': 'Rossi', 'given': 'R. E.'}; a group stays literal."""
    family, _, last = name.rpartition(" ")
    if family and _is_initials(last):
        return {"family": family, "given": " ".join(f"{c}." for c in last)}
    return {"literal": name}


def csl_names(names: str | None) -> list[dict]:
    return [{"literal": ET_AL} if n == ET_AL else csl_name(n)
            for n in (part.strip() for part in (names or "").split(";")) if n]


# -- one sources row -> one CSL-JSON item ------------------------------------------------


def csl_item(row: dict) -> dict:
    """The CSL-JSON item of a sources row (keys of SOURCE_COLUMNS); blanks are left out."""
    pub_type = row.get("pub_type")
    kind = CSL_TYPES.get(pub_type) or ("article-journal" if row.get("journal")
                                       else "article")
    item = {
        "id": row["key"],
        "type": kind,
        "title": row.get("title"),
        "author": csl_names(row.get("authors")),
        "editor": csl_names(row.get("editors")),
        "container-title": row.get("journal"),
        "container-title-short": row.get("journal_abbrev"),
        "publisher": row.get("publisher"),
        "publisher-place": row.get("place"),
        "volume": _text(row.get("volume")),
        "issue": _text(row.get("issue")),
        "page": row.get("pages"),
        "DOI": row.get("doi"),
        "PMID": _text(row.get("pmid")) if row.get("pmid_seen") in (None, "", PMID_VERIFIED)
        else None,
        "PMCID": row.get("pmcid"),
        "note": RETRACTED_NOTE if row.get("retracted") else None,
    }
    if row.get("year") not in (None, ""):
        item["issued"] = {"date-parts": [[int(row["year"])]]}
    item = {k: v for k, v in item.items() if v not in (None, "", [])}
    unverified = (f"PMID {row['pmid']} not verified on PubMed ({SEEN[row['pmid_seen']]})"
                  if row.get("pmid") and "PMID" not in item else None)
    missing = gaps(item)
    if missing or unverified:   # never exported silently incomplete
        item["note"] = "; ".join(filter(None, (item.get("note"),
                                              incomplete_note(item) if missing else None,
                                              unverified)))
    return item


# where a PMID not verified on PubMed was seen
SEEN = {"other": "labelled only on a page other than PubMed's or PMC's",
        "address": "seen only in a page address"}

# what a citation needs, by the CSL field that holds it
NEEDED = (("author", "authors"), ("title", "title"), ("container-title", "journal"),
          ("issued", "year"))


def gaps(item: dict) -> list[str]:
    """What a CSL item lacks of authors (or editors), title, journal (a book's chapter
    its book; a whole book none) and year: the fields a reader needs to find the work."""
    journal_needed = item.get("type") != "book"
    return [name for field, name in NEEDED
            if not item.get(field) and (field != "container-title" or journal_needed)
            and not (field == "author" and item.get("editor"))]


def incomplete_note(item: dict) -> str:
    """'Incomplete: no authors or year verified yet (nelm-kb key x)'"""
    missing = gaps(item)
    listed = (", ".join(missing[:-1]) + " or " + missing[-1]) if len(missing) > 1 \
        else missing[0]
    return f"Incomplete: no {listed} verified yet (nelm-kb key {item['id']})"


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)


# -- formats ---------------------------------------------------------------------------


def to_csl_json(items: list[dict]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# LaTeX's special characters; everything else is written as UTF-8, which biber, pandoc,
# pybtex and reference managers read (encoding Greek or maths symbols as LaTeX makes
# pandoc read them back as formulas)
LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(LATEX_SPECIALS)) + "]")
# LaTeX prints -- and --- as dashes and '' as a closing double quote; an empty group
# between the characters keeps them as typed
_LIGATURE = re.compile(r"(?<=-)(?=-)|(?<=')(?=')")


def latex(text: str) -> str:
    """Text with LaTeX's special characters escaped and its ligatures broken, so that
    LaTeX prints every character as it is typed. (pylatexenc's encoder, configured to
    escape only these, would also normalise the text to NFC, changing characters such
    as CJK compatibility ideographs.)"""
    text = _LATEX_SPECIAL.sub(lambda special: LATEX_SPECIALS[special.group()], text)
    return _LIGATURE.sub("{}", text) if "--" in text or "''" in text else text


# what BibTeX would read as the end of a family name: a comma, or "and" between names
_NAME_BREAK = re.compile(r",|(?:^|\s)and(?:\s|$)", re.IGNORECASE)


def _bibtex_name(name: dict, encode) -> str:
    if "literal" in name:
        return "others" if name["literal"] == ET_AL else "{" + encode(name["literal"]) + "}"
    family = encode(name["family"])
    if _NAME_BREAK.search(family):
        family = "{" + family + "}"
    return f"{family}, {encode(name['given'])}"


def to_bibtex(items: list[dict]) -> str:
    """BibTeX written by bibtexparser; text fields LaTeX-encoded, titles protected
    from case changes, identifiers verbatim."""
    import bibtexparser
    from bibtexparser.model import Entry, Field

    encode = latex
    library = bibtexparser.Library()
    for item in items:
        kind = item["type"]
        fields = []

        def add(name, value, raw=False):   # bibtexparser encloses the value in braces
            if value not in (None, ""):
                fields.append(Field(name, value if raw else encode(value)))

        for role in ("author", "editor"):
            if item.get(role):
                add(role, " and ".join(_bibtex_name(n, encode) for n in item[role]),
                    raw=True)
        if item.get("title"):
            add("title", "{" + encode(item["title"]) + "}", raw=True)
        container = "booktitle" if kind == "chapter" else "journal"
        if item.get("container-title"):
            add(container, ("{" + encode(item["container-title"]) + "}")
                if container == "booktitle" else encode(item["container-title"]), raw=True)
        add("shortjournal", item.get("container-title-short"))
        add("publisher", item.get("publisher"))
        add("address", item.get("publisher-place"))
        if item.get("issued"):
            add("year", str(item["issued"]["date-parts"][0][0]), raw=True)
        add("volume", item.get("volume"))
        add("number", item.get("issue"))
        add("pages", encode(item.get("page") or "").replace("-", "--"), raw=True)
        add("doi", item.get("DOI"), raw=True)
        add("pmid", item.get("PMID"), raw=True)
        add("pmcid", item.get("PMCID"), raw=True)
        add("note", item.get("note"))
        library.add(Entry(BIBTEX_TYPES[kind], item["id"], fields))
    stack = bibtexparser.middlewares.default_unparse_stack(allow_inplace_modification=True)
    return bibtexparser.write_string(library, unparse_stack=stack)


_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def _ris_value(value: str) -> str:
    """One line, so that nothing in a value can start a new RIS tag."""
    return _LINE_BREAK.sub(" ", value).strip()


def _ris_name(name: dict) -> str:
    if "literal" in name:
        return _ris_value(name["literal"])
    return _ris_value(f"{name['family']}, {name['given']}")


RIS_FIELDS = (("title", "title"), ("container-title", "secondary_title"),
              ("container-title-short", "alternate_title1"), ("publisher", "publisher"),
              ("publisher-place", "place_published"), ("volume", "volume"),
              ("issue", "number"), ("DOI", "doi"), ("PMID", "accession_number"),
              ("PMCID", "custom2"))


def ris_record(item: dict) -> dict:
    """The rispy record of a CSL item, its tags in the usual order."""
    record = {"type_of_reference": RIS_TYPES[item["type"]], "id": item["id"]}
    if item.get("author"):
        record["authors"] = [_ris_name(n) for n in item["author"]]
    if item.get("editor"):
        record["secondary_authors"] = [_ris_name(n) for n in item["editor"]]
    if item.get("issued"):
        record["year"] = str(item["issued"]["date-parts"][0][0])
    for csl, ris in RIS_FIELDS:
        if item.get(csl):
            record[ris] = _ris_value(item[csl])
    if item.get("page"):
        first, _, last = _ris_value(item["page"]).partition("-")
        record["start_page"] = first
        if last:
            record["end_page"] = last
    if item.get("note"):
        record["notes"] = [_ris_value(item["note"])]
    return record


def to_ris(items: list[dict]) -> str:
    import rispy

    class Writer(rispy.RisWriter):
        def set_header(self, count):   # no "1." line before each record
            return ""

    return rispy.dumps([ris_record(i) for i in items], implementation=Writer)


WRITERS = {"bibtex": to_bibtex, "ris": to_ris, "csl-json": to_csl_json}


WRITERS = {"bibtex": to_bibtex, "ris": to_ris, "csl-json": to_csl_json}
