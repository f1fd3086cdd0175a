"""Animation files: frames (RGB PIL images) written as a GIF by Pillow or an MP4 by ffmpeg,
each frame shown long enough for a short run to be watched, the last one held.

:func:`frame_seconds` says how long each frame is shown; :func:`open_writer` gives the
writer for a file's format (its ``set_palette``, ``add``, ``finish`` and ``abort``);
:func:`ffmpeg_path` finds the ffmpeg MP4s are written with.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from geograd.errors import GeogradError

#: What :func:`~geograd.plot.animate` writes.
ANIMATION_FORMATS = ("gif", "mp4")
#: Default timing: 20 frames per second, the last frame held for 1.5 s at the end
#: (before a GIF loops).
DEFAULT_FPS = 20.0
HOLD_SECONDS = 1.5
#: The shortest time a run plays in, the hold not counted: an animation with fewer than
#: fps x MIN_SECONDS frames shows each frame longer (a 15-step run plays in 3 s at any fps,
#: not in 0.75 s at 20 frames per second).
MIN_SECONDS = 3.0


def frame_seconds(count: int, fps: float, min_seconds: float = MIN_SECONDS) -> float:
    """How long each of ``count`` animation frames is shown: ``1 / fps``, or longer when the
    frames would otherwise play in less than ``min_seconds`` (then ``min_seconds / count``)."""
    return max(1.0 / fps, min_seconds / max(1, count))


def _ticks(seconds: float, ticks_per_second: float) -> int:
    """``seconds`` in whole ticks (of a GIF's 1/100 s, or of a video's frames), rounded
    half up."""
    return math.floor(ticks_per_second * seconds + 0.5)


def _frame_ends(count: int, seconds: float, ticks_per_second: float) -> list[int]:
    """When each of ``count`` frames shown ``seconds`` each ends, in whole ticks from the
    start (rounded as a running total, so that the rounding never adds up)."""
    return [math.floor(ticks_per_second * seconds * (k + 1) + 0.5) for k in range(count)]


def ffmpeg_path() -> str | None:
    """The ffmpeg executable MP4s are written with, or None.

    matplotlib's ``animation.ffmpeg_path`` setting (``ffmpeg`` on the PATH by
    default), else the binary shipped by the ``imageio-ffmpeg`` package when it
    is installed.
    """
    import matplotlib

    found = shutil.which(str(matplotlib.rcParams["animation.ffmpeg_path"]))
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None
    return exe if os.path.isfile(exe) else None


_X264: dict[str, bool] = {}


def _has_x264(exe: str) -> bool:
    """Whether this ffmpeg has the libx264 encoder (asked once per executable)."""
    if exe not in _X264:
        import subprocess

        try:
            out = subprocess.run(
                [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        _X264[exe] = "libx264" in out
    return _X264[exe]


class GifWriter:
    """Frames quantised to one palette (made from the final frame, which holds every
    colour the animation uses) and written by Pillow: a shared palette keeps unchanged
    pixels identical between frames, so that Pillow stores only what changed.

    Each frame is shown :func:`frame_seconds` (in the GIF's hundredths of a second, at
    least two: browsers slow down shorter frames), the last one ``hold`` seconds longer."""

    def __init__(self, path: Path, fps: float, hold: float, min_seconds: float) -> None:
        self.path, self.fps, self.hold, self.min_seconds = path, fps, hold, min_seconds
        self.frames: list[Any] = []
        self.palette: Any = None

    def set_palette(self, frame: Any) -> None:
        from PIL import Image

        self.palette = frame.quantize(colors=256, method=Image.Quantize.MEDIANCUT)

    def add(self, frame: Any) -> None:
        from PIL import Image

        self.frames.append(frame.quantize(palette=self.palette, dither=Image.Dither.NONE))

    def finish(self) -> None:
        seconds = frame_seconds(len(self.frames), self.fps, self.min_seconds)
        ends = _frame_ends(len(self.frames), seconds, 100.0)  # GIFs count in 1/100 s
        durations = [10 * max(2, end - start) for start, end in zip([0, *ends], ends)]
        durations[-1] += 10 * _ticks(self.hold, 100.0)
        self.frames[0].save(
            self.path, format="GIF", save_all=True, append_images=self.frames[1:],
            duration=durations, loop=0,
        )  # fmt: skip

    def abort(self) -> None:
        self.frames.clear()


class Mp4Writer:
    """Raw RGB frames piped to ffmpeg: H.264 in yuv420p (what every player plays),
    or MPEG-4 part 2 when this ffmpeg has no H.264 encoder.

    The video runs at ``fps``; each of the ``count`` frames is repeated for as many video
    frames as :func:`frame_seconds` asks (once when the run is long enough), and the last
    one for ``hold`` seconds more."""

    def __init__(
        self,
        path: Path,
        fps: float,
        exe: str,
        size: tuple[int, int],
        *,
        count: int,
        hold: float,
        min_seconds: float,
    ) -> None:
        import subprocess

        self.copies: list[int] = []  # how many video frames show each frame
        written = 0
        for end in _frame_ends(count, frame_seconds(count, fps, min_seconds), fps):
            self.copies.append(max(1, end - written))
            written += self.copies[-1]
        self.hold_copies = _ticks(hold, fps)
        self.added = 0
        self.last: bytes = b""
        w, h = size
        codec = ["-vcodec", "libx264", "-crf", "23"] if _has_x264(exe) else ["-vcodec", "mpeg4"]
        cmd = [
            exe, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}",
            "-i", "pipe:0", "-an", *codec, "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            "-f", "mp4", str(path),
        ]  # fmt: skip
        # ffmpeg's messages go to a file, not a pipe, which could fill up and stall it;
        # closed in finish() or abort().
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log
            )
        except OSError as exc:
            self.log.close()
            raise GeogradError(f"cannot run ffmpeg ({exe}): {exc}") from None

    def set_palette(self, frame: Any) -> None:
        pass

    def add(self, frame: Any) -> None:
        k = min(self.added, len(self.copies) - 1)
        self.added += 1
        self.last = frame.tobytes()
        self._write(self.last, self.copies[k])

    def _write(self, data: bytes, times: int) -> None:
        assert self.proc.stdin is not None
        try:
            for _ in range(times):
                self.proc.stdin.write(data)
        except BrokenPipeError:
            self.proc.wait()
            raise GeogradError(f"ffmpeg stopped while writing the MP4: {self._error()}") from None

    def finish(self) -> None:
        assert self.proc.stdin is not None
        if self.last:
            self._write(self.last, self.hold_copies)
        self.proc.stdin.close()
        code = self.proc.wait()
        error = self._error()
        self.log.close()
        if code != 0:
            raise GeogradError(f"ffmpeg failed writing the MP4 (exit code {code}): {error}")

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def _error(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"


def open_writer(
    path: Path,
    exe: str | None,
    *,
    fps: float,
    hold: float,
    min_seconds: float,
    count: int,
    size: tuple[int, int],
) -> GifWriter | Mp4Writer:
    """The writer of ``count`` frames of ``size`` pixels to ``path``: a GIF, or an MP4
    written by the ffmpeg ``exe`` when one is given."""
    if exe is None:
        return GifWriter(path, fps, hold, min_seconds)
    return Mp4Writer(path, fps, exe, size, count=count, hold=hold, min_seconds=min_seconds)
