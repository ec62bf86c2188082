"""The database, declared as data: every table `kb build` creates (columns, keys,
indexes, full-text search, facets, descriptions) and every view, with its SQL.

The curated tables take their columns and descriptions from the CSV schema
(kb/data/schema.py); the computed ones (trails, conflicts, the evidence columns) are
declared here. Datasette's metadata is made from these declarations (kb/web/metadata.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.evidence.flags import RULES as FLAG_RULES

from kb.data.schema import (CERTAINTY, CITATIONS, CLAIMS, QUESTIONS, REFERENCES, VOCABULARY,
                            DataFile)



@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: dict[str, str]  # name -> SQLite type, in order
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()
    label_column: str | None = None
    column_descriptions: dict[str, str] = field(default_factory=dict)
    facets: tuple[str, ...] = ()   # what its Datasette page counts values of
    shown: tuple[str, ...] = ()    # the columns its page shows first; the others behind
    #                                "more columns" (all shown when empty)

    @property
    def pk_columns(self) -> tuple[str, ...]:
        return (self.pk,) if isinstance(self.pk, str) else self.pk

    @property
    def facet_indexes(self) -> tuple[tuple[str, ...], ...]:
        """One index a facet, led by it and holding the other facets: counting a facet's
        values on a page filtered by the others reads the index alone. (With one index
        a column, SQLite takes the faceted column's index for `col is not null` and
        reads every row of the table through it: 67 ms instead of 0.4 ms for one facet
        of the claims filtered by outcome, at 100,000 claims.)"""
        return tuple((facet, *(f for f in self.facets if f != facet))
                     for facet in self.facets
                     if len(self.facets) > 1 or facet != self.pk_columns[0])

    @property
    def all_indexes(self) -> tuple[tuple[str, ...], ...]:
        """The declared indexes, the facet indexes, and one on each foreign-key column
        that no index or primary key starts with: a row page counts the rows pointing
        at it through every foreign key, and without one each count scans the table."""
        declared = self.indexes + self.facet_indexes
        leading = {self.pk_columns[0], *(columns[0] for columns in declared)}
        implied = tuple((column,) for column, _, _ in self.foreign_keys
                        if column not in leading)
        return declared + implied


SQLITE_TYPES = {"text": str, "integer": int, "real": float}


def _curated(spec: DataFile, computed: tuple[tuple[str, type, str], ...] = (),
             **declared) -> Table:
    """The table of a curated file: its name, description, columns, key and column
    descriptions from the CSV schema, then the computed columns (name, type,
    description) the build adds; `declared` gives the rest of the Table."""
    declared.setdefault("description", spec.description)
    return Table(
        name=spec.table,
        columns={**{f.name: SQLITE_TYPES[f.type] for f in spec.fields},
                 **{name: kind for name, kind, _ in computed}},
        pk=spec.key if len(spec.key) > 1 else spec.key[0],
        column_descriptions={**{f.name: f.description for f in spec.fields},
                             **{name: text for name, _, text in computed}},
        **declared)


# computed by kb/evidence/ during the build, after the curated claim columns
EVIDENCE_COLUMNS = (
    ("numbers_in_source", str, "Whether the claim's numbers (value, low, high, n) appear "
     "in the cached title and abstract of the work stating it: found, partly found, not "
     "found, or no abstract (nothing cached to check). Blank for qualitative claims."),
    ("numbers_missing", str, "The claim's numbers that its source's title and abstract "
     "do not contain."),
    ("trail", str, "Where the claim's support ends: primary data (stated by a primary "
     "study without citing), reaches primary data, reviews only, unverified (a cited "
     "work not identified yet), or no citation (a secondary work citing nothing)."),
    ("trail_depth", int, "Hops from the claim to the nearest primary work it rests on; "
     "0 when stated by primary data; blank when no primary work is reached."),
    ("trail_differs", int, "Hops where a restated claim's figures differ from this "
     "claim's: possible citation distortions."),
    ("conflicts", int, "Pairs in claim_conflicts this claim is part of."),
    ("figure", str, "The claim's figure as a reader writes it: value or range with its "
     "unit, and what the range is (range, 95% CI, IQR)."),
)

# the columns kb/data/works.py adds to the curated references, in its order
SOURCE_COLUMNS = (
    ("first_author", str, "Surname of the first author."),
    ("authors_complete", int, "1 when the author list is complete, 0 when it ends in "
     "'et al.', blank when no author is known."),
    ("label", str, "Short readable name: first author, year and title."),
    ("abstract", str, "Abstract from the cached PubMed record."),
    ("mesh", str, "MeSH headings from the cached PubMed record (JSON list)."),
    ("publication_types", str, "PubMed publication types (JSON list)."),
    ("journal_abbrev", str, "Journal abbreviation: PubMed's, else the ISO 4 abbreviation "
     "of a full title derived by pyiso4 (journal_abbrev_from says which)."),
    ("journal_abbrev_from", str, "Where journal_abbrev comes from: PubMed, or ISO 4, "
     "derived by pyiso4."),
    ("retracted", int, "1 when PubMed records a retraction of this work."),
    ("from_pubmed", str, "Fields blank in references.csv and filled from the cached "
     "PubMed record (curated fields always win)."),
)

TABLES: tuple[Table, ...] = (
    _curated(VOCABULARY, facets=("field",)),
    _curated(
        REFERENCES, SOURCE_COLUMNS,
        description="Every known work, from data/references.csv. Blank identifiers are "
        "not yet verified.",
        indexes=(("pmid",), ("doi",)),
        facets=("pub_type", "year"),
        fts=("title", "authors", "journal", "notes", "abstract"),
        label_column="label",
    ),
    Table(
        name="authors",
        description="Author names as printed ('Surname Initials').",
        columns={"id": int, "name": str},
        pk="id",
        indexes=(("name",),),
        label_column="name",
    ),
    Table(
        name="source_authors",
        description="Who wrote which work, in order.",
        columns={"source_key": str, "position": int, "author_id": int},
        pk=("source_key", "position"),
        foreign_keys=(("source_key", "sources", "key"), ("author_id", "authors", "id")),
        indexes=(("author_id",),),
    ),
    _curated(
        CITATIONS,
        facets=("citing_key",),
        foreign_keys=(("citing_key", "sources", "key"), ("cited_key", "sources", "key")),
        indexes=(("cited_key",),),
    ),
    _curated(
        CLAIMS, EVIDENCE_COLUMNS,
        foreign_keys=(("source_key", "sources", "key"), ("derived_from", "claims", "id")),
        indexes=(("source_key",), ("derived_from",)),
        facets=("outcome", "population", "intervention", "timepoint", "kind", "trail",
                "numbers_in_source"),
        fts=("statement", "population", "intervention", "outcome", "timepoint", "locator",
             "notes"),
        label_column="statement",
        shown=("statement", "figure", "n", "arm", "population", "intervention", "timepoint",
               "source_key", "trail"),
    ),
    Table(
        name="claim_citations",
        description="Which works each claim rests on: its cited reference numbers "
        "resolved through the source's reference list.",
        columns={"claim_id": str, "ref_number": int, "citing_key": str, "cited_key": str},
        pk=("claim_id", "ref_number"),
        foreign_keys=(("claim_id", "claims", "id"), ("citing_key", "sources", "key"),
                      ("cited_key", "sources", "key")),
        indexes=(("cited_key",),),
        column_descriptions={
            "claim_id": "The claim.",
            "ref_number": "A reference number the claim cites.",
            "citing_key": "The work that states the claim (whose list is numbered).",
            "cited_key": "The cited work; blank while the list entry is not known.",
        },
    ),
)

TABLES = TABLES + (
    Table(
        name="pubmed_records",
        description="The cached PubMed records (data/pubmed/), as PubMed has them.",
        columns={"pmid": str, "kind": str, "title": str, "authors": str,
                 "authors_complete": int, "journal": str, "journal_abbrev": str,
                 "year": int, "pub_date": str, "volume": str, "issue": str, "pages": str,
                 "doi": str, "pmcid": str, "abstract": str, "publication_types": str,
                 "mesh": str, "keywords": str, "language": str, "references": str,
                 "comments_corrections": str, "retracted": int, "publisher": str,
                 "place": str},
        pk="pmid",
        indexes=(("doi",),),
        facets=("kind", "retracted"),
        fts=("title", "abstract"),
        label_column="title",
        column_descriptions={
            "kind": "article or book",
            "references": "The record's reference list (JSON), as PubMed has it.",
            "comments_corrections": "Errata, retractions, comments (JSON list of type, "
            "source, PMID).",
            "retracted": "1 when a retraction is recorded.",
        },
    ),
)

TABLES = TABLES + (
    Table(
        name="claim_trails",
        description="Every hop from a claim to what it rests on: the cited work and, "
        "when the claim restates one of its claims, whether the figures agree. Hops "
        "through a restated claim in a review continue to that review's citations.",
        columns={"claim_id": str, "step": int, "depth": int, "from_claim": str,
                 "ref_number": int, "cited_key": str, "cited_pub_type": str,
                 "to_claim": str, "status": str, "detail": str},
        pk=("claim_id", "step"),
        foreign_keys=(("claim_id", "claims", "id"), ("from_claim", "claims", "id"),
                      ("cited_key", "sources", "key"), ("to_claim", "claims", "id")),
        indexes=(("cited_key",),),
        facets=("status", "depth", "cited_pub_type"),
        column_descriptions={
            "claim_id": "The claim whose trail this is.",
            "step": "Order of the hop in the trail.",
            "depth": "1 for the claim's own citations, 2 for those of the claim it "
            "restates, and so on.",
            "from_claim": "The claim whose citation this hop follows.",
            "ref_number": "The reference number cited, in the list of from_claim's source.",
            "cited_key": "The cited work; blank while the list entry is not identified.",
            "cited_pub_type": "Kind of publication of the cited work.",
            "to_claim": "The cited work's claim that from_claim restates (derived_from).",
            "status": "matches, differs, not found, cites a review, unverified or not "
            "checked (see the data dictionary).",
            "detail": "Why: the figures compared, the numbers missing, what is unknown.",
        },
    ),
    Table(
        name="claim_conflicts",
        description="Pairs of quantitative claims from different works that a reader "
        "could set against each other: same population, outcome, timepoint, measure and "
        "unit with ranges that do not overlap (values differ), or nested populations "
        "(different denominators).",
        columns={"claim_a": str, "claim_b": str, "kind": str, "outcome": str, "unit": str,
                 "population_a": str, "population_b": str, "timepoint_a": str,
                 "timepoint_b": str, "figure_a": str, "figure_b": str, "source_a": str,
                 "source_b": str, "explanation": str},
        pk=("claim_a", "claim_b"),
        foreign_keys=(("claim_a", "claims", "id"), ("claim_b", "claims", "id"),
                      ("source_a", "sources", "key"), ("source_b", "sources", "key")),
        indexes=(("claim_b",),),
        facets=("kind", "outcome"),
        column_descriptions={
            "kind": "values differ, or different denominators (population_a includes "
            "population_b).",
            "figure_a": "claim_a's figure as a reader writes it.",
            "figure_b": "claim_b's figure as a reader writes it.",
            "explanation": "The two figures, their works and why they are set apart.",
        },
    ),
)

TABLES = TABLES + (
    _curated(QUESTIONS, facets=("outcome", "intervention", "measure"),
             fts=("question", "population", "intervention", "outcome", "notes"),
             label_column="question"),
    _curated(CERTAINTY, facets=("domain", "judgement"),
             foreign_keys=(("question_id", "questions", "id"),)),
    Table(
        name="claim_flags",
        description="Plausibility checks: figures to re-read before trusting or pooling "
        "them (kb/evidence/flags.py). Claims found together share a flag number; a note "
        "is said for the record (restatements that agree).",
        columns={"flag": int, "claim_id": str, "rule": str, "level": str, "message": str},
        pk=("flag", "claim_id"),
        foreign_keys=(("claim_id", "claims", "id"),),
        facets=("rule", "level"),
        column_descriptions={
            "flag": "The finding's number; the claims it is about share it.",
            "claim_id": "A claim the finding is about.",
            "rule": "Which check: " + ", ".join(FLAG_RULES) + ".",
            "level": "flag (re-read the figure) or note (for the record).",
            "message": "What was found, with the figures.",
        },
    ),
    Table(
        name="syntheses",
        description="Each guideline question's pooled answer: random-effects pooling of "
        "its primary studies (kb/evidence/pooling.py), with heterogeneity and the GRADE "
        "certainty from certainty.csv.",
        columns={"question_id": str, "outcome": str, "timepoint": str, "measure": str,
                 "method": str, "k": int, "n_total": int, "estimate": float,
                 "ci_low": float, "ci_high": float, "pi_low": float, "pi_high": float,
                 "tau2": float, "i2": float, "q": float, "q_p": float, "unit": str,
                 "design": str, "certainty": str},
        pk="question_id",
        foreign_keys=(("question_id", "questions", "id"),),
        facets=("outcome", "certainty", "design"),
        column_descriptions={
            "method": "How the studies were pooled; 'single study' or 'no poolable study' "
            "when there is nothing to pool.",
            "k": "Studies pooled.",
            "n_total": "Patients in the pooled studies.",
            "estimate": "Pooled estimate: percent for proportions, the ratio for ratios.",
            "ci_low": "Lower end of the pooled estimate's 95% CI.",
            "ci_high": "Upper end of the pooled estimate's 95% CI.",
            "pi_low": "Lower end of the 95% prediction interval (t with k-2 degrees of "
            "freedom, Higgins 2009); blank when k < 3.",
            "pi_high": "Upper end of the 95% prediction interval.",
            "tau2": "Between-study variance, DerSimonian-Laird, truncated at 0.",
            "i2": "I² from Cochran's Q, percent.",
            "q": "Cochran's Q.",
            "q_p": "p-value of Q (chi-squared, k-1 degrees of freedom).",
            "unit": "% for proportions, ratio for ratios.",
            "design": "randomized, observational or mixed: where GRADE starts.",
            "certainty": "GRADE certainty: high, moderate, low or very low.",
        },
    ),
    Table(
        name="synthesis_studies",
        description="Every claim that answers a question, pooled or not; each one left "
        "out says why.",
        columns={"question_id": str, "claim_id": str, "source_key": str, "study_key": str,
                 "included": int,
                 "reason": str, "weight": float, "n": int, "events": int,
                 "estimate": float, "ci_low": float, "ci_high": float},
        pk=("question_id", "claim_id"),
        foreign_keys=(("question_id", "questions", "id"), ("claim_id", "claims", "id"),
                      ("source_key", "sources", "key")),
        facets=("question_id", "included"),
        column_descriptions={
            "source_key": "The work stating the figure.",
            "study_key": "The primary study it is a figure of: the source, or the one work "
            "a review's table row cites (review#N while that entry is not known).",
            "included": "1 when pooled, 0 when left out.",
            "reason": "Why it is left out.",
            "weight": "Its share of the pooled estimate's weight, percent.",
            "events": "Patients with the outcome: as printed, else value / 100 x n "
            "rounded.",
            "estimate": "The study's figure (percent or ratio).",
            "ci_low": "Its 95% CI: Clopper-Pearson for a share, as printed for a ratio.",
            "ci_high": "Upper end of its 95% CI.",
        },
    ),
)

TABLES = TABLES + (
    Table(
        name="build_info",
        description="When and from what this database was built: the data version is a "
        "hash of the curated files, so two builds of the same data name the same version.",
        columns={"name": str, "value": str},
        pk="name",
        column_descriptions={"name": "built_at (UTC) or data_version.",
                             "value": "Its value."},
    ),
)

TABLES_BY_NAME = {t.name: t for t in TABLES}
