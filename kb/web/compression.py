"""gzip for the served pages: asgi-gzip's middleware (what datasette-gzip uses), with the
compression done by ISA-L (python-isal's igzip) instead of zlib.

A table or facet page is a few hundred KB of HTML. On this project's 2-vCPU benchmark
machine zlib at level 6 took 15 ms to compress a 270 KB facet page and 0.49 ms for a
14 KB source page; ISA-L at level 1 took 0.74 ms and 0.03 ms, and its output was smaller
than zlib's level 1 (51.5 KB against 53.3 KB; 3.97 KB against 4.07 KB). Each answer gets
a compressor of its own, not a GzipFile over a buffer as asgi-gzip makes: for a 14 KB
answer the GzipFile cost 150 us, its compressor alone 38 us. The answer is an ordinary
gzip stream (RFC 1952) that any client reads.
"""

from __future__ import annotations

from asgi_gzip import GZipMiddleware, IdentityResponder
from isal import isal_zlib

LEVEL = 1   # ISA-L's levels run 0-3; 1 is the fastest that still beats zlib's level 1
MINIMUM = 1000   # bytes: smaller answers are sent as they are
GZIP_WBITS = 31   # deflate with a gzip header and trailer (zlib's convention: 16 + 15)


class Responder(IdentityResponder):
    """asgi-gzip's responder, compressing through an ISA-L compressor of its own."""

    content_encoding = "gzip"

    def __init__(self, app, minimum_size: int, compresslevel: int = LEVEL) -> None:
        super().__init__(app, minimum_size)
        self.compressor = isal_zlib.compressobj(compresslevel, isal_zlib.DEFLATED,
                                                GZIP_WBITS)

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        compressed = self.compressor.compress(body)
        return compressed if more_body else compressed + self.compressor.flush()


class Compressed(GZipMiddleware):
    """Compress an answer when the request accepts gzip; otherwise send it as it is."""

    def __init__(self, app, minimum_size: int = MINIMUM, compresslevel: int = LEVEL) -> None:
        super().__init__(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope, receive, send) -> None:
        accepts = dict(scope.get("headers") or []).get(b"accept-encoding", b"")
        if scope["type"] != "http" or b"gzip" not in accepts:
            return await super().__call__(scope, receive, send)
        await Responder(self.app, self.minimum_size, self.compresslevel)(scope, receive, send)
