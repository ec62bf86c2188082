"""gzip for the served pages (kb/web/compression.py): answers to a client that accepts
gzip are an ordinary gzip stream of the same bytes, whole or streamed; small answers and
clients that do not accept gzip get the page as it is."""

import asyncio
import gzip
import re

import httpx
import pytest

from helpers import FIXTURES, datasette_for
from kb.db import build


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("compression") / "kb.db"
    build.build(path, FIXTURES / "synthesis")
    return datasette_for(path)


def raw(datasette, path, encoding):
    """The answer as sent, its body not decoded."""
    async def go():
        transport = httpx.ASGITransport(app=datasette.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            async with c.stream("GET", path, headers={"accept-encoding": encoding}) as r:
                return r.status_code, r.headers, b"".join([b async for b in r.aiter_raw()])
    return asyncio.run(go())


def timeless(page: bytes) -> bytes:
    """The page without Datasette's "Queries took 19.7ms", which differs between asks."""
    return re.sub(rb"Queries took [0-9.]+ms", b"Queries took ?ms", page)


@pytest.mark.parametrize("path", ["/kb/claims", "/kb/sources?_size=max",
                                  "/kb/claims.csv?_stream=on&_size=max"])
def test_a_gzip_answer_is_a_standard_gzip_stream_of_the_same_page(served, path):
    status, headers, zipped = raw(served, path, "gzip")
    _, plain_headers, plain = raw(served, path, "identity")
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert "content-encoding" not in plain_headers
    assert timeless(gzip.decompress(zipped)) == timeless(plain)
    assert len(zipped) < len(plain) / 1.5


def test_a_small_answer_is_sent_as_it_is(served):
    status, headers, body = raw(served, "/kb/questions.json?_shape=array&_size=1&_col=id", "gzip")
    assert status == 200 and len(body) < 1000
    assert "content-encoding" not in headers and body.startswith(b"[")
