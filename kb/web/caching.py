"""Cacheable answers: an immutable knowledge base's pages depend only on their URL until
the next build, so every successful answer carries a strong ETag naming the build (the
build_info table's data version and time, and the package version) and Cache-Control,
a request whose If-None-Match names it is answered 304 without rendering anything, and
whole answers are kept in a bounded LRU (capped in bytes, keyed by the URL and whether
the client takes gzip; never errors, never an answer to a request with a cookie or an
authorization). The cache's size is read from $KB_CACHE_MB when the app is made
(`kb serve --cache-mb`; 0 keeps no answers, and the tags, 304s and gzip stay).
Answers are gzip-compressed when the client accepts it (kb/web/compression.py: asgi-gzip's
middleware, with ISA-L doing the compressing); the compressed answer has a tag of its own,
as a strong ETag must. A database served mutable (plain `datasette kb.db`) can change
under a running server, so its answers are sent as they were, without a tag.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections import OrderedDict
from importlib.metadata import PackageNotFoundError, version

from .compression import Compressed
from .context import is_kb

CACHE_CONTROL = (b"cache-control", b"public, max-age=60, must-revalidate")
CACHE_MB = "KB_CACHE_MB"   # the environment variable: MiB of rendered answers kept
CACHE_MB_DEFAULT = 64
CACHE_ITEM_BYTES = 4 * 1024 * 1024  # a larger answer is sent and not kept
# request headers that make an answer someone's own: never cached
PERSONAL = (b"cookie", b"authorization")
BUILD_SQL = "select value from build_info where name in ('data_version', 'built_at') " \
            "order by name"


class Answers:
    """A bounded LRU of whole rendered answers, capped in bytes: key -> (status, headers,
    body). Only complete 200 answers are kept, never errors."""

    def __init__(self, capacity: int = CACHE_MB_DEFAULT * 1024 * 1024,
                 item: int = CACHE_ITEM_BYTES):
        self.capacity, self.item = capacity, item
        self.kept: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self.size = 0

    def get(self, key: tuple):
        found = self.kept.get(key)
        if found is not None:
            self.kept.move_to_end(key)
        return found

    def put(self, key: tuple, status: int, headers: list, body: bytes) -> None:
        if status != 200 or len(body) > min(self.item, self.capacity) or key in self.kept:
            return
        self.kept[key] = (status, headers, body)
        self.size += len(body)
        while self.size > self.capacity and self.kept:
            _, (_, _, dropped) = self.kept.popitem(last=False)
            self.size -= len(dropped)


# one cache and one build tag per Datasette instance, however often it builds its app
_KEPT: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def cacheable(app, datasette):
    """ASGI middleware: ETags, 304s and Cache-Control around gzip-compressed answers,
    whole answers kept in the instance's bounded LRU."""
    compressed = Compressed(app)
    answers, tags = _KEPT.setdefault(datasette, (Answers(capacity()), {}))

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await compressed(scope, receive, send)
        if "tag" not in tags:
            tags["tag"] = await _build_tag(datasette)
        tag = tags["tag"]
        if tag is None:
            return await compressed(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        asked = headers.get(b"if-none-match", b"").decode()
        if any(_quoted(tag + suffix) in asked for suffix in ("", "-gzip")):
            return await _not_modified(send, asked)
        key = None
        if answers.capacity and scope["method"] == "GET" \
                and not any(h in headers for h in PERSONAL):
            gzip_ok = b"gzip" in headers.get(b"accept-encoding", b"")
            key = (scope.get("root_path", ""), scope["path"], scope.get("query_string", b""),
                   gzip_ok)
            kept = answers.get(key)
            if kept is not None:
                status, kept_headers, body = kept
                await send({"type": "http.response.start", "status": status,
                            "headers": [*kept_headers, (b"x-kb-cache", b"hit")]})
                await send({"type": "http.response.body", "body": body})
                return None
        started: dict = {}
        parts: list[bytes] = []

        async def tagged(event):
            if event["type"] == "http.response.start":
                started.update(status=event["status"])
                if event["status"] == 200:
                    event = {**event, "headers": _tagged(event.get("headers", []), tag)}
                started["headers"] = list(event.get("headers", []))
            elif event["type"] == "http.response.body" and not started.get("too_big"):
                parts.append(event.get("body", b""))
                if sum(map(len, parts)) > answers.item:   # sent on, not kept
                    started["too_big"] = True
                    parts.clear()
                elif not event.get("more_body") and started.get("status") == 200 \
                        and key is not None:
                    answers.put(key, 200, started["headers"], b"".join(parts))
            await send(event)

        return await compressed(scope, receive, tagged)

    return wrapped


def capacity() -> int:
    """The cache's capacity in bytes, from $KB_CACHE_MB (64 MiB when unset)."""
    text = os.environ.get(CACHE_MB, "").strip() or str(CACHE_MB_DEFAULT)
    try:
        mib = int(text)
    except ValueError:
        raise SystemExit(f"{CACHE_MB}={text!r}: give a whole number of MiB (0: no cache)")
    if mib < 0:
        raise SystemExit(f"{CACHE_MB}={text!r}: give a whole number of MiB (0: no cache)")
    return mib * 1024 * 1024


def _tagged(headers: list, tag: str) -> list:
    """The answer's headers with its ETag (the gzip form's own) and Cache-Control."""
    gzipped = any(k.lower() == b"content-encoding" and v == b"gzip" for k, v in headers)
    etag = _quoted(tag + ("-gzip" if gzipped else "")).encode()
    kept = [h for h in headers if h[0].lower() not in (b"etag", b"cache-control")]
    return [*kept, (b"etag", etag), CACHE_CONTROL]


async def _build_tag(datasette) -> str | None:
    """The instance's build: each knowledge base's data version and build time, and the
    code's version; None when a database can change while served."""
    parts = []
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if db.is_mutable:
            return None
        if is_kb(datasette, name):
            try:
                rows = (await db.execute(BUILD_SQL)).rows
            except sqlite3.Error:   # a knowledge base built before build_info
                return None
            parts.append(name + ":" + "/".join(r[0] for r in rows).replace(" ", "_"))
    try:
        code = version("nelm-kb")
    except PackageNotFoundError:
        code = "dev"
    return f"nelm-kb-{code}-" + "+".join(parts) if parts else None


def _quoted(tag: str) -> str:
    return f'"{tag}"'


async def _not_modified(send, asked: str) -> None:
    etag = next(part.strip() for part in asked.split(",") if part.strip())
    await send({"type": "http.response.start", "status": 304,
                "headers": [(b"etag", etag.encode()), CACHE_CONTROL]})
    await send({"type": "http.response.body", "body": b""})
