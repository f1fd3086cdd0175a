"""Writing files so that nothing a user saved is lost or half-written. Standard library only.

:func:`atomic_path` hands out a temporary path in the target's own directory
(so that the final rename never crosses a file system) with the target's suffix
(so that writers that go by the suffix, like matplotlib's, pick the right
format). When the body succeeds the file is fsync'ed and replaces the target
with :func:`os.replace`, which is atomic on POSIX and Windows; when anything
fails, Ctrl-C included, the temporary file is removed and the target is left as
it was. :func:`atomic_write` is the same for a file object.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from geograd.errors import InputError


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _directory(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def check_writable(path: str | os.PathLike[str], what: str = "--out") -> None:
    """Fail early, before a long run, when ``path`` cannot be written."""
    target = Path(path)
    parent = _directory(target)
    if target.is_dir():
        raise InputError(f"{what} {target}: is a directory; give a file name")
    if not parent.is_dir():
        raise InputError(f"{what} {target}: the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {target}: cannot write in {parent} (permission denied)")


def _final_mode(target: Path) -> int:
    """The mode of the file being replaced, or the one a new file would get."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], what: str = "--out") -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the body succeeds.

    An OSError while writing becomes an :class:`InputError` naming the file.
    """
    target = Path(path)
    check_writable(target, what)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=_directory(target)
        )
    except OSError as exc:
        raise InputError(f"{what} {target}: cannot create a file there ({_why(exc)})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); give it the mode it would otherwise have
        os.chmod(tmp, _final_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"{what} {target}: cannot write it ({_why(exc)})") from None
        raise


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", what: str = "--out"
) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically.

    ``mode`` is ``"w"`` (UTF-8 text) or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', not {mode!r}")
    with (
        atomic_path(path, what) as tmp,
        open(tmp, mode, encoding="utf-8" if mode == "w" else None) as fh,
    ):
        yield fh
