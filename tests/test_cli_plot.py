"""Pictures from the CLI: --plot/--animate on solve and compare, geograd plot, check --h-sweep.

Files are checked by their magic bytes and frame counts (Pillow for GIF, the ffmpeg
of the ``imageio-ffmpeg`` dev dependency for MP4). Runs are small (n = 40, a few
frames at a low resolution would not matter: the CLI uses the plot defaults, which
is what users get).
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from toy_problems import Shell
from typer.testing import CliRunner

from geograd import plot
from geograd.cli import plotting
from geograd.cli import progress as cli_progress
from geograd.cli.app import app
from geograd.cli.progress import FrameProgress
from geograd.errors import GeogradError
from geograd.problems import register_problem, unregister_problem

runner = CliRunner()

PNG = b"\x89PNG\r\n\x1a\n"
GIF = b"GIF89a"
MEDIAN = ("median", "--n", "40", "--seed", "3")


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: str | Path) -> Any:
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""  # no progress bar: stderr is not a terminal here
    return result


def fails(*args: str | Path, code: int = 2) -> str:
    """The one-line error of a failing command."""
    result = invoke(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("geograd: error: ")
    return str(result.stderr)


def gif_frames(path: Path) -> int:
    with Image.open(path) as im:
        assert im.format == "GIF"
        return int(im.n_frames)


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def shell() -> Iterator[type[Shell]]:
    register_problem(Shell)
    yield Shell
    unregister_problem("shell")


# ---------------------------------------------------------------------------- solve


def test_solve_plot_and_animate(tmp_path: Path) -> None:
    png, gif = tmp_path / "run.png", tmp_path / "run.gif"
    out = ok("solve", *MEDIAN, "--plot", png, "--animate", gif, "--frames", "5", "--fps", "1")
    assert png.read_bytes()[:8] == PNG
    assert gif_frames(gif) == 5
    with Image.open(gif) as im:
        assert im.info["duration"] == 1000  # 1 frame per second (5 s: over the minimum)
    assert f"saved the plot to {png}" in out.stdout
    assert f"saved the animation to {gif}" in out.stdout
    assert files(tmp_path) == ["run.gif", "run.png"]  # no temporary files left


def test_solve_json_reports_the_pictures_and_quiet_says_nothing(tmp_path: Path) -> None:
    png = tmp_path / "run.svg"
    doc = json.loads(ok("solve", *MEDIAN, "--plot", png, "--json").stdout)
    assert doc["plot"] == str(png) and "animation" not in doc
    assert b"<svg" in png.read_bytes()[:400]
    assert ok("solve", *MEDIAN, "--plot", tmp_path / "q.pdf", "-q").stdout == ""
    assert (tmp_path / "q.pdf").read_bytes()[:4] == b"%PDF"


def test_solve_mp4(tmp_path: Path) -> None:
    import imageio_ffmpeg

    mp4 = tmp_path / "run.mp4"
    ok("solve", *MEDIAN, "--optimizer", "adam", "--animate", mp4, "--frames", "6", "--fps", "2")
    assert mp4.read_bytes()[4:8] == b"ftyp"
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(mp4))
    # 6 frames at 2 per second (3 s: the minimum), then the final state held 1.5 s.
    assert frames == 6 + 3 and seconds == pytest.approx(4.5, abs=0.1)


def test_every_problem_command_has_the_plot_flags(shell: type[Shell]) -> None:
    for kind in ("solve", "compare"):
        for name in ("median", "shell"):
            text = ok(kind, name, "--help").stdout
            for flag in ("--plot", "--animate", "--fps", "--frames"):
                assert flag in text, (kind, name, flag)
    assert "--h-sweep" in ok("check", "median", "--help").stdout


def test_a_problem_drawn_by_its_estimate_only(tmp_path: Path, shell: type[Shell]) -> None:
    png, gif = tmp_path / "s.png", tmp_path / "s.gif"
    # The toy's 80 steps stop short of convergence: a finding (exit 1), drawn all the same.
    result = invoke("solve", "shell", "--plot", png, "--animate", gif, "--frames", "3", "-q")
    assert result.exit_code == 1 and result.stdout == "" and result.stderr == ""
    assert png.read_bytes()[:8] == PNG
    assert gif_frames(gif) == 3
    with Image.open(png) as im:
        assert im.width > 1.5 * im.height  # the scene beside the convergence panels


# ---------------------------------------------------------------------------- compare


def test_compare_races_its_optimizers(tmp_path: Path) -> None:
    png, gif = tmp_path / "race.png", tmp_path / "race.gif"
    doc = json.loads(
        ok(
            "compare", *MEDIAN, "--optimizers", "gd,adam", "--baselines", "none",
            "--plot", png, "--animate", gif, "--frames", "6", "--json",
        ).stdout
    )  # fmt: skip
    assert doc["plot"] == str(png) and doc["animation"] == str(gif)
    assert png.read_bytes()[:8] == PNG
    assert gif_frames(gif) == 6


def test_compare_draws_every_optimizer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def spy(problem: Any, runs: Any, reference: Any = None, **kwargs: Any) -> Any:
        seen.append([r.label for r in plot.as_runs(runs)])
        return plot.convergence_figure(runs)

    monkeypatch.setattr(plot, "result_figure", spy)
    ok(
        "compare", *MEDIAN, "--optimizers", "gd,sgd,adam", "--baselines", "BFGS",
        "--plot", tmp_path / "c.png", "-q",
    )  # fmt: skip
    assert seen == [["gd", "sgd", "adam"]]


# --------------------------------------------------------------------- geograd plot


def test_plot_redraws_a_saved_solve(tmp_path: Path) -> None:
    saved, first = tmp_path / "r.json", tmp_path / "first.png"
    ok("solve", *MEDIAN, "--out", saved, "--plot", first, "-q")
    again, gif = tmp_path / "again.png", tmp_path / "again.gif"
    out = ok("plot", saved, "--plot", again, "--animate", gif, "--frames", "4")
    assert f"saved the plot to {again}" in out.stdout
    # The same problem, runs and reference: the same picture, to the byte.
    assert again.read_bytes() == first.read_bytes()
    assert gif_frames(gif) == 4


def test_plot_redraws_a_saved_comparison(tmp_path: Path, shell: type[Shell]) -> None:
    saved = tmp_path / "c.json"
    ok("compare", "shell", "--optimizers", "adam,momentum", "--baselines", "none", "--out", saved,
       "-q")  # fmt: skip
    gif, png = tmp_path / "c.gif", tmp_path / "c.png"
    assert ok("plot", saved, "--animate", gif, "--frames", "5", "--plot", png, "-q").stdout == ""
    assert gif_frames(gif) == 5
    assert png.read_bytes()[:8] == PNG


def test_plot_bad_files_are_one_line(tmp_path: Path) -> None:
    png = ("--plot", tmp_path / "p.png")
    assert "no such geograd result" in fails("plot", tmp_path / "missing.json", *png)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "geograd.solve/1",')
    assert "not valid JSON" in fails("plot", broken, *png)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert "holds list" in fails("plot", listed, *png)
    other = tmp_path / "other.json"
    other.write_text('{"name": "not ours"}')
    assert "not a geograd result" in fails("plot", other, *png)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"format": "geograd.solve/1", "spec": {"name": "nope"}}))
    assert "cannot rebuild the problem" in fails("plot", unknown, *png)
    gappy = tmp_path / "gappy.json"
    gappy.write_text(
        json.dumps({"format": "geograd.compare/1", "spec": {"name": "median"}, "histories": {}})
    )
    assert "no optimizer histories" in fails("plot", gappy, *png)
    assert "nothing to draw" in fails("plot", gappy)
    assert files(tmp_path) == sorted(["broken.json", "list.json", "other.json", "unknown.json",
                                      "gappy.json"])  # fmt: skip


def test_plot_a_result_with_a_broken_history(tmp_path: Path) -> None:
    saved = tmp_path / "r.json"
    ok("solve", *MEDIAN, "--out", saved, "-q")
    doc = json.loads(saved.read_text())
    doc["history"]["loss"] = doc["history"]["loss"][:-1]
    saved.write_text(json.dumps(doc))
    assert "the file is damaged" in fails("plot", saved, "--plot", tmp_path / "p.png")


def test_plot_a_run_interrupted_before_its_first_gradient(tmp_path: Path) -> None:
    # Ctrl-C before step 1: one history row, and no gradient norm (null in the JSON).
    saved = tmp_path / "r.json"
    ok("solve", *MEDIAN, "--out", saved, "-q")
    doc = json.loads(saved.read_text())
    doc["history"] = {k: v[:1] for k, v in doc["history"].items()}
    doc["history"]["grad_norm"] = [None]
    doc.update(steps=0, reason="interrupted", interrupted=True)
    saved.write_text(json.dumps(doc))
    png = tmp_path / "p.png"
    ok("plot", saved, "--plot", png)
    assert png.read_bytes()[:8] == PNG


# --------------------------------------------------------------------------- check


def test_check_h_sweep(tmp_path: Path) -> None:
    png = tmp_path / "h.png"
    out = ok("check", "median", "--n", "30", "--count", "2", "--h-sweep", png)
    assert png.read_bytes()[:8] == PNG
    assert f"saved the h sweep to {png}" in out.stdout
    doc = json.loads(
        ok("check", "median", "--n", "30", "--at", "0.5,0.5", "--h-sweep", png, "--json").stdout
    )
    sweep = doc["h_sweep"]
    assert sweep["file"] == str(png)
    assert len(sweep["points"]) == plotting.SWEEP_POINTS
    assert sweep["points"][0]["x"] == [0.5, 0.5]  # the --at point first
    assert sweep["autograd_error"] < 1e-12
    errors = [e for _, e in sweep["points"][0]["sweep"]]
    best = errors.index(min(errors))
    assert 0 < best < len(errors) - 1  # the V: rounding on the left, truncation on the right


def test_check_h_sweep_bad_suffix_before_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import geograd.check

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the check ran")

    monkeypatch.setattr(geograd.check, "three_way_check", never)
    assert "use .png, .svg or .pdf" in fails("check", "median", "--h-sweep", "h.gif")


# ------------------------------------------------------------------------ bad flags


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--plot", "out.jpg"], ["--plot out.jpg", "'.jpg' is not a figure format",
                                 "use .png, .svg or .pdf"]),
        (["--plot", "out"], ["no suffix", "use .png, .svg or .pdf"]),
        (["--animate", "out.png"], ["'.png' is not an animation format", "use .gif or .mp4"]),
        (["--animate", "nowhere/out.gif"], ["does not exist"]),
        (["--fps", "10"], ["--fps", "give --animate"]),
        (["--frames", "10"], ["--frames", "give --animate"]),
        (["--animate", "a.gif", "--fps", "0"], ["--fps must be a number in (0, 100]"]),
        (["--animate", "a.gif", "--fps", "fast"], ["--fps must be a number"]),
        (["--animate", "a.gif", "--frames", "1"], ["--frames must be"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["solve", "compare"])
def test_bad_picture_flags_fail_before_the_run(
    command: str, flags: list[str], words: list[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    import geograd.cli.solve

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the problem was built")

    monkeypatch.setattr(geograd.cli.solve, "build_problem", never)
    monkeypatch.chdir(tmp_path)
    line = fails(command, *MEDIAN, *flags)
    for word in words:
        assert word in line, line
    assert files(tmp_path) == []


def test_mp4_without_ffmpeg_names_gif(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(plot, "ffmpeg_path", lambda: None)
    line = fails("solve", *MEDIAN, "--animate", tmp_path / "a.mp4")
    assert "MP4 needs ffmpeg" in line and "save the animation as .gif instead" in line
    line = fails("plot", tmp_path / "whatever.json", "--animate", tmp_path / "a.mp4")
    assert ".gif" in line  # checked before the file is even read
    assert files(tmp_path) == []


# ------------------------------------------------------------- the run is never lost


def test_a_drawing_failure_still_prints_and_saves_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise GeogradError("cannot write race.gif: No space left on device")

    monkeypatch.setattr(plot, "animate", full_disk)
    saved = tmp_path / "r.json"
    result = invoke("solve", *MEDIAN, "--out", saved, "--animate", tmp_path / "a.gif")
    assert result.exit_code == 2
    assert "objective" in result.stdout and f"saved the full result to {saved}" in result.stdout
    assert result.stderr == "geograd: error: cannot write race.gif: No space left on device\n"
    assert json.loads(saved.read_text())["format"] == "geograd.solve/1"


def test_ctrl_c_while_animating_keeps_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plot, "animate", interrupted)
    saved = tmp_path / "c.json"
    result = invoke(
        "compare", *MEDIAN, "--optimizers", "gd", "--baselines", "none", "--out", saved,
        "--plot", tmp_path / "c.png", "--animate", tmp_path / "c.gif", "--json",
    )  # fmt: skip
    assert result.exit_code == 130
    assert result.stderr == "geograd: interrupted\n"
    assert json.loads(result.stdout)["runs"]
    assert saved.exists() and not (tmp_path / "c.gif").exists()


# ---------------------------------------------------------------------- progress bar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_frame_progress_appears_only_for_long_animations() -> None:
    now = [0.0]
    stream = Tty()
    bar = FrameProgress("writing [1].gif", enabled=True, stream=stream, clock=lambda: now[0])
    assert bar.callback is not None
    for done in range(1, 10):
        now[0] = 0.1 * done  # 0.9 s: a short animation shows nothing
        bar.callback(done, 40)
    assert not bar.shown and stream.getvalue() == ""
    for done in range(10, 41):
        now[0] = 0.1 * done
        bar.callback(done, 40)
    bar.close()
    assert bar.shown
    text = stream.getvalue()
    assert "writing [1].gif" in text and "40/40" in text and "frames" in text
    assert FrameProgress("x", enabled=False).callback is None


def test_animation_progress_reaches_the_bar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import geograd.cli.plotting

    calls: list[tuple[int, int]] = []

    class Recorder(FrameProgress):
        def __init__(self, label: str, *, enabled: bool, **kwargs: Any) -> None:
            super().__init__(label, enabled=True, stream=io.StringIO(), delay=1e9)

        def _frame(self, done: int, total: int) -> None:
            calls.append((done, total))

    monkeypatch.setattr(geograd.cli.plotting, "FrameProgress", Recorder)
    ok("solve", *MEDIAN, "--animate", tmp_path / "a.gif", "--frames", "4", "-q")
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_the_bar_is_shown_when_wanted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Whether a bar may be shown is what is tested here, not the clock: a bar that is
    # enabled never opens (with the real one-second delay it would, on a loaded machine
    # where writing the GIF takes longer, and write to stderr).
    monkeypatch.setattr(cli_progress, "DELAY", math.inf)
    seen: list[bool] = []
    real = plotting.render

    def spy(*args: Any, progress: bool, **kwargs: Any) -> Any:
        seen.append(progress)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(plotting, "render", spy)
    gif = ("--animate", tmp_path / "a.gif", "--frames", "2")
    ok("solve", *MEDIAN, *gif)  # CliRunner's stderr is not a terminal: no bar
    asked: list[tuple[bool, bool]] = []

    def terminal(quiet: bool, json_output: bool, stream: Any = None) -> bool:
        asked.append((quiet, json_output))
        return True

    monkeypatch.setattr(plotting, "wanted", terminal)
    ok("solve", *MEDIAN, *gif, "-q")
    ok("solve", *MEDIAN, *gif, "--json")
    assert asked == [(True, False), (False, True)]
    assert seen == [False, True, True]


# ------------------------------------------------------------------------ start-up


def test_suffixes_match_the_plot_module() -> None:
    assert plotting.FIGURE_SUFFIXES == plot.FIGURE_FORMATS
    assert plotting.ANIMATION_SUFFIXES == plot.ANIMATION_FORMATS
    assert plotting.DEFAULT_FPS == plot.DEFAULT_FPS
    assert plotting.DEFAULT_FRAMES == plot.DEFAULT_FRAMES


PROBE = textwrap.dedent(
    """
    import sys
    sys.argv = ["geograd", *{args!r}]
    from geograd.cli import run
    try:
        run()
    except SystemExit:
        pass
    print("MPL", "matplotlib" in sys.modules, file=sys.stderr)
    """
)


def imports_matplotlib(*args: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("MPL "), proc.stderr
    return last == "MPL True"


def test_help_does_not_import_matplotlib_but_a_plot_does(tmp_path: Path) -> None:
    quiet = [
        ["--help"],
        ["plot", "--help"],
        ["solve", "median", "--help"],
        ["check", "median", "--help"],
        ["solve", "median", "--n", "30", "-q"],
    ]
    for args in quiet:
        assert not imports_matplotlib(*args), args
    # A bad suffix is caught without matplotlib too.
    assert not imports_matplotlib("solve", "median", "--plot", "x.jpg")
    assert imports_matplotlib(
        "solve", "median", "--n", "30", "-q", "--plot", str(tmp_path / "a.png")
    )


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_saved_path_near_the_largest_float_is_drawn_without_warnings(tmp_path: Path) -> None:
    """An iterate at (1e308, -1e308) in a saved history overflows numpy's and matplotlib's
    arithmetic while the figure is drawn; the plot is written and stderr stays empty."""
    saved, png = tmp_path / "run.json", tmp_path / "p.png"
    ok("solve", *MEDIAN, "--out", saved, "-q")
    doc = json.loads(saved.read_text())
    doc["history"]["x"][2] = [1e308, -1e308]
    saved.write_text(json.dumps(doc))
    ok("plot", saved, "--plot", png)  # ok(): exit 0 and nothing on stderr
    assert png.read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("failure", "code", "words"),
    [(KeyboardInterrupt(), 130, "interrupted"), (GeogradError("no room"), 2, "error: no room")],
)
def test_a_drawing_that_fails_after_the_run_says_so_in_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, code: int, words: str
) -> None:
    # the run is kept and printed; its verdict names the command's true exit code
    def render(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(plotting, "render", render)
    out = tmp_path / "r.json"
    result = invoke("solve", "median", "--n", "20", "--plot", tmp_path / "p.png", "--out", out)
    assert result.exit_code == code
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("verdict"))
    assert f"the drawing stopped: {words} (exit {code})" in verdict
    saved = json.loads(out.read_text())
    assert saved["exit_code"] == code and saved["drawing_failed"] == words
