"""The database's views, declared as data: their SQL, in the order `kb build` creates
them, and what each holds (Datasette's metadata shows it, kb/web/metadata.py).
"""

from __future__ import annotations

# The views, in the order they are created (a view may use those before it). rests_on is
# the one join of a claim's cited numbers to the list entries and works they name: the
# claim_evidence view, the row pages' panels and the trails read it. It starts from
# claims (a claim citing nothing has one row, its ref_number blank) so that SQLite
# flattens it into the queries that use it and reads it through their indexes; a view
# joined on the right of a LEFT JOIN would be materialised whole for every query.
VIEWS: dict[str, str] = {
    "rests_on": """
select
  claims.id as claim_id,
  claims.source_key as citing_key,
  claim_citations.ref_number,
  claim_citations.cited_key,
  coalesce(cited.label, citations.cited_as) as label,
  cited.pmid,
  cited.doi,
  cited.pub_type
from claims
left join claim_citations on claim_citations.claim_id = claims.id
left join citations on citations.citing_key = claim_citations.citing_key
  and citations.ref_number = claim_citations.ref_number
left join sources as cited on cited.key = claim_citations.cited_key
""",
    "claim_evidence": """
select
  claims.id as claim_id,
  claims.statement,
  claims.kind,
  claims.population,
  claims.intervention,
  claims.outcome,
  claims.timepoint,
  claims.value,
  claims.low,
  claims.high,
  claims.unit,
  claims.n,
  claims.source_key,
  stated_in.label as stated_in,
  stated_in.pmid as source_pmid,
  stated_in.doi as source_doi,
  claims.locator,
  claims.cites,
  rests_on.ref_number,
  rests_on.cited_key,
  rests_on.label as rests_on,
  rests_on.pmid as cited_pmid,
  rests_on.doi as cited_doi,
  case
    when rests_on.ref_number is null then 'no citation printed'
    when rests_on.cited_key is null then 'reference not yet known'
    else 'known'
  end as support
from rests_on
join claims on claims.id = rests_on.claim_id
join sources as stated_in on stated_in.key = claims.source_key
order by claims.id, rests_on.ref_number
""",
}

VIEW_DESCRIPTIONS = {
    "rests_on": "Each number a claim cites, with the reference-list entry and the work it "
    "names (blank while the entry is not known); a claim citing nothing has one row with "
    "no number.",
    "claim_evidence": "Each claim with the work it is stated in and, one row per cited "
    "reference, the work it rests on.",
}
