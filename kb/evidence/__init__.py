"""The evidence layer: where a claim's numbers come from, and where claims disagree.

Computed by `kb build` (and `kb validate --evidence`) from the curated claims, the
reference lists and the cached abstracts; nothing here reads or writes files. The
modules: `model` (the named records), `numbers` (finding and comparing figures),
`trails`, `conflicts`, `compute` (both, for a data set) and `report` (what
`kb validate --evidence` prints).

Trails. A claim cites reference numbers; each resolves through the stating work's
reference list to a cited work: one *hop*. A hop's status says what the cited work
shows for the claim's figures:

- unverified: the cited work is not identified yet (no list entry, or a work known
  only by a name, or whose kind of publication has not been seen);
- matches / differs: the claim restates (`derived_from`) a claim of the cited work,
  and the figures are the same (allowing rounding) or not: a possible distortion;
- cites a review: the cited work is itself secondary (a review, guideline, book...)
  and no claim of it is linked to follow further;
- matches / not found: the cited work's cached title and abstract do or do not
  contain the claim's numbers;
- not checked: the cited work is identified but there is nothing to check against.

When the restated claim sits in a secondary work, its own citations are followed in
turn (depth 2, 3, ...), so a trail ends at primary data, at an unknown, or at a review.

Conflicts. Quantitative claims from different works about the same population,
intervention, comparator, outcome, timepoint, measure and unit whose ranges do not
overlap ("values differ"; outcomes that are not one quantity, such as primary-site,
are left out); and claims whose populations nest (one is a `broader` term
of the other) with ranges that do not overlap ("different denominators": "~10 % of
all patients" against "~80 % of metastatic patients"). Each claim is paired with its
nearest disagreeing claim above and below, not with every one: n claims about one
quantity give at most 2n pairs, which a reader can follow and a build can afford.
"""
