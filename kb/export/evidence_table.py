"""Evidence tables: a set of claims, one row each, then the numbered reference list.

The numbers are those of `selection.behind_claims` (order of first use); the list is
rendered in Vancouver style by kb/export/citeproc.py. Markdown, CSV and HTML.
"""

from __future__ import annotations

import csv
import html
import io
import re

from kb.evidence.numbers import format_value, plain_number

from . import citeproc
from .selection import Selection, number_ranges

OUTPUTS = ("markdown", "csv", "html")
COLUMNS = (
    ("claim", "Claim"),
    ("statement", "Statement (our words)"),
    ("value", "Value"),
    ("measure", "Measure"),
    ("interval", "Interval"),
    ("population", "Population"),
    ("intervention", "Intervention"),
    ("comparator", "Comparator"),
    ("arm", "Arm"),
    ("outcome", "Outcome"),
    ("timepoint", "Timepoint"),
    ("n", "n"),
    ("source", "Stated in"),
    ("locator", "Where"),
    ("rests_on", "Rests on"),
    ("design", "Study design"),
    ("refs", "Refs"),
)
# a cell a spreadsheet would run as a formula; plain numbers (-5, +3.2) are left alone
FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
def rows(selection: Selection) -> list[dict]:
    """One dict per claim, keyed by the names in COLUMNS."""
    works = {row["key"]: (number, row) for number, row in selection.entries}
    out = []
    for refs in selection.claims:
        claim = refs.claim
        number, stated_in = works[claim["source_key"]]
        rests, designs, unknown = [], [], []
        for ref_number, key, ours in refs.rests_on:
            if key is None:
                unknown.append(ref_number)
                continue
            cited = works[key][1]
            rests.append(f"{_label(cited)} [{ours}]")
            designs.append(cited["pub_type"])
        if unknown:
            rests.append(f"{claim['source_key']} refs {number_ranges(unknown)}: not yet known")
            designs.append("unknown")
        if not refs.rests_on:
            rests.append("no reference printed")
            designs.append(stated_in["pub_type"])
        out.append({
            "claim": claim["id"],
            "statement": claim["statement"],
            "value": format_value(claim),
            **{name: claim.get(name) or "" for name in (
                "measure", "interval", "population", "intervention", "comparator", "arm",
                "locator")},
            "outcome": claim.get("outcome") or "",
            "timepoint": claim.get("timepoint") or "",
            "n": plain_number(claim.get("n")),
            "source": f"{_label(stated_in)} [{number}]",
            "rests_on": "; ".join(rests),
            "design": ", ".join(dict.fromkeys(d for d in designs if d)),
            "refs": ", ".join(str(n) for n in refs.numbers),
        })
    return out


def _label(source: dict) -> str:
    """'Jagannath 2012': the first author's surname (as kb build derives it) and year."""
    return " ".join(filter(None, [source.get("first_author") or source["key"],
                                  plain_number(source.get("year"))]))


def neutralise(cell: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if FORMULA.match(cell) and not NUMBER.match(cell):
        return "'" + cell
    return cell


def render(selection: Selection, output: str) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}: choose from {', '.join(OUTPUTS)}")
    numbered = list(zip(selection.numbers, selection.items))
    table = rows(selection)
    notes = [f"{len(table)} claim{'s' if len(table) != 1 else ''}"
             + (f"; {selection.provenance}" if selection.provenance else "") + "."]
    if not table:
        notes.insert(0, "No claim matches this selection"
                     + (f": {selection.hint}." if selection.hint else "."))
    return document(selection.title, COLUMNS, table, numbered, output, notes)


def document(title: str, columns, table: list[dict], numbered: list[tuple[int, dict]],
             output: str, notes: list[str] = ()) -> str:
    """A table (columns: (name, heading) pairs) followed by its notes and the Vancouver
    list of its works, as Markdown, CSV or a standalone HTML page."""
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([heading for _, heading in columns])
        writer.writerows([neutralise(r[name]) for name, _ in columns] for r in table)
        if notes:
            writer.writerow([])
            writer.writerows([neutralise(note)] for note in notes)
        writer.writerow([])
        writer.writerow(["Ref", "Reference (Vancouver)"])
        texts = citeproc.entries([item for _, item in numbered], "vancouver", "text")
        writer.writerows([str(n), neutralise(text)]
                         for (n, _), text in zip(numbered, texts))
        return buffer.getvalue()
    if output == "markdown":
        def cell(text: str) -> str:
            return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")
        lines = [f"# {title}", "",
                 "| " + " | ".join(heading for _, heading in columns) + " |",
                 "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell(r[name]) for name, _ in columns) + " |"
                  for r in table]
        if notes:
            lines += [""] + [f"{cell(note)}  " for note in notes]
        lines += ["", "## References", "",
                  citeproc.bibliography(numbered, "vancouver", "markdown")]
        return "\n".join(lines)
    head = "".join(f"<th>{html.escape(heading)}</th>" for _, heading in columns)
    body = "\n".join(
        "<tr>" + "".join(f'<td class="col-{name}">{html.escape(r[name])}</td>'
                         for name, _ in columns) + "</tr>"
        for r in table)
    footer = ("<ol class=\"notes\" style=\"list-style: none; padding: 0\">"
              + "".join(f"<li>{html.escape(note)}</li>" for note in notes) + "</ol>\n"
              if notes else "")
    return citeproc.html_page(title, (
        f"<h1>{html.escape(title)}</h1>\n"
        f"<table class=\"evidence\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n"
        f"</tbody>\n</table>\n{footer}<h2>References</h2>\n"
        + citeproc.html_list(numbered, "vancouver")))
