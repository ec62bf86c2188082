"""What the benchmarks share: one measurement in a fresh Python process, rounds
interleaved, the figures of the runs, the machine they ran on, and the results file.

A script measures in a child of itself: `in_child(__file__, [...])` runs
`python SCRIPT --child ...` from the repository root, and the child answers with
`reply(result)`, one JSON line that also gives its peak memory. So every measurement
has a fresh interpreter, its own imports and its own high-water mark.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Iterable

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # kb and ingest, installed or not
    sys.path.insert(1, str(REPO))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- memory --------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident memory of this process, in MiB.

    Linux's VmHWM where there is one: a child's `ru_maxrss` also counts its parent's
    memory at the moment of the fork (the kernel carries the high-water mark across
    exec), which would credit the parent's memory to every measurement.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def children_peak_mib() -> float | None:
    """The largest ru_maxrss of this process's waited-for children (a pandoc, say), in
    MiB; None when there was none. It starts from this process's size at the spawn, so
    a figure at or below this process's own peak may be that and not the child's."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 or None


# -- one measurement in its own process ----------------------------------------------


def in_child(script: str | Path, args: Iterable[str], what: str, keep_errors: bool = False
             ) -> dict:
    """Run `python SCRIPT --child ARGS...` from the repository root and return the dict
    its last output line holds (see `reply`). When the child fails: stop with its
    error output, or with keep_errors return {"error": its last line of error output}."""
    command = [sys.executable, str(script), "--child", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        if keep_errors:
            return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
        sys.exit(f"{what} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def reply(result: dict) -> None:
    """A child's answer: result as one JSON line, with the process's peak memory
    (`peak_mib`) unless it says it could not run ("error")."""
    if "error" not in result:
        result.setdefault("peak_mib", peak_rss_mib())
    print(json.dumps(result))


def timed(function: Callable, *args, **kwargs) -> tuple[float, object]:
    """(wall seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


# -- rounds and their figures --------------------------------------------------------


def shown(got: dict) -> str:
    """A measurement as a progress line shows it."""
    if "error" in got:
        return got["error"]
    extra = "".join(f", {key} {got[key]:.2f} s" for key in ("evidence",) if key in got)
    return f"{got['seconds']:.2f} s{extra}, peak {got['peak_mib']:.0f} MiB"


def interleaved(names: Iterable[str], repeat: int, measure: Callable[[str], dict],
                label: str = "", show: Callable[[dict], str] = shown) -> dict[str, list]:
    """Every name measured once a round, `repeat` rounds, in turn: a slow spell of the
    host hits all of them alike. name -> its results in the order run."""
    names = list(names)
    results: dict[str, list] = {name: [] for name in names}
    for round_number in range(1, repeat + 1):
        for name in names:
            got = measure(name)
            results[name].append(got)
            log(f"{label}round {round_number}: {name} {show(got)}")
    return results


def values(runs: Iterable, key: str = "seconds") -> list[float]:
    """The figures of runs: the runs themselves when numbers, else each one's `key`."""
    return [r if isinstance(r, (int, float)) else r[key] for r in runs]


def median(runs: Iterable, key: str = "seconds") -> float:
    return statistics.median(values(runs, key))


def minimum(runs: Iterable, key: str = "seconds") -> float:
    return min(values(runs, key))


def maximum(runs: Iterable, key: str = "seconds") -> float:
    return max(values(runs, key))


def listed(runs: Iterable, key: str = "seconds", digits: int = 2) -> str:
    """'1.23, 1.31, 1.27': every run's figure, in the order run."""
    return ", ".join(f"{x:.{digits}f}" for x in values(runs, key))


def every_run(results: dict[str, list], key: str = "seconds") -> str:
    """'name 1.23, 1.31; other 0.52, 0.50': every run of every measurement."""
    return "; ".join(f"{name} {listed(runs, key)}" for name, runs in results.items())


# -- where it ran --------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def describe(packages: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(name, value) pairs: date, commit, CPU, RAM, OS, Python, SQLite, packages."""
    cpu, mem = "unknown", "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                   .splitlines() if line.startswith("MemTotal"))
        mem = f"{kib / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", commit),
        ("CPU", f"{os.cpu_count()} × {cpu} (nproc {len(os.sched_getaffinity(0))})"),
        ("RAM", mem),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        *((name, _version(name)) for name in packages),
    ]


def machine_lines(packages: tuple[str, ...] = (),
                  extra: Iterable[tuple[str, str]] = ()) -> list[str]:
    """The machine as a results file's list: '- CPU: ...'."""
    return [f"- {k}: {v}" for k, v in (*describe(packages), *extra)]


def load_average_line(before: tuple[float, ...]) -> str:
    """A results-file line with the load average at the start and at the end of a run."""
    return ("- load average (1, 5, 15 min) when the run started: "
            + ", ".join(f"{x:.2f}" for x in before) + "; when it ended: "
            + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def machine_section(packages: tuple[str, ...] = (), extra: Iterable[tuple[str, str]] = (),
                    load_before: tuple[float, ...] | None = None) -> list[str]:
    """'Machine:' and its list, with the load average when the run's start is given."""
    lines = ["Machine:", "", *machine_lines(packages, extra)]
    if load_before is not None:
        lines.append(load_average_line(load_before))
    return lines


# -- command line and results --------------------------------------------------------


def arguments(doc: str, results: Path, out: Path | None = None,
              out_help: str = "working folder (git-ignored)", rounds: str = "--repeat",
              default_rounds: int = 3, rounds_help: str | None = None,
              child: dict | None = None) -> argparse.ArgumentParser:
    """The options every benchmark has: its rounds (`--repeat` or `--rounds`), `--out`
    (its working folder, when it has one), `--results` (the file it writes) and the
    hidden `--child` its own children are started with (child: add_argument's keywords)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(rounds, type=int, default=default_rounds, help=rounds_help)
    if out is not None:
        parser.add_argument("--out", type=Path, default=out, help=out_help)
    parser.add_argument("--results", type=Path, default=results,
                        help=f"where to write the Markdown results (default "
                        f"{shown_path(results)})")
    if child is not None:
        parser.add_argument("--child", help=argparse.SUPPRESS, **child)
    return parser


def command_line(script: str | Path) -> str:
    """How this run was started, relative to the current folder, for the results."""
    return shlex.join([os.path.relpath(sys.executable, Path.cwd()),
                       os.path.relpath(script, Path.cwd()), *sys.argv[1:]])


def shown_path(path: Path) -> str:
    """path relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def write_results(path: Path, text: str, section: str | None = None) -> None:
    """Write a results file: all of it, or with `section` only the part between that
    section's markers (bench/RESULTS.md holds the build and the serve benchmarks'
    results), keeping the others; a section not there yet is added at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if section is None:
        path.write_text(text, encoding="utf-8")
        return
    start, end = f"<!-- section: {section} -->", f"<!-- end of section: {section} -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = before + block + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old.strip() else "") + block
    path.write_text(new, encoding="utf-8")


def finish(path: Path, text: str, section: str | None = None) -> None:
    """Print the results and write them (see write_results)."""
    print(text)
    write_results(path, text, section)
