"""Run a kb command that stops itself (SIGSTOP) at a named point, for a test to kill there.

    python tests/stop_at.py POINT[@N] KB-ARGUMENTS...

stops just before the Nth (default first) time the program reaches POINT:

    validating        kb.data checks the claims' citations (the CSV files are read)
    inserting-claims  kb.db.build inserts the claims into the temporary database
    renaming          os.replace: the build's rename over the database, or a cache file's
    saving-record     ingest.cache saves one fetched record

The process stays stopped until it is sent SIGCONT (or SIGKILL), so a test can check
the state at exactly that point and then kill it with a real SIGKILL.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

POINTS = {  # name -> (module, attribute path, condition on the call's arguments)
    "validating": ("kb.data.cross_rules", "check_cites", None),
    "inserting-claims": ("kb.db.build", "_insert",
                         lambda db, table, rows: table.name == "claims"),
    "renaming": ("os", "replace", None),
    "saving-record": ("ingest.cache", "Cache.save_record", None),
}


def stop_before(point: str, nth: int) -> None:
    """Patch POINT so that the process stops itself the nth time it gets there."""
    module_name, attribute, condition = POINTS[point]
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = 0

    def stopping(*args, **kwargs):
        nonlocal calls
        if condition is None or condition(*args, **kwargs):
            calls += 1
            if calls == nth:
                os.kill(os.getpid(), signal.SIGSTOP)
        return original(*args, **kwargs)

    setattr(owner, name, stopping)


def main() -> None:
    point, _, nth = sys.argv[1].partition("@")
    stop_before(point, int(nth or 1))
    from kb.cli import cli

    cli.main(sys.argv[2:], prog_name="kb")


if __name__ == "__main__":
    main()
