"""Reading and writing the user's files so that nothing is lost, half-written or hung on.
Standard library only.

Writing (``--out``, ``--plot``, ``--animate``)
    :func:`check_writable` says, before a long run and again when the file is
    written, whether a path may be written: only a *regular file* is ever
    written over, and only one its owner may write (a file without the owner's
    ``w`` bit is read-only, even for root, whom the kernel would let write it).
    A device node, FIFO, socket or directory is refused in one line. A symbolic
    link is followed: the file it points to is replaced (atomically, in that
    file's directory) and the link stays a link; a dangling link creates the file
    it names, as the shell's ``>`` would. :func:`check_distinct` refuses an output
    that is the same file as an input or as another output.

    :func:`atomic_path` hands out a temporary path in the target's own directory
    (so that the final rename never crosses a file system), named
    ``.NAME.geograd-tmp-XXXXXXXX.SUFFIX`` (recognisable, hidden, and with the
    target's suffix, for writers that go by it). When the body succeeds the file
    is fsync'ed and replaces the target with :func:`os.replace`, atomic on POSIX
    and Windows; when anything fails the temporary file is removed and the target
    is left as it was. :func:`atomic_write` is the same for a file object.

Signals
    Inside :func:`atomic_path`, in the main thread, SIGINT and SIGTERM are
    *deferred* over the commit (fsync, chmod, rename) and, with
    ``finish_on_signal=True`` (the default of :func:`atomic_write`, whose writes
    are short), over the whole write: the file is finished, then the signal acts
    as it would have (Ctrl-C raises KeyboardInterrupt, a default SIGTERM ends the
    process). A second identical signal during the deferral acts at once and the
    write is abandoned. Outside a deferral a signal abandons the write: the
    temporary file is removed first, and a SIGTERM left at its default
    disposition still ends the process, by the signal, once it is. Only SIGKILL
    (or a power cut) can leave a temporary file, which its name makes easy to
    recognise and delete.

Reading
    :func:`read_regular` reads only a regular file (a device such as
    ``/dev/zero``, a FIFO or a socket is refused before it is opened, and the
    file is opened non-blocking, so a FIFO swapped in meanwhile never blocks), at
    most :func:`read_limit` bytes, in chunks between which Ctrl-C is honoured.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from geograd.errors import InputError

#: What a temporary file's name holds between the target's name and the random part.
TEMP_MARK = ".geograd-tmp-"
#: Reading: the largest chunk read at once (Ctrl-C is honoured between chunks).
CHUNK = 1 << 20
#: The environment variable that raises (or lowers) every read limit, in MiB.
LIMIT_VARIABLE = "GEOGRAD_MAX_INPUT_MB"

_MiB = 1 << 20
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _directory(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return words
    return "not a regular file"


def size_text(n: float) -> str:
    """``n`` bytes for people: ``"512 bytes"``, ``"3.2 MiB"``, ``"1.46 TiB"``."""
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------ writing


def _resolve(target: Path, what: str) -> Path:
    """The file a write to ``target`` lands in: symbolic links followed, all the way."""
    try:
        return Path(os.path.realpath(target, strict=True))
    except FileNotFoundError:
        # A new file, or a dangling link: the file it names gets created (as by `>`).
        return Path(os.path.realpath(target))
    except OSError as exc:  # a loop of links, a name too long, ...
        raise InputError(
            f"{what} {target}: cannot follow it ({_why(exc)}); give another name"
        ) from None


def check_writable(path: str | os.PathLike[str], what: str = "--out") -> Path:
    """The file that writing ``path`` would replace, when it may be replaced; else an
    InputError naming ``what`` (the flag) and the path.

    The rules (see the module docstring): links are followed; an existing file must
    be a regular file whose owner may write it (mode bits are checked explicitly, as
    root is never refused by the kernel) and that we may write; its directory must
    exist and be writable. Called before a run and again at write time.
    """
    target = Path(path)
    real = _resolve(target, what)
    linked = f" (a link to {real})" if os.path.islink(target) else ""
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{what} {target}{linked}: cannot check it ({_why(exc)})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{what} {target}{linked}: is a directory; give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                f"{what} {target}{linked}: is {_kind(st.st_mode)}, not a regular file; "
                "geograd writes only regular files, so give a file name"
            )
        if not st.st_mode & stat.S_IWUSR:
            raise InputError(
                f"{what} {target}{linked}: is read-only (mode {stat.S_IMODE(st.st_mode):04o}); "
                "make it writable (chmod u+w) or give another name"
            )
        if not os.access(real, os.W_OK):
            raise InputError(f"{what} {target}{linked}: cannot write it (permission denied)")
    parent = real.parent if linked else _directory(target)
    if not parent.exists():
        raise InputError(f"{what} {target}: the directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise InputError(f"{what} {target}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {target}: cannot write in {parent} (permission denied)")
    return real


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    """(resolved path, (device, inode) when the file exists) of ``path``."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return real, None
    return real, (st.st_dev, st.st_ino)


def check_distinct(
    outputs: Mapping[str, str | os.PathLike[str] | None],
    inputs: Mapping[str, str | os.PathLike[str] | None] | None = None,
) -> None:
    """Refuse, before a run, an output that is the same file as an input or as another
    output: the same resolved path, or the same device and inode (a hard link). The
    keys name the flags (``{"--out": path, "--plot": None}``); None is "not given"."""
    seen: list[tuple[str, Path, tuple[str, tuple[int, int] | None]]] = []
    for flag, value in (inputs or {}).items():
        if value is not None:
            seen.append((flag, Path(value), _identity(Path(value))))
    n_inputs = len(seen)
    for flag, value in outputs.items():
        if value is None:
            continue
        path = Path(value)
        ident = _identity(path)
        for k, (other, other_path, other_ident) in enumerate(seen):
            same = ident[0] == other_ident[0] or (
                ident[1] is not None and ident[1] == other_ident[1]
            )
            if not same:
                continue
            if k < n_inputs:
                raise InputError(
                    f"{flag} {path} is the same file as {other} {other_path}: writing it "
                    f"would replace the input; give {flag} another name"
                )
            raise InputError(
                f"{flag} {path} is the same file as {other} {other_path}; give each output "
                "its own name"
            )
        seen.append((flag, path, ident))


def _final_mode(target: Path) -> int:
    """The mode of the file being replaced, or the one a new file would get."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_beside(real: Path) -> Path:
    """A new, empty, private file ``.NAME.geograd-tmp-XXXXXXXX.SUFFIX`` beside ``real``."""
    # Keep the name well under NAME_MAX (255) whatever the target's length.
    stem = real.name[:100]
    suffix = real.suffix[:20] or ".tmp"
    fd, name = tempfile.mkstemp(prefix=f".{stem}{TEMP_MARK}", suffix=suffix, dir=real.parent)
    os.close(fd)
    return Path(name)


class _Terminated(BaseException):
    """A signal whose disposition is the default (end the process), raised so that the
    cleanup runs first; :class:`_SignalGuard` then re-raises the signal itself."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _SignalGuard:
    """SIGINT/SIGTERM handlers for one atomic write (main thread only; else inert).

    Outside :meth:`deferred` sections a signal acts at once, as before (the previous
    handler runs; a default disposition raises :class:`_Terminated`, to end the
    process by the signal after the cleanup). Inside, it is recorded and acts when
    the outermost section ends; the same signal a second time acts at once.
    """

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.pending: list[int] = []
        self.depth = 0

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in _SIGNALS:
            old = signal.getsignal(signum)
            if old is None or old == signal.SIG_IGN:
                continue  # ignored, or set outside Python: leave it alone
            self.previous[signum] = old
            signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.depth > 0 and signum not in self.pending:
            self.pending.append(signum)
            return
        self._act(signum, frame)

    def _act(self, signum: int, frame: Any) -> None:
        old = self.previous.get(signum)
        if callable(old):
            old(signum, frame)  # Python's own raises KeyboardInterrupt; the CLI's the same
        else:
            raise _Terminated(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A section that signals do not interrupt; they act when it ends."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                while self.pending:
                    self._act(self.pending.pop(0), None)

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        for signum, old in self.previous.items():
            signal.signal(signum, old)
        if isinstance(exc, _Terminated):
            # The cleanup is done: now end the way the signal would have ended us.
            signal.raise_signal(exc.signum)
            raise SystemExit(128 + exc.signum)


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str], what: str = "--out", *, finish_on_signal: bool = False
) -> Iterator[Path]:
    """A temporary path beside ``path`` (beside the file it links to) that replaces it
    when the body succeeds; see the module docstring for the rules and the signals.

    ``finish_on_signal`` defers SIGINT/SIGTERM over the body too, for short writes
    that should rather finish than be lost. An OSError while writing becomes an
    :class:`InputError` naming ``what`` and the file.
    """
    target = Path(path)
    real = check_writable(target, what)
    with _SignalGuard() as guard:
        tmp: Path | None = None
        try:
            with guard.deferred():  # no signal between creating the file and knowing its name
                try:
                    tmp = _temp_beside(real)
                except OSError as exc:
                    raise InputError(
                        f"{what} {target}: cannot create a file there ({_why(exc)})"
                    ) from None
            with guard.deferred() if finish_on_signal else contextlib.nullcontext():
                yield tmp
                with guard.deferred():
                    with open(tmp, "rb") as fh:
                        os.fsync(fh.fileno())
                    # What is at the path may have changed during a long write.
                    real = check_writable(target, what)
                    # mkstemp makes the file private (0600); give it the mode it would have
                    os.chmod(tmp, _final_mode(real))
                    os.replace(tmp, real)
                    tmp = None
        except BaseException as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            if isinstance(exc, OSError):
                raise InputError(f"{what} {target}: cannot write it ({_why(exc)})") from None
            raise


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    what: str = "--out",
    *,
    finish_on_signal: bool = True,
) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically.

    ``mode`` is ``"w"`` (UTF-8 text) or ``"wb"``. Ctrl-C or SIGTERM during the write
    lets it finish first (see :func:`atomic_path`).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', not {mode!r}")
    with (
        atomic_path(path, what, finish_on_signal=finish_on_signal) as tmp,
        open(tmp, mode, encoding="utf-8" if mode == "w" else None) as fh,
    ):
        yield fh


# ------------------------------------------------------------------------------ reading


def available_memory() -> int | None:
    """Bytes of memory this process could still use (the smaller of the system's
    ``MemAvailable`` and a cgroup v2 limit's headroom), or None when unknown."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
            found.append(max(0, int(limit) - int(used)))
    if not found:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return min(found) if found else None


def read_limit(default_mib: int) -> int:
    """The most bytes geograd reads from one file: ``default_mib`` MiB, or what the
    environment variable ``GEOGRAD_MAX_INPUT_MB`` says."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return default_mib * _MiB
    try:
        mib = float(text)
    except ValueError:
        mib = float("nan")
    if not mib > 0 or mib == float("inf"):
        raise InputError(f"{LIMIT_VARIABLE} must be a number of MiB > 0, got {text!r}")
    return int(mib * _MiB)


def _size_error(size: int, limit: int, name: str, what: str, advice: str) -> InputError:
    return InputError(
        f"{name}: {size_text(size)}, more than the {size_text(limit)} geograd reads from "
        f"a {what}; {advice}, or raise the limit with {LIMIT_VARIABLE}={-(-size // _MiB)}"
    )


def _check_memory(size: int, name: str, expansion: float, advice: str) -> None:
    free = available_memory()
    need = int(size * expansion)
    if free is not None and need > free:
        raise InputError(
            f"{name}: {size_text(size)}; loading it takes about {size_text(need)} of memory, "
            f"more than the {size_text(free)} available; {advice}, or free some memory"
        )


def _check_readable_kind(st: os.stat_result, name: str, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{name}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{name}: is {_kind(st.st_mode)}, not a regular file; geograd reads a {what} "
            "only from a regular file (save the data to one first)"
        )


def read_regular(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    name: str | None = None,
    default_mib: int = 256,
    expansion: float = 10.0,
    advice: str = "give a smaller file",
) -> bytes:
    """The bytes of the regular file at ``path``; an InputError naming ``name`` (default:
    the path) and ``what`` for anything else: missing, not a regular file, unreadable,
    or too large.

    Too large is more than ``default_mib`` MiB (see :func:`read_limit`), or more than
    available memory allows, loading taking about ``expansion`` times the file's size;
    ``advice`` says what to do instead. The file is read in chunks of :data:`CHUNK`
    bytes, so that Ctrl-C interrupts a slow read.
    """
    shown = str(path) if name is None else name
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{shown}: no such {what}; check the path") from None
    except PermissionError:
        raise InputError(f"{shown}: cannot read it (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read it ({_why(exc)})") from None
    # Checked before opening: opening a device can have effects, and a FIFO blocks.
    _check_readable_kind(st, shown, what)
    limit = read_limit(default_mib)
    if st.st_size > limit:
        raise _size_error(st.st_size, limit, shown, what, advice)
    _check_memory(st.st_size, shown, expansion, advice)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise InputError(f"{shown}: cannot read it (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read it ({_why(exc)})") from None
    try:
        # The file opened may not be the one checked: it can be swapped meanwhile.
        _check_readable_kind(os.fstat(fd), shown, what)
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, CHUNK)
            except OSError as exc:
                raise InputError(f"{shown}: cannot read it ({_why(exc)})") from None
            if not chunk:
                break
            total += len(chunk)
            if total > limit:  # it grew while we read it
                raise _size_error(total, limit, shown, what, advice)
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
