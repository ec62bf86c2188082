"""Each validation rule, with a data file that breaks it and the exact location reported."""

import pytest

from conftest import append, edit
from kb.data import loader

CLAIM_HEADER_COLUMNS = 21


def problems(data_dir):
    return [str(p) for p in loader.load(data_dir).problems]


def location(path, line_number, needle):
    """path:line:column of needle on that line; a leading comma is the cell before."""
    line = path.read_text(encoding="utf-8").split("\n")[line_number - 1]
    column = line.index(needle) + 1 + needle.startswith(",")
    return f"{path}:{line_number}:{column}"


def test_fixture_is_valid(data_dir):
    assert problems(data_dir) == []


# (file, old text, new text, line, text located on that line, message fragment)
CASES = {
    "required field": (
        "claims.csv", "Abstract,,About four", ",,About four", 2, ",,,About",
        "locator is required"),
    "pmid syntax": (
        "references.csv", "11111111", "1111x111", 2, "1111x111", "a PMID is digits only"),
    "pmcid syntax": (
        "references.csv", "PMC2222222", "2222222", 3, ",2222222,", "a PMCID looks like"),
    "doi syntax": (
        "references.csv", "10.1000/alpha.1", "doi:10.1000/alpha.1", 2, "doi:", "a bare DOI"),
    "year not a number": (
        "references.csv", ",2001,", ",2001a,", 2, "2001a", "year must be a whole number"),
    "year out of range": (
        "references.csv", ",1999,", ",1299,", 3, "1299", "outside 1800-"),
    "vocabulary term": (
        "claims.csv", "metastatic-nen,,,liver", "metastatic-nem,,,liver", 2,
        "metastatic-nem", "did you mean 'metastatic-nen'?"),
    "pub_type vocabulary": (
        "references.csv", ",cohort,https://example.org/gamma", ",cohrt,https://example.org/gamma",
        3, "cohrt", "not a pub_type term"),
    "value not a number": (
        "claims.csv", ",80,,,%,120,", ",80%,,,%,120,", 2, "80%", "value must be a number"),
    "n not an integer": (
        "claims.csv", ",%,120,", ",%,12.5,", 2, "12.5", "n must be a whole number"),
    "n not positive": (
        "claims.csv", ",%,120,", ",%,0,", 2, ",0,", "n must be a positive number"),
    "low above high": (
        "claims.csv", ",13,54,", ",60,54,", 4, "60,54", "low (60) is greater than high (54)"),
    "value above high": (
        "claims.csv", ",proportion,80,,,%,120", ",proportion,80,,70,%,120", 2, "80,,70",
        "value (80) is above high (70)"),
    "percentage over 100": (
        "claims.csv", ",proportion,80,,,%,120", ",proportion,180,,,%,120", 2, "180",
        "outside 0-100"),
    "quantitative without a number": (
        "claims.csv", ",proportion,80,,,%,120,", ",proportion,,,,%,120,", 2, "quantitative",
        "needs value, low or high"),
    "quantitative without a unit": (
        "claims.csv", ",proportion,80,,,%,120,", ",proportion,80,,,,120,", 2, ",,120",
        "needs unit"),
    "qualitative with a number": (
        "claims.csv", "option.,qualitative,all-nen,resection,,,,,,,,,",
        "option.,qualitative,all-nen,resection,,,,,5,,,,", 5, "qualitative",
        "a qualitative claim has no value"),
    "kind not allowed": (
        "claims.csv", "option.,qualitative,", "option.,opinion,", 5, "opinion",
        "quantitative or qualitative"),
    "duplicate key": (
        "references.csv", "delta,,,,,Delta", "gamma1999,,,,,Delta", 4, "gamma1999",
        "duplicate key 'gamma1999'; first on line 3"),
    "duplicate claim id": (
        "claims.csv", "alpha2001-c03,", "alpha2001-c02,", 5, "alpha2001-c02",
        "duplicate id"),
    "duplicate citation number": (
        "citations.csv", "alpha2001,3,", "alpha2001,2,", 4, ",2,",
        "duplicate citing_key/ref_number"),
    "claim source unknown": (
        "claims.csv", "alpha2001-c03,alpha2001,", "alpha2001-c03,alpha2010,", 5, "alpha2010",
        "source_key 'alpha2010' is not a key in references.csv"),
    "citation cites unknown work": (
        "citations.csv", "alpha2001,2,delta,", "alpha2001,2,deltta,", 3, "deltta",
        "cited_key 'deltta' is not a key in references.csv"),
    "citing work unknown": (
        "citations.csv", "alpha2001,3,", "omega2001,3,", 4, "omega2001",
        "citing_key 'omega2001' is not a key"),
    "cites a number not in the reference list": (
        "claims.csv", '",2-3,Five', '",2-4,Five', 4, "2-4",
        "cites 4 but citations.csv has no such entry"),
    "cites syntax": (
        "claims.csv", '",2-3,Five', '",2 - 3,Five', 4, "2 - 3", "reference numbers like"),
    "cites range backwards": (
        "claims.csv", '",2-3,Five', '",3-2,Five', 4, "3-2", "runs backwards"),
    "derived_from unknown": (
        "claims.csv", ",gamma1999-c01,", ",gamma1999-c09,", 3, "gamma1999-c09",
        "derived_from 'gamma1999-c09' is not an id in claims.csv"),
    "derived_from a work not cited": (
        "claims.csv", ",gamma1999-c01,", ",alpha2001-c03,", 3, "alpha2001-c03",
        "which this claim's cites (1) do not point to"),
    "verified_from missing": (
        "citations.csv", "Delta et al.,https://example.org/alpha,", "Delta et al.,,", 3, ",,",
        "verified_from is required"),
    "verified_from not a source": (
        "claims.csv", "alpha2001-c03,alpha2001,Abstract,,Surgery is the preferred option.,"
        "qualitative,all-nen,resection,,,,,,,,,,,https://example.org/alpha",
        "alpha2001-c03,alpha2001,Abstract,,Surgery is the preferred option.,"
        "qualitative,all-nen,resection,,,,,,,,,,,from memory", 5, "from memory",
        "verified_from 'from memory' is not valid"),
    "spaces around a cell": (
        "references.csv", ",Gamma G,", ",Gamma G ,", 3, "Gamma G ", "remove the spaces"),
    "same doi twice": (
        "references.csv", "PMC2222222,,", "PMC2222222,10.1000/ALPHA.1,", 3, "10.1000/ALPHA.1",
        "same doi as 'alpha2001' (line 2)"),
    "vocabulary field unknown": (
        "vocabulary.csv", "unit,%,", "units,%,", 11, "units", "field 'units' is not valid"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_rule_reports_location(data_dir, case):
    name, old, new, line, needle, message = CASES[case]
    path = data_dir / name
    edit(path, old, new)
    found = problems(data_dir)
    where = location(path, line, needle)
    assert any(p.startswith(where + ": ") and message in p for p in found), (
        f"expected {where}: ...{message}... in\n" + "\n".join(found))


def test_near_identical_title_same_year_is_a_duplicate(data_dir):
    path = data_dir / "references.csv"
    append(path, "beta2001,,,,Synthetic review of test fixture,Beta B,Journal of Fixtures,"
                 "2001,,,,,,,review,https://example.org/beta,")
    assert problems(data_dir) == [
        f"{location(path, 5, 'Synthetic')}: title and year nearly identical to 'alpha2001' "
        "(line 2): the same work twice?"]


def test_similar_title_other_year_is_not_a_duplicate(data_dir):
    append(data_dir / "references.csv",
           "beta2002,,,,Synthetic review of test fixtures,Beta B,Journal of Fixtures,"
           "2002,,,,,,,review,https://example.org/beta,")
    assert problems(data_dir) == []


def test_every_problem_is_collected_not_just_the_first(data_dir):
    edit(data_dir / "references.csv", "11111111", "x")
    edit(data_dir / "claims.csv", ",13,54,", ",60,54,")
    edit(data_dir / "citations.csv", "alpha2001,2,delta,", "alpha2001,2,nobody,")
    found = problems(data_dir)
    assert len(found) == 3
    assert {p.split(":")[0].rsplit("/", 1)[-1] for p in found} == {
        "references.csv", "claims.csv", "citations.csv"}


def test_patterns_never_match_across_lines():
    """Patterns are checked on a whole column joined by newlines; none may span two cells."""
    import re

    from kb.data import schema

    for spec in schema.FILES:
        for field in spec.fields:
            if field.pattern:
                value = field.example or "a"
                assert not re.fullmatch(field.pattern, f"{value}\n{value}"), field.name


def test_vocabulary_terms_are_slugs_except_units(data_dir):
    edit(data_dir / "vocabulary.csv", "population,all-nen,", "population,All NEN,")
    edit(data_dir / "claims.csv", "all-nen", "All NEN", count=2)
    found = problems(data_dir)
    assert f"{location(data_dir / 'vocabulary.csv', 5, 'All NEN')}: population term " \
           "'All NEN' is not a lowercase slug (letters, digits and . _ / % -)" in found
    assert len(found) == 1  # the unit '%' is fine, and so are the claims using the term


def test_reference_numbers_must_be_positive(data_dir):
    edit(data_dir / "citations.csv", "alpha2001,3,", "alpha2001,0,")
    found = problems(data_dir)
    assert any(p.startswith(location(data_dir / "citations.csv", 4, ",0,") + ": ref_number "
                            "'0' is not valid") for p in found), found


def test_unreadable_vocabulary_is_one_problem_not_thousands(data_dir):
    edit(data_dir / "vocabulary.csv", "field,term,definition", "field,term,meaning")
    found = problems(data_dir)
    assert len(found) == 2, found  # unknown column 'meaning', missing 'definition'
