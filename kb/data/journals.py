"""Journal abbreviations: the NLM abbreviation where a page or PubMed record shows it,
else the ISO 4 abbreviation of a full journal name derived by pyiso4 (from the ISSN
Centre's List of Title Word Abbreviations), marked as derived wherever it is shown.

A journal written as printed may already be an abbreviation (`Am J Transplant`, as a
PubMed page prints it); pyiso4 would abbreviate it again (`Am J Transpl.`), so only
names that read as full titles are derived.
"""

from __future__ import annotations

import re
from functools import lru_cache

DERIVED = "ISO 4, derived by pyiso4"
FROM_PUBMED = "PubMed"
# words a full journal title has and an abbreviation does not
FULL_TITLE = re.compile(
    r"\b(Journal|Annals|Archives|Reviews?|International|American|European|British|"
    r"World|Proceedings|Clinical|Surgery|Medicine|Oncology|Gastroenterology|Hepatology|"
    r"Radiology|Endocrinology|Transplantation)\b|\b(of|and|the|in|for|de|und)\b")


def looks_full(journal: str) -> bool:
    """Does the name read as a full title (so that an abbreviation adds something)?"""
    return bool(FULL_TITLE.search(journal))


def abbreviation(journal: str | None) -> str | None:
    """The ISO 4 abbreviation of a full journal title, or None (no title, a name that is
    an abbreviation already, or one pyiso4 leaves as it is)."""
    if not journal or not looks_full(journal):
        return None
    short = _abbreviate(journal)
    return short if short and short != journal else None


@lru_cache(maxsize=None)
def _abbreviate(journal: str) -> str:
    return _abbreviator()(journal, remove_part=True)


@lru_cache(maxsize=1)
def _abbreviator():
    from pyiso4.ltwa import Abbreviate   # reads the word list once (0.6 s)

    return Abbreviate.create()
