"""The raw PubMed cache in data/pubmed/: one gzip file per PMID, written atomically.

Layout (a deliberate choice over keeping whole efetch responses: one record per file
means a re-fetch replaces exactly that record, a DeleteCitation removes exactly one
file, `--missing` is a directory listing, and git diffs name the PMIDs that changed):

    data/pubmed/<pmid>.xml.gz              <PubmedArticleSet> holding that one record
                                           as NCBI sent it (the record's own bytes)
    data/pubmed/links/<pmid>.<linkname>.xml.gz   the raw elink answer

Files are gzip with a zero timestamp, so the same record gives the same bytes.

Every file is written atomically (ingest/files.py): a reader (which only looks at
`*.xml.gz`) sees the old file or the whole new one, never a part. Cache files are not
fsync'ed: that would double the time of a `--load` of a baseline file (about 0.35 ms a
file here), and a record torn by a power cut is reported by `kb validate` with its
repair (`kb fetch --refresh --pmid N`).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .files import remove_abandoned, write_atomic, writing

HEADER = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
FOOTER = b"\n</PubmedArticleSet>\n"


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def record_file(record_xml: bytes) -> bytes:
    """The bytes of a cache file holding one record."""
    return _gzip(HEADER + record_xml.strip() + FOOTER)


class Staging:
    """Records written aside, one file each, until Cache.staging moves them in."""

    def __init__(self, folder: Path, cache: Cache):
        self.folder = folder
        self.cache = cache

    def save_record(self, pmid: str, record_xml: bytes) -> None:
        with writing(self.cache.path(pmid)):
            (self.folder / f"{pmid}.xml.gz").write_bytes(record_file(record_xml))

    def discard(self, pmid: str) -> None:
        (self.folder / f"{pmid}.xml.gz").unlink(missing_ok=True)


class Cache:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._ready = False

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

    def ready_to_write(self) -> None:
        """Before the first write: make the folder, and remove what writers killed
        part-way left in it. Reading the cache never writes."""
        if self._ready:
            return
        with writing(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            for folder in (self.root, self.root / "links"):
                if folder.is_dir():
                    remove_abandoned(folder)
        self._ready = True

    def save_record(self, pmid: str, record_xml: bytes) -> None:
        self.ready_to_write()
        write_atomic(self.path(pmid), record_file(record_xml))

    @contextlib.contextmanager
    def staging(self):
        """A folder to write records into first; moved into the cache only when the
        block ends without an error, removed with whatever it holds otherwise."""
        self.ready_to_write()
        with writing(self.root):
            folder = Path(tempfile.mkdtemp(prefix=f".staging.{os.getpid()}.", suffix=".tmp",
                                           dir=self.root))
        try:
            yield Staging(folder, self)
            for staged in sorted(folder.glob("*.xml.gz")):
                with writing(self.root / staged.name):
                    os.replace(staged, self.root / staged.name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def delete_record(self, pmid: str) -> bool:
        path = self.path(pmid)
        if not path.exists():
            return False
        self.ready_to_write()
        with writing(path):
            path.unlink()
        return True

    def save_links(self, pmid: str, linkname: str, body: bytes) -> None:
        self.ready_to_write()
        write_atomic(self.links_path(pmid, linkname), _gzip(body))

    def files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from sorted(self.root.glob("*.xml.gz"))
