"""Cacheable answers (kb/web/caching.py): an immutable knowledge base's pages carry a
strong ETag naming the build and Cache-Control, a matching If-None-Match is a 304, errors
are never tagged, gzip answers have a tag of their own, and a mutable database is left
alone."""

import asyncio

import httpx
import pytest
from datasette.app import Datasette

from helpers import FIXTURES, datasette_for
from kb.db import build


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("caching") / "kb.db"
    build.build(path, FIXTURES / "synthesis")
    return path


def ask(datasette, path, **headers):
    async def go():
        transport = httpx.ASGITransport(app=datasette.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get(path, headers=headers)
    return asyncio.run(go())


def test_a_page_carries_a_strong_etag_naming_the_build_and_revalidates_to_304(db):
    served = datasette_for(db)
    first = ask(served, "/kb/claims", **{"accept-encoding": "identity"})
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"nelm-kb-') and "-gzip" not in tag
    assert first.headers["cache-control"] == "public, max-age=60, must-revalidate"
    again = ask(served, "/kb/claims", **{"if-none-match": tag, "accept-encoding": "identity"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag


def test_a_gzip_answer_has_a_tag_of_its_own(db):
    served = datasette_for(db)
    plain = ask(served, "/kb/-/question/q-resection", **{"accept-encoding": "identity"})
    zipped = ask(served, "/kb/-/question/q-resection", **{"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert zipped.text == plain.text   # the client decompresses it to the same page


def test_errors_are_never_tagged(db):
    served = datasette_for(db)
    for path in ("/kb/no_such_table", "/kb/claims?outcome=overal-survival"):
        response = ask(served, path)
        assert response.status_code >= 400 and "etag" not in response.headers


def test_a_new_build_changes_the_tag(db, tmp_path):
    other = tmp_path / "kb.db"
    build.build(other, FIXTURES / "minimal")
    assert (ask(datasette_for(db), "/kb/claims").headers["etag"]
            != ask(datasette_for(other), "/kb/claims").headers["etag"])


def test_a_mutable_database_is_sent_without_a_tag(db):
    mutable = Datasette([str(db)])
    response = ask(mutable, "/kb/claims")
    assert response.status_code == 200 and "etag" not in response.headers


def test_a_second_request_for_a_page_is_answered_from_the_bounded_cache(db):
    served = datasette_for(db)
    first = ask(served, "/kb/-/question/q-resection")
    second = ask(served, "/kb/-/question/q-resection")
    assert "x-kb-cache" not in first.headers and second.headers["x-kb-cache"] == "hit"
    assert second.text == first.text and second.headers["etag"] == first.headers["etag"]
    # another representation, a personal request and an error are never served from it
    assert "x-kb-cache" not in ask(served, "/kb/-/question/q-resection",
                                   **{"accept-encoding": "identity"}).headers
    assert "x-kb-cache" not in ask(served, "/kb/-/question/q-resection",
                                   cookie="ds_actor=x").headers
    ask(served, "/kb/no_such_table")
    assert "x-kb-cache" not in ask(served, "/kb/no_such_table").headers


def test_the_cache_keeps_at_most_its_capacity_and_drops_the_least_recent():
    from kb.web.caching import Answers

    kept = Answers(capacity=10, item=6)
    kept.put(("a",), 200, [], b"12345")
    kept.put(("b",), 200, [], b"12345")
    assert kept.get(("a",)) is not None           # a is now the most recent
    kept.put(("c",), 200, [], b"12345")           # over 10 bytes: b goes
    assert kept.get(("b",)) is None and kept.get(("a",)) and kept.get(("c",))
    assert kept.size == 10
    kept.put(("big",), 200, [], b"1234567")       # above the item cap: not kept
    kept.put(("err",), 404, [], b"x")             # an error: not kept
    assert kept.get(("big",)) is None and kept.get(("err",)) is None
