"""How a cell of a knowledge base's pages is shown (the render_cell hook): identifiers
as links, blank identifiers of a source as *unverified*, whole numbers without '.0',
verified_from as links, and keys in views and queries as links to their rows."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from markupsafe import Markup

from kb.data.schema import PMID_VERIFIED, VERIFIED_SEPARATOR
from kb.db.tables import TABLES_BY_NAME
from kb.evidence.numbers import plain_number

from .context import KEY_COLUMNS, identifier_url, is_kb, link, row_url

IDENTIFIER_COLUMNS = ("pmid", "pmcid", "doi")
NUMBER_COLUMNS = ("value", "low", "high")
UNVERIFIED = Markup('<em class="unverified" title="not yet verified: blank until a page or '
                    'PubMed record shows it">unverified</em>')


@lru_cache(maxsize=4096)
def cell_kind(column: str, table: str | None) -> tuple[str, str] | None:
    """What render_cell does with a column of a table, decided once per column: most
    cells need nothing, and a page renders thousands of them."""
    kind = next((k for k in IDENTIFIER_COLUMNS if column == k or column.endswith("_" + k)),
                None)
    if kind:
        return ("identifier", kind)
    if column in NUMBER_COLUMNS:
        return ("number", "")
    if column == "verified_from":
        return ("verified", "")
    if table == "questions" and column == "question":
        return ("question", "")
    if column in KEY_COLUMNS and table not in TABLES_BY_NAME:
        # real tables link their foreign keys themselves; views and queries do not
        return ("key", KEY_COLUMNS[column])
    return None


def render(value, column: str, table: str | None, database: str, datasette, row=None):
    """The cell's HTML, or None to let Datasette show it as usual."""
    action = cell_kind(column, table)
    if action is None or not is_kb(datasette, database):
        return None
    what, detail = action
    if value in (None, ""):
        return UNVERIFIED if what == "identifier" and table == "sources" else None
    if what == "identifier":
        shown = link(identifier_url(detail, value), value)
        seen = row["pmid_seen"] if detail == "pmid" and row is not None \
            and "pmid_seen" in row.keys() else None
        if seen and seen != PMID_VERIFIED:
            return shown + Markup(' <em class="unverified" title="not labelled PMID on a '
                                  f'PubMed or PMC page: {seen}">not verified on PubMed</em>')
        return shown
    if what == "number":
        return plain_number(value) if isinstance(value, float) else None  # 13, not 13.0
    if what == "question":   # the question's text leads to its answer
        question_id = row["id"] if row is not None and "id" in row.keys() else None
        if question_id is None:
            return None
        return link(datasette.urls.database(database) + "/-/question/"
                    + quote(str(question_id), safe=""), value)
    if what == "verified":
        return Markup(VERIFIED_SEPARATOR).join(
            link(item, item) if item.startswith(("http://", "https://")) else item
            for item in str(value).split(VERIFIED_SEPARATOR))
    return link(row_url(datasette, database, detail, value), value)
