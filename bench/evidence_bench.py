"""Benchmark the evidence `kb build` computes: claim trails, number checks, conflicts.

Usage (from the repository root):

    .venv/bin/python bench/evidence_bench.py [--sources N] [--claims N] [--citations N]
        [--records N] [--seed S] [--repeat R] [--only uniform|skewed] [--out DIR]
        [--results FILE]

1. Writes two synthetic, seeded, valid data folders with build_bench.py's generator in
   evidence mode (reviews chain to reviews and primary studies; restating claims take
   over the figures of the claim they restate, some rounded, some changed) and
   N synthetic cached PubMed records (default 20,000) whose abstracts give some of their
   claims' numbers:
     uniform  OUT/uniform/data: terms drawn uniformly, as in the build benchmark
     skewed   OUT/skewed/data: terms drawn as often as data/claims.csv uses them, so
              that claims pile up on a few quantities (the worst case for conflicts)
2. Measures on each, in a fresh Python process each time, R interleaved rounds:
     pieces        kb.build._evidence as the build calls it (collector paused), with
                   kb.evidence.compute replaced by a copy of its body that times its
                   parts: claim objects, trails + number checks, conflicts
     evidence_of   kb.build.evidence_of(dataset) as `kb validate --evidence` calls it
                   (collector running)
     build         kb.build.build(db, data_dir), kb.build._evidence timed inside it
     build-no-ev   the same with _evidence returning nothing: what the build costs
                   without trails and conflicts
   plus one cProfile of _evidence per data set, and the counts of what was found.
3. Writes the Markdown report, with the machine, to bench/EVIDENCE_RESULTS.md.

Target: the evidence of 100,000 claims computed during `kb build` in under 10 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from machine import describe, load_average_line, peak_rss_mib

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TARGET_SECONDS = 10.0
DATASETS = ("uniform", "skewed")
MEASUREMENTS = ("pieces", "evidence_of", "build", "build-no-ev")
PIECES = ("claim objects", "trails + number checks", "conflicts", "assembly")


# -- one measurement, in its own process ---------------------------------------------


def _rss(key: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load(data_dir: Path):
    from kb.validate import load

    start = time.perf_counter()
    dataset = load(data_dir)
    seconds = time.perf_counter() - start
    if not dataset.ok:
        for problem in dataset.problems[:20]:
            print(problem, file=sys.stderr)
        sys.exit(f"{len(dataset.problems)} problems in the synthetic data")
    return dataset, seconds


def _timed_compute(marks: dict):
    """kb.evidence.compute's body, step by step, with a clock between the steps."""
    from kb import evidence

    def compute(claims, works, broader):
        marks["inputs"] = time.perf_counter()  # works, cites and columns are ready
        by_id = {c.id: c for c in claims}
        marks["claim objects"] = time.perf_counter()
        trails: list[tuple] = []
        summary: dict[str, list] = {}
        for claim in by_id.values():
            hops, depth, trail = evidence._trail(claim, by_id, works)
            trails.extend((claim.id, step, *hop) for step, hop in enumerate(hops, start=1))
            differs = sum(1 for hop in hops if hop[6] == evidence.DIFFERS)
            check, absent = evidence._check_numbers(claim, works.get(claim.source_key))
            summary[claim.id] = [check, absent, trail, depth, differs, 0]
        marks["trails + number checks"] = time.perf_counter()
        conflicts = list(evidence._conflicts(by_id.values(), works, broader))
        marks["conflicts"] = time.perf_counter()
        for row in conflicts:
            summary[row[0]][5] += 1
            summary[row[1]][5] += 1
        found = evidence.Evidence({k: tuple(v) for k, v in summary.items()}, trails,
                                  conflicts)
        marks["assembly"] = time.perf_counter()
        return found

    return compute


def counts(found, dataset) -> dict:
    """What the evidence holds: hops, trails, depths, number checks, conflict pairs."""
    from kb.schema import SECONDARY_PUB_TYPES

    claims = found.claims.values()
    conflicts_per_claim = sorted(c[5] for c in claims if c[5])
    claims_file, references = dataset["claims.csv"], dataset["references.csv"]
    quantitative = sum(1 for k in claims_file.column("kind") if k == "quantitative")
    pub_type = dict(zip(references.column("key"), references.column("pub_type")))
    secondary = {claim_id for claim_id, source in zip(claims_file.column("id"),
                                                       claims_file.column("source_key"))
                 if pub_type[source] in SECONDARY_PUB_TYPES}
    return {
        "claims": len(found.claims),
        "quantitative claims": quantitative,
        "cached records": len(dataset.pubmed),
        "trail rows": len(found.trails),
        "hops per status": dict(Counter(row[8] for row in found.trails).most_common()),
        "hops per level": dict(sorted(Counter(row[2] for row in found.trails).items())),
        "claims per trail": dict(Counter(c[2] for c in claims).most_common()),
        "claims per trail_depth": {str(k): v for k, v in sorted(
            Counter(c[3] for c in claims).items(), key=lambda kv: (kv[0] is None, kv[0]))},
        "claims of a secondary work with trail_depth >= 2": sum(
            1 for claim_id, c in found.claims.items()
            if c[3] is not None and c[3] >= 2 and claim_id in secondary),
        "claims with trail_differs > 0": sum(1 for c in claims if c[4]),
        "claims per numbers_in_source": {str(k): v for k, v in
                                         Counter(c[0] for c in claims).most_common()},
        "conflict pairs": len(found.conflicts),
        "conflict pairs per kind": dict(Counter(r[2] for r in found.conflicts).most_common()),
        "claims in a conflict": len(conflicts_per_claim),
        "conflicts per claim in one, median / max": [
            statistics.median(conflicts_per_claim) if conflicts_per_claim else 0,
            conflicts_per_claim[-1] if conflicts_per_claim else 0],
    }


def measure_here(name: str, data_dir: Path, db_path: Path) -> dict:
    """Run one measurement in this process; imports are done before any clock starts."""
    from kb import build, evidence
    from kb.csvfile import gc_paused

    result: dict = {}
    if name in ("pieces", "evidence_of", "profile"):
        dataset, result["load"] = _load(data_dir)
        result["rss_after_load_mib"] = _rss()
        result["peak_after_load_mib"] = _rss("VmHWM")
    if name == "pieces":
        marks: dict[str, float] = {}
        evidence.compute = _timed_compute(marks)
        with gc_paused():  # as in the build (kb.build._write)
            start = time.perf_counter()
            sources, _, _ = build._sources_and_authors(dataset["references.csv"],
                                                       dataset.pubmed)
            claim_citations = list(build._claim_citations(dataset))
            marks["start"] = time.perf_counter()
            found = build._evidence(dataset, sources, claim_citations)
            end = time.perf_counter()
        result["sources and claim_citations"] = marks["start"] - start
        result["inputs"] = marks["inputs"] - marks["start"]
        previous = marks["inputs"]
        for piece in PIECES:
            result[piece] = marks[piece] - previous
            previous = marks[piece]
        result["seconds"] = end - marks["start"]  # what the build spends in _evidence
        result["counts"] = counts(found, dataset)
    elif name == "evidence_of":
        start = time.perf_counter()
        build.evidence_of(dataset)
        result["seconds"] = time.perf_counter() - start
    elif name == "profile":
        with gc_paused():
            sources, _, _ = build._sources_and_authors(dataset["references.csv"],
                                                       dataset.pubmed)
            claim_citations = list(build._claim_citations(dataset))
            profile = cProfile.Profile()
            profile.enable()
            build._evidence(dataset, sources, claim_citations)
            profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("tottime").print_stats(14)
        result["profile"] = text.getvalue()
        result["seconds"] = stats.total_tt
    else:  # build, build-no-ev
        original = build._evidence
        spent: list[float] = []

        def timed(*args):
            start = time.perf_counter()
            found = original(*args) if name == "build" else evidence.Evidence({}, [], [])
            spent.append(time.perf_counter() - start)
            return found

        build._evidence = timed
        db_path.unlink(missing_ok=True)
        start = time.perf_counter()
        rows = build.build(db_path, data_dir)
        result["seconds"] = time.perf_counter() - start
        result["evidence"] = sum(spent)
        result["db_mib"] = db_path.stat().st_size / 1024 ** 2
        result["rows"] = {t: rows[t] for t in ("claims", "claim_trails", "claim_conflicts")}
        db_path.unlink()
    result["peak_mib"] = peak_rss_mib()
    return result


def measure(name: str, dataset: str, out: Path) -> dict:
    """Run one measurement in a fresh child process and return what it reports."""
    command = [sys.executable, __file__, "--child", name, "--data-set", dataset,
               "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"{name} on {dataset} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- reporting ------------------------------------------------------------------------


def _med(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def _min(runs: list[dict], key: str = "seconds") -> float:
    return min(r[key] for r in runs)


def _listing(mapping: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in mapping.items())


def section(dataset: str, results: dict[str, list[dict]], profile: dict, generated: float,
            args) -> list[str]:
    pieces, builds = results["pieces"], results["build"]
    counted = pieces[0]["counts"]
    same = all(r["counts"] == counted for r in pieces)
    rounds = len(builds)
    in_build_med, in_build_min = _med(builds, "evidence"), _min(builds, "evidence")
    ok = in_build_med < TARGET_SECONDS
    rows = ["| measurement | median s | min s | peak RSS MiB | note |",
            "|---|---:|---:|---:|---|"]
    after_load = max(r["peak_after_load_mib"] for r in pieces)
    rows.append(f"| load (`kb.validate.load`, cache included) | {_med(pieces, 'load'):.2f} | "
                f"{_min(pieces, 'load'):.2f} | {after_load:,.0f} | before any evidence; "
                "inside the pieces process |")
    rows.append(f"| sources and claim_citations rows | "
                f"{_med(pieces, 'sources and claim_citations'):.2f} | "
                f"{_min(pieces, 'sources and claim_citations'):.2f} | | the build makes "
                "them anyway; `evidence_of` makes them again |")
    for key, note in (("inputs", "works, reference numbers per claim, claim columns, "
                       "broader terms"),
                      ("claim objects", "`evidence.Claim` per claim"),
                      ("trails + number checks", "`_trail` and `_check_numbers` per claim"),
                      ("conflicts", "`_conflicts`, rows formatted"),
                      ("assembly", "conflict counts per claim, summary tuples")):
        rows.append(f"| · {key} | {_med(pieces, key):.2f} | {_min(pieces, key):.2f} | | "
                    f"{note} |")
    peak = max(r["peak_mib"] for r in pieces)
    rows.append(f"| **pieces: `_evidence` total** (collector paused) | "
                f"**{_med(pieces):.2f}** | {_min(pieces):.2f} | {peak:,.0f} | peak − peak "
                f"after load: {peak - after_load:,.0f} MiB |")
    if "evidence_of" in results:
        runs = results["evidence_of"]
        rows.append(f"| `evidence_of(dataset)` (collector running, as `kb validate "
                    f"--evidence`) | {_med(runs):.2f} | {_min(runs):.2f} | "
                    f"{max(r['peak_mib'] for r in runs):,.0f} | includes sources and "
                    "claim_citations |")
    rows.append(f"| **`_evidence` inside `kb build`** | **{in_build_med:.2f}** | "
                f"{in_build_min:.2f} | | timed inside the build process |")
    rows.append(f"| `kb build` | {_med(builds):.2f} | {_min(builds):.2f} | "
                f"{max(r['peak_mib'] for r in builds):,.0f} | database "
                f"{builds[0]['db_mib']:,.0f} MiB |")
    if "build-no-ev" in results:
        runs = results["build-no-ev"]
        rows.append(f"| `kb build`, `_evidence` returning nothing | {_med(runs):.2f} | "
                    f"{_min(runs):.2f} | {max(r['peak_mib'] for r in runs):,.0f} | "
                    f"database {runs[0]['db_mib']:,.0f} MiB |")
        rows.append(f"| *build − build without evidence* | "
                    f"*{_med(builds) - _med(runs):.2f}* | | | computing, writing and "
                    "indexing trails and conflicts |")
    each = "; ".join(
        f"{name} " + ", ".join(f"{r['seconds']:.2f}" for r in runs)
        + (" (evidence inside: " + ", ".join(f"{r['evidence']:.2f}" for r in runs) + ")"
           if name == "build" else "")
        for name, runs in results.items())
    c = counted
    figures = [
        f"- claims {c['claims']:,} ({c['quantitative claims']:,} quantitative); cached "
        f"PubMed records {c['cached records']:,}",
        f"- claim_trails rows (hops): {c['trail rows']:,}; per status: "
        f"{_listing(c['hops per status'])}",
        f"- hops per level (1 = the claim's own citations): {_listing(c['hops per level'])}",
        f"- claims per trail summary: {_listing(c['claims per trail'])}",
        f"- claims per trail_depth (None: no primary work reached): "
        f"{_listing(c['claims per trail_depth'])}",
        f"- claims of a secondary work (review, guideline, book...) with trail_depth ≥ 2, "
        f"i.e. review → review (→ …) → primary: "
        f"{c['claims of a secondary work with trail_depth >= 2']:,}",
        f"- claims with trail_differs > 0: {c['claims with trail_differs > 0']:,}",
        f"- claims per numbers_in_source (None: qualitative): "
        f"{_listing(c['claims per numbers_in_source'])}",
        f"- claim_conflicts pairs: {c['conflict pairs']:,}; per kind: "
        f"{_listing(c['conflict pairs per kind'])}",
        f"- claims in at least one conflict: {c['claims in a conflict']:,}; conflicts per "
        f"such claim, median {c['conflicts per claim in one, median / max'][0]:g}, max "
        f"{c['conflicts per claim in one, median / max'][1]:,}",
        f"- rows written by the build: {_listing(builds[0]['rows'])}",
    ]
    written = builds[0]["rows"]
    if (written["claim_trails"], written["claim_conflicts"]) != (c["trail rows"],
                                                                 c["conflict pairs"]):
        figures.append("- **the build wrote other numbers of trail or conflict rows than "
                       "the pieces computed**: kb.evidence.compute has changed; update "
                       "_timed_compute")
    if not same:
        figures.append("- **the counts differed between rounds**: "
                       + json.dumps([r["counts"] for r in pieces]))
    description = {
        "uniform": "terms (population, intervention, outcome, measure, unit, timepoint) "
        "drawn uniformly, as in the build benchmark",
        "skewed": "terms drawn as often as data/claims.csv uses them (build_bench.SKEWED): "
        "most quantitative claims are proportions in %, without intervention or "
        "timepoint, about a few populations; the most conflicts",
    }[dataset]
    return [
        f"## {dataset}: {description}",
        "",
        f"Generated (CSV files and {args.records:,} cache files) in {generated:.1f} s.",
        "",
        *rows,
        "",
        f"- evidence computed inside `kb build`: median {in_build_med:.2f} s, min "
        f"{in_build_min:.2f} s; target < {TARGET_SECONDS:g} s: "
        f"**{'pass' if ok else 'FAIL'}**",
        "",
        f"Every run, in seconds, in the order run (interleaved, {rounds} "
        f"round{'s' if rounds > 1 else ''}): {each}.",
        "",
        "What was found" + (" (the same in every round)" if same and rounds > 1 else "")
        + ":",
        "",
        *figures,
        "",
        f"Where `_evidence`'s time goes (one cProfile run, collector paused; "
        f"{profile['seconds']:.1f} s under the profiler), top functions by own time:",
        "",
        "```",
        *_trim_profile(profile["profile"]),
        "```",
        "",
    ]


def _trim_profile(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return [line.replace(str(REPO) + "/", "") for line in lines[start:] if line.strip()]


def report(sections: list[str], args, command: str) -> str:
    return "\n".join([
        "# Evidence benchmark results",
        "",
        f"Command: `{command}`",
        "",
        f"Input: synthetic data from bench/build_bench.py's generator in evidence mode, "
        f"seed {args.seed}: {args.sources:,} sources, {args.claims:,} claims, "
        f"{args.citations:,} citation rows, {args.records:,} synthetic cached PubMed "
        "records (sources with a PMID drawn at random; their abstracts give 70 % of "
        "their quantitative claims' numbers in full, 15 % in part). See bench/README.md.",
        "",
        *sections,
        "Machine:",
        "",
        *(f"- {k}: {v}" for k, v in describe(("sqlite-utils", "rapidfuzz"))),
        load_average_line(args.load_before),
        "",
        "Seconds are wall time inside a fresh child process, after its imports, with the "
        "input files in the page cache. Peak RSS is that process's high-water mark "
        "(VmHWM; the largest over the rounds), so it includes the loaded data set. The "
        "pieces run the build's own `_evidence` (works, cites, claim columns) and replace "
        "`kb.evidence.compute` by a copy of its body with clocks between the steps; their "
        "counts are what `compute` returns. This is a virtual machine with 2 vCPUs "
        "shared with other work: read the minimum beside the median.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--citations", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=20_000,
                        help="synthetic cached PubMed records (default 20,000)")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per data set")
    parser.add_argument("--only", choices=DATASETS, help="one data set only")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "evidence",
                        help="working folder (git-ignored)")
    parser.add_argument("--results", type=Path, default=BENCH / "EVIDENCE_RESULTS.md")
    parser.add_argument("--child", choices=("pieces", "evidence_of", "build", "build-no-ev",
                                            "profile"), help=argparse.SUPPRESS)
    parser.add_argument("--data-set", choices=DATASETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.sources < 1 or args.claims < 0:
        parser.error("--repeat and --sources must be at least 1, the others at least 0")
    out = args.out.resolve()
    if args.child:
        data_dir = out / args.data_set / "data"
        db_path = out / args.data_set / f"{args.child}.db"
        print(json.dumps(measure_here(args.child, data_dir, db_path)))
        return
    command = shlex.join([os.path.relpath(sys.executable, Path.cwd()),
                          os.path.relpath(__file__, Path.cwd()), *sys.argv[1:]])
    from build_bench import generate

    args.load_before = os.getloadavg()
    sections: list[str] = []
    for dataset in [args.only] if args.only else DATASETS:
        start = time.perf_counter()
        generate(out / dataset / "data", args.sources, args.claims, args.citations,
                 args.seed, evidence=True, records=args.records, terms=dataset)
        generated = time.perf_counter() - start
        print(f"generated {dataset} in {generated:.1f} s", file=sys.stderr)
        results: dict[str, list[dict]] = {name: [] for name in MEASUREMENTS}
        for round_number in range(1, args.repeat + 1):
            for name in MEASUREMENTS:
                got = measure(name, dataset, out)
                results[name].append(got)
                extra = f", evidence {got['evidence']:.2f} s" if "evidence" in got else ""
                print(f"{dataset} round {round_number}: {name} {got['seconds']:.2f} s"
                      f"{extra}, peak {got['peak_mib']:.0f} MiB", file=sys.stderr)
        profile = measure("profile", dataset, out)
        (out / dataset / "results.json").write_text(
            json.dumps({"results": results, "profile": profile}, indent=1), encoding="utf-8")
        sections += section(dataset, results, profile, generated, args)
    text = report(sections, args, command)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
