"""The SQL of the Datasette pages: what a row page shows under the row, a claim's trail,
the evidence range plots. (The exports' SQL is kb/db/queries.py; the canned queries are
in metadata.yml.) The `rests_on` view (kb/db/tables.py) joins a claim's cited numbers to
the works they name.
"""

from __future__ import annotations

# the tables a database needs to be a knowledge base
KB_TABLES = ("sources", "claims", "citations")
TABLE_NAMES_SQL = "select name from sqlite_master"

# The panels a row page shows under the row: (title, SQL, what an empty panel says)
ROW_PANELS = {
    "claims": (
        ("Stated in", """
            select sources.key as cited_key, sources.label, sources.pmid, sources.doi,
                   claims.locator, claims.cites
            from claims join sources on sources.key = claims.source_key
            where claims.id = :key""",
         None),
        ("Rests on", """
            select ref_number, cited_key, label, pmid, doi from rests_on
            where claim_id = :key and ref_number is not null order by ref_number""",
         "No reference is printed with this statement."),
        ("Restates", """
            select derived.id as claim_id, derived.statement as label, derived.source_key
            from claims join claims as derived on derived.id = claims.derived_from
            where claims.id = :key""",
         None),
        ("Restated by", """
            select id as claim_id, statement as label, source_key
            from claims where derived_from = :key order by id""",
         None),
        ("Plausibility flags", """
            select level || ' · ' || rule || ': ' || message as label, flag
            from claim_flags where claim_id = :key order by flag""",
         "No plausibility check flags this claim."),
        ("Answers the questions", """
            select question_id, questions.question || ' — '
                   || case when included then 'pooled' else 'not pooled: ' || reason end
                   as label
            from synthesis_studies join questions on questions.id = question_id
            where claim_id = :key order by question_id""",
         None),
    ),
    "sources": (
        ("Plausibility flags on its claims", """
            select claim_flags.claim_id, level || ' · ' || rule || ': ' || message as label
            from claim_flags join claims on claims.id = claim_flags.claim_id
            where claims.source_key = :key order by flag, claim_flags.claim_id""",
         None),
        ("Claims stated in this work", """
            select id as claim_id, statement as label, locator, cites
            from claims where source_key = :key order by id""",
         "No claim from this work has been curated yet."),
        ("Claims that rest on this work", """
            select claims.id as claim_id, claims.statement as label, claims.source_key,
                   rests_on.ref_number
            from rests_on join claims on claims.id = rests_on.claim_id
            where rests_on.cited_key = :key order by claims.id""",
         "No curated claim cites this work yet."),
        ("PubMed record", """
            select pubmed_records.pmid as pubmed_pmid, pubmed_records.title as label,
                   pubmed_records.retracted
            from sources join pubmed_records on pubmed_records.pmid = sources.pmid
            where sources.key = :key""",
         None),
        ("Reference list", """
            select citations.ref_number, citations.cited_key,
                   coalesce(cited.label, citations.cited_as) as label, cited.pmid, cited.doi
            from citations left join sources as cited on cited.key = citations.cited_key
            where citations.citing_key = :key order by citations.ref_number""",
         None),
    ),
}

# a claim's trail: every hop, with what the cited entry is and the claim it restates
# (every hop follows a number its from_claim cites, so it has a rests_on row)
TRAIL_SQL = """
select claim_trails.step, claim_trails.depth, claim_trails.from_claim,
       claim_trails.ref_number, claim_trails.cited_key, claim_trails.cited_pub_type,
       claim_trails.to_claim, claim_trails.status, claim_trails.detail,
       rests_on.citing_key, rests_on.label as cited_label,
       rests_on.pmid, rests_on.doi, to_claim.statement as to_statement
from claim_trails
join rests_on on rests_on.claim_id = claim_trails.from_claim
  and rests_on.ref_number = claim_trails.ref_number
left join claims as to_claim on to_claim.id = claim_trails.to_claim
where claim_trails.claim_id = :key
order by claim_trails.step
"""
CLAIM_SQL = """
select claims.id, claims.statement, claims.outcome, claims.kind, claims.value, claims.low,
       claims.high, claims.unit, claims.locator, claims.cites, claims.trail,
       claims.trail_depth, claims.trail_differs, claims.numbers_in_source,
       claims.numbers_missing, sources.key as source_key, sources.label, sources.pmid,
       sources.doi
from claims join sources on sources.key = claims.source_key where claims.id = :key
"""
CONFLICTS_OF_CLAIM_SQL = """
select case when claim_a = :key then claim_b else claim_a end as other, kind,
       explanation from claim_conflicts where claim_a = :key or claim_b = :key
order by other
"""

# -- evidence range plots (kb/web/evidence_routes.py) ---------------------------------

MAX_BARS = 200
# the claims a plot is about: one outcome, optionally one population, intervention, unit
# and timepoint (a blank argument means any)
_CLAIMS_OF_PLOT = """
from claims
where claims.outcome = :outcome and claims.kind = 'quantitative'
  and (claims.value is not null or claims.low is not null or claims.high is not null)
  and (:population = '' or claims.population = :population)
  and (:intervention = '' or claims.intervention = :intervention)
  and (:unit = '' or claims.unit = :unit)
  and (:timepoint = '' or claims.timepoint = :timepoint)
"""
FILTERS = ("population", "intervention", "unit", "timepoint")
# the claims chosen first (conflicts first, then by id), their sources joined after
BARS_SQL = """
select chosen.id, coalesce(sources.first_author || ' ' || sources.year, sources.key)
         as label,
       chosen.population, chosen.unit, chosen.timepoint, chosen.value, chosen.low,
       chosen.high, chosen.statement, chosen.intervention, chosen.measure, chosen.n
from (select claims.*""" + _CLAIMS_OF_PLOT + """
      order by claims.conflicts > 0 desc, claims.id limit :limit) as chosen
join sources on sources.key = chosen.source_key
order by chosen.conflicts > 0 desc, chosen.id
"""
# how many claims the plot would show without its limit, by population and by intervention
_COUNTS_SQL = ("select coalesce(claims.{0}, '') as term, count(*) as n" + _CLAIMS_OF_PLOT
               + "group by 1 order by n desc, 1")
POPULATIONS_SQL = _COUNTS_SQL.format("population")
INTERVENTIONS_SQL = _COUNTS_SQL.format("intervention")
TIMEPOINTS_SQL = _COUNTS_SQL.format("timepoint")
# the conflicts of the claims shown (:shown, a JSON array of claim ids)
CONFLICTS_SQL = """
select claim_a, claim_b, kind, explanation from claim_conflicts
where claim_a in (select value from json_each(:shown))
   or claim_b in (select value from json_each(:shown))
order by claim_a, claim_b
"""


def plot_parameters(outcome: str, chosen: dict[str, str]) -> dict:
    """The SQL parameters of a plot: the outcome, the filters chosen (blank: any)."""
    return {"outcome": outcome, "limit": MAX_BARS,
            **{name: chosen.get(name) or "" for name in FILTERS}}


# -- guideline questions (kb/web/question_routes.py) ----------------------------------

QUESTION_SQL = """
select questions.*, syntheses.method, syntheses.k, syntheses.n_total, syntheses.estimate,
       syntheses.ci_low, syntheses.ci_high, syntheses.pi_low, syntheses.pi_high,
       syntheses.tau2, syntheses.i2, syntheses.q, syntheses.q_p, syntheses.unit,
       syntheses.design, syntheses.certainty
from questions left join syntheses on syntheses.question_id = questions.id
where questions.id = :id
"""
# every claim considered, pooled first by weight, with its source, design and flags
QUESTION_STUDIES_SQL = """
select synthesis_studies.*, claims.statement, claims.arm, claims.timepoint,
       claims.measure, claims.unit, claims.locator, claims.trail, claims.cohort,
       claims.verified_from,
       coalesce(sources.first_author || ' ' || sources.year, sources.key) as label,
       sources.pub_type as design, study.pub_type as study_design,
       coalesce(study.first_author || ' ' || study.year, study.key) as study_label,
       (select group_concat(rule || ': ' || message, ' | ') from claim_flags
        where claim_flags.claim_id = synthesis_studies.claim_id and level = 'flag')
         as flags
from synthesis_studies
join claims on claims.id = synthesis_studies.claim_id
join sources on sources.key = synthesis_studies.source_key
left join sources as study on study.key = synthesis_studies.study_key
where synthesis_studies.question_id = :id
order by synthesis_studies.included desc, synthesis_studies.weight desc,
         synthesis_studies.claim_id
"""
CERTAINTY_SQL = """
select domain, judgement, reason, curator from certainty where question_id = :id
"""

# -- the landing page (kb/web/landing.py) ---------------------------------------------

LANDING_QUESTIONS_SQL = """
select questions.id, questions.question, questions.intervention, questions.outcome,
       questions.timepoint, questions.measure, syntheses.k, syntheses.n_total,
       syntheses.estimate, syntheses.ci_low, syntheses.ci_high, syntheses.unit,
       syntheses.certainty
from questions left join syntheses on syntheses.question_id = questions.id
order by questions.intervention, questions.id
"""
TERM_COUNTS_SQL = """
select vocabulary.term, vocabulary.definition, count(claims.id) as n
from vocabulary join claims on claims.{column} = vocabulary.term
where vocabulary.field = :field
group by vocabulary.term order by n desc, vocabulary.term
"""

# -- one ranked search (kb/web/search.py): claims, sources and questions by bm25 ---------

SEARCH_SQL = """
select * from (
  select 'claim' as kind, claims.id as key, claims.statement as title,
         snippet(claims_fts, -1, char(2), char(3), '…', 16) as snippet,
         bm25(claims_fts) as rank
  from claims_fts join claims on claims.rowid = claims_fts.rowid
  where claims_fts match :query
  union all
  select 'source', sources.key, coalesce(sources.label, sources.key),
         snippet(sources_fts, -1, char(2), char(3), '…', 16), bm25(sources_fts)
  from sources_fts join sources on sources.rowid = sources_fts.rowid
  where sources_fts match :query
  union all
  select 'question', questions.id, questions.question,
         snippet(questions_fts, -1, char(2), char(3), '…', 16), bm25(questions_fts)
  from questions_fts join questions on questions.rowid = questions_fts.rowid
  where questions_fts match :query
) order by rank limit :limit
"""
SYNONYMS_SQL = "select term, synonyms from vocabulary where synonyms is not null"
