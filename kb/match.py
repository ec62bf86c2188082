"""`kb match`: rank the known works against citations as reviews print them, and write
the ranking as text, CSV or JSON. The scoring itself is kb/data/fuzzy.py's.
"""

from __future__ import annotations

import csv
import io
import json
from typing import NamedTuple

from kb.data import fuzzy
from kb.data.dataset import Dataset
from kb.data.works import works

FORMATS = ("text", "csv", "json")


class Ranked(NamedTuple):
    """One citation asked about, where it came from, and its best candidates."""

    where: str            # '' for a citation given on the command line
    citation: str
    matches: list[fuzzy.Match]


def unlinked(dataset: Dataset) -> list[tuple[str, str]]:
    """(where, citation) of every citations.csv entry printed but not linked to a work."""
    citations = dataset["citations.csv"]
    return [(f"{citations.display}:{citations.line_numbers[row]}: {key} [{number}]", cited_as)
            for row, (key, number, cited_key, cited_as) in enumerate(zip(
                citations.column("citing_key"), citations.column("ref_number"),
                citations.column("cited_key"), citations.column("cited_as")))
            if cited_as and not cited_key]


def rank(dataset: Dataset, queries: list[tuple[str, str]], limit: int
         ) -> tuple[list[Ranked], dict[str, str]]:
    """The best `limit` works for each (where, citation), and every work's label."""
    sources = works(dataset).sources
    index = fuzzy.Index(fuzzy.work_reference(
        s["key"], s["title"], s["authors"], s["year"], s["volume"], s["pages"],
        s["journal"]) for s in sources)
    labels = {s["key"]: s["label"] for s in sources}
    return ([Ranked(where, citation, index.rank(fuzzy.parse_citation(citation), limit))
             for where, citation in queries], labels)


def render(results: list[Ranked], labels: dict[str, str], fmt: str,
           threshold: float = fuzzy.MATCH_SCORE) -> str:
    """The ranking as `kb match` prints it: text, csv or json."""
    def candidates(ranked) -> list[dict]:
        return [{"rank": rank, "key": m.key, "score": m.score, "match": m.is_match,
                 "label": labels[m.key], "parts": m.parts}
                for rank, m in enumerate(ranked, start=1)]

    if fmt == "json":
        return json.dumps([{"query": where, "citation": citation,
                            "candidates": candidates(ranked)}
                           for where, citation, ranked in results], indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["query", "citation", "rank", "key", "score", "match", "label"])
        for where, citation, ranked in results:
            if not ranked:
                writer.writerow([where, citation, "", "", "", "no", ""])
            for c in candidates(ranked):
                writer.writerow([where, citation, c["rank"], c["key"], c["score"],
                                 "yes" if c["match"] else "no", c["label"]])
        return out.getvalue()
    lines = []
    for where, citation, ranked in results:
        lines.append(f"{where + ': ' if where else ''}{citation}")
        if not ranked or not ranked[0].is_match:
            lines.append(f"  no match (a match scores {threshold:g} or more, on a title)")
        for m in ranked:
            parts = ", ".join(f"{k} {v:g}" for k, v in m.parts.items())
            verdict = "match" if m.is_match else "candidate"
            lines.append(f"  {m.score:5.1f}  {verdict:9}  {m.key}  {labels[m.key]}  "
                         f"({parts})")
    return "\n".join(lines) + "\n"
