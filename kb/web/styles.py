"""The knowledge base's stylesheet, served at /-/kb.css and linked from every page
(the extra_css_urls hook): a link, not a template of ours wrapped around Datasette's
base.html, because each layer of template inheritance passes every piece of every page
through one more generator (about 5 ms of a 50 ms table page)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from datasette.utils.asgi import Response

PATH = "/-/kb.css"


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return files("kb.web").joinpath("static", "kb.css").read_text(encoding="utf-8")


def css_urls(datasette) -> list[str]:
    """The stylesheets every page links to (extra_css_urls' answer)."""
    return [datasette.urls.path(PATH)]


async def _css(request, datasette):
    return Response(stylesheet(), content_type="text/css; charset=utf-8")


def routes() -> list:
    return [(r"^" + PATH.replace(".", r"\.") + "$", _css)]
