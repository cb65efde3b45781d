"""The files a command writes: checked before the command reads anything, written whole or not at all."""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TypeVar

from credkit.connection import SetupError, is_sqlite_file, sqlite_path

Written = TypeVar("Written")


def check_output(
    path: Path,
    option: str,
    *,
    inputs: Iterable[Path] = (),
    database_url: str | None = None,
    folder_made: bool = False,
) -> None:
    """SetupError unless path can be written without destroying an input or the directory.

    Refused: an input file of the same command, the directory's own SQLite file, a folder, a
    path whose folder is missing or not writable. Same file means the same resolved path or,
    where both exist, the same inode (hard links, bind mounts).
    """
    protected = [(Path(p), "the input file") for p in inputs]
    database = sqlite_path(database_url) if database_url else None
    if database is not None:
        protected.append((database, "the directory's database file"))
    for other, what in protected:
        if _same_file(path, other):
            raise SetupError(
                f"{option} {path} is {what}: writing it would destroy it; "
                f"choose another path for {option}"
            )
    if path.is_dir():
        raise SetupError(f"{option} {path} is a folder; name a file (e.g. {path / 'out.csv'})")
    if is_sqlite_file(path):  # another directory, or this one under a name not in the URL
        raise SetupError(
            f"{option} {path} is a SQLite database (a credkit directory?): writing it would "
            f"destroy it; choose another path for {option}"
        )
    folder = path.parent
    if folder_made:  # the command makes the folder: its first existing ancestor must allow it
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    if not folder.is_dir():
        raise SetupError(
            f"{option} {path}: the folder {folder} does not exist; create it or choose another path"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise SetupError(f"{option} {path} is not writable; choose another path")
    if not path.exists() and not os.access(folder, os.W_OK):
        raise SetupError(f"{option} {path}: the folder {folder} is not writable; choose another")


def write_output(path: Path, write: Callable[[IO[str]], Written]) -> Written:
    """Call write with a text stream onto path, so that path holds all of it or is left alone.

    A regular file is written beside it and renamed over it at the end; a device or a pipe
    (/dev/stdout, /dev/full) is written directly. Any failure is a SetupError saying what to do.
    """
    if path.exists() and not path.is_file():
        try:
            with open(path, "w", encoding="utf-8", newline="") as stream:
                return write(stream)
        except OSError as error:
            raise SetupError(write_failure(path, error, whole=False)) from None
    target = Path(os.path.realpath(path))  # through a symbolic link: replace what it points at
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        with open(partial, "x", encoding="utf-8", newline="") as stream:
            written = write(stream)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise SetupError(write_failure(path, error)) from None
    except BaseException:  # interrupted: leave no partial file behind
        partial.unlink(missing_ok=True)
        raise
    return written


def write_failure(path: Path, error: OSError, *, whole: bool = True) -> str:
    """One line for a failed write: the path, why, and what to do (whole: the file was
    written beside the path and nothing of it was left)."""
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space or write elsewhere"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "choose a writable path"
    elif error.errno == errno.ENOENT:
        advice = "create the folder or choose another path"
    else:
        advice = "choose another path"
    left = " (nothing was left half-written there)" if whole else ""
    return f"could not write {path}: {reason}; {advice}{left}"


def _same_file(path: Path, other: Path) -> bool:
    try:
        if path.exists() and other.exists():
            return os.path.samefile(path, other)
        return path.resolve() == other.resolve()
    except OSError:  # a path that cannot even be resolved is not the same as anything
        return False
