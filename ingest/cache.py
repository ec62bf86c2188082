"""The raw PubMed cache in data/pubmed/: one gzip file per PMID, written atomically.

Layout (a deliberate choice over keeping whole efetch responses: one record per file
means a re-fetch replaces exactly that record, a DeleteCitation removes exactly one
file, `--missing` is a directory listing, and git diffs name the PMIDs that changed):

    data/pubmed/<pmid>.xml.gz              <PubmedArticleSet> holding that one record
                                           as NCBI sent it (the record's own bytes)
    data/pubmed/links/<pmid>.<linkname>.xml.gz   the raw elink answer

Files are gzip with a zero timestamp, so the same record gives the same bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

HEADER = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
FOOTER = b"\n</PubmedArticleSet>\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # a reader sees the old file or the whole new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def record_file(record_xml: bytes) -> bytes:
    """The bytes of a cache file holding one record."""
    return _gzip(HEADER + record_xml.strip() + FOOTER)


class Staging:
    """Records written aside, one file each, until Cache.staging moves them in."""

    def __init__(self, folder: Path):
        self.folder = folder

    def save_record(self, pmid: str, record_xml: bytes) -> None:
        (self.folder / f"{pmid}.xml.gz").write_bytes(record_file(record_xml))

    def discard(self, pmid: str) -> None:
        (self.folder / f"{pmid}.xml.gz").unlink(missing_ok=True)


class Cache:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, pmid: str) -> Path:
        return self.root / f"{pmid}.xml.gz"

    def links_path(self, pmid: str, linkname: str) -> Path:
        return self.root / "links" / f"{pmid}.{linkname}.xml.gz"

    def has(self, pmid: str) -> bool:
        return self.path(pmid).exists()

    def pmids(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {p.name[: -len(".xml.gz")] for p in self.root.glob("*.xml.gz")}

    def save_record(self, pmid: str, record_xml: bytes) -> None:
        write_atomic(self.path(pmid), record_file(record_xml))

    @contextlib.contextmanager
    def staging(self):
        """A folder to write records into first; moved into the cache only when the
        block ends without an error, removed with whatever it holds otherwise."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            yield Staging(folder)
            for staged in sorted(folder.glob("*.xml.gz")):
                os.replace(staged, self.root / staged.name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def delete_record(self, pmid: str) -> bool:
        path = self.path(pmid)
        if path.exists():
            path.unlink()
            return True
        return False

    def save_links(self, pmid: str, linkname: str, body: bytes) -> None:
        write_atomic(self.links_path(pmid, linkname), _gzip(body))

    def read_links(self, pmid: str, linkname: str) -> bytes | None:
        path = self.links_path(pmid, linkname)
        return gzip.decompress(path.read_bytes()) if path.exists() else None

    def files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from sorted(self.root.glob("*.xml.gz"))
