"""Benchmark `kb build` against a plain sqlite3 load of the same rows.

Usage (from the repository root):

    .venv/bin/python bench/build_bench.py [--sources N] [--claims N] [--citations N]
                                          [--out DIR] [--seed S] [--repeat R]

1. Writes a synthetic, seeded, *valid* data folder to OUT/data (default bench/out/data):
   vocabulary.csv, references.csv, citations.csv, claims.csv in the form `kb validate`
   accepts. The rows are made up (keys syn000123, random-word titles, fake PMIDs and
   DOIs under the test prefix 10.5555); they never belong in data/.
2. Measures, each run in a fresh Python process so that its peak memory is its own:
     baseline  csv.reader over the 4 files + sqlite3 executemany into tables with the
               same columns, types and primary keys, one transaction; nothing else
     validate  kb.validate.load(data_dir): reading and checking only
     build     kb.build.build(db, data_dir): validate, load, indexes, FTS, views
   Each is repeated R times (default 3), interleaved; the median and the minimum wall
   time and the peak RSS are reported.
3. Prints a Markdown table and writes it, with the machine described, to
   bench/RESULTS.md (or --results FILE).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe, peak_rss_mib

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FILES = ("vocabulary.csv", "references.csv", "citations.csv", "claims.csv")
MEASUREMENTS = ("baseline", "validate", "build")
TARGET_RATIO = 2.0  # build time / baseline time
TARGET_SECONDS = 30.0  # build time
SYNTHETIC_URL = "https://example.org/synthetic"

# -- synthetic data -----------------------------------------------------------------

VOCABULARY = {
    "pub_type": ["review", "systematic-review", "meta-analysis", "editorial", "cohort",
                 "case-series", "rct", "guideline", "book", "chapter", "unknown"],
    "population": ["nen", "gep-nen", "metastatic-gep-nen", "gep-nen-liver-metastases",
                   "nen-liver-metastases", "small-bowel-nen", "pancreatic-nen",
                   "carcinoid"],
    "intervention": ["resection", "transplantation", "ablation", "rfa", "tace", "tare",
                     "prrt", "ssa", "everolimus", "chemotherapy", "none"],
    "outcome": ["overall-survival", "progression-free-survival", "prognosis",
                "liver-metastases", "incidence", "prevalence", "response", "recurrence",
                "morbidity", "mortality"],
    "measure": ["proportion", "rate", "count", "median", "mean", "hazard-ratio"],
    "unit": ["%", "per 100,000 per year", "cases", "months", "years"],
}

WORDS = (
    "liver metastases neuroendocrine tumours neoplasms carcinoid pancreatic small bowel "
    "gastroenteropancreatic hepatic resection transplantation ablation embolization "
    "chemoembolization radioembolization peptide receptor radionuclide therapy "
    "somatostatin analogue survival outcome prognosis incidence prevalence cohort "
    "retrospective prospective multicentre analysis review update management surgical "
    "treatment patients role era targeted systemic locoregional imaging staging grading "
    "classification registry population trends long-term results experience single "
    "institution comparison randomized trial evidence guideline consensus primary "
    "tumour unknown site debulking cytoreduction recurrence response toxicity safety "
    "efficacy quality life symptoms syndrome hormone secretion biomarker chromogranin "
    "ki-67 proliferation index well differentiated poorly carcinoma grade stage"
).split()
SYLLABLES = ("ba be bi bo da de di do fa fe fi ga ge go ha he ka ke ki ko la le li lo "
             "ma me mi mo na ne ni no pa pe pi ra re ri ro sa se si so ta te ti to va "
             "ve vi za ze zo").split()
LOCATORS = ("Abstract", "Abstract, Results", "Introduction, paragraph 1",
            "Introduction, paragraph 2", "Results", "Discussion, paragraph 3",
            "Table 2", "Figure 3 legend")
TIMEPOINTS = ("", "at diagnosis", "1 year", "3 years", "5 years", "10 years")
# vocabulary.csv's `broader`: the populations nest four levels deep, as in data/
# (nen > gep-nen > metastatic-gep-nen > gep-nen-liver-metastases), so the build meets
# claims of nested populations ("different denominators" conflicts)
BROADER = {
    ("population", "gep-nen"): "nen",
    ("population", "metastatic-gep-nen"): "gep-nen",
    ("population", "gep-nen-liver-metastases"): "metastatic-gep-nen",
    ("population", "nen-liver-metastases"): "nen",
    ("population", "small-bowel-nen"): "gep-nen",
    ("population", "pancreatic-nen"): "gep-nen",
    ("population", "carcinoid"): "nen",
}


class Generator:
    """Deterministic synthetic rows; the same seed and sizes give the same files."""

    def __init__(self, sources: int, claims: int, citations: int, seed: int):
        self.rng = random.Random(seed)
        self.n_sources, self.n_claims, self.n_citations = sources, claims, citations
        width = len(str(max(sources - 1, 1)))
        self.keys = [f"syn{i:0{width}d}" for i in range(sources)]
        self.surnames = sorted({self._surname() for _ in range(max(50, sources // 10))})
        self.journals = [self._words(2, 5).title() for _ in range(max(20, sources // 500))]
        self.reference_lists: dict[str, int] = {}  # citing key -> number of entries
        self.cited: dict[tuple[str, int], str] = {}  # (citing key, number) -> cited key

    def _surname(self) -> str:
        return "".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))).capitalize()

    def _initials(self) -> str:
        return "".join(self.rng.choices("ABCDEFGHIJKLMNOPRSTVW", k=self.rng.randint(1, 2)))

    def _words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def _verified_from(self, key: str) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return SYNTHETIC_URL
        if roll < 0.8:
            return "pubmed"
        return f"{SYNTHETIC_URL}/{key} ; pubmed"

    def vocabulary(self):
        yield ["field", "term", "definition", "broader"]
        for fld, terms in VOCABULARY.items():
            for term in terms:
                yield [fld, term, f"Synthetic {fld} term {term}, for benchmarks.",
                       BROADER.get((fld, term), "")]

    def references(self):
        rng = self.rng
        yield ["key", "pmid", "pmcid", "doi", "title", "authors", "journal", "year",
               "volume", "issue", "pages", "editors", "publisher", "place", "pub_type",
               "verified_from", "notes"]
        for i, key in enumerate(self.keys):
            title = self._words(6, 14).capitalize()
            if rng.random() < 0.2:
                title = title.replace(" ", ", ", 1)  # a comma: the cell gets quoted
            authors = [f"{rng.choice(self.surnames)} {self._initials()}"
                       for _ in range(rng.randint(0, 8))]
            if authors and rng.random() < 0.15:
                authors.append("et al.")
            first_page = rng.randint(1, 2000)
            pub_type = rng.choice(VOCABULARY["pub_type"])
            in_book = pub_type in ("book", "chapter")
            yield [
                key,
                str(10_000_000 + i) if rng.random() < 0.9 else "",
                f"PMC{1_000_000 + i}" if rng.random() < 0.4 else "",
                f"10.5555/syn.{i}" if rng.random() < 0.7 else "",
                title,
                "; ".join(authors),
                rng.choice(self.journals),
                str(rng.randint(1970, 2024)) if rng.random() < 0.97 else "",
                str(rng.randint(1, 120)),
                str(rng.randint(1, 12)) if rng.random() < 0.8 else "",
                f"{first_page}-{first_page + rng.randint(1, 30)}",
                f"{rng.choice(self.surnames)} {self._initials()}" if in_book else "",
                self._words(2, 4).title() + " Press" if in_book else "",
                rng.choice(("Lyon", "Oxford", "New York, NY")) if in_book else "",
                pub_type,
                self._verified_from(key),
                self._words(3, 10).capitalize() + "." if rng.random() < 0.1 else "",
            ]

    def citations(self):
        """About 50 entries per citing source, numbered from 1."""
        rng = self.rng
        yield ["citing_key", "ref_number", "cited_key", "cited_as", "verified_from",
               "notes"]
        n_citing = min(self.n_sources, max(1, self.n_citations // 50))
        citing = sorted(rng.sample(range(self.n_sources), n_citing))
        base, extra = divmod(self.n_citations, n_citing)
        for position, index in enumerate(citing):
            key = self.keys[index]
            length = base + (1 if position < extra else 0)
            if length:
                self.reference_lists[key] = length
            for number in range(1, length + 1):
                cited = ""
                if rng.random() < 0.85:
                    cited = self.keys[rng.randrange(self.n_sources)]
                    if cited == key:
                        cited = ""
                if cited:
                    self.cited[(key, number)] = cited
                printed = (f"{rng.choice(self.surnames)} {self._initials()}, et al. "
                           f"{rng.choice(self.journals)} {rng.randint(1970, 2024)};"
                           f"{rng.randint(1, 120)}:{rng.randint(1, 2000)}")
                yield [key, str(number), cited, printed if rng.random() < 0.9 else "",
                       self._verified_from(key),
                       "Printed in the text only." if rng.random() < 0.05 else ""]

    def _cites(self, length: int) -> tuple[str, list[int]]:
        """A cites cell for a reference list of `length` entries and its numbers."""
        rng = self.rng
        a = rng.randint(1, length)
        roll = rng.random()
        if roll < 0.5 or length < 4:
            return str(a), [a]
        if roll < 0.75 and a < length:
            b = rng.randint(a + 1, min(length, a + 5))
            return f"{a}-{b}", list(range(a, b + 1))
        b = rng.randint(1, length)
        if b == a:
            return str(a), [a]
        low, high = sorted((a, b))
        if roll < 0.9 or high == length:
            return f"{low},{high}", [low, high]
        c = rng.randint(high + 1, length)
        return f"{low},{high}-{c}", [low, *range(high, c + 1)]

    def claims(self):
        """Claims of citing sources (80 %) cite their list; some restate a cited claim."""
        rng = self.rng
        citing = list(self.reference_lists)
        count: dict[str, int] = {}
        rows: list[tuple[list[str], list[int]]] = []  # (cells so far, numbers cited)
        for _ in range(self.n_claims):
            if citing and rng.random() < 0.8:
                source = rng.choice(citing)
            else:
                source = self.keys[rng.randrange(self.n_sources)]
            count[source] = count.get(source, 0) + 1
            claim_id = f"{source}-c{count[source]:02d}"
            cites, numbers = "", []
            if source in self.reference_lists and rng.random() < 0.9:
                cites, numbers = self._cites(self.reference_lists[source])
            rows.append(([claim_id, source, rng.choice(LOCATORS), cites, *self._content()],
                         numbers))
        # derived_from: a claim stated in one of the works this claim's cites point to
        claims_of: dict[str, list[str]] = {}
        for row, _ in rows:
            claims_of.setdefault(row[1], []).append(row[0])
        yield ["id", "source_key", "locator", "cites", "statement", "kind", "population",
               "intervention", "comparator", "outcome", "timepoint", "measure", "value",
               "low", "high", "unit", "n", "derived_from", "verified_from", "curator",
               "notes"]
        for row, numbers in rows:
            derived = ""
            if numbers and rng.random() < 0.4:
                source = row[1]
                works = [self.cited[(source, n)] for n in numbers
                         if (source, n) in self.cited]
                works = [w for w in works if w in claims_of]
                if works:
                    derived = rng.choice(claims_of[rng.choice(works)])
            yield [*row, derived, self._verified_from(row[1]), "synthetic", ""]

    def _content(self) -> list[str]:
        """statement .. n (13 cells), with the rules of kind, unit and ranges kept."""
        rng = self.rng
        v = VOCABULARY
        statement = self._words(8, 25).capitalize() + "."
        population = rng.choice(v["population"]) if rng.random() < 0.8 else ""
        intervention = rng.choice(v["intervention"]) if rng.random() < 0.5 else ""
        comparator = ""
        if intervention and rng.random() < 0.2:
            comparator = rng.choice(v["intervention"])
        timepoint = rng.choice(TIMEPOINTS)
        if rng.random() < 0.4:
            outcome = rng.choice(v["outcome"]) if rng.random() < 0.5 else ""
            return [statement, "qualitative", population, intervention, comparator,
                    outcome, timepoint, "", "", "", "", "", ""]
        unit = rng.choice(v["unit"])
        top = 100.0 if unit == "%" else 500.0
        low, high = sorted(round(rng.uniform(0, top), 1) for _ in range(2))
        value = round(rng.uniform(low, high), 1)
        shape = rng.random()
        if shape < 0.5:
            numbers = [f"{value:g}", "", ""]
        elif shape < 0.8:
            numbers = ["", f"{low:g}", f"{high:g}"]
        else:
            numbers = [f"{value:g}", f"{low:g}", f"{high:g}"]
        n = str(rng.randint(5, 5000)) if rng.random() < 0.6 else ""
        return [statement, "quantitative", population, intervention, comparator,
                rng.choice(v["outcome"]), timepoint, rng.choice(v["measure"]),
                *numbers, unit, n]


def generate(data_dir: Path, sources: int, claims: int, citations: int, seed: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    gen = Generator(sources, claims, citations, seed)
    # order matters: claims need the reference lists that citations() draws
    for name, rows in (("vocabulary.csv", gen.vocabulary()),
                       ("references.csv", gen.references()),
                       ("citations.csv", gen.citations()),
                       ("claims.csv", gen.claims())):
        with open(data_dir / name, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)


# -- the measurements (each runs in its own process) --------------------------------

BASELINE_TABLES = {  # file -> (table, primary key); columns come from the header
    "vocabulary.csv": ("vocabulary", ("field", "term")),
    "references.csv": ("sources", ("key",)),
    "citations.csv": ("citations", ("citing_key", "ref_number")),
    "claims.csv": ("claims", ("id",)),
}
BASELINE_TYPES = {"year": "INTEGER", "ref_number": "INTEGER", "n": "INTEGER",
                  "value": "REAL", "low": "REAL", "high": "REAL"}


def run_baseline(data_dir: Path, db_path: Path) -> None:
    """Plain csv + sqlite3: create the tables, executemany every row, commit."""
    conn = sqlite3.connect(db_path)
    with conn:  # one transaction
        for name, (table, pk) in BASELINE_TABLES.items():
            with open(data_dir / name, encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                columns = ", ".join(f"[{c}] {BASELINE_TYPES.get(c, 'TEXT')}" for c in header)
                conn.execute(f"create table [{table}] ({columns}, "
                             f"primary key ({', '.join(pk)}))")
                conn.executemany(f"insert into [{table}] values "
                                 f"({', '.join('?' * len(header))})", reader)
    conn.close()


def run_validate(data_dir: Path, db_path: Path) -> None:
    from kb.validate import load

    dataset = load(data_dir)
    if not dataset.ok:
        for problem in dataset.problems[:20]:
            print(problem, file=sys.stderr)
        sys.exit(f"{len(dataset.problems)} problems in the synthetic data")


def run_build(data_dir: Path, db_path: Path) -> None:
    from kb.build import build

    build(db_path, data_dir)


RUNNERS = {"baseline": run_baseline, "validate": run_validate, "build": run_build}


def measure_here(name: str, data_dir: Path, db_path: Path) -> dict:
    """Run one measurement in this process; imports are done before the clock starts."""
    if name != "baseline":
        import kb.build  # noqa: F401 (the import cost is not part of the measurement)
    db_path.unlink(missing_ok=True)
    start = time.perf_counter()
    RUNNERS[name](data_dir, db_path)
    seconds = time.perf_counter() - start
    db_path.unlink(missing_ok=True)
    return {"seconds": seconds, "peak_mib": peak_rss_mib()}


def measure(name: str, data_dir: Path, out: Path) -> dict:
    """Run one measurement in a fresh child process and return what it reports."""
    command = [sys.executable, __file__, "--child", name, "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- reporting ----------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    return describe(("sqlite-utils", "rapidfuzz"))


def report(results: dict[str, list[dict]], args, data_dir: Path, command: str) -> str:
    def med(name):
        return statistics.median(r["seconds"] for r in results[name])

    def low(name):
        return min(r["seconds"] for r in results[name])

    base_med, base_min = med("baseline"), low("baseline")
    rows = ["| measurement | median s | min s | peak RSS MiB | median / baseline |",
            "|---|---:|---:|---:|---:|"]
    for name in MEASUREMENTS:
        peak = max(r["peak_mib"] for r in results[name])
        rows.append(f"| {name} | {med(name):.2f} | {low(name):.2f} | {peak:.0f} | "
                    f"{med(name) / base_med:.2f}× |")
    write = med("build") - med("validate")
    rows.append(f"| *build − validate* | *{write:.2f}* | | | *{write / base_med:.2f}×* |")
    ratio_med, ratio_min = med("build") / base_med, low("build") / base_min
    ok_ratio = ratio_med <= TARGET_RATIO
    ok_seconds = med("build") < TARGET_SECONDS
    verdict = [
        f"- build / baseline: {ratio_med:.2f}× on medians, {ratio_min:.2f}× on minimums; "
        f"target ≤ {TARGET_RATIO:g}×: **{'pass' if ok_ratio else 'FAIL'}**",
        f"- build median {med('build'):.2f} s; target < {TARGET_SECONDS:g} s: "
        f"**{'pass' if ok_seconds else 'FAIL'}**",
    ]
    each = "; ".join(f"{name} " + ", ".join(f"{r['seconds']:.2f}" for r in results[name])
                     for name in MEASUREMENTS)
    sizes = ", ".join(f"{name} {_rows(data_dir / name):,} rows "
                      f"({(data_dir / name).stat().st_size / 1024 ** 2:.1f} MiB)"
                      for name in FILES)
    lines = [
        "# Build benchmark results",
        "",
        f"Command: `{command}`",
        "",
        f"Input: synthetic data, seed {args.seed}: {sizes}.",
        "",
        *rows,
        "",
        *verdict,
        "",
        f"Every run, in seconds, in the order run (interleaved, {args.repeat} rounds): "
        f"{each}.",
        "",
        "Machine:",
        "",
        *(f"- {k}: {v}" for k, v in machine()),
        "",
        "Seconds are wall time inside a fresh child process, after its imports, with the "
        "input files in the page cache and the database written to the same folder. "
        "Peak RSS is that child's high-water mark (VmHWM; the largest over the rounds), "
        "so it includes the interpreter and the imported modules. *build − validate* is "
        "the difference of the two medians: what loading, indexing and full-text "
        "indexing add to the checks. This is a virtual machine: other work on its host "
        "can slow any run, so read the minimum beside the median. See bench/README.md.",
        "",
    ]
    return "\n".join(lines)


def _rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--citations", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=BENCH / "out",
                        help="working folder (git-ignored); data is written to OUT/data")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md",
                        help="where to write the Markdown results")
    parser.add_argument("--child", choices=MEASUREMENTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sources < 1 or args.claims < 0 or args.citations < 0 or args.repeat < 1:
        parser.error("--sources and --repeat must be at least 1, the other sizes at least 0")
    out = args.out.resolve()
    data_dir = out / "data"
    if args.child:
        db_path = out / f"{args.child}.db"
        print(json.dumps(measure_here(args.child, data_dir, db_path)))
        return
    command = shlex.join([os.path.relpath(sys.executable, Path.cwd()),
                          os.path.relpath(__file__, Path.cwd()), *sys.argv[1:]])
    start = time.perf_counter()
    generate(data_dir, args.sources, args.claims, args.citations, args.seed)
    print(f"generated {data_dir} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    results: dict[str, list[dict]] = {name: [] for name in MEASUREMENTS}
    for round_number in range(1, args.repeat + 1):
        for name in MEASUREMENTS:
            result = measure(name, data_dir, out)
            results[name].append(result)
            print(f"round {round_number}: {name} {result['seconds']:.2f} s, "
                  f"peak {result['peak_mib']:.0f} MiB", file=sys.stderr)
    text = report(results, args, data_dir, command)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
