"""Numbers as a claim and a text write them: finding them, comparing them.

A number is compared in canonical form: `13,715`, `13 715` (thin space) and `13715` are
the same number, as are `71.0` and `71`. Nothing is guessed: words ("ten", "half") and
numbers split across a line break are not read.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Iterable

# digits with thousands separators (comma, thin or narrow no-break space) or plain,
# then an optional decimal part; not inside a longer run of digits, letters or dots
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[,\u2009\u202f]\d{3})+|\d+)(\.\d+)?(?![\w]|\.\d)")
SEPARATORS = str.maketrans("", "", ",\u2009\u202f")


@lru_cache(maxsize=4096)
def canonical(number: str) -> str | None:
    """'13,715' -> '13715', '71.0' -> '71', '0.50' -> '0.5'; None when not a number."""
    try:
        d = Decimal(number.translate(SEPARATORS))
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    text = format(d.normalize(), "f")
    return text


def numbers_in(text: str | None) -> set[str]:
    """Every number written in text, in canonical form."""
    if not text:
        return set()
    found = set()
    for whole, fraction in NUMBER.findall(text):
        number = canonical(whole + fraction)
        if number is not None:
            found.add(number)
    return found


def missing(numbers: Iterable[str], text_numbers: set[str]) -> list[str]:
    """The numbers (as the claim writes them) that text_numbers lacks, in order."""
    return [n for n in numbers if canonical(n) not in text_numbers]


def decimals(number: str) -> int:
    """Decimal places as written: '13' -> 0, '67.5' -> 1."""
    return len(number.partition(".")[2])


def restates(figure: str, source_figure: str) -> bool:
    """Is `figure` the source's figure, as written or rounded to its own precision?

    '13' restates '13', '13.0' and '13.2'; '13.5' does not restate '13'.
    """
    try:
        mine, theirs = Decimal(figure), Decimal(source_figure)
    except InvalidOperation:
        return False
    places = decimals(figure)
    if mine == theirs:
        return True
    if decimals(source_figure) <= places:
        return False
    quantum = Decimal(1).scaleb(-places)
    return theirs.quantize(quantum, rounding="ROUND_HALF_UP") == mine


def interval(value, low, high) -> tuple[float, float] | None:
    """The range a figure covers: a range's ends, else the point; open ends infinite.
    Takes the CSV's strings or the database's numbers; blank is '' or None."""
    value, low, high = (None if x in (None, "") else float(x) for x in (value, low, high))
    if value is None and low is None and high is None:
        return None
    lo = low if low is not None else (value if high is None else -math.inf)
    hi = high if high is not None else (value if low is None else math.inf)
    return lo, hi


UNITS_WITHOUT_SPACE = ("%",)


def plain_number(value) -> str:
    """13.0 -> '13', 2.5 -> '2.5', None -> ''"""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_value(claim: dict) -> str:
    """The claim's number as a reader writes it: '80%', '13-54%', '<=75%', '12 (8-16) months'."""
    value, low, high = (plain_number(claim.get(c)) for c in ("value", "low", "high"))
    unit = claim.get("unit") or ""
    if low and high:
        span = f"{low}–{high}"
    elif high:
        span = f"≤{high}"
    elif low:
        span = f"≥{low}"
    else:
        span = ""
    number = f"{value} ({span})" if value and span else value or span
    if not number:
        return ""
    if not unit:
        return number
    return f"{number}{unit}" if unit in UNITS_WITHOUT_SPACE else f"{number} {unit}"
