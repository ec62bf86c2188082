"""The checks on a document's records that both readers make: the PMID's form (it names
the record's cache file) and the same PMID given twice with different content."""

from __future__ import annotations

import re

PMID = re.compile(r"[1-9][0-9]{0,8}")  # the record's PMID names its cache file
PMID_FORM = "1 to 9 digits, not starting with 0"
PMID_PATHS = {"PubmedArticle": "MedlineCitation/PMID",
              "PubmedBookArticle": "BookDocument/PMID"}


class Seen:
    """Numbers a document's records and remembers what each PMID held, so that a record
    without a PMID of the right form, or a PMID given twice with different bibliographic
    content (the later would silently replace the earlier one in the cache), is refused.
    Versions of a PMID (<PMID Version="2">) are different records; a record given again
    with other MeSH terms or references only is a revision, and the later one is kept."""

    CONTENT = ("title", "journal", "year", "volume", "issue", "pages", "doi", "pmcid",
               "abstract")

    def __init__(self):
        self.count = 0
        self.first: dict[tuple[str, str | None], tuple[int, int]] = {}

    def problem(self, tag: str, rec: dict, version: str | None) -> str | None:
        """What is wrong with this record (tag, its dict, its PMID's Version attribute),
        or None."""
        self.count += 1
        pmid = rec["pmid"]
        if pmid is None:
            return f"record {self.count} is a <{tag}> without a PMID"
        if not PMID.fullmatch(pmid):
            return (f"record {self.count} (a <{tag}>) has the PMID {shown(pmid)}, which "
                    f"is not a PMID ({PMID_FORM})")
        content = hash((tuple(rec["authors"]), *(rec[key] for key in self.CONTENT)))
        number, first = self.first.setdefault((pmid, version), (self.count, content))
        if first != content:
            return (f"record {self.count} has the PMID {pmid}, as record {number} has, but "
                    "another title, authors, source or abstract: which one is right?")
        return None


def shown(text: str, limit: int = 40) -> str:
    """text quoted for a message, cut short (saying how long it is) when it is long."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


