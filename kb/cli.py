"""The `kb` command: one flat group of verbs over the curated data and the database.

Click only: each command reads its options, makes one call into the library, and says
what happened. Exit status: 0 success, 1 invalid data or a file that cannot be written,
2 a usage error or NCBI failing.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import sys
from pathlib import Path

import click

from ingest.files import CannotWrite, unwritable, write_atomic
from kb import match as matching
from kb.data import loader, pubmed_cache
from kb.data.text import split_list
from kb.db import build as building
from kb.evidence import report as evidence
from kb.export import citeproc, formats
from kb.export.selection import SelectionError
from kb.web import caching
from kb.web import serve as serving

DEFAULT_DB = "kb.db"
# The network stack (ingest.sync, ingest.entrez: Bio.Entrez, http.client) is imported by
# the two commands that use it, inside them: at the top it would add 40 ms to the start
# of every other command.


def data_option(fn):
    return click.option(
        "--data", "data_dir", default="data", show_default=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
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


def _fail(command: str, message: str, status: int = 1):
    """Stop kb COMMAND with one line on standard error."""
    click.echo(f"kb {command}: {message}", err=True)
    sys.exit(status)


def _loaded(data_dir: Path):
    """The data set of data_dir; its problems reported and exit status 1 if it has any."""
    dataset = loader.load(data_dir)
    if dataset.problems:
        _report(dataset.problems)
        sys.exit(1)
    return dataset


def _build_or_exit(db: Path, data_dir: Path, when_stale: bool = False) -> dict | None:
    """Build db from data_dir (with when_stale, only when it is missing or older than
    the data); every failure reported as kb build reports it, and the process ends."""
    if when_stale:
        if not building.is_stale(db, data_dir):
            return None
        click.echo(f"building {db} from {data_dir}/", err=True)
    try:
        return building.build(db, data_dir)
    except building.InvalidData as e:
        _report(e.problems)
        click.echo(f"{db} not built: fix the data first", err=True)
        sys.exit(1)
    except CannotWrite as e:
        kept = "the previous database is unchanged" if db.exists() else \
            "no database was written"
        _fail("build", f"cannot write {e.filename}: {e.strerror}; {kept}")
    except (OSError, sqlite3.Error) as e:
        _fail("build", f"{db} not built: {e}")


def _refuse_unwritable(command: str, *folders: Path) -> None:
    """Stop before any request when a folder the command writes into cannot be written."""
    for folder in folders:
        reason = unwritable(folder)
        if reason:
            _fail(command, f"cannot write to {folder}/: {reason}; nothing was fetched or "
                  "changed")


def _fetch_errors(fn):
    """What stops kb fetch or kb resolve part-way, as one clear line: unreachable or
    failing E-utilities (exit status 2), a file that cannot be written (exit status 1)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ingest.entrez import EntrezError

        try:
            return fn(*args, **kwargs)
        except EntrezError as e:
            _fail(fn.__name__, f"{e}; nothing more was changed", status=2)
        except CannotWrite as e:
            _fail(fn.__name__, f"cannot write {e.filename}: {e.strerror}; nothing "
                  "half-written is left, and the records saved before it are kept")

    return wrapper


@contextlib.contextmanager
def _progress(total: int):
    with click.progressbar(length=total, label="fetching PubMed records", file=sys.stderr,
                           show_pos=True, hidden=not sys.stderr.isatty()) as bar:
        yield bar.update


@click.group()
@click.version_option(package_name="nelm-kb")
def cli():
    """nelm-kb: evidence on liver metastases of GEP neuroendocrine neoplasms."""


@cli.command()
@data_option
@click.option("--evidence", "with_evidence", is_flag=True,
              help="Also check each quantitative claim's numbers against the cached "
              "abstract of its source, and list trail hops whose figures differ.")
def validate(data_dir: Path, with_evidence: bool):
    """Check the data files; print every problem as path:line:column: message.

    Exit status 1 when there is any problem. With --evidence, a claim whose numbers
    are missing from the cached abstract its locator points to is a problem too; numbers
    missing from an abstract when the claim is stated elsewhere, and restated figures
    that differ, are printed as notes.

    Example: kb validate --data data --evidence
    """
    dataset = _loaded(data_dir)
    counts = ", ".join(f"{f.row_count} rows in {name}" for name, f in dataset.files.items()
                       if f.path.exists())
    if with_evidence:
        found = evidence.check(dataset)
        for note in found.notes:
            click.echo(str(note))
        click.echo(found.summary, err=True)
        if found.problems:
            _report(found.problems)
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
    counts = _build_or_exit(db, data_dir)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    click.echo(f"built {db}: {summary}")


@cli.command()
@db_argument
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=serving.WORKERS, show_default="one per core",
              type=click.IntRange(1, 64), help="Server processes over the same file.")
@click.option("--cache-mb", default=caching.CACHE_MB_DEFAULT, show_default=True,
              type=click.IntRange(0), help="MiB of answers each worker keeps (0: none).")
def serve(db: Path, data_dir: Path, host: str, port: int, workers: int, cache_mb: int):
    """Build DB when the data files are newer, then serve it with Datasette.

    Example: kb serve kb.db --port 8001 --workers 2
    """
    _build_or_exit(db, data_dir, when_stale=True)
    click.echo(f"serving {db} on http://{host}:{port}/ (workers: {workers})", err=True)
    serving.serve(db, host, port, workers, cache_mb)


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
    from ingest import sync
    from ingest.cache import Cache

    if not any([pmids, query, refs_of, cited_by, missing, load]):
        raise click.UsageError("say what to fetch: --pmid, --query, --refs-of, --cited-by, "
                               "--missing or --load")
    request = sync.Request(tuple(split_list(pmids)), query, refs_of, cited_by, load, refresh)
    for pmid in (*request.pmids, *refs_of, *cited_by):
        if not (pmid.isascii() and pmid.isdigit()):
            raise click.BadParameter(f"{pmid!r} is not a PMID (digits only)")
    cache = Cache(data_dir / "pubmed")
    _refuse_unwritable("fetch", cache.root)
    try:
        outcome = sync.sync(cache, request, progress=_progress, missing=(
            (lambda: pubmed_cache.missing_pmids(data_dir)) if missing else None))
    except sync.LoadFailed as e:
        _fail("fetch", str(e))
    said = sync.report(outcome, cache)
    for line in said.notes:
        click.echo(line, err=True)
    click.echo(said.summary)
    for line in said.warnings:
        click.echo(line, err=True)
    if said.failed:
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
    from kb import resolve as resolving

    output = output or data_dir / "pubmed" / "proposed_pmids.csv"
    _refuse_unwritable("resolve", data_dir / "pubmed", output.parent)
    proposals = resolving.propose(data_dir, output)
    accepted = sum(p["decision"] == "accept" for p in proposals)
    click.echo(f"{len(proposals)} references without a PMID: {accepted} proposed "
               f"(title score >= {resolving.TITLE_MATCH_SCORE}); see {output}")


@cli.command()
@db_argument
@data_option
@click.option("-f", "--format", "fmt", required=True, type=click.Choice(formats.ALL_FORMATS),
              help="BibTeX, RIS, CSL-JSON, a formatted Vancouver or AMA list, or an "
              "evidence table.")
@click.option("--as", "output", type=click.Choice(["text", "markdown", "html", "csv",
                                                  "docx"]),
              help="For vancouver/ama: text (default), markdown or html. For "
              "evidence-table: markdown (default), csv or html. For sof: markdown "
              "(default), html, csv or docx.")
@click.option("--question", "question_ids", multiple=True, metavar="ID",
              help="For sof: these guideline questions (repeat, or comma-separated); "
              "every question when left out. For the other formats: the claims one "
              "question considers.")
@click.option("--reference-list", "review", metavar="KEY",
              help="The works a review's reference list names, numbered as it numbers them.")
@click.option("--source", "source_keys", multiple=True, metavar="KEY",
              help="These works (repeat, or a comma-separated list), in the order given.")
@click.option("--claim", "claim_ids", multiple=True, metavar="ID",
              help="The works behind these claims (repeat, or comma-separated), numbered "
              "in order of first use.")
@click.option("--outcome", metavar="TERM", help="Claims about this outcome.")
@click.option("--intervention", metavar="TERM", help="Claims about this intervention.")
@click.option("--population", metavar="TERM", help="Claims about this population.")
@click.option("--timepoint", metavar="TEXT", help="Claims at this timepoint ('5 years').")
@click.option("--where", metavar="SQL",
              help="Claims matching an SQL condition on the claims table, e.g. "
              "\"population = 'pancreatic-nen'\".")
@click.option("-o", "--output-file", "output_file", type=click.Path(dir_okay=False,
              path_type=Path), help="Write here (atomically) instead of to standard output.")
def export(db, data_dir, fmt, output, question_ids, review, source_keys, claim_ids, outcome,
           intervention, population, timepoint, where, output_file):
    """Export references: every source, a review's list, or the works behind claims.

    With no selection, bibtex/ris/csl-json/vancouver/ama export every source and
    evidence-table takes every claim. Builds DB first when the data files are newer.

    Example: kb export --format vancouver --as markdown --outcome overall-survival

    sof writes a GRADE summary-of-findings table of guideline questions (--question).
    """
    terms = dict(intervention=intervention, population=population, timepoint=timepoint)
    questions = split_list(question_ids)
    try:
        formats.check_selection(fmt, review, source_keys, bool(
            claim_ids or outcome or where or any(terms.values())), questions)
    except SelectionError as e:
        raise click.UsageError(str(e)) from None
    if fmt == "sof":
        return _export_sof(db, data_dir, output, questions, output_file)
    try:
        formats.output_for(fmt, output)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--as") from None
    _build_or_exit(db, data_dir, when_stale=True)
    try:
        text, selection = formats.export(
            db, fmt, output, review=review, source_keys=split_list(source_keys),
            claims=split_list(claim_ids), outcome=outcome, where=where,
            of_claims=fmt == "evidence-table", question=questions[0] if questions else None,
            **terms)
    except SelectionError as e:
        raise click.UsageError(str(e)) from None
    except citeproc.CiteprocError as e:
        _fail("export", str(e), status=2)
    for note in selection.unknown:
        click.echo(f"not exported: {note}", err=True)
    for note in selection.incomplete if fmt != "evidence-table" else ():
        click.echo(f"incomplete: {note}", err=True)
    _put(text, output_file, f"{len(selection.entries)} references")


def _put(text: str | bytes, output_file: Path | None, what: str) -> None:
    """An export to standard output, or written atomically to output_file."""
    if not output_file:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output_file, text if isinstance(text, bytes) else text.encode("utf-8"))
    except CannotWrite as e:
        _fail("export", f"cannot write {e.filename}: {e.strerror}; nothing was written")
    click.echo(f"wrote {what} to {output_file}", err=True)


def _export_sof(db, data_dir, output, question_ids, output_file):
    """kb export -f sof: the summary-of-findings table, to a file or standard output."""
    if output == "docx" and not output_file:
        raise click.UsageError("--as docx is a binary file: name it with -o FILE")
    _build_or_exit(db, data_dir, when_stale=True)
    try:
        table = formats.summary_of_findings(db, question_ids or None, output)
    except ValueError as e:   # an unknown question (SelectionError) or output
        raise click.UsageError(str(e)) from None
    _put(table, output_file, "the summary of findings")


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
@click.option("--format", "fmt", type=click.Choice(matching.FORMATS),
              default="text", show_default=True)
def match(data_dir, text, citations_file, unlinked, limit, fmt):
    """Rank known sources against a free-text citation as a review prints it.

    Each candidate gets a score (0-100) from its title, first author, year, volume and
    first page; a score of at least 80 is reported as a match.

    Example: kb match "Modlin IM, Lye KD, Kidd M. A 5-decade analysis of 13,715 carcinoid tumors. Cancer. 2003;97:934-959."
    """
    if sum(bool(x) for x in (text, citations_file, unlinked)) != 1:
        raise click.UsageError("give one of: a citation TEXT, --file F or --unlinked")
    dataset = _loaded(data_dir)
    if text:
        queries = [("", text)]
    elif citations_file:
        queries = [(f"line {n}", line.strip()) for n, line in
                   enumerate(citations_file, start=1) if line.strip()]
    else:
        queries = matching.unlinked(dataset)
    if not queries:
        click.echo("every entry of citations.csv that prints a citation is linked to a "
                   "work" if unlinked else "no citation given", err=True)
        return
    results, labels = matching.rank(dataset, queries, limit)
    click.echo(matching.render(results, labels, fmt), nl=False)
