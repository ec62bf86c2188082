"""Each validation rule, with a data file that breaks it and the exact location reported."""

import csv
import datetime

import pytest

from helpers import FIXTURES, append, edit
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


# one rule broken a case: tests/fixtures/rules/cases.csv (see the README.md beside it)
CASES = list(csv.DictReader((FIXTURES / "rules" / "cases.csv").open(encoding="utf-8",
                                                                     newline="")))


def expected_problem(path, case) -> str:
    """The problem the case must give, as kb validate prints it."""
    message = case["message"].replace("{next year}", str(datetime.date.today().year + 1))
    return f"{location(path, int(case['line']), case['at'])}: {message}"


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_rule_reports_location(data_dir, case):
    path = data_dir / case["file"]
    edit(path, case["old"], case["new"])
    found = problems(data_dir)
    expected = expected_problem(path, case)
    assert expected in found, f"expected {expected} in\n" + "\n".join(found)


def test_the_cases_have_names_of_their_own():
    assert len({c["case"] for c in CASES}) == len(CASES) == 34


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


def test_unreadable_vocabulary_is_one_problem_not_thousands(data_dir):
    edit(data_dir / "vocabulary.csv", "field,term,definition", "field,term,meaning")
    found = problems(data_dir)
    assert len(found) == 2, found  # unknown column 'meaning', missing 'definition'
