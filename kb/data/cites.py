"""A claim's `cites` cell: the reference numbers it rests on, as '7-9,12'.

The one reading of the cell: the validator checks it, the build resolves it through
the stating work's reference list.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from .dataset import Dataset
from .schema import CITES

WELL_FORMED = re.compile(CITES)


def ranges(cites: str) -> list[tuple[str, int, int]]:
    """'7-9,12' -> [('7-9', 7, 9), ('12', 12, 12)], for well-formed cites ('' -> [])."""
    out = []
    for part in filter(None, cites.split(",")):
        low, _, high = part.partition("-")
        out.append((part, int(low), int(high or low)))
    return out


def parse_cites(cites: str) -> list[int]:
    """'7-9,12' -> [7, 8, 9, 12]"""
    return [n for _, low, high in ranges(cites) for n in range(low, high + 1)]


def cited_numbers(cites: str, size: int) -> list[int]:
    """The numbers of well-formed cites, leaving out every range that spans more numbers
    than a reference list of size entries holds: it cannot be right, and spelling out
    1-999999 for every claim would take long."""
    return [n for _, low, high in ranges(cites) if high - low < max(size, 1)
            for n in range(low, high + 1)]


class ClaimCitation(NamedTuple):
    """A number a claim cites, resolved through its source's reference list: a row of
    the claim_citations table."""

    claim_id: str
    ref_number: int
    citing_key: str
    cited_key: str | None   # None while the list entry is not known


def claim_citations(dataset: Dataset) -> Iterator[ClaimCitation]:
    """Every claim's cited numbers, each once, resolved through citations.csv."""
    cited = dataset.reference_lists
    claims = dataset["claims.csv"]
    for claim_id, source, cites in zip(claims.column("id"), claims.column("source_key"),
                                       claims.column("cites")):
        for number in dict.fromkeys(parse_cites(cites)):
            yield ClaimCitation(claim_id, number, source,
                                cited.get((source, str(number))) or None)
