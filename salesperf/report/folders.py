"""The reports folder of a run: the period lock, the swap of a finished period folder into place, the clean-up
after runs that were killed, and the one-line errors for a folder the run cannot write.

A run builds its period in a hidden staging folder (``.<period>.tmp-<pid>``) beside the period folder and
swaps it into place at the end, so readers (and a run that dies) see either the previous folder or the new
one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from pathlib import Path
from typing import Self

from salesperf.core.errors import UserError

#: Errors of the file system that are the environment's, not a bug: exit 2 with the folder named.
_ENVIRONMENT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a file is in the way of the folder",
    errno.EEXIST: "a file is in the way of the folder",
    errno.ENAMETOOLONG: "a file name is too long",
}


def environment_error(exc: BaseException, folder: Path) -> UserError | None:
    """The one-line error for a file-system failure the user must fix (full disk, read-only or unwritable
    folder, a file where a folder should be), or None for any other exception.

    Parameters
    ----------
    exc : BaseException
        An ``OSError``, or an error of a library that only carries the message (DuckDB's ``IOException``).
    folder : Path
        The reports folder, named in the message.

    Returns
    -------
    UserError or None
    """
    reason = _ENVIRONMENT.get(exc.errno) if isinstance(exc, OSError) else None
    if reason and exc.errno not in (errno.ENOSPC, errno.EDQUOT) and not _under(exc.filename, folder):
        reason = None  # e.g. a data file the user may not read: not a problem of the reports folder
    if reason is None and "No space left on device" in str(exc):
        reason = _ENVIRONMENT[errno.ENOSPC]
    if reason is None:
        return None
    return UserError(
        f"cannot write the reports to {folder}: {reason}; the previous reports are left as they were",
        hint="free some space, or give --out a folder you can write to",
    )


def _under(filename, folder: Path) -> bool:
    """Whether a failing path (``OSError.filename``) is the reports folder, inside it or above it."""
    if not filename:
        return False
    path, folder = Path(filename).absolute(), Path(folder).absolute()
    return path == folder or folder in path.parents or path in folder.parents


class PeriodLock:
    """Stops two runs of the same period at once: an exclusive ``flock`` on ``.<period>.lock``.

    The kernel holds the lock for the process and drops it when the process ends, however it ends, so a lock
    is never stale and two runs can never both hold it. The file carries the owner's pid for the message a
    second run prints, and is removed by its owner at the end.
    """

    def __init__(self, out: Path, period: str):
        self.path = out / f".{period}.lock"
        self.fd: int | None = None

    def __enter__(self) -> Self:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while self.fd is None:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    os.close(fd)
                    raise UserError(
                        f"another run of this period is in progress (pid {owner}, lock {self.path})",
                        hint="wait for it to end",
                    ) from None
                if self._still_the_file(fd):  # not removed by an owner that ended between our open and flock
                    self.fd = fd
                else:
                    os.close(fd)
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        except OSError as exc:
            problem = environment_error(exc, self.path.parent)
            if problem is None:
                raise
            raise problem from None
        return self

    def _still_the_file(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            return False

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)  # while still holding the lock
            os.close(self.fd)
            self.fd = None


def swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` so that readers see either the old or the new folder, never a mix."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    try:
        staging.rename(final)
    except BaseException:  # put the previous folder back rather than leave the period without one
        if old.exists() and not final.exists():
            old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(out: Path, period: str) -> None:
    """Clean up after earlier runs of ``period`` that were killed before they could.

    Half-built staging folders are deleted. A swap folder (``.<period>.old-<pid>``) is the previous period
    folder: when a run died between moving it aside and moving its own folder in, it is the only copy and is
    put back. Called with the period lock held, so no live run owns any of them.
    """
    for staging in out.glob(f".{period}.tmp-*"):
        shutil.rmtree(staging, ignore_errors=True)
    final = out / period
    for old in sorted(out.glob(f".{period}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True):
        if not final.exists() and (old / "manifest.json").is_file():
            old.rename(final)
        else:
            shutil.rmtree(old, ignore_errors=True)
