"""Python's cyclic garbage collector paused while a read of the stream is parsed."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused():
    """Python's cyclic collector paused while a chunk is parsed and its records made:
    they are hundreds of thousands of short-lived objects that reference counting frees
    and no cycle holds, which the collector would scan again and again (about a tenth of
    the parse). Never across a yield: the caller's code runs with the collector as it
    was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
