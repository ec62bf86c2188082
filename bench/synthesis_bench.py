"""Benchmark what guideline questions cost: the plausibility flags and the syntheses in
`kb build`, and a question page served.

Usage (from the repository root):

    .venv/bin/python bench/synthesis_bench.py [--claims N] [--questions Q] [--repeat R]
                                              [--pages P] [--out DIR]

1. Writes the build benchmark's synthetic data (bench/build_bench.py, seeded) to
   OUT/data, then Q guideline questions (random PICO from its vocabulary: a share at a
   timepoint, or one in ten a hazard ratio) with five GRADE judgements each to
   OUT/data/questions.csv and certainty.csv. OUT/plain is the same data without them.
2. Builds both, interleaved, R rounds, each build in a fresh process, reading the
   build's public timings hook: its seconds in all, and of them the flags' ("flags")
   and the syntheses' ("synthesis").
3. Serves the database with questions in-process (Datasette as `kb serve` sets it up)
   and asks for P question pages one after the other, unloaded: p50, p95 and max.
Target (issue 15): flags and syntheses add at most 10 % to the build; a question page
p50 at most 50 ms.
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

import harness
from build_bench import TIMEPOINTS, VOCABULARY, generate, size_options
from harness import BENCH, median, minimum

MEASUREMENTS = ("plain", "questions")
TARGET_SHARE, TARGET_P50_MS = 0.10, 50.0
DOMAINS = ("risk-of-bias", "inconsistency", "indirectness", "imprecision",
           "publication-bias")
JUDGEMENTS = ("not serious", "serious", "very serious")


def write_questions(data_dir: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    questions, certainty = [], []
    for number in range(1, count + 1):
        qid = f"q{number:05d}"
        ratio = rng.random() < 0.1
        questions.append([qid, f"Synthetic question {number}.",
                          rng.choice(VOCABULARY["population"]),
                          rng.choice(VOCABULARY["intervention"]), "",
                          rng.choice(("overall-survival", "progression-free-survival",
                                      "recurrence", "response")),
                          "" if ratio else rng.choice(TIMEPOINTS[2:]),
                          "hazard-ratio" if ratio else "proportion", ""])
        certainty += [[qid, domain, rng.choice(JUDGEMENTS), "Synthetic reason.",
                       "bench"] for domain in DOMAINS]
    for name, header, rows in (
            ("questions.csv", ["id", "question", "population", "intervention",
                               "comparator", "outcome", "timepoint", "measure", "notes"],
             questions),
            ("certainty.csv", ["question_id", "domain", "judgement", "reason", "curator"],
             certainty)):
        with open(data_dir / name, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *rows])


def run_build(data_dir: Path, db_path: Path) -> dict:
    from kb.db.build import build

    timings: dict[str, float] = {}
    build(db_path, data_dir, timings=timings)
    return {key: timings[key] for key in ("evidence", "flags", "synthesis")}


def measure_here(name: str, out: Path) -> dict:
    import importlib

    importlib.import_module("kb.db.build")
    db_path = out / f"{name}.db"
    db_path.unlink(missing_ok=True)
    seconds, extra = harness.timed(run_build, out / ("data" if name == "questions"
                                                     else "plain"), db_path)
    if name != "questions":
        db_path.unlink(missing_ok=True)
    return {"seconds": seconds, **extra}


def question_pages(db_path: Path, count: int, seed: int) -> list[float]:
    """Seconds for each of count question pages, asked one at a time."""
    import sqlite3

    from datasette.app import Datasette

    from kb.web.settings import for_datasette

    ids = [r[0] for r in sqlite3.connect(db_path).execute("select id from questions")]
    rng = random.Random(seed)
    datasette = Datasette(immutables=[str(db_path)], settings=for_datasette())
    name = db_path.stem

    async def ask() -> list[float]:
        await datasette.client.get(f"/{name}/-/question/{ids[0]}")   # warm up
        seconds = []
        for _ in range(count):
            started = time.perf_counter()
            response = await datasette.client.get(f"/{name}/-/question/{rng.choice(ids)}")
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text[:300]
        return seconds

    return asyncio.run(ask())


def report(results, pages: list[float], args, command: str) -> str:
    with_q, plain = results["questions"], results["plain"]
    flags = harness.values(with_q, "flags")
    synthesis = harness.values(with_q, "synthesis")
    share = [(f + s) / r["seconds"] for f, s, r in zip(flags, synthesis, with_q)]
    added = median(with_q) - median(plain)
    ms = sorted(p * 1000 for p in pages)
    p50, p95 = statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]
    ok_share = statistics.median(share) <= TARGET_SHARE
    ok_page = p50 <= TARGET_P50_MS
    return "\n".join([
        "# Guideline questions benchmark results",
        "",
        f"Command: `{command}`",
        "",
        f"Input: the build benchmark's synthetic data (seed {args.seed}: {args.claims:,} "
        f"claims, {args.sources:,} sources, {args.citations:,} reference-list entries) "
        f"with {args.questions:,} questions and {args.questions * 5:,} GRADE judgements, "
        "and the same data without them.",
        "",
        "| build | median s | min s | peak RSS MiB |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {median(results[name]):.2f} | {minimum(results[name]):.2f} | "
          f"{max(r['peak_mib'] for r in results[name]):.0f} |" for name in MEASUREMENTS),
        f"| · of which flags (`timings[\"flags\"]`) | {statistics.median(flags):.2f} | "
        f"{min(flags):.2f} | |",
        f"| · of which syntheses (`timings[\"synthesis\"]`) | "
        f"{statistics.median(synthesis):.2f} | {min(synthesis):.2f} | |",
        "",
        f"- flags + syntheses: {statistics.median(share) * 100:.1f} % of the build with "
        f"questions (median of the rounds; each round {', '.join(f'{x * 100:.1f} %' for x in share)}); "
        f"target ≤ {TARGET_SHARE * 100:.0f} %: **{'pass' if ok_share else 'FAIL'}**",
        f"- the build with questions minus the build without: {added:+.2f} s on medians "
        f"({added / median(plain) * 100:+.1f} %; the flags run in both)",
        f"- question page, {len(pages)} asked one at a time in-process: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms; target p50 ≤ {TARGET_P50_MS:.0f} ms: "
        f"**{'pass' if ok_page else 'FAIL'}**",
        "",
        f"Every build, in seconds, in the order run (interleaved, {args.repeat} rounds): "
        f"{harness.every_run(results)}.",
        "",
        *harness.machine_section(("sqlite-utils", "statsmodels", "datasette"),
                                 load_before=args.load_before),
        "",
        "Builds run in fresh child processes after their imports; the page times are "
        "Datasette's in-process client (no HTTP socket), with `kb serve`'s settings and "
        "the database immutable, after one warm-up request. This is a virtual machine: "
        "read the minimum beside the median.",
        "",
    ])


def main() -> None:
    parser = harness.arguments(__doc__, BENCH / "SYNTHESIS_RESULTS.md",
                               out=BENCH / "out-synthesis", default_rounds=2,
                               child={"choices": MEASUREMENTS})
    size_options(parser)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    out = args.out.resolve()
    if args.child:
        harness.reply(measure_here(args.child, out))
        return
    command = harness.command_line(__file__)
    args.load_before = os.getloadavg()
    started = time.perf_counter()
    generate(out / "data", args.sources, args.claims, args.citations, args.seed)
    write_questions(out / "data", args.questions, args.seed)
    shutil.rmtree(out / "plain", ignore_errors=True)
    shutil.copytree(out / "data", out / "plain",
                    ignore=shutil.ignore_patterns("questions.csv", "certainty.csv"))
    harness.log(f"generated {out} in {time.perf_counter() - started:.1f} s")
    results = harness.interleaved(
        MEASUREMENTS, args.repeat,
        lambda name: harness.in_child(__file__, [name, "--out", out], name))
    pages = question_pages(out / "questions.db", args.pages, args.seed)
    harness.finish(args.results, report(results, pages, args, command))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
