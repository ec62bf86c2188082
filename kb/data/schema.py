"""The shape of the curated data files, declared as data.

`FILES` describes the curated CSV files: their columns, what each holds, the rules
`kb validate` checks (required cells, patterns, types, vocabularies, keys, foreign
keys). The database tables (kb/db/tables.py) take their column descriptions from here,
so there is one place to say what a column means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KEY = r"[a-z][a-z0-9_-]*"
CLAIM_ID = r"[a-z0-9][a-z0-9_-]*"
PMID = r"[1-9][0-9]{0,8}"
PMCID = r"PMC[1-9][0-9]{0,8}"
# no braces or backslashes: a BibTeX doi field is verbatim, and they would end it
DOI = r"10\.[0-9]{4,9}/[^\s{}\\]+"
TERM = r"[a-z0-9][a-z0-9._/%-]*"
REF_NUMBER = r"[1-9][0-9]{0,5}"  # an entry of a printed reference list: 1 to 999999
CITES = rf"{REF_NUMBER}(-{REF_NUMBER})?(,{REF_NUMBER}(-{REF_NUMBER})?)*"
SEED_FILE = r"[0-9]{3}_[0-9a-f]{16}\.txt"
VERIFIED_ITEM = rf"(pubmed|{SEED_FILE}|https?://[^\s;]+)"
VERIFIED_SEPARATOR = " ; "
SYNONYM_SEPARATOR = " ; "   # between a vocabulary term's synonyms
NAMES = r"[^;\n]+(; [^;\n]+)*"   # 'Surname Initials; Surname Initials'

MIN_YEAR = 1800

# where a PMID was read; only the first is verified
PMID_SEEN = ("pubmed", "other", "address")
PMID_VERIFIED = "pubmed"

# what a claim's low and high are
RANGE, CI95, IQR, UNSTATED = "range", "95% CI", "IQR", "unstated"
INTERVALS = (RANGE, CI95, IQR, UNSTATED)  # unstated: the page does not say
# the GRADE domains a question's certainty is judged on, and the judgements
GRADE_DOMAINS = ("risk-of-bias", "inconsistency", "indirectness", "imprecision",
                 "publication-bias")
JUDGEMENTS = ("not serious", "serious", "very serious")


@dataclass(frozen=True)
class Field:
    """One column of a data file."""

    name: str
    description: str
    type: str = "text"  # text | integer | real
    required: bool = False
    pattern: str | None = None  # a regular expression the whole value must match
    vocabulary: str | None = None  # the vocabulary.csv field that lists allowed values
    example: str = ""
    # free text in sentences, which may start with any character; other cells may not
    # start as a spreadsheet formula does (=, +, -, @), unless they are numbers
    prose: bool = False
    # a column added after files were first written: a file may leave it out of its
    # header, and then every cell of it is blank (older data folders stay readable)
    may_be_absent: bool = False


@dataclass(frozen=True)
class DataFile:
    """One curated CSV file in data/."""

    name: str
    table: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    description: str
    # column -> (data file, column) it must name a row of
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    # a file added after data folders were first written: when it is absent the data
    # set has no rows of it
    optional: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


VERIFIED_FROM = Field(
    "verified_from",
    "Where this row was verified: seed file names, addresses of pages that were read, "
    "or 'pubmed' for a cached PubMed record; several separated by ' ; '.",
    required=True,
    pattern=rf"{VERIFIED_ITEM}( ; {VERIFIED_ITEM})*",
    example="001_efb70d123c40eb8b.txt ; https://pubmed.ncbi.nlm.nih.gov/28487601/",
)

REFERENCES = DataFile(
    name="references.csv",
    table="sources",
    key=("key",),
    description="One row per work: reviews, the works they cite, books and chapters.",
    fields=(
        Field("key", "Stable slug naming the work, e.g. jagannath2012.", required=True,
              pattern=KEY, example="modlin2003"),
        Field("pmid", "PubMed identifier (digits). Blank while unverified.", pattern=PMID,
              example="28487601"),
        Field("pmid_seen", "Where the PMID was read: pubmed (a PubMed or PMC page labels it "
              "PMID), other (only a page of another host labels it, e.g. a copy of PubMed) or "
              "address (only a page address shows it). Only pubmed counts as verified.",
              pattern="|".join(PMID_SEEN), may_be_absent=True, example="pubmed"),
        Field("pmcid", "PubMed Central identifier. Blank while unverified.", pattern=PMCID,
              example="PMC5403743"),
        Field("doi", "Digital Object Identifier, bare (no https://doi.org/).", pattern=DOI,
              example="10.3748/wjg.v23.i15.2640"),
        Field("title", "Title of the work as published.", prose=True),
        Field("authors", "Authors in order, 'Surname Initials; ...'; a final 'et al.' "
              "marks a list known only in part.", pattern=NAMES, example="Rossi RE; Massironi S"),
        Field("journal", "Journal (full name), or the book a chapter appears in; "
              "blank for a whole book."),
        Field("year", "Year of publication.", type="integer"),
        Field("volume", "Volume."),
        Field("issue", "Issue."),
        Field("pages", "Pages, or article number for journals without pages."),
        Field("editors", "Editors of the book a chapter appears in (or of an edited "
              "book), 'Surname Initials; ...', a final 'et al.' as for authors.",
              pattern=NAMES, example="Bosman FT; et al."),
        Field("publisher", "Publisher of a book or chapter.", example="IARC Press"),
        Field("place", "Where the publisher is (city, country), as printed.",
              example="Lyon"),
        Field("pub_type", "Kind of publication (controlled vocabulary).", required=True,
              vocabulary="pub_type"),
        VERIFIED_FROM,
        Field("notes", "Curator's notes: what is not verified, caveats.", prose=True),
    ),
)

CITATIONS = DataFile(
    name="citations.csv",
    table="citations",
    key=("citing_key", "ref_number"),
    description="A review's printed reference list: one row per numbered entry known so far.",
    references={"citing_key": ("references.csv", "key"),
                "cited_key": ("references.csv", "key")},
    fields=(
        Field("citing_key", "The work whose reference list this entry belongs to.",
              required=True, pattern=KEY),
        Field("ref_number", "The entry's number in that reference list.", type="integer",
              required=True, pattern=REF_NUMBER),
        Field("cited_key", "The cited work; blank while it is not known.", pattern=KEY),
        Field("cited_as", "The entry as the review prints it, abbreviated.", prose=True),
        VERIFIED_FROM,
        Field("notes", "Curator's notes.", prose=True),
    ),
)

CLAIMS = DataFile(
    name="claims.csv",
    table="claims",
    key=("id",),
    description="One row per statement a source makes, in our own words.",
    references={"source_key": ("references.csv", "key"),
                "derived_from": ("claims.csv", "id")},
    fields=(
        Field("id", "Stable claim id, e.g. jagannath2012-c04.", required=True, pattern=CLAIM_ID),
        Field("source_key", "The work that states the claim.", required=True, pattern=KEY),
        Field("locator", "Where in the source: section, paragraph, figure.", required=True),
        Field("cites", "The source's reference numbers the claim rests on, e.g. 10 or 11-15.",
              pattern=CITES),
        Field("statement", "The claim in our own words, with its numbers.", required=True,
              prose=True),
        Field("kind", "quantitative (has a number) or qualitative.", required=True,
              pattern="quantitative|qualitative"),
        Field("population", "Who the claim is about (its denominator).", vocabulary="population"),
        Field("intervention", "Treatment, if any.", vocabulary="intervention"),
        Field("comparator", "What the intervention is compared with.", vocabulary="intervention"),
        Field("arm", "The study group the figure belongs to (e.g. TACE, placebo); blank "
              "for the whole study.", example="lanreotide", may_be_absent=True),
        Field("outcome", "What is measured.", vocabulary="outcome"),
        Field("timepoint", "When: 'at diagnosis', '5 years', ..."),
        Field("measure", "Kind of number.", vocabulary="measure"),
        Field("value", "Point value.", type="real"),
        Field("low", "Lower end of a range.", type="real"),
        Field("high", "Upper end of a range.", type="real"),
        Field("interval", "What low and high are: range, 95% CI or IQR, or unstated when "
              "the page does not say; blank when there are none.", pattern="|".join(INTERVALS), may_be_absent=True),
        Field("unit", "Unit of value/low/high.", vocabulary="unit"),
        Field("n", "Number of patients or cases the figure rests on.", type="integer"),
        Field("events", "How many of the n had the outcome, when the source prints the "
              "count beside its percentage.", type="integer", may_be_absent=True),
        Field("cohort", "A key shared by every claim that reports the same patients (a "
              "later report of one series, a trial's extension); never pooled twice.",
              pattern=KEY, example="eltr-transplant", may_be_absent=True),
        Field("derived_from", "Id of the claim in a cited work that this claim restates.",
              pattern=CLAIM_ID),
        VERIFIED_FROM,
        Field("curator", "Who wrote the row.", required=True),
        Field("notes", "Curator's notes: approximations, denominators, caveats.",
              prose=True),
    ),
)

# kinds of publication whose numbers come from other works: a claim resting on one of
# them has not reached primary data
SECONDARY_PUB_TYPES = frozenset({"review", "systematic-review", "editorial", "guideline",
                                 "consensus", "book", "chapter"})

# outcomes whose figures are not one quantity: a share of one category among several
# (which primary site) or a study's own size. Their claims are never set against each
# other as conflicts.
# a study's own size: its whole-study figure bounds its arms (kb/data/study_rules.py,
# kb/evidence/flags.py)
STUDY_SIZE = "study-size"
UNCOMPARED_OUTCOMES = frozenset({"primary-site", STUDY_SIZE})

VOCABULARY_FIELDS = ("population", "intervention", "outcome", "measure", "unit", "pub_type")

VOCABULARY = DataFile(
    name="vocabulary.csv",
    table="vocabulary",
    key=("field", "term"),
    description="Controlled terms with their definitions; validation rejects other values.",
    fields=(
        Field("field", "Which column the term is for.", required=True,
              pattern="|".join(VOCABULARY_FIELDS)),
        Field("term", "The term.", required=True),
        Field("definition", "What the term means.", required=True, prose=True),
        Field("broader", "A term of the same field that includes this one (a "
              "population's wider denominator, e.g. gep-nen within nen).",
              example="nen"),
        Field("synonyms", "Other words a reader may search with for this term, separated "
              f"by {SYNONYM_SEPARATOR!r} (hepatectomy ; liver resection).", example="hepatectomy",
              may_be_absent=True),
    ),
)

QUESTIONS = DataFile(
    name="questions.csv",
    table="questions",
    key=("id",),
    optional=True,
    description="One row per guideline question, as PICO: the claims that answer it are "
    "found through the vocabulary (a narrower term answers a broader question).",
    fields=(
        Field("id", "Stable question id, e.g. os-5y-resection.", required=True, pattern=KEY,
              example="os-5y-resection"),
        Field("question", "The question in our own words.", required=True, prose=True),
        Field("population", "Who the question is about.", required=True,
              vocabulary="population"),
        Field("intervention", "The treatment asked about.", vocabulary="intervention"),
        Field("comparator", "What it is compared with; blank for a single-arm question.",
              vocabulary="intervention"),
        Field("outcome", "What is measured.", required=True, vocabulary="outcome"),
        Field("timepoint", "When, written as the claims write it ('5 years').",
              example="5 years"),
        Field("measure", "The kind of number pooled: proportion, hazard-ratio or "
              "odds-ratio.", required=True, vocabulary="measure"),
        Field("notes", "Curator's notes: scope, what is left out.", prose=True),
    ),
)

CERTAINTY = DataFile(
    name="certainty.csv",
    table="certainty",
    key=("question_id", "domain"),
    optional=True,
    description="GRADE judgements: one row per question and domain, with the reason.",
    references={"question_id": ("questions.csv", "id")},
    fields=(
        Field("question_id", "The question judged.", required=True, pattern=KEY),
        Field("domain", "The GRADE domain: " + ", ".join(GRADE_DOMAINS) + ".",
              required=True, pattern="|".join(GRADE_DOMAINS)),
        Field("judgement", "not serious, serious or very serious.", required=True,
              pattern="|".join(JUDGEMENTS)),
        Field("reason", "Why, in our own words.", required=True, prose=True),
        Field("curator", "Who judged.", required=True),
    ),
)

FILES: tuple[DataFile, ...] = (VOCABULARY, REFERENCES, CITATIONS, CLAIMS, QUESTIONS,
                               CERTAINTY)
FILES_BY_NAME = {f.name: f for f in FILES}
