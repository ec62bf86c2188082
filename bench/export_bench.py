"""Benchmark citation export of 10,000 references (kb/export/: formats, citeproc).

    .venv/bin/python bench/export_bench.py [--rounds R] [--sources N] [--out DIR]

Generates build_bench's synthetic data (N sources, seed 1) in OUT (default
bench/out/export/), builds OUT/kb.db once, then times in a fresh process each, R
interleaved rounds (bench/harness.py): bibtex, ris, csl-json; vancouver text/html and
ama text (kb.export.formats.render; pandoc in chunks, in parallel); pandoc's citeproc
alone in one process; citeproc-py on 1,000 items. Memory: the process's VmHWM and its
largest pandoc child (RUSAGE_CHILDREN). Results go to bench/EXPORT_RESULTS.md.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import harness
from harness import BENCH, maximum, median, minimum

from kb.export import citeproc  # after harness, which makes kb importable

CSL = citeproc.STYLES_DIR / citeproc.STYLES["vancouver"]
SMALL = 1_000          # references for citeproc-py (and pandoc alone at the same size)
# name -> (what runs, format, output, target seconds or None)
MEASUREMENTS = {
    "bibtex": ("render", "bibtex", None, 2.0),
    "ris": ("render", "ris", None, 2.0),
    "csl-json": ("render", "csl-json", None, 2.0),
    "vancouver text": ("render", "vancouver", "text", 10.0),
    "vancouver html": ("render", "vancouver", "html", 10.0),
    "ama text": ("render", "ama", "text", None),
    "pandoc alone": ("pandoc", "vancouver", "text", None),
    "pandoc alone, 1,000": ("pandoc", "vancouver", "text", None),
    "citeproc-py, 1,000": ("citeproc-py", "vancouver", "text", None),
}


# -- inputs --------------------------------------------------------------------------


def prepare(out: Path, sources: int) -> None:
    from build_bench import generate

    from kb.db.build import build
    from kb.export.selection import all_sources
    from kb.export.writers import to_csl_json

    generate(out / "data", sources=sources, claims=10_000, citations=100_000, seed=1)
    build(out / "kb.db", out / "data")
    conn = sqlite3.connect(out / "kb.db")
    items = all_sources(conn).items
    conn.close()
    (out / "items.json").write_text(to_csl_json(items), encoding="utf-8")
    (out / "items-small.json").write_text(to_csl_json(items[:SMALL]), encoding="utf-8")


# -- one measurement, in its own process ---------------------------------------------


def measure_here(name: str, out: Path) -> dict:
    """Run one measurement; kb's own modules are imported before the clock starts, the
    libraries a format loads on first use (bibtexparser, rispy, pypandoc) inside it."""
    from kb.export.formats import render
    from kb.export.selection import all_sources

    kind, fmt, output, _ = MEASUREMENTS[name]
    if kind == "render":
        start = time.perf_counter()
        conn = sqlite3.connect(out / "kb.db")
        selection = all_sources(conn)
        text = render(selection, fmt, output)
        n = len(selection.entries)
    elif kind == "pandoc":
        path = out / ("items.json" if name == "pandoc alone" else "items-small.json")
        n = len(json.loads(path.read_text(encoding="utf-8")))
        command = [citeproc.pandoc_path(), "--from", "csljson", "--to", "plain",
                   "--citeproc", "--csl", str(CSL), "--wrap", "none", str(path),
                   "-o", "/dev/null"]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        text = ""
    else:
        from citeproc import (Citation, CitationItem, CitationStylesBibliography,
                              CitationStylesStyle, formatter)
        from citeproc.source.json import CiteProcJSON

        items = json.loads((out / "items-small.json").read_text(encoding="utf-8"))
        n = len(items)
        start = time.perf_counter()
        style = CitationStylesStyle(str(CSL), validate=False)
        bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        text = "\n".join(str(entry) for entry in bibliography.bibliography())
    seconds = time.perf_counter() - start
    if kind != "pandoc" and not text:
        sys.exit(f"{name} wrote nothing")
    return {"seconds": seconds, "n": n, "pandoc_mib": harness.children_peak_mib()}


def measure(name: str, out: Path) -> dict:
    """One measurement in a fresh child process."""
    return harness.in_child(__file__, [name, "--out", out], name)


def shown(got: dict) -> str:
    pandoc = f", pandoc {got['pandoc_mib']:.0f} MiB" if got["pandoc_mib"] else ""
    return harness.shown(got) + pandoc


# -- reporting -----------------------------------------------------------------------


def ms_per_ref(runs: list[dict]) -> float:
    return 1000 * median(runs) / runs[0]["n"]


def report(results: dict[str, list[dict]], args, command: str) -> str:
    workers = os.cpu_count()
    rows = ["| format | n | median s | min s | peak RSS MiB | pandoc peak MiB | target | "
            "verdict |", "|---|---:|---:|---:|---:|---:|---|---|"]
    caveats, spread = [], []
    for name, runs in results.items():
        kind, _, _, target = MEASUREMENTS[name]
        low, peak = minimum(runs), maximum(runs, "peak_mib")
        shown_peak = "–" if kind == "pandoc" else f"{peak:,.0f}"  # that process is pandoc
        pandoc = [r["pandoc_mib"] for r in runs if r["pandoc_mib"] is not None]
        shown_pandoc = f"{max(pandoc):,.0f}" if pandoc else "–"
        if pandoc and max(pandoc) > 1.05 * min(pandoc):
            spread.append(f"{name} {min(pandoc):,.0f}-{max(pandoc):,.0f} MiB")
        if kind == "render" and pandoc and max(pandoc) <= peak:
            shown_pandoc = f"≤ {max(pandoc):,.0f} ¹"
            caveats.append(name)
        ok = target is not None and median(runs) < target
        rows.append(f"| {name} | {runs[0]['n']:,} | {median(runs):.2f} | {low:.2f} | "
                    f"{shown_peak} | {shown_pandoc} | "
                    f"{f'< {target:g} s' if target else 'none'} | "
                    f"{('**PASS**' if ok else '**FAIL**') if target else '–'} |")
    alone, small = results["pandoc alone"], results["pandoc alone, 1,000"]
    py, ours = results["citeproc-py, 1,000"], results["vancouver text"]
    comparison = [
        "| processor | n | ms per reference (median) |", "|---|---:|---:|",
        f"| pandoc citeproc, 1 process | {small[0]['n']:,} | {ms_per_ref(small):.2f} |",
        f"| pandoc citeproc, 1 process | {alone[0]['n']:,} | {ms_per_ref(alone):.2f} |",
        f"| kb: pandoc in chunks of {citeproc.CHUNK:,}, {workers} workers (whole export) | "
        f"{ours[0]['n']:,} | {ms_per_ref(ours):.2f} |",
        f"| citeproc-py | {py[0]['n']:,} | {ms_per_ref(py):.2f} |",
        "",
        f"At the same size ({py[0]['n']:,} references, one process each) citeproc-py takes "
        f"{ms_per_ref(py) / ms_per_ref(small):.1f}× pandoc's time per reference.",
    ]
    each = harness.every_run(results)
    lines = [
        "# Export benchmark results",
        "",
        f"Command: `{command}`, from the repository root (options: --rounds N, "
        "--sources N, --out DIR, --results FILE).",
        "",
        f"Input: synthetic data from bench/build_bench.py's generator, seed 1: "
        f"{args.sources:,} sources, 10,000 claims, 100,000 citation rows, built once into "
        f"{harness.shown_path(args.out / 'kb.db')}; every row exports all "
        f"{args.sources:,} sources (kb.export.selection.all_sources) unless its n says "
        f"otherwise (the first {SMALL:,} of them). Chunked rendering: citeproc.CHUNK = "
        f"{citeproc.CHUNK:,} references per pandoc process, os.cpu_count() = {workers} "
        "workers.",
        "",
        *rows,
        "",
        *(["¹ not separable from the Python process's own peak: see the notes.", ""]
          if caveats else []),
        "Verdicts are on the median of the rounds.",
        "",
        "Per reference, pandoc against citeproc-py (Vancouver, plain text):",
        "",
        *comparison,
        "",
        f"Every run, in seconds, in the order run ({args.rounds} interleaved rounds): {each}.",
        "",
        *harness.machine_section(("citeproc-py", "pypandoc-binary", "bibtexparser", "rispy",
                                  "pylatexenc"), [("pandoc", citeproc.pandoc_version())]),
        "",
        "Notes:",
        "",
        "- Each bibtex, ris, csl-json, vancouver and ama run times a fresh Python process "
        "from opening the database to the finished string: selection query, CSL-JSON "
        "items, the format (for the styles, the pandoc processes too). kb's modules are "
        "imported before the clock; what a format imports on first use is inside it. Peak "
        "RSS is that process's high-water mark (VmHWM; the largest over the rounds).",
        "- pandoc peak is getrusage(RUSAGE_CHILDREN).ru_maxrss of that process: the "
        "largest single pandoc process, not their sum (with "
        f"{workers} workers up to {workers} run at once). On Linux a child's ru_maxrss "
        "starts from its parent's resident size at the spawn (the kernel carries it "
        "across exec, vfork included), so a figure at or below the parent's peak could be "
        "the parent's own and is marked ¹." + (f" Marked: {', '.join(caveats)}."
                                                if caveats else " None was.")
        + (" It varied from round to round: "
           + "; ".join(spread) + "; the table gives the largest." if spread else ""),
        "- *pandoc alone* times `pandoc --from csljson --to plain --citeproc --csl "
        f"{harness.shown_path(CSL)} --wrap none FILE -o /dev/null` on the file "
        "written beforehand, startup included; its memory is pandoc's own.",
        "- *citeproc-py* times loading the style (validate=False: no RelaxNG check), "
        "registering each item once and `bibliography()` with the plain formatter, from "
        "items already parsed; it is measured on the first "
        f"{SMALL:,} references only because it is slow, which is why pandoc is also "
        "measured alone on the same 1,000.",
        "- This is a virtual machine with 2 vCPUs shared with its host's other work, and "
        "the chunked styles use both: any other load shows up in them first. Read the "
        "minimum beside the median, and rerun before trusting a difference of a few "
        "per cent.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = harness.arguments(__doc__, BENCH / "EXPORT_RESULTS.md",
                               out=BENCH / "out" / "export", rounds="--rounds",
                               default_rounds=5, child={"choices": MEASUREMENTS})
    parser.add_argument("--sources", type=int, default=10_000)
    args = parser.parse_args()
    if args.rounds < 1 or args.sources < 1:
        parser.error("--rounds and --sources must be at least 1")
    args.out = args.out.resolve()
    if args.child:
        harness.reply(measure_here(args.child, args.out))
        return
    command = harness.command_line(__file__)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    prepare(args.out, args.sources)
    harness.log(f"prepared {args.out} in {time.perf_counter() - start:.1f} s")
    results = harness.interleaved(MEASUREMENTS, args.rounds,
                                  lambda name: measure(name, args.out), show=shown)
    (args.out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    harness.finish(args.results, report(results, args, command))


if __name__ == "__main__":
    main()
