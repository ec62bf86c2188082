"""The raw PubMed cache in data/pubmed/: one gzip file per PMID, written atomically.

Layout (a deliberate choice over keeping whole efetch responses: one record per file
means a re-fetch replaces exactly that record, a DeleteCitation removes exactly one
file, `--missing` is a directory listing, and git diffs name the PMIDs that changed):

    data/pubmed/<pmid>.xml.gz              <PubmedArticleSet> holding that one record
                                           as NCBI sent it (the record's own bytes)
    data/pubmed/links/<pmid>.<linkname>.xml.gz   the raw elink answer

Files are gzip with a zero timestamp, so the same record gives the same bytes.

Every file is written to a temporary file beside it, `.<name>.<pid>.<random>.tmp`, and
renamed over it when complete: a reader (which only looks at `*.xml.gz`) sees the old
file or the whole new one, never a part. A writer killed part-way (SIGKILL, power cut)
can leave its temporary file behind; the next writer removes it once the process named
in it is gone (`remove_abandoned`), and leaves those of writers still running alone.
Cache files are not fsync'ed: that would double the time of a `--load` of a baseline
file (about 0.35 ms a file here), and a record torn by a power cut is reported by
`kb validate` with its repair (`kb fetch --refresh --pmid N`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import gzip
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

HEADER = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
FOOTER = b"\n</PubmedArticleSet>\n"
TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp")


class CannotWrite(OSError):
    """A file could not be written (full disk, read-only folder): `filename` is the file
    that was meant, `strerror` why. Nothing half-written of it is left."""


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError in the block into CannotWrite naming path (the error of a full
    disk names no file, and a temporary file's name means nothing to the user)."""
    try:
        yield
    except CannotWrite:
        raise
    except OSError as e:
        raise CannotWrite(e.errno, e.strerror or str(e), str(path)) from e


def temporary_beside(path: Path) -> Path:
    """A new, empty temporary file in path's folder, named for path and this process."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder, then rename.

    Raises CannotWrite naming path; the temporary file is removed on any error.
    """
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_beside(path)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)  # a reader sees the old file or the whole new one
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def remove_abandoned(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files (or staging folders) in folder, of the file `name` or
    of any, that a writer killed part-way left behind: those whose process is gone."""
    removed = []
    for tmp in sorted(Path(folder).glob(f".{glob.escape(name) if name else '*'}.*.tmp")):
        found = TEMPORARY.fullmatch(tmp.name)
        if not found or _running(int(found["pid"])):
            continue
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def unwritable(folder: Path) -> str | None:
    """Why no file can be created in folder (or, while it does not exist, in the nearest
    folder above it that does), or None when one can. Changes nothing."""
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        return os.strerror(errno.EROFS)
    return os.strerror(errno.EACCES)


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

    def read_links(self, pmid: str, linkname: str) -> bytes | None:
        path = self.links_path(pmid, linkname)
        return gzip.decompress(path.read_bytes()) if path.exists() else None

    def files(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from sorted(self.root.glob("*.xml.gz"))
