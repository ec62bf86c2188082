"""Citation strings as reviews print them, and perturbed the way reviews get them wrong.

Used to measure the matcher, `kb/data/fuzzy.py` (bench/match_bench.py, tests/test_match.py):
a labelled set is made from real records by printing each one as a review might
(`printed`) and damaging it (`perturbed`): abbreviated journals, initials cut, authors
cut to 'et al.', title words dropped, typos, page ranges shortened.
The random generator is passed in, so a seed gives the same set every time.
"""

from __future__ import annotations

import random
import re
import string

PERTURBATIONS = ("journal", "initials", "et-al", "drop-words", "title-typo",
                 "author-typo", "short-pages", "no-issue")


def short_pages(pages: str) -> str:
    """'934-959' -> '934-59' (MEDLINE style)."""
    first, sep, last = pages.partition("-")
    if not sep or not (first.isdigit() and last.isdigit()) or len(first) != len(last):
        return pages
    i = 0
    while i < len(first) - 1 and first[i] == last[i]:
        i += 1
    return f"{first}-{last[i:]}"


def printed(record: dict, *, abbreviate: bool = True, authors_shown: int = 6,
            initials: bool = True, issue: bool = True, pages: str | None = None,
            title: str | None = None, first_author: str | None = None) -> str:
    """A Vancouver citation of a record (title, authors list, journal, journal_abbrev,
    year, volume, issue, pages)."""
    names = list(record["authors"])
    if first_author is not None and names:
        names[0] = first_author
    if not initials:
        names = [_first_initial(n) for n in names]
    shown = names if len(names) <= authors_shown else names[:3] + ["et al"]
    journal = (record.get("journal_abbrev") if abbreviate else None) or record["journal"]
    imprint = f"{record['year']}"
    if record.get("volume"):
        imprint += f";{record['volume']}"
        if issue and record.get("issue"):
            imprint += f"({record['issue']})"
    page_text = pages if pages is not None else record.get("pages") or ""
    if page_text:
        imprint += f":{page_text}"
    head = ", ".join(shown)
    text = (title if title is not None else record["title"]).rstrip(".")
    parts = [f"{head}." if head else "", f"{text}.", f"{journal}.", f"{imprint}."]
    return " ".join(p for p in parts if p)


def _first_initial(name: str) -> str:
    surname, _, initials = name.rpartition(" ")
    return f"{surname} {initials[0]}" if surname and initials else name


def _typo(rng: random.Random, text: str) -> str:
    """One character swapped, dropped, doubled or replaced, inside a word."""
    spots = [i for i, c in enumerate(text) if c.isalpha()]
    if len(spots) < 4:
        return text
    i = rng.choice(spots[1:-1])
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap" and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]


def _drop_words(rng: random.Random, title: str, count: int) -> str:
    words = title.split()
    for _ in range(min(count, len(words) - 3)):
        del words[rng.randrange(1, len(words))]
    return " ".join(words)


def perturbed(record: dict, rng: random.Random, *, kinds: int | None = None
              ) -> tuple[str, list[str]]:
    """A damaged citation of record and the names of the damage done (2-4 kinds)."""
    chosen = rng.sample(PERTURBATIONS, kinds if kinds is not None else rng.randint(2, 4))
    title = record["title"]
    if "drop-words" in chosen:
        title = _drop_words(rng, title, rng.randint(1, 2))
    if "title-typo" in chosen:
        for _ in range(rng.randint(1, 2)):
            title = _typo(rng, title)
    first = None
    if "author-typo" in chosen and record["authors"]:
        surname, _, initials = record["authors"][0].rpartition(" ")
        if surname:
            first = f"{_typo(rng, surname)} {initials}"
    pages = record.get("pages") or ""
    text = printed(
        record,
        abbreviate="journal" in chosen,
        authors_shown=3 if "et-al" in chosen else 6,
        initials="initials" not in chosen,
        issue="no-issue" not in chosen,
        pages=short_pages(pages) if "short-pages" in chosen else pages,
        title=title, first_author=first)
    return re.sub(r"\s+", " ", text), sorted(chosen)
