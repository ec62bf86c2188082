"""Text helpers every layer reads names, pages and lists with: one spelling of each rule.

- `normalise`: casefolded ASCII words, for comparing titles, names and journals;
- author lists as curated ("Surname Initials; ...; et al."): `split_authors`,
  `first_author`, `surname`, `printed_surname`, and the `ET_AL` marker;
- `first_page` of a page range;
- `split_list`: the values of a repeatable option, each also a comma-separated list;
- for messages: `shown` (a value quoted, cut short when it is long), `with_article`
  ('an outcome') and `did_you_mean` (the nearest allowed value).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

ET_AL = "et al."   # the last entry of an author list known only in part
UPPER = "A-ZÀ-ÖØ-Þ"
NON_WORD = re.compile(r"[\W_]+")
_PAGE_RANGE = re.compile(r"\s*[-–]\s*")
_INITIALS_WORD = re.compile(rf"[{UPPER}.]{{1,6}}")


def normalise(text: str | None) -> str:
    """Casefolded ASCII words: 'Klöppel, G.' -> 'kloppel g'."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(NON_WORD.sub(" ", text.casefold()).split())


def split_authors(authors: str | None) -> tuple[list[str], bool]:
    """'Rossi RE; Massironi S; et al.' -> (['Rossi RE', 'Massironi S'], False)"""
    names = [a.strip() for a in (authors or "").split(";") if a.strip()]
    complete = not names or names[-1] != ET_AL
    return [n for n in names if n != ET_AL], complete


def first_author(authors: str | None) -> str:
    """'Rossi RE; Massironi S' -> 'Rossi RE'; '' when no author is known (as
    split_authors(authors)[0][0] gives it, without splitting the whole list)."""
    first = (authors or "").split(";", 1)[0].strip()
    return "" if first == ET_AL else first


def printed_surname(name: str) -> str:
    """'Rossi RE' -> 'Rossi', as printed; a name without initials stays whole."""
    return name.rsplit(" ", 1)[0] if " " in name else name


def surname(name: str) -> str:
    """'van der Berg AB' -> 'van der berg'; 'Modlin I.M.' -> 'modlin' (normalised)."""
    words = name.split()
    while len(words) > 1 and _INITIALS_WORD.fullmatch(words[-1]):
        words.pop()
    return normalise(" ".join(words))


def first_page(pages: str | None) -> str:
    """'934-959' -> '934', 'e58' -> 'e58', '' when no pages are known."""
    return _PAGE_RANGE.split(pages or "", maxsplit=1)[0].strip()


def split_list(values: Iterable[str]) -> list[str]:
    """The values of a repeated option, each perhaps a comma- or space-separated list:
    ('1,2', '3') -> ['1', '2', '3']."""
    return [v for given in values for v in given.replace(",", " ").split()]


def with_article(word: str) -> str:
    """'an outcome', 'a measure', 'a unit' (every u of our field names sounds 'you')."""
    return ("an " if word[:1] in "aeio" else "a ") + word


def did_you_mean(value: str, allowed: set[str]) -> str:
    """' (did you mean 'overall-survival'?)' for the allowed value nearest to value, or ''.
    (rapidfuzz is imported here, on the first problem: the exports and the pages use
    this module's other helpers and need not load it.)"""
    from rapidfuzz import process

    best = process.extractOne(value, sorted(allowed), score_cutoff=70) if allowed else None
    return f" (did you mean {best[0]!r}?)" if best else ""


def shown(value: str, limit: int = 60) -> str:
    """value quoted for a message, cut short (saying how long it is) when it is long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def whole_number(text: str) -> int | None:
    """The whole number a cell holds ('12', '12.0'), or None (blank, a fraction, text)."""
    try:
        number = float(text) if text else None
    except ValueError:
        return None
    return int(number) if number is not None and number.is_integer() else None
