"""geograd.plot: figures, animations and the files they are saved to.

Everything here renders with the Agg canvas and no display. Files are checked by
their magic bytes and, for animations, their frame counts (Pillow for GIF, the
ffmpeg of the ``imageio-ffmpeg`` dev dependency for MP4).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from toy_problems import Ring, Shell, WideShell

import geograd.functional as F
from geograd import Tensor, minimize, plot
from geograd.check import finite_difference_sweep
from geograd.errors import InputError
from geograd.problems import Option, Problem, Reference, get_problem
from geograd.solve import HISTORY_LIMIT

PNG = b"\x89PNG\r\n\x1a\n"


class Bowl(Problem):
    """Σ (x_j − j)²: a quadratic whose picture is 2-D only when dim = 2 (base-class drawing)."""

    name = "bowl"
    description = "a quadratic bowl for plot tests"
    options = (Option("dim", int, 2, "number of parameters", min=1),)

    def setup(self) -> None:
        self.target = [float(j) for j in range(self.settings["dim"])]
        self._t = Tensor(self.target)

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    def default_x0(self) -> list[float]:
        return [3.0] * self.dim

    def loss(self, x: Tensor) -> Tensor:
        d = x - self._t
        return F.dot(d, d)

    def gradient(self, x: Sequence[float]) -> list[float]:
        return [2.0 * (a - b) for a, b in zip(x, self.target)]

    def compute_reference(self) -> Reference:
        return Reference(list(self.target), 0.0, "closed form")


@pytest.fixture(scope="module")
def median() -> Any:
    return get_problem("median", n=30, seed=2, distribution="clustered")


@pytest.fixture(scope="module")
def race(median: Any) -> dict[str, Any]:
    """Three optimizers from a far corner: a 2-D race of different lengths."""
    return {opt: median.solve(opt, x0=[0.0, 1.0]) for opt in ("gd", "adam", "sgd")}


def texts(fig: Any) -> list[str]:
    """Every legend entry of a figure: the figure's legends, then its axes'."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes]
    return [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def gif_durations(path: Path) -> list[int]:
    """How long each frame of a GIF is shown, in ms."""
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(int(im.info["duration"]))
        return out


def gif_frames(path: Path) -> list[bytes]:
    """Each frame of a GIF as RGB bytes."""
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(im.convert("RGB").tobytes())
        return out


# ------------------------------------------------------------------------ imports, display


def test_importing_geograd_and_problems_does_not_import_matplotlib() -> None:
    code = textwrap.dedent(
        """
        import sys
        import geograd, geograd.problems, geograd.plot
        from geograd.problems import get_problem
        p = get_problem("median", n=20)
        r = p.solve("adam", max_steps=5)
        geograd.plot.as_runs(r.to_dict())
        geograd.plot.frame_steps(range(1000), 50)
        bad = [m for m in ("matplotlib", "PIL", "numpy") if m in sys.modules]
        assert not bad, bad
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_renders_headless_with_agg(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import matplotlib
        from geograd import plot
        from geograd.problems import get_problem
        p = get_problem("median", n=20)
        r = p.solve("gd", max_steps=20)
        plot.save_figure(plot.result_figure(p, r), {str(tmp_path / "a.png")!r})
        plot.animate(p, r, {str(tmp_path / "a.gif")!r}, frames=5, dpi=40)
        print(matplotlib.get_backend())
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "TkAgg"  # a GUI backend cannot work without a display: Agg replaces it
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower() == "agg"
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
    assert (tmp_path / "a.gif").read_bytes()[:6] == b"GIF89a"


# ----------------------------------------------------------------------------------- runs


def test_runs_from_results_dicts_json_and_mappings(race: dict[str, Any]) -> None:
    adam = race["adam"]
    saved = json.loads(json.dumps(adam.to_dict()))
    entry = {"settings": {"optimizer": "nag"}, "history": saved["history"]}
    runs = plot.as_runs([adam, saved, entry])
    assert [r.label for r in runs] == ["adam", "adam (2)", "nag"]
    assert runs[0].step == runs[1].step == adam.history["step"]
    assert runs[0].x[-1] == list(adam.x)
    assert [r.label for r in plot.as_runs({"first": adam, "second": saved})] == [
        "first",
        "second",
    ]
    (single,) = plot.as_runs(adam)
    assert single.last_step == adam.steps


def test_runs_null_numbers_become_nan(race: dict[str, Any]) -> None:
    d = json.loads(json.dumps(race["gd"].to_dict()))
    d["history"]["grad_norm"][0] = None  # as a strict-JSON file stores a NaN
    (run,) = plot.as_runs(d)
    assert math.isnan(run.grad_norm[0])


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ([], "no runs"),
        ("adam", "expected a run"),
        ([{"loss": 1.0}], "has no history"),
        ([{"history": {"step": [], "loss": [], "grad_norm": [], "x": []}}], "empty history"),
        ([{"history": {"step": [0, 1], "loss": [1.0], "grad_norm": [1.0]}}], "different lengths"),
        ([{"history": {"loss": [1.0]}}], "malformed history"),
    ],
)
def test_bad_runs_are_input_errors(bad: Any, words: str) -> None:
    with pytest.raises(InputError, match=words):
        plot.as_runs(bad)


# ---------------------------------------------------------------------------- convergence


def test_convergence_figure_labels_scales_and_legend(median: Any, race: dict[str, Any]) -> None:
    fig = plot.convergence_figure(race, median.reference().loss, title="median race")
    ax_gap, ax_grad = fig.axes
    assert fig._suptitle.get_text() == "median race"
    assert ax_gap.get_ylabel() == plot.GAP_LABEL
    assert "‖∇L(x)‖" in ax_grad.get_ylabel()
    assert ax_grad.get_xlabel().startswith("step")
    assert ax_gap.get_yscale() == ax_grad.get_yscale() == "log"
    assert texts(fig) == ["gd", "adam", "sgd"]
    # One line per run in each panel, each with its own style (greyscale-safe).
    gap_lines = [ln for ln in ax_gap.get_lines() if ln.get_label() in race]
    assert len(gap_lines) == 3
    assert len({(ln.get_linestyle(), ln.get_marker()) for ln in gap_lines}) == 3


def test_convergence_gap_floor_and_best_seen(race: dict[str, Any]) -> None:
    gd = race["gd"]
    # A reference equal to the final loss: the last gap is 0 and is drawn at the floor.
    fig = plot.convergence_figure(gd, gd.loss)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "gd"]
    assert min(line.get_ydata()) == plot.FLOOR
    # No reference: the gap is to the lowest loss seen, and the label says so.
    fig = plot.convergence_figure(race)
    assert fig.axes[0].get_ylabel() == plot.GAP_LABEL_BEST
    assert fig._suptitle.get_text() == "Convergence"


def test_step_axis_turns_logarithmic_for_runs_of_very_different_lengths(
    race: dict[str, Any],
) -> None:
    assert race["gd"].steps * 20 <= race["adam"].steps
    assert plot.convergence_figure(race).axes[0].get_xscale() == "symlog"
    assert plot.convergence_figure(race["adam"]).axes[0].get_xscale() == "linear"
    assert plot.convergence_figure(race, log_steps=False).axes[0].get_xscale() == "linear"


# ----------------------------------------------------------------------------- trajectory


def test_trajectory_figure(median: Any, race: dict[str, Any]) -> None:
    fig = plot.trajectory_figure(median, race)
    ax = fig.axes[0]
    assert ax.get_aspect() == 1.0
    assert "path of the iterates" in fig._suptitle.get_text()
    legend = texts(fig)
    assert {"gd", "adam", "sgd", "start x₀"} <= set(legend)
    assert any(t.startswith("reference (weiszfeld") for t in legend)
    assert any(t.startswith("points (n=30)") for t in legend)  # drawn by the problem itself
    adam = next(ln for ln in ax.get_lines() if ln.get_label() == "adam")
    assert list(adam.get_xdata()) == [x[0] for x in race["adam"].history["x"]]
    assert ax.collections, "no contours or data drawn"


def test_trajectory_zooms_in_when_the_paths_are_small() -> None:
    p = get_problem("median", n=300, seed=1)  # starts at the centroid, beside the median
    fig = plot.trajectory_figure(p, p.solve("gd"))
    (inset,) = fig.axes[0].child_axes
    assert inset.get_title().startswith("zoom ×")
    assert inset.get_aspect() == 1.0


def test_trajectory_needs_a_2d_picture() -> None:
    p = Bowl(dim=3)
    with pytest.raises(InputError, match="no 2-D picture"):
        plot.trajectory_figure(p, p.solve("gd", max_steps=10))


def test_result_figure_with_and_without_a_scene(median: Any, race: dict[str, Any]) -> None:
    fig = plot.result_figure(median, race)
    scene, gap, grad = fig.axes[:3]
    assert scene.get_aspect() == 1.0 and gap.get_yscale() == grad.get_yscale() == "log"
    assert grad.get_ylabel() == plot.GRAD_LABEL
    assert fig._suptitle.get_text() == "median (n = 30 in R^2)"
    bowl = Bowl(dim=3)
    fig = plot.result_figure(bowl, bowl.solve("gd", max_steps=10))
    assert len(fig.axes) == 2  # convergence only
    assert fig.axes[0].get_ylabel() == plot.GAP_LABEL  # L* from the problem's reference


def test_reference_given_as_saved_json_or_turned_off(median: Any, race: dict[str, Any]) -> None:
    ref = {"solution": [0.5, 0.5], "loss": 0.25, "method": "from a file"}
    fig = plot.trajectory_figure(median, race["gd"], reference=ref)
    assert "reference (from a file)" in texts(fig)
    fig = plot.trajectory_figure(median, race["gd"], reference=False)
    assert not any(t.startswith("reference") for t in texts(fig))


def test_bowl_2d_uses_the_base_class_drawing() -> None:
    p = Bowl(dim=2)
    fig = plot.trajectory_figure(p, p.solve("gd"), resolution=10)
    assert "reference (closed form)" in texts(fig)


# -------------------------------------------------------------------------------- h sweep


def test_h_sweep_figure(median: Any) -> None:
    x = [0.9, 0.7]
    rows = finite_difference_sweep(median.loss, median.gradient(x), x)
    auto = median.autograd_gradient(x)
    err = max(abs(a - b) for a, b in zip(auto, median.gradient(x)))
    fig = plot.h_sweep_figure(rows, err, title="check")
    (ax,) = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == "finite-difference step h"
    legend = texts(fig)
    assert legend[0] == "central differences"
    assert any("∝ h²" in t for t in legend) and any("∝ 1/h" in t for t in legend)
    (auto_line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("autograd")]
    assert set(auto_line.get_ydata()) == {max(err, plot.FLOOR)}
    # The V: the error is smallest in the middle, not at either end.
    errors = [e for _, e in rows]
    best = errors.index(min(errors))
    assert 0 < best < len(errors) - 1


def test_h_sweep_zero_autograd_error_and_several_points() -> None:
    rows = [(1e-2, 1e-5), (1e-5, 1e-11), (1e-8, 1e-8)]
    fig = plot.h_sweep_figure({"x0": rows, "x1": rows}, 0.0)
    legend = texts(fig)
    assert legend[:2] == ["x0", "x1"]
    assert any("drawn at 1e-16" in t for t in legend)
    with pytest.raises(InputError, match="no rows"):
        plot.h_sweep_figure([], 0.0)
    with pytest.raises(InputError, match="positive"):
        plot.h_sweep_figure([(0.0, 1.0)], 0.0)


# ---------------------------------------------------------------------------------- files


@pytest.mark.parametrize(("suffix", "magic"), [("png", PNG), ("svg", b"<svg"), ("pdf", b"%PDF")])
def test_save_figure_formats(
    tmp_path: Path, race: dict[str, Any], suffix: str, magic: bytes
) -> None:
    fig = plot.convergence_figure(race)
    out = plot.save_figure(fig, tmp_path / f"c.{suffix.upper()}")
    data = out.read_bytes()
    assert magic in data[:400]
    assert leftovers(tmp_path) == [f"c.{suffix.upper()}"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_save_figure_bad_suffix_and_directory(tmp_path: Path, race: dict[str, Any]) -> None:
    fig = plot.convergence_figure(race)
    with pytest.raises(InputError, match=r"'\.jpg' is not one of \.png, \.svg, \.pdf"):
        plot.save_figure(fig, tmp_path / "c.jpg")
    with pytest.raises(InputError, match="no suffix"):
        plot.save_figure(fig, tmp_path / "c")
    with pytest.raises(InputError, match="does not exist"):
        plot.save_figure(fig, tmp_path / "missing" / "c.png")
    assert leftovers(tmp_path) == []


def test_save_figure_is_atomic(tmp_path: Path, race: dict[str, Any]) -> None:
    target = tmp_path / "c.png"
    target.write_bytes(b"old")
    fig = plot.convergence_figure(race)

    def broken(*args: Any, **kwargs: Any) -> None:
        Path(args[0]).write_bytes(b"half a fi")
        raise RuntimeError("disk on fire")

    fig.savefig = broken
    with pytest.raises(RuntimeError, match="disk on fire"):
        plot.save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == ["c.png"]


# ------------------------------------------------------------------------------ animation


def test_frame_steps() -> None:
    assert plot.frame_steps([0, 1, 2, 2, 3], 10) == [0, 1, 2, 3]
    steps = plot.frame_steps(range(10_001), 200)
    assert len(steps) == 200 and steps == sorted(set(steps))
    assert steps[0] == 0 and steps[-1] == 10_000
    # Early steps get denser frames than late ones (half the frames are log-spaced).
    assert sum(s < 100 for s in steps) > 20
    assert len(plot.frame_steps(range(0, 500, 7), 30)) == 30
    for bad in (1, 0, 2.5, True):
        with pytest.raises(InputError, match="frames must be an integer >= 2"):
            plot.frame_steps(range(10), bad)  # type: ignore[arg-type]


def test_gif_of_a_10000_step_run(tmp_path: Path) -> None:
    p = get_problem("median", n=20, seed=3, distribution="outliers")
    run = minimize(
        p.loss, [0.0, 3.0], optimizer="sgd", lr=0.01, max_steps=10_000,
        gtol=None, ftol=None, xtol=None,
    )  # fmt: skip
    # The history is bounded (thinned as it grows), from step 0 to the last.
    assert len(run.history["step"]) <= HISTORY_LIMIT
    assert run.history["step"][0] == 0 and run.history["step"][-1] == 10_000
    calls: list[tuple[int, int]] = []
    out = plot.animate(p, run, tmp_path / "sgd.gif", progress=lambda d, n: calls.append((d, n)))
    assert out == tmp_path / "sgd.gif"
    assert out.read_bytes()[:6] == b"GIF89a"
    with Image.open(out) as im:
        assert im.n_frames == plot.DEFAULT_FRAMES == 200
        assert im.info["loop"] == 0
        im.seek(im.n_frames - 1)
        assert im.info["duration"] == 50 + 1500  # 20 fps, the last frame held 1.5 s
    assert out.stat().st_size < 3_000_000
    assert calls[0] == (1, 200) and calls[-1] == (200, 200) and len(calls) == 200
    assert leftovers(tmp_path) == ["sgd.gif"]


def test_gif_frames_fps_and_short_runs(tmp_path: Path, median: Any, race: dict[str, Any]) -> None:
    steps = len(race["gd"].history["step"])
    assert steps == 20
    out = plot.animate(median, race["gd"], tmp_path / "gd.gif", frames=500, fps=5, dpi=40)
    with Image.open(out) as im:
        assert im.n_frames == steps  # fewer steps than frames
    # 20 frames at 5 per second play in 4 s, longer than the minimum: as asked.
    assert gif_durations(out) == [200] * 19 + [200 + 1500]
    # At 10 per second they would play in 2 s: slowed to the minimum, 3 s.
    out = plot.animate(median, race["gd"], tmp_path / "gd.gif", frames=500, fps=10, dpi=40)
    assert plot.MIN_SECONDS == 3.0
    assert gif_durations(out) == [150] * 19 + [150 + 1500]
    out = plot.animate(median, race, tmp_path / "race.gif", frames=12, dpi=40, hold=0)
    with Image.open(out) as im:
        assert im.n_frames == 12
        assert im.size == (480, 216)


def test_frame_seconds() -> None:
    assert plot.frame_seconds(200, 20.0) == 0.05  # 10 s: long enough
    assert plot.frame_seconds(60, 20.0) == 0.05  # exactly the minimum, 3 s
    assert plot.frame_seconds(15, 20.0) == pytest.approx(0.2)  # 0.75 s slowed to 3 s
    assert plot.frame_seconds(2, 20.0) == 1.5
    assert plot.frame_seconds(2, 20.0, min_seconds=0) == 0.05
    assert plot.frame_seconds(2, 0.5) == 2.0  # a slow rate is never sped up


def test_a_short_gif_plays_for_the_minimum_and_holds_its_final_state(
    tmp_path: Path, median: Any
) -> None:
    run = median.solve("gd", x0=[0.0, 1.0], max_steps=1)
    assert run.history["step"] == [0, 1]  # two frames: the start and the final state
    out = plot.animate(median, run, tmp_path / "short.gif", dpi=40)
    durations = gif_durations(out)
    assert len(durations) == 2
    assert sum(durations) >= 1000 * (plot.MIN_SECONDS + plot.HOLD_SECONDS) == 4500
    # The run itself plays for the minimum, then the final state is held on top.
    assert durations == [1500, 1500 + 1500]
    # The frames are the animation's own, only shown longer: the same pictures as the
    # same animation at full speed without a hold, and the last one is the final state.
    fast = plot.animate(median, run, tmp_path / "fast.gif", dpi=40, min_seconds=0, hold=0)
    assert gif_durations(fast) == [50, 50]
    start, final = gif_frames(out)
    assert [start, final] == gif_frames(fast)
    assert start != final
    with pytest.raises(InputError, match="min_seconds"):
        plot.animate(median, run, tmp_path / "bad.gif", min_seconds=-1)


def test_a_short_mp4_plays_for_the_minimum_and_holds_its_final_state(
    tmp_path: Path, median: Any
) -> None:
    import imageio_ffmpeg

    run = median.solve("gd", x0=[0.0, 1.0], max_steps=1)
    out = plot.animate(median, run, tmp_path / "short.mp4", fps=10, dpi=40)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    # 1.5 s of each of the two states at 10 frames per second, then 1.5 s held.
    assert frames == 15 + 15 + 15
    assert seconds == pytest.approx(plot.MIN_SECONDS + plot.HOLD_SECONDS, abs=0.1)
    reader = imageio_ffmpeg.read_frames(str(out))
    next(reader)  # the metadata
    video = [bytes(f) for f in reader]
    assert len(video) == 45

    def differ(a: bytes, b: bytes) -> int:
        """How many colour values of two frames differ by more than a quarter of the
        range (the codec is lossy: the same picture decodes a few levels apart)."""
        import numpy as np

        x, y = (np.frombuffer(f, dtype=np.uint8).astype(int) for f in (a, b))
        return int((abs(x - y) > 64).sum())

    assert differ(video[0], video[-1]) > 200  # the start is not the final state (~1300)
    for k in range(15, 45):  # from 1.5 s on: the final state, to the end
        assert differ(video[k], video[-1]) <= 20, k
    for k in range(15):
        assert differ(video[k], video[0]) <= 20, k


def test_race_frame_legend_names_every_optimizer(median: Any, race: dict[str, Any]) -> None:
    fig = plot.animation_frame(median, race)
    assert {"gd", "adam", "sgd"} <= set(texts(fig))
    assert fig._suptitle.get_text() == "median (n = 30 in R^2): race"
    scene, gap = fig.axes[:2]
    assert scene.get_aspect() == 1.0
    assert gap.get_yscale() == "log" and gap.get_ylabel() == plot.GAP_LABEL
    last = race["adam"].steps
    assert gap.get_title() == f"objective gap · step {last} / {last}"
    # Halfway: the long run's line stops at the frame's step.
    fig = plot.animation_frame(median, race, step=10)
    gap = fig.axes[1]
    adam = next(ln for ln in gap.get_lines() if ln.get_label() == "adam")
    assert max(adam.get_xdata()) == 10


def test_animation_without_a_2d_picture(tmp_path: Path) -> None:
    p = Bowl(dim=3)
    runs = [p.solve("gd", max_steps=20), p.solve("adam", max_steps=40, lr=0.3)]
    fig = plot.animation_frame(p, runs)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == plot.GRAD_LABEL
    assert texts(fig) == ["gd", "adam"]
    out = plot.animate(p, runs, tmp_path / "bowl.gif", frames=8, dpi=40)
    with Image.open(out) as im:
        assert im.n_frames == 8


def test_mp4_with_ffmpeg(tmp_path: Path, median: Any, race: dict[str, Any]) -> None:
    import imageio_ffmpeg  # the dev extra ships ffmpeg through it

    assert plot.ffmpeg_path() is not None
    out = plot.animate(
        median, race, tmp_path / "race.mp4", frames=15, fps=15, dpi=40, min_seconds=0, hold=0
    )
    data = out.read_bytes()
    assert data[4:8] == b"ftyp"
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 15 and seconds == pytest.approx(1.0, abs=0.1)
    assert leftovers(tmp_path) == ["race.mp4"]


def test_mp4_without_ffmpeg_names_gif(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, median: Any, race: dict[str, Any]
) -> None:
    monkeypatch.setattr(plot.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    assert plot.ffmpeg_path() is None
    with pytest.raises(InputError, match=r"MP4 needs ffmpeg.*save the animation as \.gif") as exc:
        plot.animate(median, race, tmp_path / "race.mp4")
    assert "\n" not in str(exc.value)
    assert leftovers(tmp_path) == []


def test_animation_bad_settings(tmp_path: Path, median: Any, race: dict[str, Any]) -> None:
    run = race["gd"]
    with pytest.raises(InputError, match=r"'\.avi' is not one of \.gif, \.mp4"):
        plot.animate(median, run, tmp_path / "a.avi")
    for kwargs, words in [
        ({"fps": 0}, "fps"),
        ({"fps": "fast"}, "fps"),
        ({"frames": 1}, "frames"),
        ({"hold": -1}, "hold"),
        ({"min_seconds": -1}, "min_seconds"),
        ({"min_seconds": "long"}, "min_seconds"),
        ({"dpi": 5}, "dpi"),
        ({"resolution": 1}, "resolution"),
    ]:
        with pytest.raises(InputError, match=words):
            plot.animate(median, run, tmp_path / "a.gif", **kwargs)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_animation_is_atomic(
    tmp_path: Path, median: Any, race: dict[str, Any], suffix: str
) -> None:
    target = tmp_path / f"race.{suffix}"
    target.write_bytes(b"old")

    def stop(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        plot.animate(median, race, target, frames=10, dpi=40, progress=stop)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == [target.name]


# ------------------------------------------------- the drawing hook: draw_estimate, has_scene


@pytest.fixture(scope="module")
def ring_runs() -> dict[str, Any]:
    p = Ring()
    return {opt: p.solve(opt, max_steps=60, lr=0.05) for opt in ("adam", "momentum")}


def circles(ax: Any) -> list[Any]:
    from matplotlib.patches import Circle

    return [a for a in ax.patches if isinstance(a, Circle)]


def rgba(color: Any) -> tuple[float, ...]:
    from matplotlib.colors import to_rgba

    return tuple(to_rgba(color))


def test_has_scene_and_the_default_hook() -> None:
    assert Bowl(dim=2).has_scene is True  # a path point, no picture of its own
    assert Bowl(dim=3).has_scene is False  # neither
    assert Ring().has_scene is True
    assert Shell().has_scene is True  # no path point, but draw_estimate is overridden
    fig = plot._figure(3, 3)
    ax = fig.add_subplot()
    assert Bowl(dim=2).draw_estimate(ax, [1.0, 2.0], color="red") == []
    assert not ax.lines and not ax.patches


def test_trajectory_draws_each_runs_final_estimate_and_the_reference(
    ring_runs: dict[str, Any],
) -> None:
    fig = plot.trajectory_figure(Ring(), ring_runs)
    ax = fig.axes[0]
    drawn = circles(ax)
    assert len(drawn) == 3  # adam, momentum, the reference
    for i, (name, run) in enumerate(ring_runs.items()):
        (c,) = [c for c in drawn if c.get_edgecolor()[:3] == rgba(plot.COLORS[i])[:3]]
        assert c.center == (run.x[0], run.x[1]) and c.radius == abs(run.x[2])
        assert c.get_linestyle() == plot.LINESTYLES[i], name
    (ref,) = [c for c in drawn if c.get_edgecolor()[:3] == (0.0, 0.0, 0.0)]
    assert ref.radius == 1.5 and ref.get_linestyle() == ":"
    # The path is the centre's, drawn by the plot itself.
    adam = next(ln for ln in ax.get_lines() if ln.get_label() == "adam")
    assert list(adam.get_xdata()) == [x[0] for x in ring_runs["adam"].history["x"]]
    assert "reference (by construction)" in texts(fig)  # the star's entry


def test_a_scene_without_paths(ring_runs: dict[str, Any]) -> None:
    p = Shell()
    fig = plot.result_figure(p, ring_runs)
    scene = fig.axes[0]
    assert scene.get_title() == "estimates"  # no iterates, no contours
    assert scene.get_aspect() == 1.0
    assert len(circles(scene)) == 3
    assert not any(len(ln.get_xdata()) for ln in scene.get_lines())  # no path, no start
    assert len(scene.collections) == 1  # the data only: no contour set
    legend = texts(fig)
    # Without a star, the reference's picture carries its legend entry.
    assert {"adam", "momentum", "reference (by construction)", "points (n=16)"} <= set(legend)
    assert "start x₀" not in legend
    assert fig.axes[1].get_yscale() == "log"
    # Without recorded iterates there is nothing to draw in the scene: convergence only.
    bare = [
        {"history": {k: v for k, v in r.history.items() if k != "x"}} for r in ring_runs.values()
    ]
    assert len(plot.result_figure(p, bare).axes) == 2


def test_the_view_widens_to_hold_the_estimates(ring_runs: dict[str, Any]) -> None:
    fig = plot.trajectory_figure(WideShell(), ring_runs)
    ax = fig.axes[0]
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    for c in circles(ax):  # radius 4.5 around (2, 1): far beyond the data's box
        cx, cy = c.center
        assert x_lo <= cx - c.radius and cx + c.radius <= x_hi
        assert y_lo <= cy - c.radius and cy + c.radius <= y_hi


def test_animation_frames_redraw_the_estimates(ring_runs: dict[str, Any]) -> None:
    p = Shell()
    step = 10
    fig = plot.animation_frame(p, ring_runs, step=step)
    scene = fig.axes[0]
    drawn = circles(scene)
    assert len(drawn) == 3
    for i, run in enumerate(ring_runs.values()):
        (c,) = [c for c in drawn if c.get_edgecolor()[:3] == rgba(plot.COLORS[i])[:3]]
        assert c.radius == abs(run.history["x"][step][2])  # the estimate at the frame's step
    # Frame after frame, each run keeps exactly one picture (the old one is removed).
    scene_obj = plot._AnimationScene(p, plot.as_runs(ring_runs), None, None, 40, 10, None)
    ax = scene_obj.ax_scene
    radii = []
    for s in (0, 5, 30, 60):
        scene_obj.render(s)
        assert len(circles(ax)) == 2
        radii.append(sorted(c.radius for c in circles(ax)))
    assert radii[0] == [0.5, 0.5] and radii[0] != radii[-1]


def test_animated_estimates_appear_in_the_gif(tmp_path: Path, ring_runs: dict[str, Any]) -> None:
    out = plot.animate(Shell(), ring_runs, tmp_path / "shell.gif", frames=4, dpi=40, hold=0)
    with Image.open(out) as im:
        assert im.n_frames == 4
        pictures = []
        for k in range(im.n_frames):
            im.seek(k)
            frame = im.convert("RGB")
            # The scene is the left half: only the estimates move there.
            pictures.append(frame.crop((0, 0, frame.width // 2, frame.height)).tobytes())
    assert len(set(pictures)) == 4
