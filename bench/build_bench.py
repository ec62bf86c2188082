"""Benchmark `kb build` against a plain sqlite3 load of the same rows.

Usage (from the repository root):

    .venv/bin/python bench/build_bench.py [--sources N] [--claims N] [--citations N]
                                          [--out DIR] [--seed S] [--repeat R]

1. Writes a synthetic, seeded, *valid* data folder to OUT/data (default bench/out/data):
   vocabulary.csv, references.csv, citations.csv, claims.csv in the form `kb validate`
   accepts. The rows are made up (keys syn000123, random-word titles, fake PMIDs and
   DOIs under the test prefix 10.5555); they never belong in data/. (generate()'s
   evidence, records and terms options are for bench/evidence_bench.py.)
2. Measures, each run in a fresh Python process so that its peak memory is its own:
     baseline  csv.reader over the 4 files + sqlite3 executemany into tables with the
               same columns, types and primary keys, one transaction; nothing else
     validate  kb.data.loader.load(data_dir): reading and checking only
     build     kb.db.build.build(db, data_dir, timings=...): validate, evidence (its
               seconds from the build's public timings hook), load, indexes, FTS, views
   Each is repeated R times (default 3), interleaved (bench/harness.py); the median and
   the minimum wall time and the peak RSS are reported.
3. Prints a Markdown table and writes it, with the machine described, to
   bench/RESULTS.md (or --results FILE).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import random
import shutil
import sqlite3
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import harness
from harness import BENCH, median, minimum

FILES = ("vocabulary.csv", "references.csv", "citations.csv", "claims.csv")
MEASUREMENTS = ("baseline", "validate", "build")
TARGET_RATIO = 4.0  # build time / baseline time: issue 18's target
FIRST_TARGET_RATIO = 2.0  # build time / baseline time: issue 4's, the benchmark's first
TARGET_SECONDS = 30.0  # build time: issue 4's
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
# evidence mode (see Generator): kinds of publication of works with and without a
# reference list, and their weights; the first six are secondary (SECONDARY_PUB_TYPES)
SECONDARY = ("review", "systematic-review", "guideline", "editorial", "book", "chapter")
PRIMARY = ("cohort", "case-series", "rct", "meta-analysis")
PUB_TYPES_CITING = (SECONDARY + PRIMARY, (40, 15, 8, 5, 4, 8, 10, 3, 3, 4))
PUB_TYPES_OTHER = (SECONDARY + PRIMARY + ("unknown",), (10, 2, 2, 1, 1, 2, 32, 22, 12, 8, 8))
# terms="skewed" (evidence mode's stress test): terms drawn as often as data/claims.csv
# used them (its 55 claims on 2026-11-22), plus one, and blanks likewise, so that claims
# pile up on a few quantities as in a real corpus; weights in VOCABULARY's order, then
# blank where a blank is allowed
SKEWED = {
    "population": (6, 4, 12, 9, 5, 2, 2, 7, 2),
    "intervention": (6, 2, 2, 1, 1, 1, 1, 2, 2, 1, 3, 38),
    "outcome": (9, 1, 2, 7, 3, 3, 1, 1, 1, 1),
    "measure": (24, 3, 7, 1, 1, 1),
    "unit": (23, 3, 7, 1, 1),
    "timepoint": (40, 5, 1, 1, 6, 1),  # TIMEPOINTS' order; "" first
}
SYNTHETIC_NOTE = ("SYNTHETIC RECORD written by bench/build_bench.py for benchmarks; "
                  "not from PubMed.")


class Generator:
    """Deterministic synthetic rows; the same seed and sizes give the same files.

    With evidence=True (bench/evidence_bench.py) the rows are shaped for claim trails:
    works with a reference list are mostly secondary (80 %: reviews, guidelines, books...)
    and the others mostly primary studies, so restated claims chain review -> review ->
    primary; a claim that restates another (derived_from) takes over its population,
    outcome, figures and the rest (75 % as they are, 10 % rounded to whole numbers, 15 %
    with other figures: a distortion). Without it the rows are those the build benchmark
    has always used (pub_type uniform, restating claims with figures of their own).

    terms="skewed" draws the claims' population, intervention, outcome, measure, unit and
    timepoint with the weights of SKEWED (how often data/claims.csv uses them) instead of
    uniformly: many claims about the same few quantities, the worst case for conflicts.
    """

    def __init__(self, sources: int, claims: int, citations: int, seed: int,
                 evidence: bool = False, terms: str = "uniform",
                 real: list[list[str]] | None = None):
        if terms not in ("uniform", "skewed"):
            raise ValueError(f"terms must be uniform or skewed, not {terms!r}")
        # real: complete references.csv rows (bench/serve_bench.py: real PubMed records)
        # that take the first len(real) places; the synthetic rows fill up to `sources`
        # and get PMIDs and PMCIDs from 900,000,000 so that none can be a real one
        self.real = real or []
        if len(self.real) > sources:
            raise ValueError(f"{len(self.real)} real rows for {sources} sources")
        self.pmid_base = 900_000_000 if self.real else 10_000_000
        self.pmcid_base = 900_000_000 if self.real else 1_000_000
        self.rng = random.Random(seed)
        self.n_sources, self.n_claims, self.n_citations = sources, claims, citations
        self.evidence = evidence
        self.skewed = terms == "skewed"
        self.citing: list[int] | None = None  # drawn early in evidence mode
        # for the cached PubMed records (records()): sources with a PMID, their cells
        self.keep_works = False  # set by generate() when records are asked for
        self.works: dict[str, list[str]] = {}
        self.claim_numbers: dict[str, list[list[str]]] = {}  # key -> figures and n per claim
        width = len(str(max(sources - 1, 1)))
        self.keys = [row[0] for row in self.real] + [
            f"syn{i:0{width}d}" for i in range(len(self.real), sources)]
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
        citing = set()
        if self.evidence:
            self.citing = self._draw_citing()
            citing = set(self.citing)
        for i, key in enumerate(self.keys):
            if i < len(self.real):
                yield self.real[i]
                continue
            title = self._words(6, 14).capitalize()
            if rng.random() < 0.2:
                title = title.replace(" ", ", ", 1)  # a comma: the cell gets quoted
            authors = [f"{rng.choice(self.surnames)} {self._initials()}"
                       for _ in range(rng.randint(0, 8))]
            if authors and rng.random() < 0.15:
                authors.append("et al.")
            first_page = rng.randint(1, 2000)
            if self.evidence:
                pub_type = rng.choices(*(PUB_TYPES_CITING if i in citing
                                         else PUB_TYPES_OTHER))[0]
            else:
                pub_type = rng.choice(VOCABULARY["pub_type"])
            in_book = pub_type in ("book", "chapter")
            row = [
                key,
                str(self.pmid_base + i) if rng.random() < 0.9 else "",
                f"PMC{self.pmcid_base + i}" if rng.random() < 0.4 else "",
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
            if row[1] and self.keep_works:
                self.works[key] = row
            yield row

    def citations(self):
        """About 50 entries per citing source, numbered from 1."""
        rng = self.rng
        yield ["citing_key", "ref_number", "cited_key", "cited_as", "verified_from",
               "notes"]
        citing = self.citing if self.citing is not None else self._draw_citing()
        n_citing = len(citing)
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

    def _draw_citing(self) -> list[int]:
        """Which sources have a reference list (one in five of 1,000,000 citations)."""
        n_citing = min(self.n_sources, max(1, self.n_citations // 50))
        return sorted(self.rng.sample(range(self.n_sources), n_citing))

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
        out = []
        for row, numbers in rows:
            derived = ""
            if numbers and rng.random() < 0.4:
                source = row[1]
                works = [self.cited[(source, n)] for n in numbers
                         if (source, n) in self.cited]
                works = [w for w in works if w in claims_of]
                if works:
                    derived = rng.choice(claims_of[rng.choice(works)])
            out.append([*row, derived, self._verified_from(row[1]), "synthetic", ""])
        del rows
        if self.evidence:
            self._restate_all(out)
        for row in out:
            if row[5] == "quantitative":
                self.claim_numbers.setdefault(row[1], []).append(
                    [x for x in row[12:15] + [row[16]] if x])
        yield from out

    def _restate_all(self, out: list[list[str]]) -> None:
        """Each restating claim takes over the content of the claim it restates, which
        is settled first (following derived_from chains; a loop is cut where it closes)."""
        at = {row[0]: i for i, row in enumerate(out)}
        done: set[int] = set()
        for start in range(len(out)):
            chain: list[int] = []
            i = start
            while i is not None and i not in done and i not in chain:
                chain.append(i)
                i = at[out[i][17]] if out[i][17] else None
            for i in reversed(chain):
                if out[i][17]:
                    self._restate(out[i], out[at[out[i][17]]])
                done.add(i)

    def _restate(self, row: list[str], restated: list[str]) -> None:
        """kind .. n (cells 5-16) from the restated claim: 75 % as they are, 10 % rounded
        to whole numbers, 15 % with figures of its own (a possible distortion)."""
        roll = self.rng.random()
        row[5:17] = restated[5:17]
        if row[5] != "quantitative":
            return
        if roll < 0.10:
            row[12:15] = [str(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                          if x else "" for x in row[12:15]]
        elif roll < 0.25:
            row[12:15] = self._figures(row[15])

    def _content(self) -> list[str]:
        """statement .. n (13 cells), with the rules of kind, unit and ranges kept."""
        if self.skewed:
            return self._skewed_content()
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
        numbers = self._figures(unit)
        n = str(rng.randint(5, 5000)) if rng.random() < 0.6 else ""
        return [statement, "quantitative", population, intervention, comparator,
                rng.choice(v["outcome"]), timepoint, rng.choice(v["measure"]),
                *numbers, unit, n]

    def _skewed_content(self) -> list[str]:
        """As _content, the terms drawn with the weights of SKEWED."""
        rng, v = self.rng, VOCABULARY

        def pick(fld: str, blank: bool = True) -> str:
            terms = TIMEPOINTS if fld == "timepoint" else v[fld] + ([""] if blank else [])
            return rng.choices(terms, SKEWED[fld][:len(terms)])[0]

        statement = self._words(8, 25).capitalize() + "."
        population, intervention = pick("population"), pick("intervention")
        comparator = ""
        if intervention and rng.random() < 0.2:
            comparator = rng.choice(v["intervention"])
        timepoint = pick("timepoint")
        if rng.random() < 0.4:
            outcome = pick("outcome", blank=False) if rng.random() < 0.5 else ""
            return [statement, "qualitative", population, intervention, comparator,
                    outcome, timepoint, "", "", "", "", "", ""]
        unit = pick("unit", blank=False)
        numbers = self._figures(unit)
        n = str(rng.randint(5, 5000)) if rng.random() < 0.6 else ""
        return [statement, "quantitative", population, intervention, comparator,
                pick("outcome", blank=False), timepoint, pick("measure", blank=False),
                *numbers, unit, n]

    def _figures(self, unit: str) -> list[str]:
        """value, low, high: a point (50 %), a range (30 %) or both (20 %)."""
        rng = self.rng
        top = 100.0 if unit == "%" else 500.0
        low, high = sorted(round(rng.uniform(0, top), 1) for _ in range(2))
        value = round(rng.uniform(low, high), 1)
        shape = rng.random()
        if shape < 0.5:
            return [f"{value:g}", "", ""]
        if shape < 0.8:
            return ["", f"{low:g}", f"{high:g}"]
        return [f"{value:g}", f"{low:g}", f"{high:g}"]

    def records(self, count: int):
        """(pmid, PubmedArticle XML) for `count` sources with a PMID, drawn at random:
        synthetic records (the abstract says so) agreeing with references.csv on title,
        year and DOI, whose abstract gives the numbers of the source's quantitative
        claims: all of them for 70 % of the claims, the first for 15 %, none for 15 %."""
        rng = self.rng
        keys = sorted(self.works)
        for key in sorted(rng.sample(keys, min(count, len(keys)))):
            (_, pmid, _, doi, title, authors, journal, year, volume, issue, pages,
             *_) = self.works[key]
            sentences = [SYNTHETIC_NOTE, self._words(8, 20).capitalize() + "."]
            for figures in self.claim_numbers.get(key, []):
                roll = rng.random()
                shown = figures if roll < 0.7 else figures[:1] if roll < 0.85 else []
                if shown:
                    sentences.append(f"{self._words(3, 8).capitalize()} "
                                     f"{' and '.join(map(self._written, shown))}.")
            sentences.append(f"{self._words(4, 10).capitalize()} in "
                             f"{self._written(str(rng.randint(5, 20000)))} patients "
                             f"({rng.uniform(0, 100):.1f}%).")
            names = "".join(
                f"<Author ValidYN=\"Y\"><LastName>{escape(name.rsplit(' ', 1)[0])}"
                f"</LastName><Initials>{name.rsplit(' ', 1)[1]}</Initials></Author>"
                for name in authors.split("; ") if name and name != "et al.")
            complete = "N" if authors.endswith("et al.") else "Y"
            ids = f'<ArticleId IdType="pubmed">{pmid}</ArticleId>' + (
                f'<ArticleId IdType="doi">{escape(doi)}</ArticleId>' if doi else "")
            xml = (
                '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
                f'<PMID Version="1">{pmid}</PMID><Article PubModel="Print"><Journal>'
                f'<JournalIssue CitedMedium="Print"><Volume>{volume}</Volume>'
                + (f"<Issue>{issue}</Issue>" if issue else "")
                + f"<PubDate><Year>{year or rng.randint(1970, 2024)}</Year></PubDate>"
                f"</JournalIssue><Title>{escape(journal)}</Title></Journal>"
                f"<ArticleTitle>{escape(title)}</ArticleTitle>"
                f"<Pagination><MedlinePgn>{pages}</MedlinePgn></Pagination>"
                f"<Abstract><AbstractText>{escape(' '.join(sentences))}</AbstractText>"
                "</Abstract>"
                + (f'<AuthorList CompleteYN="{complete}">{names}</AuthorList>' if names else "")
                + "<Language>eng</Language><PublicationTypeList><PublicationType "
                'UI="D016428">Journal Article</PublicationType></PublicationTypeList>'
                f"</Article></MedlineCitation><PubmedData><ArticleIdList>{ids}"
                "</ArticleIdList></PubmedData></PubmedArticle>")
            yield pmid, xml.encode()

    def _written(self, number: str) -> str:
        """A number as an abstract might print it: thousands with a comma half the time."""
        if "." not in number and len(number) > 3 and self.rng.random() < 0.5:
            return f"{int(number):,}"
        return number


def generate(data_dir: Path, sources: int, claims: int, citations: int, seed: int,
             evidence: bool = False, records: int = 0, terms: str = "uniform",
             real: list[list[str]] | None = None) -> None:
    """Write the four data files; with records > 0 also that many synthetic cached
    PubMed records in data_dir/pubmed/ (any earlier ones there are removed first).
    evidence, terms and real: see Generator."""
    data_dir.mkdir(parents=True, exist_ok=True)
    gen = Generator(sources, claims, citations, seed, evidence=evidence, terms=terms,
                    real=real)
    gen.keep_works = records > 0
    # order matters: claims need the reference lists that citations() draws
    for name, rows in (("vocabulary.csv", gen.vocabulary()),
                       ("references.csv", gen.references()),
                       ("citations.csv", gen.citations()),
                       ("claims.csv", gen.claims())):
        with open(data_dir / name, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    shutil.rmtree(data_dir / "pubmed", ignore_errors=True)
    if records:
        from ingest.cache import Cache  # the project's own writer: one gzip file per PMID

        cache = Cache(data_dir / "pubmed")
        for pmid, xml in gen.records(records):
            cache.save_record(pmid, xml)


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


def load_valid(data_dir: Path):
    """kb.data.loader.load(data_dir); stops, naming the first problems, unless valid."""
    from kb.data.loader import load

    dataset = load(data_dir)
    if not dataset.ok:
        for problem in dataset.problems[:20]:
            print(problem, file=sys.stderr)
        sys.exit(f"{len(dataset.problems)} problems in the synthetic data")
    return dataset


def run_validate(data_dir: Path, db_path: Path) -> dict:
    load_valid(data_dir)
    return {}


def run_build(data_dir: Path, db_path: Path) -> dict:
    from kb.db.build import build

    timings: dict[str, float] = {}  # the build's own clock: validate, evidence, build
    build(db_path, data_dir, timings=timings)
    return {"evidence": timings["evidence"], "children_mib": harness.children_peak_mib()}


RUNNERS = {"baseline": run_baseline, "validate": run_validate, "build": run_build}


def measure_here(name: str, data_dir: Path, db_path: Path) -> dict:
    """Run one measurement in this process; imports are done before the clock starts."""
    if name != "baseline":  # the import cost is not part of the measurement
        importlib.import_module("kb.db.build")
    db_path.unlink(missing_ok=True)
    seconds, extra = harness.timed(RUNNERS[name], data_dir, db_path)
    db_path.unlink(missing_ok=True)
    return {"seconds": seconds, **(extra or {})}


def measure(name: str, data_dir: Path, out: Path) -> dict:
    """Run one measurement in a fresh child process (out/data is its input)."""
    return harness.in_child(__file__, [name, "--out", out], name)


# -- reporting ----------------------------------------------------------------------


def report(results: dict[str, list[dict]], args, data_dir: Path, command: str) -> str:
    def med(name):
        return median(results[name])

    def low(name):
        return minimum(results[name])

    base_med, base_min = med("baseline"), low("baseline")
    rows = ["| measurement | median s | min s | peak RSS MiB | median / baseline |",
            "|---|---:|---:|---:|---:|"]
    for name in MEASUREMENTS:
        peak = max(r["peak_mib"] for r in results[name])
        rows.append(f"| {name} | {med(name):.2f} | {low(name):.2f} | {peak:.0f} | "
                    f"{med(name) / base_med:.2f}× |")
    evidence = harness.values(results["build"], "evidence")
    rows.append(f"| · of which evidence (`timings[\"evidence\"]`) | "
                f"{median(evidence):.2f} | {minimum(evidence):.2f} | | "
                f"{median(evidence) / base_med:.2f}× |")
    write = med("build") - med("validate")
    rows.append(f"| *build − validate* | *{write:.2f}* | | | *{write / base_med:.2f}×* |")
    ratio_med, ratio_min = med("build") / base_med, low("build") / base_min
    verdict = [
        f"- build / baseline: {ratio_med:.2f}× on medians, {ratio_min:.2f}× on minimums; "
        f"issue 18's target ≤ {TARGET_RATIO:g}× (on medians): "
        f"**{_verdict(ratio_med <= TARGET_RATIO)}**; issue 4's first target "
        f"≤ {FIRST_TARGET_RATIO:g}×: **{_verdict(ratio_med <= FIRST_TARGET_RATIO)}**",
        f"- build median {med('build'):.2f} s; issue 4's target < {TARGET_SECONDS:g} s: "
        f"**{_verdict(med('build') < TARGET_SECONDS)}**",
    ]
    each = harness.every_run(results) + f" (of which evidence {harness.listed(evidence)})"
    children = [r["children_mib"] for r in results["build"] if r.get("children_mib")]
    if children:
        verdict.append(f"- the build's child processes (kb/db/background.py), which write "
                       f"the database and check the files: the largest peak RSS "
                       f"{max(children):.0f} MiB (ru_maxrss, counting the pages shared "
                       "with the build at the fork); the table's peak is the build's own")
    sizes = ", ".join(f"{name} {csv_rows(data_dir / name):,} rows "
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
        *harness.machine_section(("sqlite-utils", "rapidfuzz"), load_before=args.load_before),
        "",
        "Seconds are wall time inside a fresh child process, after its imports, with the "
        "input files in the page cache and the database written to the same folder. "
        "Peak RSS is that child's high-water mark (VmHWM; the largest over the rounds), "
        "so it includes the interpreter and the imported modules. *build − validate* is "
        "the difference of the two medians: what loading, indexing and full-text "
        "indexing add to the checks. *of which evidence* is the time the build spent "
        "computing the evidence (claim trails, number checks and conflicts, kb/evidence/), "
        "as its public `timings` hook reports it (see bench/EVIDENCE_RESULTS.md). This is "
        "a virtual machine: other work on its host can slow any run, so read the minimum "
        "beside the median. See bench/README.md.",
        "",
    ]
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def size_options(parser: argparse.ArgumentParser, sources: int = 100_000,
                 claims: int = 100_000, citations: int = 1_000_000) -> None:
    """The generator's sizes and seed as options (the build, evidence and serve
    benchmarks)."""
    for option, default in (("--sources", sources), ("--claims", claims),
                            ("--citations", citations), ("--seed", 20250101)):
        parser.add_argument(option, type=int, default=default)


def csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def main() -> None:
    parser = harness.arguments(
        __doc__, BENCH / "RESULTS.md", out=BENCH / "out",
        out_help="working folder (git-ignored); data is written to OUT/data",
        child={"choices": MEASUREMENTS})
    size_options(parser)
    args = parser.parse_args()
    if args.sources < 1 or args.claims < 0 or args.citations < 0 or args.repeat < 1:
        parser.error("--sources and --repeat must be at least 1, the other sizes at least 0")
    out = args.out.resolve()
    data_dir = out / "data"
    if args.child:
        harness.reply(measure_here(args.child, data_dir, out / f"{args.child}.db"))
        return
    command = harness.command_line(__file__)
    args.load_before = os.getloadavg()
    start = time.perf_counter()
    generate(data_dir, args.sources, args.claims, args.citations, args.seed)
    print(f"generated {data_dir} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    results = harness.interleaved(MEASUREMENTS, args.repeat,
                                  lambda name: measure(name, data_dir, out))
    harness.finish(args.results, report(results, args, data_dir, command),
                   section="build")  # the serve benchmark has its own


if __name__ == "__main__":
    main()
