"""What every benchmark reports about where it ran, and its peak memory."""

from __future__ import annotations

import datetime
import os
import platform
import resource
import sqlite3
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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


def load_average_line(before: tuple[float, ...]) -> str:
    """A results-file line with the load average at the start and at the end of a run."""
    import os

    return ("- load average (1, 5, 15 min) when the run started: "
            + ", ".join(f"{x:.2f}" for x in before) + "; when it ended: "
            + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def write_section(path: Path, name: str, text: str) -> None:
    """Put `text` into the file between the markers of section `name`, keeping the
    other sections (bench/RESULTS.md holds the build and the serve benchmarks' results).
    A section not there yet is added at the end."""
    start, end = f"<!-- section: {name} -->", f"<!-- end of section: {name} -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = before + block + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old.strip() else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
