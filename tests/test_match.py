"""Citation matching: parsing printed citations, ranking known works, and its accuracy
on a labelled set made by damaging real PubMed records."""

import csv
import json
import random

import pytest

from helpers import DATA, FIXTURES, append, reference_row
import citation_strings
from kb.data import fuzzy as match

RECORDS = FIXTURES / "match" / "records.csv"
MODLIN = ("Modlin IM, Lye KD, Kidd M. A 5-decade analysis of 13,715 carcinoid tumors. "
          "Cancer. 2003;97:934-959.")


def test_a_vancouver_citation_is_split_into_its_parts():
    ref = match.parse_citation(MODLIN)
    assert (ref.author, ref.title, ref.journal, ref.year, ref.volume, ref.page) == (
        "modlin", "a 5 decade analysis of 13 715 carcinoid tumors", "cancer", "2003", "97",
        "934")


@pytest.mark.parametrize("text, author, year, volume, page", [
    ("Stump R, Haueis S, Kalt N, et al. Transplantation and surgical strategies. JMIR Res "
     "Protoc 2013;2:e58", "stump", "2013", "2", "e58"),
    ("Yao JC, Hassan M, Phan A, et al. One hundred years after carcinoid. J Clin Oncol. "
     "2008 Jun 20;26(18):3063-72.", "yao", "2008", "26", "3063"),
    ("van der Berg AB, Klöppel G. A title. Virchows Arch. 2006;449(4):395-401.",
     "van der berg", "2006", "449", "395"),
    ("Touzios et al.", "touzios", "", "", ""),
])
def test_authors_and_imprints_in_the_usual_forms(text, author, year, volume, page):
    ref = match.parse_citation(text)
    assert (ref.author, ref.year, ref.volume, ref.page) == (author, year, volume, page)


def test_an_abbreviated_journal_with_full_stops_does_not_cut_the_title():
    ref = match.parse_citation("Rinhardt GF, De Orio AJ. Total parenteral nutrition. Surg. "
                               "Clin. North Am. 1977;57(6):1283-301.")
    known = match.work_reference("k", "Total parenteral nutrition.", "Reinhardt GF",
                                 1977, "57", "1283-301")
    assert match.score(ref, known).parts["title"] == 100


def test_kb_match_ranks_the_known_work_first(run):
    result = run("match", "--data", DATA, MODLIN)
    assert result.exit_code == 0
    first = result.output.splitlines()[1].split()
    assert first[:3] == ["100.0", "match", "modlin2003"]


def test_a_surname_alone_is_a_candidate_never_a_match(run):
    result = run("match", "--data", DATA, "Touzios et al.", "--format", "json")
    [answer] = json.loads(result.output)
    top = answer["candidates"][0]
    assert top["key"] == "touzios" and top["match"] is False


def test_kb_match_reads_a_file_and_writes_csv(run, tmp_path):
    citations = tmp_path / "cited.txt"
    citations.write_text(MODLIN + "\n\nCompletely unrelated words about gardening. 1901.\n",
                         encoding="utf-8")
    result = run("match", "--data", DATA, "--file", citations, "--format", "csv",
                 "--limit", "1")
    rows = list(csv.DictReader(result.output.splitlines()))
    assert [(r["query"], r["key"], r["match"]) for r in rows] == [
        ("line 1", "modlin2003", "yes"), ("line 3", rows[1]["key"], "no")]


def test_unlinked_list_entries_get_candidates(run, data_dir):
    append(data_dir / "citations.csv",
           "alpha2001,9,,\"Gamma G. Counting, in a cohort of fixtures. J Fixtures "
           "1999;3:e5\",https://example.org/x,")
    result = run("match", "--data", data_dir, "--unlinked", "--format", "csv")
    rows = list(csv.DictReader(result.output.splitlines()))
    assert rows[0]["key"] == "gamma1999" and rows[0]["match"] == "yes"
    assert rows[0]["query"].endswith("alpha2001 [9]")


def test_kb_match_needs_exactly_one_input(run):
    assert run("match", "--data", DATA).exit_code == 2
    assert run("match", "--data", DATA, MODLIN, "--unlinked").exit_code == 2


def test_kb_match_refuses_invalid_data(run, data_dir):
    append(data_dir / "references.csv", "bad key,,,,,,,,,,,,,,review,pubmed,")
    result = run("match", "--data", data_dir, MODLIN)
    assert result.exit_code == 1
    assert result.stdout == (f"{data_dir / 'references.csv'}:5:1: key 'bad key' is not valid: "
                             "expected modlin2003\n")


def test_duplicate_works_are_found_through_the_index(run, data_dir):
    with (data_dir / "references.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(reference_row(
            key="gamma1999b", title="Counting in a cohort of fixture", authors="Gamma G",
            year="1999", pub_type="cohort", verified_from="pubmed"))
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1
    assert result.stdout == (f"{data_dir / 'references.csv'}:5:15: title and year nearly "
                             "identical to 'gamma1999' (line 3): the same work twice?\n")


def records():
    with RECORDS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["authors"] = [a for a in row["authors"].split("; ") if a]
    return rows


def test_precision_and_recall_on_damaged_real_citations():
    """Known: 400 real records; asked: each damaged 2-4 ways, plus 200 records that are
    not known (the right answer there is no match)."""
    rows = records()
    rng = random.Random(20251122)
    rng.shuffle(rows)
    known, unknown = rows[:400], rows[400:]
    index = match.Index(match.work_reference(r["pmid"], r["title"], "; ".join(r["authors"]),
                                             r["year"], r["volume"], r["pages"])
                        for r in known)
    asked = [(r, r["pmid"]) for r in known] + [(r, None) for r in unknown]
    right = wrong = 0
    for record, truth in asked:
        text, kinds = citation_strings.perturbed(record, rng)
        best = index.best(match.parse_citation(text))
        if best is not None and best.key == truth:
            right += 1
        elif best is not None:
            wrong += 1
    precision, recall = right / (right + wrong), right / len(known)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)


def test_perturbations_damage_the_citation_as_named():
    record = {"title": "Transplantation and surgical strategies in patients with "
              "neuroendocrine liver metastases", "authors": ["Stump R", "Haueis S",
                                                             "Kalt N", "Zwahlen M"],
              "journal": "JMIR research protocols", "journal_abbrev": "JMIR Res Protoc",
              "year": "2013", "volume": "2", "issue": "2", "pages": "934-959"}
    rng = random.Random(1)
    seen = set()
    for _ in range(60):
        text, kinds = citation_strings.perturbed(record, rng)
        seen.update(kinds)
        assert ("JMIR Res Protoc." in text) == ("journal" in kinds)
        assert ("et al" in text) == ("et-al" in kinds)
        assert ("934-59" in text) == ("short-pages" in kinds)
        assert ("(2)" in text) == ("no-issue" not in kinds)
        assert ("Stump R," in text) == ("author-typo" not in kinds)
    assert seen == set(citation_strings.PERTURBATIONS)
