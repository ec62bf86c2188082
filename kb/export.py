"""Citation export: which works (selections) and how they are written (formats).

One conversion turns a `sources` row into a CSL-JSON item; BibTeX (written by
bibtexparser, LaTeX's special characters escaped), RIS (written by rispy) and CSL-JSON
are all made from that item, and the formatted styles (kb/citeproc.py) render it.
Selections return numbered entries: the works in the order a reader meets them.

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
import sqlite3
from dataclasses import dataclass, field

FORMATS = ("bibtex", "ris", "csl-json")
ET_AL = "et al."
RETRACTED_NOTE = "RETRACTED: PubMed records a retraction of this work"

# pub_type -> CSL type; other types are journal articles, or "article" without a journal
CSL_TYPES = {"book": "book", "chapter": "chapter"}
BIBTEX_TYPES = {"article-journal": "article", "book": "book", "chapter": "incollection",
                "article": "misc"}
RIS_TYPES = {"article-journal": "JOUR", "book": "BOOK", "chapter": "CHAP", "article": "GEN"}

SOURCE_COLUMNS = ("key", "first_author", "pmid", "pmcid", "doi", "title", "authors", "journal",
                  "journal_abbrev", "year", "volume", "issue", "pages", "editors",
                  "publisher", "place", "pub_type", "retracted")


class SelectionError(ValueError):
    """A selection that names something the database does not have."""


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
        "PMID": _text(row.get("pmid")),
        "PMCID": row.get("pmcid"),
        "note": RETRACTED_NOTE if row.get("retracted") else None,
    }
    if row.get("year") not in (None, ""):
        item["issued"] = {"date-parts": [[int(row["year"])]]}
    return {k: v for k, v in item.items() if v not in (None, "", [])}


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


# -- selections ------------------------------------------------------------------------


@dataclass
class ClaimRefs:
    """A claim of a selection with the numbers of the works it uses."""

    claim: dict                      # the claims row
    source: int                      # number of the work that states it
    rests_on: list[tuple[int, str | None, int | None]] = field(default_factory=list)
    # (ref_number in the source's list, cited key or None while unknown, our number)

    @property
    def numbers(self) -> list[int]:
        seen = [self.source] + [n for _, _, n in self.rests_on if n is not None]
        return list(dict.fromkeys(seen))


@dataclass
class Selection:
    """Numbered works, and for a selection of claims the claims with their numbers."""

    title: str
    entries: list[tuple[int, dict]]              # (number, sources row)
    claims: list[ClaimRefs] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)   # what could not be exported
    of_claims: bool = False                      # a selection of claims, not of works

    @property
    def items(self) -> list[dict]:
        return [csl_item(row) for _, row in self.entries]

    @property
    def works(self) -> list[dict]:
        """items, each work once: a review may list one work under two numbers, and a
        BibTeX, RIS or CSL-JSON file holds one entry per key."""
        first: dict[str, dict] = {}
        for item in self.items:
            first.setdefault(item["id"], item)
        return list(first.values())

    @property
    def numbers(self) -> list[int]:
        return [n for n, _ in self.entries]


CHUNK = 500   # ids bound in one query (SQLite allows 999 variables in older builds)


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _source_rows(conn: sqlite3.Connection, keys: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    columns = ", ".join(SOURCE_COLUMNS)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        for row in _rows(conn, f"select {columns} from sources where key in ({marks})",
                         chunk):
            found[row["key"]] = row
    return found


def all_sources(conn: sqlite3.Connection) -> Selection:
    """Every work, by first author, year and title."""
    columns = ", ".join(SOURCE_COLUMNS)
    rows = _rows(conn, f"select {columns} from sources order by coalesce(first_author, "
                       "key) collate nocase, year, title collate nocase, key")
    return Selection("All sources", list(enumerate(rows, 1)))


def sources(conn: sqlite3.Connection, keys: list[str], title: str = "Sources") -> Selection:
    """The named works in the order given, each once."""
    keys = list(dict.fromkeys(keys))
    found = _source_rows(conn, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        raise SelectionError(f"no such source: {', '.join(missing)}")
    return Selection(title, list(enumerate((found[k] for k in keys), 1)))


def reference_list(conn: sqlite3.Connection, review: str) -> Selection:
    """A review's reference list, numbered as the review numbers it."""
    [head] = _rows(conn, "select count(*) as n, (select label from sources where key = ?)"
                         " as label from citations where citing_key = ?", (review, review))
    if head["label"] is None:
        raise SelectionError(f"no such source: {review}")
    entries = _rows(conn, "select ref_number, cited_key from citations where citing_key = ? "
                          "order by ref_number", (review,))
    found = _source_rows(conn, [e["cited_key"] for e in entries if e["cited_key"]])
    selection = Selection(f"Reference list of {head['label']}",
                          [(e["ref_number"], found[e["cited_key"]])
                           for e in entries if e["cited_key"]])
    unknown = [e["ref_number"] for e in entries if not e["cited_key"]]
    if unknown:
        selection.unknown.append(f"entries {number_ranges(unknown)} of {review}'s list are not "
                                 "yet known")
    if not entries:
        selection.unknown.append(f"no entry of {review}'s reference list is known")
    return selection


def claim_ids(conn: sqlite3.Connection, ids=None, outcome=None, where=None) -> list[str]:
    """Claim ids in order: as listed, else by id; outcome and where narrow the set."""
    clauses, params = [], []
    if outcome:
        clauses.append("outcome = ?")
        params.append(outcome)
    if where:
        clauses.append(f"({where})")
    try:
        if ids is None:
            return _claim_ids(conn, clauses, params, " order by id")
        ids = list(dict.fromkeys(ids))
        chosen = _among(conn, ids, clauses, params)  # only the claims asked for are read
    except sqlite3.Error as e:
        raise SelectionError(f"the claim filter {where!r} is not valid SQL: {e}") from None
    missing = [i for i in ids if i not in chosen]
    existing = _among(conn, missing, [], []) if missing else set()
    absent = [i for i in missing if i not in existing]
    if absent:
        raise SelectionError(f"no such claim: {', '.join(absent)}")
    return [i for i in ids if i in chosen]


def _among(conn, ids: list[str], clauses: list[str], params: list) -> set[str]:
    """Those of ids that name claims meeting the clauses, CHUNK ids a query."""
    found = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found.update(_claim_ids(conn, [f"id in ({', '.join('?' * len(chunk))})", *clauses],
                                [*chunk, *params]))
    return found


def _claim_ids(conn, clauses: list[str], params: list, order: str = "") -> list[str]:
    sql = "select id from claims" + (" where " + " and ".join(clauses) if clauses else "")
    return [r[0] for r in conn.execute(sql + order, params)]


def behind_claims(conn: sqlite3.Connection, ids: list[str],
                  title: str = "References behind the claims") -> Selection:
    """The works behind these claims, numbered in order of first use: for each claim in
    turn, the work that states it, then the works it rests on in reference-list order."""
    claims: dict[str, dict] = {}
    cites: dict[str, list[tuple[int, str | None]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in _rows(conn, f"select * from claims where id in ({marks})", chunk):
            claims[row["id"]] = row
        for row in _rows(conn, "select claim_id, ref_number, cited_key from claim_citations"
                               f" where claim_id in ({marks}) order by claim_id, ref_number",
                         chunk):
            cites[row["claim_id"]].append((row["ref_number"], row["cited_key"]))
    wanted = []
    for i in ids:
        wanted.append(claims[i]["source_key"])
        wanted.extend(key for _, key in cites[i] if key)
    found = _source_rows(conn, list(dict.fromkeys(wanted)))
    number: dict[str, int] = {}
    entries = []

    def use(key: str) -> int:
        if key not in number:
            number[key] = len(number) + 1
            entries.append((number[key], found[key]))
        return number[key]

    selection = Selection(title, entries, of_claims=True)
    for i in ids:
        claim = claims[i]
        refs = ClaimRefs(claim, use(claim["source_key"]))
        for ref_number, key in cites[i]:
            refs.rests_on.append((ref_number, key, use(key) if key else None))
        unknown = [r for r, key in cites[i] if not key]
        if unknown:
            selection.unknown.append(f"{i}: entries {number_ranges(unknown)} of "
                                     f"{claim['source_key']}'s list are not yet known")
        selection.claims.append(refs)
    return selection


def number_ranges(numbers: list[int]) -> str:
    """[7, 8, 9, 11] -> '7-9, 11'"""
    out, run = [], []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


# -- one entry point for the command line and the browser ------------------------------

STYLE_FORMATS = ("vancouver", "ama")
ALL_FORMATS = (*FORMATS, *STYLE_FORMATS, "evidence-table")
# format -> (outputs it offers, the default first)
OUTPUTS = {"vancouver": ("text", "markdown", "html"), "ama": ("text", "markdown", "html"),
           "evidence-table": ("markdown", "csv", "html")}
# (format, output) -> (file extension, media type)
MEDIA = {
    ("bibtex", None): ("bib", "application/x-bibtex; charset=utf-8"),
    ("ris", None): ("ris", "application/x-research-info-systems; charset=utf-8"),
    ("csl-json", None): ("json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
    **{(f, "text"): ("txt", "text/plain; charset=utf-8") for f in STYLE_FORMATS},
    **{(f, "markdown"): ("md", "text/markdown; charset=utf-8")
       for f in (*STYLE_FORMATS, "evidence-table")},
    **{(f, "html"): ("html", "text/html; charset=utf-8")
       for f in (*STYLE_FORMATS, "evidence-table")},
    ("evidence-table", "csv"): ("csv", "text/csv; charset=utf-8"),
}


def output_for(fmt: str, output: str | None) -> str | None:
    """The output a format is written as: the one asked for, else its default."""
    if fmt not in ALL_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose from {', '.join(ALL_FORMATS)}")
    offered = OUTPUTS.get(fmt, ())
    if output is None:
        return offered[0] if offered else None
    if output not in offered:
        raise ValueError(f"{fmt} is written as {', '.join(offered) or 'one form only'}, "
                         f"not {output}")
    return output


def render(selection: Selection, fmt: str, output: str | None = None) -> str:
    """The selection written in `fmt` (and, for styles and tables, as `output`)."""
    output = output_for(fmt, output)
    if fmt in WRITERS:
        return WRITERS[fmt](selection.works)
    if fmt == "evidence-table":
        if not selection.of_claims:
            raise SelectionError("an evidence table needs claims: select claims, not works")
        from . import evidence_table
        return evidence_table.render(selection, output)
    from . import citeproc
    numbered = list(zip(selection.numbers, selection.items))
    return citeproc.bibliography(numbered, fmt, output,
                                 title=None if output == "text" else selection.title)
