"""What keeps a served knowledge base read-only and its pages inert.

- Every request other than GET or HEAD gets 405: Datasette 0.65 has no write API, but
  it has debug forms that take POST (/-/messages, /-/permissions), and a plugin
  installed beside ours could add more. The knowledge base is published, not edited.
- Every response says `X-Content-Type-Options: nosniff`, so an error message served as
  text/plain is never read as HTML, whatever its text holds.
- Every SQLite connection Datasette opens is limited: no string or blob longer than
  MAX_LENGTH (a `zeroblob` or `group_concat` cannot take a gigabyte of memory per
  query thread) and no SQL text longer than MAX_SQL (the row limit and the time limit
  are Datasette settings, set by `kb serve`: kb/web/settings.py).

Registered by kb/web/plugin.py (asgi_wrapper and prepare_connection hooks).
"""

from __future__ import annotations

import sqlite3

READ_METHODS = ("GET", "HEAD")
NOSNIFF = (b"x-content-type-options", b"nosniff")
# what a page of ours with no script of its own may load: inline styles and nothing else
NO_SCRIPTS = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"}
MAX_LENGTH = 50_000_000      # bytes in one string or blob (SQLite's default is 1e9)
MAX_SQL = 100_000            # characters of SQL in one statement (default 1e9)


def read_only(app):
    """ASGI middleware: 405 for any method but GET and HEAD; nosniff on every answer."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["method"] not in READ_METHODS:
            return await _refuse(scope, send)

        async def send_nosniff(event):
            if event["type"] == "http.response.start":
                headers = [h for h in event.get("headers", [])
                           if h[0].lower() != NOSNIFF[0]]
                event = {**event, "headers": [*headers, NOSNIFF]}
            await send(event)

        return await app(scope, receive, send_nosniff)

    return wrapped


async def _refuse(scope, send) -> None:
    body = (f"{scope['method']} is not allowed: this knowledge base is served read-only "
            f"(GET and HEAD only)\n").encode()
    await send({"type": "http.response.start", "status": 405, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD"),
        (b"content-length", str(len(body)).encode()), NOSNIFF]})
    await send({"type": "http.response.body", "body": body})


def limit(conn: sqlite3.Connection) -> None:
    """Cap the size of any one value and of any one SQL statement on this connection."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL)
