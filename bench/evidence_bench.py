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
2. Measures on each, in a fresh Python process each time (bench/harness.py), R
   interleaved rounds, calling only public functions of kb:
     pieces        with the collector paused, as in the build: kb.data.works.works and
                   kb.data.cites.claim_citations (the build makes both anyway), then
                   kb.evidence.compute.of_dataset(dataset, sources, cited) as the build
                   calls it; then its parts again one by one: compute()'s arguments
                   (works, cites, claim columns, broader terms), claim objects,
                   kb.evidence.trails.trail + check_numbers per claim,
                   kb.evidence.conflicts.conflicts
     evidence_of   of_dataset(dataset) as `kb validate --evidence` calls it (sources
                   and cited worked out inside, collector running)
     build         kb.db.build.build(db, data_dir, timings=...): the seconds the build
                   spent computing the evidence come from its public timings hook
   plus one cProfile of of_dataset per data set, and the counts of what was found.
3. Writes the Markdown report, with the machine, to bench/EVIDENCE_RESULTS.md.

Target: the evidence of 100,000 claims computed during `kb build` in under 10 s.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import pstats
import statistics
import time
from collections import Counter
from pathlib import Path

import harness
from harness import BENCH, REPO, maximum, median, minimum

TARGET_SECONDS = 10.0
DATASETS = ("uniform", "skewed")
MEASUREMENTS = ("pieces", "evidence_of", "build")
PIECES = ("inputs", "claim objects", "trails + number checks", "conflicts")


# -- one measurement, in its own process ---------------------------------------------


def _rss(key: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load(data_dir: Path):
    from build_bench import load_valid

    importlib.import_module("kb.data.loader")  # before the clock
    seconds, dataset = harness.timed(load_valid, data_dir)
    return dataset, seconds


def compute_arguments(dataset, sources: list[dict], cited: list):
    """What of_dataset hands to kb.evidence.compute.compute, from public names: the
    works by key, the populations' broader terms, and the claims (a generator: making
    the Claim objects is a piece of its own). The pieces' counts are checked against
    of_dataset's, so a change there that this misses shows in the report."""
    from kb.evidence.compute import CLAIM_COLUMNS, WORK_COLUMNS
    from kb.evidence.model import Claim, work

    works = {s["key"]: work(*(s[name] for name in WORK_COLUMNS)) for s in sources}
    cites: dict[str, list] = {}
    for row in cited:
        cites.setdefault(row.claim_id, []).append((row.ref_number, row.cited_key))
    claims = dataset["claims.csv"]
    rows = zip(*(claims.column(name) for name in CLAIM_COLUMNS))
    terms = dataset["vocabulary.csv"]
    broader = {term: wider for fld, term, wider in
               zip(terms.column("field"), terms.column("term"), terms.column("broader"))
               if fld == "population" and wider}
    return (Claim(*row, cites=cites.get(row[0], [])) for row in rows), works, broader


def pieces(dataset, result: dict) -> None:
    """of_dataset as the build calls it, then its parts one by one (collector paused)."""
    from kb.data.cites import claim_citations
    from kb.data.csvfile import gc_paused
    from kb.data.works import works as works_of
    from kb.evidence.compute import of_dataset
    from kb.evidence.conflicts import conflicts
    from kb.evidence.trails import check_numbers, trail

    with gc_paused():  # as in the build (kb.db.build)
        marks = [time.perf_counter()]
        sources = works_of(dataset).sources
        cited = list(claim_citations(dataset))
        marks.append(time.perf_counter())
        found = of_dataset(dataset, sources, cited)
        marks.append(time.perf_counter())
        claims, works, broader = compute_arguments(dataset, sources, cited)
        marks.append(time.perf_counter())
        by_id = {claim.id: claim for claim in claims}
        marks.append(time.perf_counter())
        hops = 0
        for claim in by_id.values():
            hops += len(trail(claim, by_id, works)[0])
            check_numbers(claim, works.get(claim.source_key))
        marks.append(time.perf_counter())
        pairs = sum(1 for _ in conflicts(by_id.values(), works, broader))
        marks.append(time.perf_counter())
    spans = [b - a for a, b in zip(marks, marks[1:])]
    result["sources and claim_citations"], result["seconds"] = spans[:2]
    result.update(zip(PIECES, spans[2:]))
    result["rest"] = result["seconds"] - sum(result[piece] for piece in PIECES)
    result["pieces agree"] = (hops, pairs) == (len(found.trails), len(found.conflicts))
    result["counts"] = counts(found, dataset)


def counts(found, dataset) -> dict:
    """What the evidence holds: hops, trails, depths, number checks, conflict pairs."""
    from kb.data.schema import SECONDARY_PUB_TYPES

    claims = found.claims.values()
    conflicts_per_claim = sorted(c.conflicts for c in claims if c.conflicts)
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
        "hops per status": dict(Counter(hop.status for hop in found.trails).most_common()),
        "hops per level": dict(sorted(Counter(hop.depth for hop in found.trails).items())),
        "claims per trail": dict(Counter(c.trail for c in claims).most_common()),
        "claims per trail_depth": {str(k): v for k, v in sorted(
            Counter(c.trail_depth for c in claims).items(),
            key=lambda kv: (kv[0] is None, kv[0]))},
        "claims of a secondary work with trail_depth >= 2": sum(
            1 for claim_id, c in found.claims.items()
            if c.trail_depth is not None and c.trail_depth >= 2 and claim_id in secondary),
        "claims with trail_differs > 0": sum(1 for c in claims if c.trail_differs),
        "claims per numbers_in_source": {str(k): v for k, v in Counter(
            c.numbers_in_source for c in claims).most_common()},
        "conflict pairs": len(found.conflicts),
        "conflict pairs per kind": dict(Counter(r.kind for r in found.conflicts)
                                        .most_common()),
        "claims in a conflict": len(conflicts_per_claim),
        "conflicts per claim in one, median / max": [
            statistics.median(conflicts_per_claim) if conflicts_per_claim else 0,
            conflicts_per_claim[-1] if conflicts_per_claim else 0],
    }


def measure_here(name: str, data_dir: Path, db_path: Path) -> dict:
    """Run one measurement in this process; imports are done before any clock starts."""
    from kb.data.csvfile import gc_paused
    from kb.db.build import build
    from kb.evidence.compute import of_dataset

    result: dict = {}
    if name in ("pieces", "evidence_of", "profile"):
        dataset, result["load"] = _load(data_dir)
        result["rss_after_load_mib"] = _rss()
        result["peak_after_load_mib"] = _rss("VmHWM")
    if name == "pieces":
        pieces(dataset, result)
    elif name == "evidence_of":
        result["seconds"], _ = harness.timed(of_dataset, dataset)
    elif name == "profile":
        from kb.data.cites import claim_citations
        from kb.data.works import works

        with gc_paused():
            sources, cited = works(dataset).sources, list(claim_citations(dataset))
            profile = cProfile.Profile()
            profile.runcall(of_dataset, dataset, sources, cited)
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("tottime").print_stats(14)
        result["profile"] = text.getvalue()
        result["seconds"] = stats.total_tt
    else:  # build
        timings: dict[str, float] = {}
        db_path.unlink(missing_ok=True)
        result["seconds"], rows = harness.timed(build, db_path, data_dir, timings=timings)
        result["evidence"] = timings["evidence"]
        result["db_mib"] = db_path.stat().st_size / 1024 ** 2
        result["rows"] = {t: rows[t] for t in ("claims", "claim_trails", "claim_conflicts")}
        db_path.unlink()
    return result


def measure(name: str, dataset: str, out: Path) -> dict:
    """Run one measurement in a fresh child process and return what it reports."""
    return harness.in_child(__file__, [name, "--data-set", dataset, "--out", out],
                            f"{name} on {dataset}")


# -- reporting ------------------------------------------------------------------------


def _listing(mapping: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in mapping.items())


def _row(label: str, runs: list[dict], key: str = "seconds", peak: str = "",
         note: str = "", bold: bool = False) -> str:
    med = f"**{median(runs, key):.2f}**" if bold else f"{median(runs, key):.2f}"
    return f"| {label} | {med} | {minimum(runs, key):.2f} | {peak} | {note} |"


def _peak(runs: list[dict], key: str = "peak_mib") -> str:
    return f"{maximum(runs, key):,.0f}"


def section(dataset: str, results: dict[str, list[dict]], profile: dict, generated: float,
            args) -> list[str]:
    found, builds = results["pieces"], results["build"]
    counted = found[0]["counts"]
    same = all(r["counts"] == counted for r in found)
    rounds = len(builds)
    in_build_med, in_build_min = median(builds, "evidence"), minimum(builds, "evidence")
    ok = in_build_med < TARGET_SECONDS
    after_load = maximum(found, "peak_after_load_mib")
    peak = maximum(found, "peak_mib")
    rows = ["| measurement | median s | min s | peak RSS MiB | note |",
            "|---|---:|---:|---:|---|",
            _row("load (`kb.data.loader.load`, cache included)", found, "load",
                 _peak(found, "peak_after_load_mib"),
                 "before any evidence; inside the pieces process"),
            _row("sources and claim_citations rows", found, "sources and claim_citations",
                 note="`works(dataset)` and `claim_citations(dataset)`: the build makes "
                 "them anyway; `of_dataset(dataset)` makes them again"),
            _row("**pieces: `of_dataset(dataset, sources, cited)`** (collector paused)",
                 found, peak=f"{peak:,.0f}", bold=True,
                 note=f"as the build calls it; peak − peak after load: "
                 f"{peak - after_load:,.0f} MiB")]
    for key, note in (("inputs", "works, reference numbers per claim, claim columns, "
                       "broader terms"),
                      ("claim objects", "`kb.evidence.model.Claim` per claim"),
                      ("trails + number checks", "`trail` and `check_numbers` per claim"),
                      ("conflicts", "`conflicts`, rows formatted"),
                      ("rest", "summary rows, conflict counts per claim: of_dataset "
                       "minus the four pieces, each run apart after it")):
        rows.append(_row(f"· {key}", found, key, note=note))
    if "evidence_of" in results:
        runs = results["evidence_of"]
        rows.append(_row("`of_dataset(dataset)` (collector running, as `kb validate "
                         "--evidence`)", runs, peak=_peak(runs),
                         note="includes sources and claim_citations"))
    rows.append(_row("**evidence inside `kb build`**", builds, "evidence", bold=True,
                     note="`timings[\"evidence\"]` of `kb.db.build.build`"))
    rows.append(_row("`kb build`", builds, peak=_peak(builds),
                     note=f"database {builds[0]['db_mib']:,.0f} MiB"))
    rows.append(f"| *build − evidence* | *{median(builds) - in_build_med:.2f}* | | | "
                "the build but for computing the evidence (writing and indexing its "
                "rows included) |")
    each = harness.every_run(results) + (
        f" (evidence inside the build: {harness.listed(builds, 'evidence')})")
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
                       "of_dataset computed in the pieces process**")
    if not all(r["pieces agree"] for r in found):
        figures.append("- **the pieces, run one by one, found other numbers of hops or "
                       "conflict pairs than of_dataset**: kb.evidence.compute has changed; "
                       "update compute_arguments and pieces")
    if not same:
        figures.append("- **the counts differed between rounds**: "
                       + json.dumps([r["counts"] for r in found]))
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
        f"Where `of_dataset`'s time goes (one cProfile run, collector paused; "
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
        *harness.machine_section(("sqlite-utils", "rapidfuzz"), load_before=args.load_before),
        "",
        "Seconds are wall time inside a fresh child process, after its imports, with the "
        "input files in the page cache. Peak RSS is that process's high-water mark "
        "(VmHWM; the largest over the rounds), so it includes the loaded data set. The "
        "pieces process runs `of_dataset` as the build does, then its parts one by one "
        "through kb's public functions, each timed apart; the counts are those of "
        "`of_dataset`, and the report says if the parts found other numbers. No kb "
        "function is patched; the build's evidence seconds come from its `timings` hook. "
        "This is a virtual machine with 2 vCPUs "
        "shared with other work: read the minimum beside the median.",
        "",
    ])


def main() -> None:
    from build_bench import generate, size_options

    parser = harness.arguments(__doc__, BENCH / "EVIDENCE_RESULTS.md",
                               out=BENCH / "out" / "evidence", rounds_help="rounds per data set",
                               child={"choices": (*MEASUREMENTS, "profile")})
    size_options(parser)
    parser.add_argument("--records", type=int, default=20_000,
                        help="synthetic cached PubMed records (default 20,000)")
    parser.add_argument("--only", choices=DATASETS, help="one data set only")
    parser.add_argument("--data-set", choices=DATASETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.sources < 1 or args.claims < 0:
        parser.error("--repeat and --sources must be at least 1, the others at least 0")
    out = args.out.resolve()
    if args.child:
        data_dir = out / args.data_set / "data"
        db_path = out / args.data_set / f"{args.child}.db"
        harness.reply(measure_here(args.child, data_dir, db_path))
        return
    command = harness.command_line(__file__)
    args.load_before = os.getloadavg()
    sections: list[str] = []
    for dataset in [args.only] if args.only else DATASETS:
        start = time.perf_counter()
        generate(out / dataset / "data", args.sources, args.claims, args.citations,
                 args.seed, evidence=True, records=args.records, terms=dataset)
        generated = time.perf_counter() - start
        harness.log(f"generated {dataset} in {generated:.1f} s")
        results = harness.interleaved(MEASUREMENTS, args.repeat,
                                      lambda name: measure(name, dataset, out),
                                      label=f"{dataset} ")
        profile = measure("profile", dataset, out)
        (out / dataset / "results.json").write_text(
            json.dumps({"results": results, "profile": profile}, indent=1), encoding="utf-8")
        sections += section(dataset, results, profile, generated, args)
    harness.finish(args.results, report(sections, args, command))


if __name__ == "__main__":
    main()
