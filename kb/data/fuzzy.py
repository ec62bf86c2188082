"""Fuzzy matching of works, with rapidfuzz: a citation as a review prints it against
known works (`kb match`, kb/match.py), and known works against each other (the
duplicate-work rule of `kb validate`, which is why it lives in the data layer).

"Modlin IM, Lye KD, Kidd M. A 5-decade analysis of 13,715 carcinoid tumors. Cancer.
2003;97:934-959." is split into first author, title, journal, year, volume and first
page (`parse_citation`); each part is compared with the same part of every candidate
work and the parts' scores are combined (`score`). Candidates come from blocking: an
index of the title's rarer words and of first-author surnames, so a query looks at a
few dozen works, not all of them.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from rapidfuzz import fuzz

from .text import UPPER, first_author, first_page, normalise, surname

# a score at or above this is a match; below it a candidate is only a suggestion
MATCH_SCORE = 80
# weights of the parts; a part the citation lacks is left out of the sum
WEIGHTS = {"title": 0.65, "author": 0.15, "year": 0.1, "locator": 0.1}
CANDIDATES = 40          # candidates scored per query
RARE_WORD_SHARE = 0.002  # title words in more works than this share are not indexed...
RARE_WORD_MIN = 100      # ...unless that is fewer than this many works
STOPWORDS = frozenset("""a an and are as at by for from in into is of on or the to with
    without its their than that this these those was were be been vs versus""".split())
YEAR = r"(?:1[89]\d\d|20\d\d)"
# '2003;97(4):934-959', '2003 Feb 15;97(4):934-59', '2003;97:934', '2013;2:e58'
TAIL = re.compile(rf"(?P<year>{YEAR})[a-z]?(?:\s+[A-Z][a-z]{{2}}[^;:.]*)?\s*"
                  r"(?:;\s*(?P<volume>[\w-]+)?\s*(?:\((?P<issue>[^)]*)\))?)?"
                  r"(?:\s*:\s*(?P<pages>[A-Za-z]?\d+[A-Za-z]?(?:\s*[-–]\s*[A-Za-z]?\d+)?))?")
INITIALS = rf"[{UPPER}][{UPPER}a-z]{{0,3}}\.?(?:\s?[{UPPER}]\.?){{0,3}}"
AUTHOR = rf"[^\W\d][\w'’\-]*(?:\s+[^\W\d][\w'’\-]*)*?\s+{INITIALS}"
AUTHORS = re.compile(rf"^\s*(?P<first>{AUTHOR})(?:\s*,\s*(?:{AUTHOR}|et\s+al\.?))*"
                     r"(?:\s*,?\s*et\s+al)?\s*[.;:]\s+")
SENTENCE_END = re.compile(r"[.?!\]]\s+")
TITLE_SPLITS = 4  # title/journal boundaries tried, from the last one back


@dataclass(slots=True)
class Reference:
    """A work or a printed citation, each part normalised; '' when not known."""

    title: str = ""
    author: str = ""  # first author's surname
    year: str = ""
    volume: str = ""
    page: str = ""    # first page or article number
    journal: str = ""
    key: str = ""     # the work's key, for known works
    text: str = ""    # the citation as given, for parsed ones
    titles: tuple[str, ...] = ()  # other readings of a parsed citation's title
    words: str = ""   # title and journal of a parsed citation, for blocking


def parse_citation(text: str) -> Reference:
    """Split a printed citation (Vancouver or AMA) into its parts, as far as it can."""
    rest = " ".join(text.split())
    ref = Reference(text=text)
    authors = AUTHORS.match(rest)
    if authors:
        ref.author = surname(authors.group("first"))
        rest = rest[authors.end():]
    else:
        # no author list recognised: perhaps 'Touzios et al.' or a title alone
        lead = re.match(r"^\s*([^\W\d][\w'’\-]+)\s+et\s+al\b\.?\s*", rest)
        if lead:
            ref.author = normalise(lead.group(1))
            rest = rest[lead.end():]
    tail = None
    for found in TAIL.finditer(rest):
        tail = found  # the last year-led group is the imprint
    if tail:
        ref.year, ref.volume = tail.group("year"), normalise(tail.group("volume"))
        ref.page = normalise(first_page(tail.group("pages")))
        rest = rest[:tail.start()]
    rest = rest.strip(" .;,")
    # 'Title. Journal' — but abbreviated journals have full stops too ('Surg. Clin.
    # North Am.'), so every boundary from the last one back gives a possible title
    ends = [m for m in SENTENCE_END.finditer(rest) if m.start() > 0][-TITLE_SPLITS:]
    if ends:
        ref.title, ref.journal = normalise(rest[:ends[-1].start() + 1]), normalise(
            rest[ends[-1].end():])
        ref.titles = tuple(normalise(rest[:m.start() + 1]) for m in reversed(ends[:-1]))
    else:
        ref.title = normalise(rest)
    ref.words = normalise(rest)
    return ref


def work_reference(key: str, title: str | None, authors: str | None, year, volume,
                   pages, journal: str | None = None) -> Reference:
    """A known work (a sources row or a PubMed record) as a Reference."""
    first = first_author(authors)
    return Reference(normalise(title), surname(first) if first else "", str(year or ""),
                     normalise(volume), normalise(first_page(pages)), normalise(journal),
                     key=key)


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    score: float
    parts: dict  # part -> score, for the parts the citation has

    @property
    def is_match(self) -> bool:
        """At least MATCH_SCORE, and the citation had a title to compare: a surname
        and a year alone never make a match."""
        return self.score >= MATCH_SCORE and "title" in self.parts


def score(cited: Reference, known: Reference) -> Match:
    """How well a known work fits a citation, 0-100; parts the citation lacks are left
    out, parts the work lacks score 0 (an unidentified work cannot confirm anything)."""
    parts: dict[str, float] = {}
    total = weight = 0.0
    for part, w in WEIGHTS.items():
        mine = _part(cited, part)
        if not mine:
            continue
        weight += w
        theirs = _part(known, part)
        if not theirs:
            continue
        if part == "title":
            s = max(_title_score(title, theirs) for title in (mine, *cited.titles))
        elif part == "author":
            s = fuzz.ratio(mine, theirs)
        elif part == "year":
            s = 100.0 if mine == theirs else (50.0 if abs(int(mine) - int(theirs)) == 1
                                              else 0.0)
        else:
            s = 100.0 * (sum(a == b and a != "" for a, b in zip(mine, theirs))
                         / max(1, sum(a != "" for a in mine)))
        parts[part] = round(s, 1)
        total += w * s
    return Match(known.key, round(total / weight, 1) if weight else 0.0, parts)


def _title_score(mine: str, theirs: str) -> float:
    return max(fuzz.ratio(mine, theirs), fuzz.token_sort_ratio(mine, theirs),
               0.95 * fuzz.token_set_ratio(mine, theirs))


def _part(ref: Reference, part: str):
    if part == "locator":
        return (ref.volume, ref.page) if ref.volume or ref.page else None
    return getattr(ref, part)


def title_words(title: str) -> set[str]:
    return {w for w in title.split() if len(w) > 2 and w not in STOPWORDS}


class Index:
    """Known works, blocked for matching: rarer title words, first-author surnames, and
    volume with first page."""

    def __init__(self, works: Iterable[Reference]):
        self.works: list[Reference] = list(works)
        words: dict[str, list[int]] = defaultdict(list)
        authors: dict[str, list[int]] = defaultdict(list)
        locators: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, ref in enumerate(self.works):
            for word in title_words(ref.title):
                words[word].append(i)
            if ref.author:
                authors[ref.author].append(i)
            if ref.volume and ref.page:
                locators[(ref.volume, ref.page)].append(i)
        self.words, self.authors, self.locators = dict(words), dict(authors), dict(locators)
        self.rare = max(RARE_WORD_MIN, int(len(self.works) * RARE_WORD_SHARE))

    def candidates(self, cited: Reference, limit: int = CANDIDATES) -> list[int]:
        """Works sharing the rarest title words (weighted by rarity), plus those with the
        same first author (and year) or the same volume and first page."""
        postings = sorted((self.words[w] for w in title_words(cited.words or cited.title)
                           if w in self.words), key=len)
        useful = [p for p in postings if len(p) <= self.rare] or [
            p for p in postings[:2] if len(p) <= 20 * self.rare]
        weights: dict[int, float] = {}
        for posting in useful:
            weight = 1.0 / len(posting)
            for i in posting:
                weights[i] = weights.get(i, 0.0) + weight
        chosen = heapq.nlargest(limit, weights, key=weights.__getitem__)
        by_author = self.authors.get(cited.author, ())
        if len(by_author) <= self.rare:
            chosen.extend(i for i in by_author
                          if not cited.year or self.works[i].year in ("", cited.year))
        if cited.volume and cited.page:
            chosen.extend(self.locators.get((cited.volume, cited.page), ()))
        return list(dict.fromkeys(chosen))

    def rank(self, cited: Reference, limit: int = 5) -> list[Match]:
        """The best-scoring known works for a citation, best first."""
        matches = [score(cited, self.works[i]) for i in self.candidates(cited)]
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches[:limit]

    def best(self, cited: Reference) -> Match | None:
        """The top work when it is a match (Match.is_match), else None."""
        ranked = self.rank(cited, limit=1)
        return ranked[0] if ranked and ranked[0].is_match else None


def duplicates(works: Sequence[Reference], threshold: float = 95
               ) -> list[tuple[int, int, float]]:
    """Pairs (earlier, later, title score) of works that look like the same work
    entered twice: candidates from the index, the same year where both have one, and
    normalised titles at least `threshold` alike (a typo, not a subtitle dropped: plain
    ratio, stricter than a citation's title score). Each later work is paired once."""
    index = Index(works)
    pairs = []
    for i, ref in enumerate(works):
        if not ref.title:
            continue
        for j in sorted(index.candidates(ref)):
            other = works[j]
            if j >= i or (ref.year and other.year and ref.year != other.year):
                continue
            similarity = fuzz.ratio(ref.title, other.title, score_cutoff=threshold)
            if similarity:
                pairs.append((j, i, similarity))
                break
    return pairs
