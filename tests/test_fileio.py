"""geograd.fileio: what may be written over, outputs distinct from inputs, atomic writes
that survive Ctrl-C and SIGTERM, and temporary files that are recognisable and removed.

Device nodes and FIFOs are made in a temporary directory (we run as root); signal
tests send real signals to a real subprocess, in step with it through pipes, so
that nothing depends on timing.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geograd import fileio
from geograd.errors import InputError

#: How the atomic writer's temporary files are named: ``.NAME.geograd-tmp-XXXXXXXX.SUFFIX``.
TEMP_MARK = ".geograd-tmp-"


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if TEMP_MARK in p.name)


def refused(path: Path, what: str = "--out") -> str:
    with pytest.raises(InputError) as info:
        fileio.check_writable(path, what)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{what} {path}")
    return message


def char_node(path: Path) -> Path:
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    return path


# ----------------------------------------------------------------- what may be written


def test_a_device_node_is_refused_and_left_alone(tmp_path: Path) -> None:
    node = char_node(tmp_path / "null.json")
    assert "is a character device, not a regular file" in refused(node)
    with pytest.raises(InputError), fileio.atomic_write(node) as fh:
        fh.write("{}")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert temp_files(tmp_path) == []


def test_a_block_device_a_fifo_and_a_socket_are_refused(tmp_path: Path) -> None:
    block = tmp_path / "disk.png"
    os.mknod(block, 0o666 | stat.S_IFBLK, os.makedev(7, 0))
    assert "is a block device" in refused(block, "--plot")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert "is a FIFO (named pipe), not a regular file" in refused(fifo)
    sock_path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert "is a socket" in refused(sock_path)
    with pytest.raises(InputError), fileio.atomic_write(fifo) as fh:
        fh.write("{}")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    f = tmp_path / "keep.json"
    f.write_text("precious")
    f.chmod(0o444)
    message = refused(f)
    assert "is read-only (mode 0444); make it writable (chmod u+w) or give another name" in message
    with pytest.raises(InputError, match="read-only"), fileio.atomic_write(f) as fh:
        fh.write("new")
    assert f.read_text() == "precious"
    f.chmod(0o644)
    fileio.check_writable(f)


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "result.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(Path("runs") / "result.json")
    assert fileio.check_writable(link) == target.resolve()
    with fileio.atomic_write(link) as fh:
        fh.write("new")
    assert link.is_symlink() and os.readlink(link) == str(Path("runs") / "result.json")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the mode of the file replaced
    assert temp_files(tmp_path) == [] and temp_files(tmp_path / "runs") == []


def test_a_dangling_symlink_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("made.json")
    with fileio.atomic_write(link) as fh:
        fh.write("x")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "x"


def test_links_to_what_may_not_be_written_are_refused(tmp_path: Path) -> None:
    node = char_node(tmp_path / "null")
    link = tmp_path / "out.json"
    link.symlink_to(node)
    assert f"(a link to {node}): is a character device" in refused(link)
    ro = tmp_path / "ro.json"
    ro.write_text("keep")
    ro.chmod(0o400)
    link2 = tmp_path / "out2.json"
    link2.symlink_to(ro)
    assert "is read-only (mode 0400)" in refused(link2)
    loop = tmp_path / "loop.json"
    loop.symlink_to("loop.json")
    assert "cannot follow it" in refused(loop)


def test_the_target_is_checked_again_at_write_time(tmp_path: Path) -> None:
    # A long run: what is at the path when it ends counts, not what was there at the start.
    f = tmp_path / "r.json"
    with pytest.raises(InputError, match="is a FIFO"), fileio.atomic_write(f) as fh:
        fh.write("done")
        os.mkfifo(f)
    assert stat.S_ISFIFO(os.lstat(f).st_mode)
    assert temp_files(tmp_path) == []


# ------------------------------------------------------------------ outputs vs inputs


def test_an_output_may_not_be_an_input(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("0,0\n")
    with pytest.raises(InputError) as info:
        fileio.check_distinct({"--out": data}, {"--points": data})
    assert str(info.value) == (
        f"--out {data} is the same file as --points {data}: writing it would replace "
        "the input; give --out another name"
    )
    # The same file by another name: a relative path, a symlink, a hard link.
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to("d.csv")
    for other in ("hard.csv", "soft.csv", "./sub/../d.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(InputError, match="is the same file as --source"):
            fileio.check_distinct({"--out": tmp_path / other}, {"--source": data})


def test_two_outputs_may_not_be_one_file(tmp_path: Path) -> None:
    # Neither exists yet: the same resolved path is enough.
    with pytest.raises(InputError) as info:
        fileio.check_distinct({"--out": tmp_path / "x.png", "--plot": tmp_path / "x.png"}, {})
    assert "--plot" in str(info.value) and "--out" in str(info.value)
    assert "give each output its own name" in str(info.value)


def test_distinct_files_and_missing_ones_pass(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("0,0\n")
    fileio.check_distinct(
        {"--out": tmp_path / "r.json", "--plot": tmp_path / "r.png", "--animate": None},
        {"--points": data, "--target": None},
    )


# --------------------------------------------------------------------- temporary files


def test_temporary_files_are_named_recognisably_beside_the_target(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    with fileio.atomic_path(f) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".result.json.geograd-tmp-") and tmp.suffix == ".json"
        tmp.write_text("x")
    long = tmp_path / ("n" * 250 + ".json")  # the temporary name must still fit (255)
    with fileio.atomic_write(long) as fh:
        fh.write("y")
    assert long.read_text() == "y" and temp_files(tmp_path) == []


# ------------------------------------------------------------------------------ signals

WRITER = textwrap.dedent(
    """
    import sys
    from geograd import fileio

    target, how = sys.argv[1], sys.argv[2]
    if how == "write":  # atomic_write: finishes the write first
        with fileio.atomic_write(target) as fh:
            fh.write("first half, ")
            fh.flush()
            print("writing", flush=True)
            sys.stdin.readline()  # the parent sends its signal, then this line
            fh.write("second half")
    elif how == "path":  # atomic_path: abandons the write
        with fileio.atomic_path(target) as tmp:
            with open(tmp, "w") as fh:
                fh.write("half")
            print("writing", flush=True)
            sys.stdin.readline()
    print("after the write", flush=True)
    """
)


def writer(target: Path, how: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "writing\n", proc.communicate(timeout=60)
    return proc


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_atomic_write_lets_it_finish_then_acts(tmp_path: Path, signum: int) -> None:
    f = tmp_path / "result.json"
    f.write_text("old")
    proc = writer(f, "write")
    proc.send_signal(signum)
    out, err = proc.communicate("go\n", timeout=60)
    # Finished and in place, then the signal acted: SIGINT as KeyboardInterrupt, SIGTERM
    # (default disposition) ending the process by the signal.
    assert f.read_text() == "first half, second half"
    assert "after the write" not in out
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in err
    else:
        assert proc.returncode == -signal.SIGTERM, err
    assert temp_files(tmp_path) == []


def test_sigterm_during_a_long_write_abandons_it_and_removes_the_temporary_file(
    tmp_path: Path,
) -> None:
    # (Ctrl-C there raises KeyboardInterrupt, which always removed it.)
    signum = signal.SIGTERM
    f = tmp_path / "race.gif"
    f.write_text("old")
    proc = writer(f, "path")
    proc.send_signal(signum)
    out, err = proc.communicate("go\n", timeout=60)
    assert f.read_text() == "old"
    assert temp_files(tmp_path) == []  # removed even though SIGTERM ends the process
    assert "after the write" not in out
    assert proc.returncode == -signal.SIGTERM, err


INSISTING = textwrap.dedent(
    """
    import signal, sys
    from geograd import fileio

    target = sys.argv[1]
    try:
        with fileio.atomic_write(target) as fh:
            fh.write("never finished")
            signal.raise_signal(signal.SIGINT)  # deferred
            print("deferred", flush=True)
            signal.raise_signal(signal.SIGINT)  # the same again: act now
            print("not reached", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
    """
)


def test_a_second_ctrl_c_abandons_the_write_at_once(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text("old")
    proc = subprocess.run(
        [sys.executable, "-c", INSISTING, str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.splitlines() == ["deferred", "interrupted", "True"], proc.stderr
    assert f.read_text() == "old" and temp_files(tmp_path) == []
