"""Cacheable answers: an immutable knowledge base's pages depend only on their URL until
the next build, so every successful answer carries a strong ETag naming the build (the
build_info table's data version and time, and the package version) and Cache-Control,
and a request whose If-None-Match names it is answered 304 without rendering anything.
Answers are gzip-compressed (asgi-gzip, Datasette's own datasette-gzip's middleware) when
the client accepts it; the compressed answer has a tag of its own, as a strong ETag
must. A database served mutable (plain `datasette kb.db`) can change under a running
server, so its answers are sent as they were, without a tag.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from asgi_gzip import GZipMiddleware

from .context import is_kb

CACHE_CONTROL = (b"cache-control", b"public, max-age=60, must-revalidate")
GZIP_MINIMUM = 1000   # bytes: smaller answers are sent as they are
BUILD_SQL = "select value from build_info where name in ('data_version', 'built_at') " \
            "order by name"


def cacheable(app, datasette):
    """ASGI middleware: ETags, 304s and Cache-Control around gzip-compressed answers."""
    compressed = GZipMiddleware(app, minimum_size=GZIP_MINIMUM)
    tags: dict[str, str | None] = {}

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await compressed(scope, receive, send)
        if "tag" not in tags:
            tags["tag"] = await _build_tag(datasette)
        tag = tags["tag"]
        if tag is None:
            return await compressed(scope, receive, send)
        asked = dict(scope.get("headers") or []).get(b"if-none-match", b"").decode()
        if any(_quoted(tag + suffix) in asked for suffix in ("", "-gzip")):
            return await _not_modified(send, asked)

        async def tagged(event):
            if event["type"] == "http.response.start" and event["status"] == 200:
                headers = list(event.get("headers", []))
                gzipped = any(k.lower() == b"content-encoding" and v == b"gzip"
                              for k, v in headers)
                etag = _quoted(tag + ("-gzip" if gzipped else "")).encode()
                headers = [h for h in headers if h[0].lower() not in (b"etag",
                                                                       b"cache-control")]
                event = {**event, "headers": [*headers, (b"etag", etag), CACHE_CONTROL]}
            await send(event)

        return await compressed(scope, receive, tagged)

    return wrapped


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
            except Exception:   # a knowledge base built before build_info
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
