"""Python's cyclic garbage collector paused while many short-lived or many lasting
objects are made: a PubMed read being parsed, the curated files being read and loaded."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused(freeze: bool = False):
    """The cyclic collector off for the block, and back as it was after it.

    Parsing a read of PubMed XML makes hundreds of thousands of short-lived elements and
    dicts that reference counting frees and no cycle holds; reading the curated files
    makes millions of row lists that all stay alive and hold only strings. Either way
    the collector would scan them again and again (a tenth of a parse, a third of a
    read) and free none. Never hold it across a yield: the caller's code should run
    with the collector as it was.

    freeze: when the pause ends, move what it made to the oldest generation unscanned
    (gc.freeze and unfreeze), since the first collection after it would otherwise look at
    all of it at once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if freeze:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
