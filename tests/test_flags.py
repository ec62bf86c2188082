"""The plausibility checks (kb/evidence/flags.py): each rule with a case that trips it
and one that does not."""

import pytest

from kb.evidence import flags as rules
from kb.evidence.model import Claim, Work

WORKS = {key: Work(key, pub_type, key, True, None) for key, pub_type in (
    ("series", "cohort"), ("trial", "rct"), ("review-a", "review"), ("review-b", "review"))}


def claim(id, source="series", **cells) -> Claim:
    row = dict(kind="quantitative", population="nen-liver-metastases",
               intervention="resection", comparator="", outcome="overall-survival",
               timepoint="", measure="proportion", value="", low="", high="", unit="%",
               n="", derived_from="", arm="", interval="", cohort="", events="")
    row.update(cells)
    cites = row.pop("cites", [])
    return Claim(id, source, **row, cites=cites)


def found(*claims) -> list[tuple[str, str, str]]:
    return [(f.rule, f.level, f.claim_id) for f in rules.flags(claims, WORKS)]


def test_survival_rising_with_time_is_flagged_on_both_claims():
    assert found(claim("a", timepoint="1 year", value="50"),
                 claim("b", timepoint="3 years", value="70")) == [
        (rules.DIRECTION, "flag", "a"), (rules.DIRECTION, "flag", "b")]


def test_survival_falling_with_time_is_not():
    assert found(claim("a", timepoint="1 year", value="90"),
                 claim("b", timepoint="36 months", value="70")) == []


def test_survival_of_two_arms_is_compared_within_each_arm():
    assert found(claim("a", timepoint="1 year", value="50", arm="TAE"),
                 claim("b", timepoint="3 years", value="70", arm="TACE")) == []


def test_a_reviews_table_rows_are_compared_within_the_study_each_cites():
    assert found(claim("a", "review-a", timepoint="1 year", value="50", cites=[(1, "x")]),
                 claim("b", "review-a", timepoint="3 years", value="70",
                       cites=[(2, "y")])) == []
    assert len(found(claim("a", "review-a", timepoint="1 year", value="50", cites=[(1, "x")]),
                     claim("b", "review-a", timepoint="3 years", value="70",
                           cites=[(1, "x")]))) == 2


def test_recurrence_falling_with_time_is_flagged_and_rising_is_not():
    falling = found(claim("a", outcome="recurrence", timepoint="1 year", value="40"),
                    claim("b", outcome="recurrence", timepoint="5 years", value="30"))
    assert [rule for rule, _, _ in falling] == [rules.DIRECTION] * 2
    assert found(claim("a", outcome="recurrence", timepoint="1 year", value="20"),
                 claim("b", outcome="recurrence", timepoint="5 years", value="30")) == []


def test_arms_above_the_study_size_claim_are_flagged():
    size = claim("size", "trial", outcome="study-size", measure="count", unit="cases",
                 value="200", n="200")
    over = found(size, claim("drug", "trial", arm="drug", n="120", value="50"),
                 claim("placebo", "trial", arm="placebo", n="100", value="40"))
    assert over == [(rules.ARMS, "flag", "size"), (rules.ARMS, "flag", "drug"),
                    (rules.ARMS, "flag", "placebo")]
    assert found(size, claim("drug", "trial", arm="drug", n="100", value="50"),
                 claim("placebo", "trial", arm="placebo", n="100", value="40")) == []


def test_arms_above_the_whole_studys_own_n_are_flagged_without_a_size_claim():
    assert [r for r, _, _ in found(
        claim("all", "trial", n="150", value="45"),
        claim("drug", "trial", arm="drug", n="100", value="50"),
        claim("placebo", "trial", arm="placebo", n="80", value="40"))] == [rules.ARMS] * 3


def test_a_count_above_its_n_is_flagged():
    assert found(claim("a", measure="count", unit="cases", value="130", n="120")) == [
        (rules.COUNT, "flag", "a")]
    assert found(claim("a", measure="count", unit="cases", value="12", n="120")) == []
    assert found(claim("a", value="60", events="13", n="12")) != []


@pytest.mark.parametrize("value, events, n, flagged", [
    ("30", "45", "100", True),      # 45 / 100 is 45 %, not 30 %: another denominator
    ("30", "30", "100", False),
    ("33.3", "1", "3", False),      # within the rounding of 33.3
    ("33", "1", "3", False),        # 33.33 rounds to 33
    ("34", "1", "3", True),
    ("0", "0", "25", False),
])
def test_a_percentage_and_its_events_must_imply_n(value, events, n, flagged):
    assert bool(found(claim("a", value=value, events=events, n=n))) is flagged


@pytest.mark.parametrize("cells, flagged", [
    (dict(measure="median", unit="months", value="80", low="90", high="120",
          interval="range"), True),
    (dict(measure="median", unit="months", value="100", low="90", high="120",
          interval="range"), False),
    (dict(measure="hazard-ratio", unit="ratio", value="0.5", low="0.6", high="0.9",
          interval="95% CI"), True),
    (dict(measure="hazard-ratio", unit="ratio", value="0.7", low="0.6", high="0.9",
          interval="95% CI"), False),
])
def test_a_value_outside_its_own_interval_is_flagged(cells, flagged):
    result = found(claim("a", **cells))
    assert bool(result) is flagged
    if flagged:
        assert result == [(rules.OUTSIDE, "flag", "a")]


def test_restatements_that_disagree_are_flagged_and_those_that_agree_noted():
    primary = claim("p", value="60", n="100")
    disagree = found(primary, claim("ra", "review-a", value="60", derived_from="p"),
                     claim("rb", "review-b", value="65", derived_from="p"))
    assert disagree == [(rules.RESTATED_DIFFER, "flag", "ra"),
                        (rules.RESTATED_DIFFER, "flag", "rb")]
    agree = found(primary, claim("ra", "review-a", value="60", derived_from="p"),
                  claim("rb", "review-b", value="60.0", derived_from="p"))
    assert agree == [(rules.RESTATED_AGREE, "note", "ra"), (rules.RESTATED_AGREE, "note", "rb")]


def test_claims_of_one_finding_share_its_number_and_findings_are_numbered_in_turn():
    flagged = rules.flags([claim("a", timepoint="1 year", value="50"),
                           claim("b", timepoint="3 years", value="70"),
                           claim("c", measure="count", unit="cases", value="9", n="3")],
                          WORKS)
    assert [(f.flag, f.claim_id) for f in flagged] == [(1, "a"), (1, "b"), (2, "c")]


def test_a_reviews_figures_citing_several_references_are_no_ones_arms():
    review = [claim("size", "review-a", outcome="study-size", measure="count", unit="cases",
                    value="100", n="100", cites=[(1, "x"), (2, "y")]),
              claim("drug", "review-a", arm="drug", n="80", value="50", cites=[(1, "x"), (2, "y")]),
              claim("other", "review-a", arm="placebo", n="70", value="40",
                    cites=[(3, "z"), (4, "w")])]
    assert found(*review) == []
