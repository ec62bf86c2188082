"""The `kb` command: one flat group of verbs over the curated data and the database."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from . import build as build_module
from . import validate as validate_module

DEFAULT_DB = "kb.db"


def data_option(fn):
    return click.option(
        "--data", "data_dir", default="data", show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder holding references.csv, citations.csv, claims.csv, vocabulary.csv.",
    )(fn)


def db_argument(fn):
    return click.argument("db", default=DEFAULT_DB, required=False,
                          type=click.Path(dir_okay=False, path_type=Path))(fn)


def _report(problems) -> None:
    for problem in problems:
        click.echo(str(problem))
    files = len({p.path for p in problems})
    click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
               f"file{'s' if files != 1 else ''}", err=True)


@click.group()
@click.version_option(package_name="nelm-kb")
def cli():
    """nelm-kb: evidence on liver metastases of GEP neuroendocrine neoplasms."""


@cli.command()
@data_option
@click.option("--evidence", is_flag=True,
              help="Also check each quantitative claim's numbers against the cached "
              "abstract of its source, and list trail hops whose figures differ.")
def validate(data_dir: Path, evidence: bool):
    """Check the data files; print every problem as path:line:column: message.

    Exit status 1 when there is any problem. With --evidence, a claim whose numbers
    are missing from the cached abstract its locator points to is a problem too; numbers
    missing from an abstract when the claim is stated elsewhere, and restated figures
    that differ, are printed as notes.

    Example: kb validate --data data --evidence
    """
    dataset = validate_module.load(data_dir)
    if dataset.problems:
        _report(dataset.problems)
        sys.exit(1)
    counts = ", ".join(f"{len(f.rows)} rows in {name}" for name, f in dataset.files.items())
    if evidence:
        from .csvfile import gc_paused

        with gc_paused():  # as in the build: millions of live rows, no garbage
            found = build_module.evidence_of(dataset)
        report = validate_module.evidence_report(dataset, found)
        for note in report.notes:
            click.echo(str(note))
        click.echo(report.summary, err=True)
        if report.problems:
            _report(report.problems)
            sys.exit(1)
    click.echo(f"{data_dir}: valid ({counts})")


@cli.command()
@db_argument
@data_option
def build(db: Path, data_dir: Path):
    """Build the SQLite database DB (default kb.db) from the data files.

    Offline and atomic: a failed build leaves the previous database untouched.

    Example: kb build kb.db --data data
    """
    try:
        counts = build_module.build(db, data_dir)
    except build_module.InvalidData as e:
        _report(e.problems)
        click.echo(f"{db} not built: fix the data first", err=True)
        sys.exit(1)
    except build_module.CannotWrite as e:
        _fail("build", str(e))
    except (OSError, sqlite3.Error) as e:
        _fail("build", f"{db} not built: {e}")
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    click.echo(f"built {db}: {summary}")


def _stale(db: Path, data_dir: Path) -> bool:
    if not db.exists():
        return True
    built = db.stat().st_mtime
    cache = data_dir / "pubmed"
    inputs = [*data_dir.glob("*.csv"), *([cache, *cache.glob("*.xml.gz")] if cache.is_dir()
                                         else [])]
    return any(p.stat().st_mtime > built for p in inputs)


def _ensure_built(db: Path, data_dir: Path) -> None:
    """Build DB when it is missing or older than the data files; exit 1 on bad data."""
    if not _stale(db, data_dir):
        return
    click.echo(f"building {db} from {data_dir}/", err=True)
    try:
        build_module.build(db, data_dir)
    except build_module.InvalidData as e:
        _report(e.problems)
        click.echo(f"{db} not built: fix the data first", err=True)
        sys.exit(1)
    except build_module.CannotWrite as e:
        _fail("build", str(e))


@cli.command()
@db_argument
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def serve(db: Path, data_dir: Path, host: str, port: int):
    """Build DB when the data files are newer, then serve it with Datasette.

    Example: kb serve kb.db --port 8001
    """
    _ensure_built(db, data_dir)
    args = [sys.executable, "-m", "datasette", "serve", "--immutable", str(db),
            "--host", host, "--port", str(port), *datasette_settings()]
    click.echo(f"serving {db} on http://{host}:{port}/", err=True)
    os.execv(sys.executable, args)


# The Datasette settings every served knowledge base uses. With --immutable (SQLite opens
# the file read-only and never locks it) and kb.datasette_safety (GET and HEAD only,
# capped values), they bound what one request can cost.
DATASETTE_SETTINGS = {
    "suggest_facets": "off",       # each suggestion is a query over the whole table
    "sql_time_limit_ms": "1000",   # any query, canned or typed, stops after a second
    "facet_time_limit_ms": "200",  # a facet that takes longer is dropped from the page
    "max_returned_rows": "1000",   # rows one page or JSON answer returns
    "default_page_size": "50",     # rows a table page shows (?_size= asks for up to 1000):
                                   # rendering is most of a page's time, and 100 rows of
                                   # statements and abstracts weigh over 150 KB
    "max_csv_mb": "100",           # a streamed CSV (?_stream=1) stops at 100 MB
    "default_facet_size": "15",
    "num_sql_threads": "3",        # queries at once; more would not help on 2 cores
}


def datasette_settings() -> list[str]:
    """DATASETTE_SETTINGS as `datasette serve` options."""
    return [arg for name, value in DATASETTE_SETTINGS.items()
            for arg in ("--setting", name, value)]


def _cache(data_dir: Path):
    from ingest.cache import Cache

    return Cache(data_dir / "pubmed")


def _fail(command: str, message: str, status: int = 1):
    """Stop kb COMMAND with one line on standard error."""
    click.echo(f"kb {command}: {message}", err=True)
    sys.exit(status)


def _refuse_unwritable(command: str, *folders: Path) -> None:
    """Stop before any request when a folder the command writes into cannot be written."""
    from ingest.cache import unwritable

    for folder in folders:
        reason = unwritable(folder)
        if reason:
            _fail(command, f"cannot write to {folder}/: {reason}; nothing was fetched or "
                  "changed")


def _fetch_errors(fn):
    """What stops kb fetch or kb resolve part-way, as one clear line: unreachable or
    failing E-utilities (exit status 2), a file that cannot be written (exit status 1)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ingest.cache import CannotWrite
        from ingest.entrez import EntrezError

        try:
            return fn(*args, **kwargs)
        except EntrezError as e:
            _fail(fn.__name__, f"{e}; nothing more was changed", status=2)
        except CannotWrite as e:
            _fail(fn.__name__, f"cannot write {e.filename}: {e.strerror}; nothing "
                  "half-written is left, and the records saved before it are kept")

    return wrapper


def _load(cache, paths: list[Path], outcome) -> None:
    """kb fetch --load: each file's records are all saved, or none of them."""
    from ingest import pubmed
    from ingest.cache import CannotWrite

    from . import fetch as fetching

    for path in paths:
        try:
            fetching.load_files(cache, [path], outcome)
        except pubmed.PubmedParseError as e:
            _fail("fetch", f"{e}; nothing from that file was saved")
        except CannotWrite as e:
            _fail("fetch", f"cannot write {e.filename}: {e.strerror}; nothing from {path} "
                  "was saved")
        except OSError as e:
            _fail("fetch", f"cannot read {path}: {e.strerror or e}; nothing from that file "
                  "was saved")


@cli.command()
@data_option
@click.option("--pmid", "pmids", multiple=True,
              help="PMIDs to fetch: repeat the option, or give a comma-separated list.")
@click.option("--query", help="A PubMed search; every record it finds is fetched.")
@click.option("--refs-of", "refs_of", multiple=True,
              help="A PMID whose reference list (and itself) to fetch.")
@click.option("--cited-by", "cited_by", multiple=True,
              help="A PMID whose citing papers to fetch.")
@click.option("--missing", is_flag=True,
              help="Every PMID in references.csv without a cached record.")
@click.option("--load", "load", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ingest a saved efetch answer or a PubMed baseline/update file "
              "(.xml or .xml.gz); no network.")
@click.option("--refresh", is_flag=True, help="Fetch again records already cached.")
@_fetch_errors
def fetch(data_dir, pmids, query, refs_of, cited_by, missing, load, refresh):
    """Fetch PubMed records into the raw cache data/pubmed/ (the only network step).

    Uses NCBI_EMAIL, NCBI_API_KEY and NCBI_EUTILS_URL from the environment.

    Example: kb fetch --pmid 28487601 --refs-of 28487601 --missing
    """
    from ingest import entrez

    from . import fetch as fetching

    cache = _cache(data_dir)
    outcome = fetching.Outcome()
    if not any([pmids, query, refs_of, cited_by, missing, load]):
        raise click.UsageError("say what to fetch: --pmid, --query, --refs-of, --cited-by, "
                               "--missing or --load")
    pmids = [p for given in pmids for p in given.replace(",", " ").split()]
    for pmid in (*pmids, *refs_of, *cited_by):
        if not (pmid.isascii() and pmid.isdigit()):
            raise click.BadParameter(f"{pmid!r} is not a PMID (digits only)")
    _refuse_unwritable("fetch", cache.root)
    _load(cache, load, outcome)
    wanted = list(pmids)
    if missing:
        wanted += fetching.missing_pmids(data_dir, cache)
    if refs_of or cited_by or wanted or query:
        client = entrez.Client()
        for pmid in refs_of:
            wanted += [pmid, *fetching.linked_pmids(client, cache, pmid, entrez.REFS, outcome)]
        for pmid in cited_by:
            wanted += fetching.linked_pmids(client, cache, pmid, entrez.CITED_IN, outcome)
        todo = len(set(wanted))
        with click.progressbar(length=todo, label="fetching PubMed records", file=sys.stderr,
                               show_pos=True, hidden=not sys.stderr.isatty()) as bar:
            fetching.fetch_pmids(client, cache, wanted, refresh, outcome, bar.update)
        if query:
            fetching.fetch_query(client, cache, query, refresh, outcome)
    for note in outcome.notes:
        click.echo(note, err=True)
    click.echo(f"saved {len(outcome.saved)} records to {cache.root}/ "
               f"({len(outcome.skipped)} already cached, {len(outcome.deleted)} deleted)")
    if (refs_of or cited_by or wanted or query) and not os.environ.get("NCBI_EMAIL"):
        click.echo("note: NCBI_EMAIL is not set; NCBI asks for an e-mail address with "
                   "every request", err=True)
    if outcome.not_found:
        click.echo("not found in PubMed: " + ", ".join(outcome.not_found), err=True)
        sys.exit(1)


@cli.command()
@data_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the proposals (default DATA/pubmed/proposed_pmids.csv).")
@_fetch_errors
def resolve(data_dir, output):
    """Propose PMIDs for references without one (ECitMatch, then a title check).

    Writes a review file for a curator; references.csv is never edited.

    Example: kb resolve -o proposed_pmids.csv
    """
    from ingest import entrez

    from . import fetch as fetching

    cache = _cache(data_dir)
    output = output or cache.root / "proposed_pmids.csv"
    _refuse_unwritable("resolve", cache.root, output.parent)
    proposals = fetching.resolve(entrez.Client(), cache, data_dir)
    fetching.write_proposals(output, proposals)
    accepted = sum(p["decision"] == "accept" for p in proposals)
    click.echo(f"{len(proposals)} references without a PMID: {accepted} proposed "
               f"(title score >= {fetching.TITLE_MATCH_SCORE}); see {output}")


def _split(values) -> list[str]:
    return [v for given in values for v in given.replace(",", " ").split()]


@cli.command()
@db_argument
@data_option
@click.option("-f", "--format", "fmt", required=True,
              type=click.Choice(["bibtex", "ris", "csl-json", "vancouver", "ama",
                                 "evidence-table"]),
              help="BibTeX, RIS, CSL-JSON, a formatted Vancouver or AMA list, or an "
              "evidence table.")
@click.option("--as", "output", type=click.Choice(["text", "markdown", "html", "csv"]),
              help="For vancouver/ama: text (default), markdown or html. For "
              "evidence-table: markdown (default), csv or html.")
@click.option("--reference-list", "review", metavar="KEY",
              help="The works a review's reference list names, numbered as it numbers them.")
@click.option("--source", "source_keys", multiple=True, metavar="KEY",
              help="These works (repeat, or a comma-separated list), in the order given.")
@click.option("--claim", "claim_ids", multiple=True, metavar="ID",
              help="The works behind these claims (repeat, or comma-separated), numbered "
              "in order of first use.")
@click.option("--outcome", metavar="TERM", help="Claims about this outcome.")
@click.option("--where", metavar="SQL",
              help="Claims matching an SQL condition on the claims table, e.g. "
              "\"population = 'pancreatic-nen'\".")
@click.option("-o", "--output-file", "output_file", type=click.Path(dir_okay=False,
              path_type=Path), help="Write here (atomically) instead of to standard output.")
def export(db, data_dir, fmt, output, review, source_keys, claim_ids, outcome, where,
           output_file):
    """Export references: every source, a review's list, or the works behind claims.

    With no selection, bibtex/ris/csl-json/vancouver/ama export every source and
    evidence-table takes every claim. Builds DB first when the data files are newer.

    Example: kb export --format vancouver --as markdown --outcome overall-survival
    """
    from . import citeproc
    from . import export as exporting

    claims_asked = bool(claim_ids or outcome or where)
    if sum([bool(review), bool(source_keys), claims_asked]) > 1:
        raise click.UsageError("choose one selection: --reference-list, --source, or "
                               "claims (--claim, --outcome, --where)")
    if fmt == "evidence-table" and (review or source_keys):
        raise click.UsageError("an evidence table is made of claims: select them with "
                               "--claim, --outcome or --where (or nothing, for all)")
    try:
        exporting.output_for(fmt, output)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--as") from None
    _ensure_built(db, data_dir)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if review:
            selection = exporting.reference_list(conn, review)
        elif source_keys:
            selection = exporting.sources(conn, _split(source_keys))
        elif claims_asked or fmt == "evidence-table":
            ids = exporting.claim_ids(conn, _split(claim_ids) or None, outcome, where)
            selection = exporting.behind_claims(conn, ids)
        else:
            selection = exporting.all_sources(conn)
        text = exporting.render(selection, fmt, output)
    except exporting.SelectionError as e:
        raise click.UsageError(str(e)) from None
    except citeproc.CiteprocError as e:
        click.echo(f"kb export: {e}", err=True)
        sys.exit(2)
    finally:
        conn.close()
    for note in selection.unknown:
        click.echo(f"not exported: {note}", err=True)
    if output_file:
        from ingest.cache import CannotWrite, write_atomic
        try:
            write_atomic(output_file, text.encode("utf-8"))
        except CannotWrite as e:
            _fail("export", f"cannot write {e.filename}: {e.strerror}; nothing was written")
        click.echo(f"wrote {len(selection.entries)} references to {output_file}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@data_option
@click.argument("text", required=False)
@click.option("--file", "citations_file", type=click.File("r", encoding="utf-8"),
              help="A file of citations, one per line ('-' for standard input).")
@click.option("--unlinked", is_flag=True,
              help="Every citations.csv entry printed (cited_as) but not linked to a work "
              "(cited_key blank).")
@click.option("--limit", default=3, show_default=True, type=click.IntRange(1, 50),
              help="Candidates shown per citation.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]),
              default="text", show_default=True)
def match(data_dir, text, citations_file, unlinked, limit, fmt):
    """Rank known sources against a free-text citation as a review prints it.

    Each candidate gets a score (0-100) from its title, first author, year, volume and
    first page; a score of at least 80 is reported as a match.

    Example: kb match "Modlin IM, Lye KD, Kidd M. A 5-decade analysis of 13,715 carcinoid tumors. Cancer. 2003;97:934-959."
    """
    from . import match as matching

    given = sum(bool(x) for x in (text, citations_file, unlinked))
    if given != 1:
        raise click.UsageError("give one of: a citation TEXT, --file F or --unlinked")
    dataset = validate_module.load(data_dir)
    if dataset.problems:
        _report(dataset.problems)
        sys.exit(1)
    sources = build_module.source_dicts(dataset)
    index = matching.Index(matching.work_reference(
        s["key"], s["title"], s["authors"], s["year"], s["volume"], s["pages"],
        s["journal"]) for s in sources)
    labels = {s["key"]: s["label"] for s in sources}
    if text:
        queries = [("", text)]
    elif citations_file:
        queries = [(f"line {n}", line.strip()) for n, line in
                   enumerate(citations_file, start=1) if line.strip()]
    else:
        citations = dataset["citations.csv"]
        queries = [(f"{citations.display}:{citations.line_numbers[row]}: {key} [{number}]",
                    cited_as)
                   for row, (key, number, cited_key, cited_as) in enumerate(zip(
                       citations.column("citing_key"), citations.column("ref_number"),
                       citations.column("cited_key"), citations.column("cited_as")))
                   if cited_as and not cited_key]
    if not queries:
        click.echo("every entry of citations.csv that prints a citation is linked to a "
                   "work" if unlinked else "no citation given", err=True)
        return
    results = [(where, citation, index.rank(matching.parse_citation(citation), limit))
               for where, citation in queries]
    click.echo(_match_output(results, labels, fmt, matching.MATCH_SCORE), nl=False)


def _match_output(results, labels: dict, fmt: str, threshold: float) -> str:
    import csv
    import io
    import json

    def candidates(ranked) -> list[dict]:
        return [{"rank": rank, "key": m.key, "score": m.score, "match": m.is_match,
                 "label": labels[m.key], "parts": m.parts}
                for rank, m in enumerate(ranked, start=1)]

    if fmt == "json":
        return json.dumps([{"query": where, "citation": citation,
                            "candidates": candidates(ranked)}
                           for where, citation, ranked in results], indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["query", "citation", "rank", "key", "score", "match", "label"])
        for where, citation, ranked in results:
            if not ranked:
                writer.writerow([where, citation, "", "", "", "no", ""])
            for c in candidates(ranked):
                writer.writerow([where, citation, c["rank"], c["key"], c["score"],
                                 "yes" if c["match"] else "no", c["label"]])
        return out.getvalue()
    lines = []
    for where, citation, ranked in results:
        lines.append(f"{where + ': ' if where else ''}{citation}")
        if not ranked or not ranked[0].is_match:
            lines.append(f"  no match (a match scores {threshold:g} or more, on a title)")
        for m in ranked:
            parts = ", ".join(f"{k} {v:g}" for k, v in m.parts.items())
            verdict = "match" if m.is_match else "candidate"
            lines.append(f"  {m.score:5.1f}  {verdict:9}  {m.key}  {labels[m.key]}  "
                         f"({parts})")
    return "\n".join(lines) + "\n"
