"""Guideline questions end to end on the synthesis fixture (tests/fixtures/synthesis):
which claims answer a question and why the others are left out, the pooled row, the
question page and its forest plot, the summary-of-findings exports, and the bad input
the validator refuses."""

import csv
import html
import html.parser
import io
import re
import shutil
import sqlite3

import pypandoc
import pytest

from helpers import FIXTURES, datasette_for, edit, getter
from kb.db import build
from kb.export import sof


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthesis") / "kb.db"
    build.build(path, FIXTURES / "synthesis")
    return path


@pytest.fixture(scope="module")
def conn(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def get(db):
    return getter(datasette_for(db))


@pytest.fixture
def synthesis_dir(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "synthesis", target)
    return target


def studies(conn, question):
    return {r["claim_id"]: (r["included"], r["reason"]) for r in conn.execute(
        "select * from synthesis_studies where question_id = ?", (question,))}


def test_each_claim_answering_the_question_is_pooled_or_says_why_not(conn):
    assert studies(conn, "q-resection") == {
        "s2001-c01": (1, None),
        "s2005-c01": (1, None),   # a narrower population answers the broader question
        "s2012-c01": (1, None),
        "rev2020-c02": (1, None),  # a review table's row stands for the study it cites
        "s2001-c02": (0, "timepoint 3 years, not 5 years"),
        "s2001-c03": (0, "timepoint 1 year, not 5 years"),
        "s2001-c04": (0, "a median: listed, not pooled"),
        "s2010-c01": (0, "same cohort as s2012-c01 (elk-series), which has the largest n"),
        "s2010-c02": (0, "no n: its weight is unknown"),
        "rev2020-c01": (0, "restates s2001-c01: counted once, as that primary's claim"),
        "rev2022-c01": (0, "restates s2001-c01: counted once, as that primary's claim"),
        "rev2020-c03": (0, "stated by a review citing 2 references: pooled or summarised "
                           "already, not one study's figure"),
        "ma2018-c01": (0, "stated by a meta-analysis citing no references: pooled or "
                          "summarised already, not one study's figure"),
    }


def test_a_table_row_is_pooled_as_the_study_it_cites(conn):
    row = conn.execute("select * from synthesis_studies where claim_id = 'rev2020-c02'"
                       ).fetchone()
    assert (row["source_key"], row["study_key"], row["events"]) == ("rev2020", "rev2020#3", 35)


def test_the_pooled_row_of_the_worked_example(conn):
    row = dict(conn.execute("select * from syntheses where question_id = 'q-resection'"
                            ).fetchone())
    assert (row["k"], row["n_total"], row["design"], row["certainty"]) == (
        4, 374, "observational", "very low")
    assert [round(row[c], 1) for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                      "i2")] == [55.4, 45.3, 65.1, 17.9, 87.6, 72.5]
    weights = [r[0] for r in conn.execute("select weight from synthesis_studies where "
                                           "question_id = 'q-resection' and included")]
    assert sum(weights) == pytest.approx(100)


def test_a_single_randomized_study_stands_alone_and_starts_high(conn):
    row = dict(conn.execute("select * from syntheses where question_id = 'q-hr'").fetchone())
    assert (row["method"], row["k"], row["estimate"], row["ci_low"], row["ci_high"],
            row["design"], row["certainty"]) == ("single study", 1, 0.6, 0.4, 0.9,
                                                 "randomized", "moderate")
    assert row["tau2"] is None and row["pi_low"] is None


def test_a_question_nothing_answers_has_a_row_saying_so(conn):
    row = dict(conn.execute("select * from syntheses where question_id = 'q-empty'"
                            ).fetchone())
    assert (row["method"], row["k"], row["estimate"], row["certainty"]) == (
        "no poolable study", 0, None, None)


def test_overlapping_author_groups_are_flagged_not_merged(conn):
    flagged = conn.execute("select claim_id, message from claim_flags where rule = "
                           "'suspected overlap'").fetchall()
    assert [r["claim_id"] for r in flagged] == ["s2001-c01", "s2005-c01"]
    assert "share 2 authors (ant, bee), n 100 and 104" in flagged[0]["message"]
    assert studies(conn, "q-resection")["s2005-c01"] == (1, None)


def test_the_question_page_answers_then_lists_every_study(get):
    page = get("/kb/-/question/q-resection").text
    assert "55.4 % (95% CI 45.3–65.1)" in page
    assert "⊕◯◯◯ very low" in page
    assert page.index("Answer") < page.index("Forest plot") < page.index(
        "Evidence profile") < page.index("Certainty of the evidence")
    for reason in ("same cohort as s2012-c01", "a median: listed, not pooled"):
        assert reason in page
    assert "I² 72 %" in page                     # what the data suggest on inconsistency
    assert "The series disagree." in page       # the curator's reason
    assert "share 2 authors" in page            # the overlap flag beside its study


def test_a_question_with_no_poolable_study_says_so_and_is_not_an_error(get):
    page = get("/kb/-/question/q-empty").text
    assert "No study can be pooled for this question yet." in page
    assert "kb-forest" not in page


def test_an_unknown_question_is_a_400_with_the_nearest_question(get):
    response = get("/kb/-/question/q-resektion", status=400)
    assert "question 'q-resektion' is not a question (did you mean 'q-resection'?)" \
        in html.unescape(response.text)


def test_the_forest_plot_links_each_row_to_its_claim_and_draws_the_pooled_diamond(get):
    svg = get("/kb/-/question/q-resection.svg").text
    assert svg.count('class="kb-forest-row"') == 4
    assert 'href="/kb/claims/s2001-c01"' in svg
    assert "kb-forest-diamond" in svg and "kb-forest-pi" in svg
    assert "60.0 % (49.7–69.7) · n 100" in svg   # value, Clopper-Pearson CI and n


def test_a_ratio_is_drawn_on_a_log_axis_with_a_line_at_one(get):
    svg = get("/kb/-/question/q-hr.svg").text
    assert "ratio, log scale" in svg and "kb-forest-null" in svg
    assert "0.60 (0.40–0.90) · n 200" in svg


def test_claim_and_source_pages_show_their_flags(get):
    claim = get("/kb/claims/trial2015-c05").text
    assert "flag · outside its interval: trial2015-c05: value 0.5 but its 95% CI does not " \
           "contain it (0.6–0.9)" in claim
    source = get("/kb/sources/s2012").text
    assert "wrong denominator" in source and "count above n" in source


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


ROW = ["overall-survival at 5 years — resection", "4", "374",
       "55.4 % (45.3–65.1; PI 17.9–87.6), I² 72 %", "⊕◯◯◯ very low (a, b)"]


def test_summary_of_findings_as_markdown(conn):
    text = sof.render(conn, ["q-resection"], "markdown")
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("| overall-survival")]
    assert [cell.strip() for cell in table[0].strip("|").split("|")][:5] == ROW
    assert "a. q-resection, risk-of-bias (serious): Retrospective series." in text
    assert "b. q-resection, inconsistency (very serious): The series disagree." in text
    # the pooled studies numbered by first use: heaviest first, as the table lists them
    assert "Studies: [1], [2], [3], [4]." in table[0]
    refs = text[text.index("## References"):]
    assert refs.index("1. Elk E, Fox F. Resection series three, update.") < refs.index(
        "2. Ant A, Bee B, Dog D.") < refs.index("4. Ibis I. A review with a table")


def test_summary_of_findings_as_html_and_csv(conn):
    parser = _Cells()
    parser.feed(sof.render(conn, ["q-resection"], "html"))
    assert parser.rows[1][:5] == ROW
    rows = list(csv.reader(io.StringIO(sof.render(conn, ["q-resection"], "csv"))))
    assert rows[0][:3] == ["Outcome", "Studies (k)", "Participants"]
    assert rows[1][:5] == ROW


def test_summary_of_findings_as_docx_reads_back(conn, tmp_path):
    path = tmp_path / "sof.docx"
    path.write_bytes(sof.render(conn, None, "docx"))
    parser = _Cells()
    parser.feed(pypandoc.convert_file(str(path), "html", format="docx"))
    rows = [[" ".join(cell.split()) for cell in row] for row in parser.rows]
    assert rows[0][:3] == ["Outcome", "Studies (k)", "Participants"]
    # all three questions: the footnotes run a (q-hr), b and c (q-resection)
    assert ROW[:4] + ["⊕◯◯◯ very low (b, c)"] in [row[:5] for row in rows]
    assert ["overall-survival at 5 years — embolization", "0", "", "no poolable study",
            "not rated: nothing pooled"] in [row[:5] for row in rows]
    text = " ".join(pypandoc.convert_file(str(path), "plain", format="docx").split())
    assert "c. q-resection, inconsistency (very serious): The series disagree." in text


def test_kb_export_sof_writes_a_file_and_refuses_an_unknown_question(run, db, tmp_path):
    out = tmp_path / "sof.docx"
    result = run("export", db, "--data", FIXTURES / "synthesis", "-f", "sof", "--as", "docx",
                 "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"
    result = run("export", db, "--data", FIXTURES / "synthesis", "-f", "sof", "--question",
                 "q-resektion")
    assert result.exit_code == 2
    assert "no question 'q-resektion' in the database; the questions are: q-empty, q-hr, " \
           "q-resection" in result.output
    result = run("export", db, "--data", FIXTURES / "synthesis", "-f", "sof", "--as", "docx")
    assert result.exit_code == 2 and "name it with -o FILE" in result.output


def test_the_page_offers_its_summary_of_findings_as_downloads(get):
    response = get("/kb/-/question/q-resection.sof.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="sof-q-resection.csv"' in response.headers["content-disposition"]
    assert get("/kb/-/question/q-resection.sof.docx").content[:2] == b"PK"


def test_validate_evidence_prints_the_flags_as_notes(run):
    result = run("validate", "--data", FIXTURES / "synthesis", "--evidence")
    assert result.exit_code == 0, result.output
    assert ("note: s2012-c03: flag 5 (wrong denominator): s2012-c03: 45 events at 30 % imply "
            "about 150 in the denominator, not n 100: were procedures or lesions counted as "
            "patients?") in result.output
    assert "plausibility: 8 flags on 14 claims, 0 notes" in result.output


BAD = [
    ("questions.csv", "q-empty,How many are alive five years after embolization?,"
     "nen-liver-metastases,embolization", "q-empty,How many are alive five years after "
     "embolization?,nen-liver-metastases,embolisation", 3, "embolisation",
     "intervention 'embolisation' is not an intervention term in vocabulary.csv (did you "
     "mean 'embolization'?)"),
    ("certainty.csv", "q-hr,imprecision", "q-hx,imprecision", 5, "q-hx",
     "question_id 'q-hx' is not an id in questions.csv (did you mean 'q-hr'?)"),
    ("certainty.csv", "q-hr,imprecision", "q-hr,precision", 5, "precision",
     "domain 'precision' is not valid: one of risk-of-bias, inconsistency, indirectness, "
     "imprecision, publication-bias"),
    ("claims.csv", "placebo,drug,placebo,overall-survival,5 years,proportion,40,,,,%,100",
     "placebo,drug,placebo,overall-survival,5 years,proportion,40,,,,%,210", 15, "210",
     "arm 'placebo' has n 210, more than the 200 patients of its study (trial2015's "
     "study-size claims)"),
    ("claims.csv", "%,80,,elk-series", "%,80,,other-series", 7, "other-series", None),
    ("claims.csv", ",%,120,,elk-series", ",%,120,,other-series", 9, "other-series", None),
]


@pytest.mark.parametrize("case", [
    ("an unknown term in a question", BAD[0]), ("a certainty row for an unknown question", BAD[1]),
    ("an unknown GRADE domain", BAD[2]), ("an arm above its study", BAD[3])],
    ids=lambda c: c[0])
def test_bad_questions_certainty_and_arms_are_located_errors_and_nothing_is_built(
        run, synthesis_dir, tmp_path, case):
    name, old, new, line, at, message = case[1]
    edit(synthesis_dir / name, old, new)
    text = (synthesis_dir / name).read_text().splitlines()[line - 1]
    column = text.index(at) + 1
    result = run("build", tmp_path / "kb.db", "--data", synthesis_dir)
    assert result.exit_code == 1
    assert f"{synthesis_dir / name}:{line}:{column}: {message}" in result.output
    assert not (tmp_path / "kb.db").exists()


def test_one_cohort_key_across_two_populations_is_a_located_error(run, synthesis_dir,
                                                                   tmp_path):
    edit(synthesis_dir / "claims.csv", "pancreatic-nen-lm,resection,,,overall-survival,"
         "5 years,proportion,50,,,,%,104,,", "pancreatic-nen-lm,resection,,,overall-survival,"
         "5 years,proportion,50,,,,%,104,,elk-series")
    path = synthesis_dir / "claims.csv"
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("s2005-c01"))
    later = next(i for i, text in enumerate(lines, 1) if text.startswith("s2010-c01"))
    result = run("build", tmp_path / "kb.db", "--data", synthesis_dir)
    assert result.exit_code == 1
    column = lines[later - 1].index("elk-series") + 1
    assert (f"{path}:{later}:{column}: cohort 'elk-series' is population "
            f"'nen-liver-metastases' here but 'pancreatic-nen-lm' on line {line}: one cohort "
            "is one set of patients") in result.output
    assert not (tmp_path / "kb.db").exists()


def test_an_interval_must_come_with_low_or_high_and_they_with_it(run, synthesis_dir):
    edit(synthesis_dir / "claims.csv", "0.6,0.4,0.9,95% CI", "0.6,0.4,0.9,")
    edit(synthesis_dir / "claims.csv", "median,80,,,,months", "median,80,,,IQR,months")
    result = run("validate", "--data", synthesis_dir)
    assert result.exit_code == 1
    assert "interval is required with low or high: say whether they are a range, a 95% " \
           "CI or an IQR" in result.output
    assert "interval 'IQR' names what low and high are, but the claim has neither" \
        in result.output


def test_the_evidence_plot_puts_ratios_on_a_log_axis_of_their_own(get):
    svg = get("/kb/-/plot/outcome/overall-survival.svg").text
    assert "hazard-ratio (log scale)" in svg and 'class="kb-plot-null"' in svg
    assert "Unit: %" in svg
    # each bar's figure and n beside it
    assert "0.6 (0.4–0.9) ratio · n 200</text>" in svg
    assert "60% · n 100</text>" in svg


def test_the_plot_page_offers_one_timepoint_at_a_time(get):
    page = html.unescape(get("/kb/-/plot/outcome/overall-survival").text)
    assert 'class="kb-plot-timepoints"' in page
    assert 'href="/kb/-/plot/outcome/overall-survival?timepoint=5+years">5 years</a>' in page


def test_an_outcomes_default_plot_has_a_small_panel_per_treatment(get):
    svg = get("/kb/-/plot/outcome/overall-survival.svg").text
    panels = re.findall(r'class="kb-plot-panel">([^<]*)</text>', svg)
    assert "drug · hazard-ratio (log scale)" in panels
    assert "resection · Unit: %" in panels and "placebo · Unit: %" in panels
    one = get("/kb/-/plot/outcome/overall-survival.svg?intervention=resection").text
    assert re.findall(r'class="kb-plot-panel">([^<]*)</text>', one) == ["Unit: %",
                                                                         "Unit: months"]
