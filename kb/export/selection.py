"""Which works an export holds: every source, some sources, a review's reference list,
or the works behind a set of claims. A selection numbers its works in the order a reader
meets them (a review's own numbers, or order of first use).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from kb.data.text import did_you_mean, with_article
from kb.db import queries

from .writers import csl_item, gaps


class SelectionError(ValueError):
    """A selection that names something the database does not have."""


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
    provenance: str = ""                         # the build and data version read
    hint: str = ""                               # when nothing matches: what would

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

    @property
    def incomplete(self) -> list[str]:
        """'key: no authors, year' for each work lacking what a reader needs to find it
        (each entry also says so in every format)."""
        return [f"{item['id']}: no {', '.join(missing)} verified yet"
                for item in self.works if (missing := gaps(item))]


def all_sources(conn: sqlite3.Connection) -> Selection:
    """Every work, by first author, year and title."""
    return Selection("All sources", list(enumerate(queries.all_sources(conn), 1)))


def sources(conn: sqlite3.Connection, keys: list[str], title: str = "Sources") -> Selection:
    """The named works in the order given, each once."""
    keys = list(dict.fromkeys(keys))
    found = queries.sources_by_key(conn, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        raise SelectionError(f"no such source: {', '.join(missing)}")
    return Selection(title, list(enumerate((found[k] for k in keys), 1)))


def reference_list(conn: sqlite3.Connection, review: str) -> Selection:
    """A review's reference list, numbered as the review numbers it."""
    label = queries.source_label(conn, review)
    if label is None:
        raise SelectionError(f"no such source: {review}"
                             + did_you_mean(review, queries.known(conn, "review")))
    entries = queries.reference_list(conn, review)
    found = queries.sources_by_key(conn, [e["cited_key"] for e in entries if e["cited_key"]])
    selection = Selection(f"Reference list of {label}",
                          [(e["ref_number"], found[e["cited_key"]])
                           for e in entries if e["cited_key"]])
    unknown = [e["ref_number"] for e in entries if not e["cited_key"]]
    if unknown:
        selection.unknown.append(f"entries {number_ranges(unknown)} of {review}'s list are not "
                                 "yet known")
    if not entries:
        selection.unknown.append(f"no entry of {review}'s reference list is known")
    return selection


FILTERS = ("outcome", "intervention", "population", "timepoint")


def check(conn: sqlite3.Connection, what: str, value: str) -> None:
    """Raise SelectionError, with the nearest known value, when no claim could match."""
    allowed = queries.known(conn, what)
    if value not in allowed:
        kind = {"question": "a question", "review": "a work with a reference list",
                "timepoint": "a timepoint any claim gives"}.get(
                    what, with_article(f"{what} term"))
        raise SelectionError(f"{what} {value!r} is not {kind}" + did_you_mean(value, allowed))


def claim_ids(conn: sqlite3.Connection, ids=None, outcome=None, where=None,
              question=None, **terms) -> list[str]:
    """Claim ids in order: as listed, else a question's (as its page lists them), else by
    id; outcome, intervention, population, timepoint and where narrow the set. A term no
    claim could match is refused, with the nearest one."""
    chosen_terms = {"outcome": outcome, **terms}
    for what, value in chosen_terms.items():
        if value:
            check(conn, what, value)
    if question:
        check(conn, "question", question)
        ids = list(ids or []) + queries.claims_of_question(conn, question)
    clauses, params = [], []
    for what, value in chosen_terms.items():
        if value:
            clauses.append(f"[{what}] = ?")
            params.append(value)
    if where:
        clauses.append(f"({where})")
    try:
        if ids is None:
            return queries.claim_ids(conn, clauses, params, " order by id")
        ids = list(dict.fromkeys(ids))
        chosen = queries.claim_ids_among(conn, ids, clauses, params)
    except sqlite3.Error as e:
        raise SelectionError(f"the claim filter {where!r} is not valid SQL: {e}") from None
    missing = [i for i in ids if i not in chosen]
    existing = queries.claim_ids_among(conn, missing, [], []) if missing else set()
    absent = [i for i in missing if i not in existing]
    if absent:
        raise SelectionError(f"no such claim: {', '.join(absent)}")
    return [i for i in ids if i in chosen]


def nearest(conn: sqlite3.Connection, terms: dict, where: str | None) -> str:
    """When filters together match no claim: how many each one's removal would give."""
    chosen = {k: v for k, v in terms.items() if v}
    if len(chosen) < 2:
        return ""
    found = []
    for left_out in chosen:
        rest = {k: v for k, v in chosen.items() if k != left_out}
        count = len(claim_ids(conn, None, where=where, **rest))
        if count:
            found.append(f"without {left_out} {chosen[left_out]!r}, {count} claim"
                         f"{'s' if count != 1 else ''} match")
    return "; ".join(found)


def described(what: str, filters: dict) -> str:
    """'Evidence table: intervention transplantation, timepoint 5 years'."""
    named = [f"{name} {value}" for name, value in filters.items() if value]
    return f"{what}: {', '.join(named)}" if named else what


def behind_claims(conn: sqlite3.Connection, ids: list[str],
                  title: str = "References behind the claims") -> Selection:
    """The works behind these claims, numbered in order of first use: for each claim in
    turn, the work that states it, then the works it rests on in reference-list order."""
    claims, cites = queries.claims_by_id(conn, ids)
    wanted = []
    for i in ids:
        wanted.append(claims[i]["source_key"])
        wanted.extend(key for _, key in cites[i] if key)
    found = queries.sources_by_key(conn, list(dict.fromkeys(wanted)))
    number: dict[str, int] = {}
    entries = []

    def use(key: str) -> int:
        if key not in number:
            number[key] = len(number) + 1
            entries.append((number[key], found[key]))
        return number[key]

    selection = Selection(title, entries, of_claims=True,
                          provenance=queries.build_note(conn))
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


def select(conn: sqlite3.Connection, review: str | None = None,
           source_keys: list[str] | None = None, claims: list[str] | None = None,
           outcome: str | None = None, where: str | None = None,
           of_claims: bool = False, question: str | None = None, **terms) -> Selection:
    """The selection `kb export` asks for: a review's list, some sources, the works behind
    claims (ids, an outcome, an SQL filter; every claim with of_claims), else every
    source."""
    if review:
        return reference_list(conn, review)
    if source_keys:
        return sources(conn, source_keys)
    if claims or outcome or where or of_claims or question or any(terms.values()):
        title = described("Evidence table" if of_claims else "References behind the claims",
                          {"question": question, "outcome": outcome, **terms,
                           "claims": ", ".join(claims or []), "where": where})
        ids = claim_ids(conn, claims or None, outcome, where, question, **terms)
        chosen = behind_claims(conn, ids, title)
        if not ids:
            chosen.hint = nearest(conn, {"outcome": outcome, **terms}, where)
        return chosen
    return all_sources(conn)
