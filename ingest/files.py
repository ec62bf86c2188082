"""Files written whole or not at all: atomic writes, their temporary files, and the one
`CannotWrite` every layer raises when the file system refuses.

Every file is written to a temporary file beside it, `.<name>.<pid>.<random>.tmp`, and
renamed over it when complete: a reader sees the old file or the whole new one, never a
part. A writer killed part-way (SIGKILL, power cut) can leave its temporary file behind;
the next writer removes it once the process named in it is gone (`remove_abandoned`),
and leaves those of writers still running alone.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

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
