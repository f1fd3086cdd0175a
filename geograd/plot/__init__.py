"""Layer 7: matplotlib figures and animations of geograd runs.

Every figure is built from *runs* and, for the scene, a *problem*:

* a run is what :func:`geograd.minimize` returns (a :class:`~geograd.solve.Result`)
  or its dict form (``Result.to_dict()``, or any mapping with a ``history`` of
  plain lists ``step``, ``loss``, ``grad_norm`` and ``x``, as a saved JSON holds
  it). ``runs`` may be one run, a sequence of runs, or a mapping label -> run;
  a run's label is its optimizer's name unless the mapping gives one.
* a problem is a :class:`geograd.problems.Problem`; the scene uses only its
  generic drawing interface (see :mod:`geograd.plot.scene`). There is no
  per-problem code here: a problem with a picture but no path point (charges on a
  sphere) gets data and estimates without paths or contours; one without a picture
  the convergence panels only.

Functions (each returns a matplotlib ``Figure`` or writes a file), one module a job:

* :mod:`~geograd.plot.runs`: :func:`as_runs` reads runs (and the reference to mark);
* :mod:`~geograd.plot.convergence`: :func:`convergence_figure`, the objective gap
  L(x) − L* and the gradient norm against the step, on log scales, one line per run;
* :mod:`~geograd.plot.scene`: :func:`trajectory_figure`, the problem's data, loss
  contours, each run's path and the reference solution, in equal aspect;
* :mod:`~geograd.plot.result`: :func:`result_figure`, the trajectory beside the
  convergence panels (what ``--plot FILE`` saves), or the convergence panels alone for
  a problem without a 2-D picture;
* :mod:`~geograd.plot.animation`: :func:`animate`, the scene growing step by step
  beside the objective gap, saved as GIF (Pillow) or MP4 (ffmpeg) by the file's suffix;
  several runs make a race (:func:`animation_frame` gives one frame as a Figure;
  :func:`frame_steps` says which steps get frames);
* :mod:`~geograd.plot.video`: writing the frames, :func:`frame_seconds` says how long
  each is shown: a short run is slowed to play for at least :data:`MIN_SECONDS`, and
  the final state is held :data:`HOLD_SECONDS` at the end; :func:`ffmpeg_path`;
* :mod:`~geograd.plot.sweep`: :func:`h_sweep_figure`, the central finite-difference
  error against the step h (the rounding-versus-truncation V) beside the autograd
  gradient's error;
* :mod:`~geograd.plot.common`: what they share, and :func:`save_figure` (PNG, SVG or
  PDF by the suffix).

matplotlib (with numpy and Pillow, which it brings) is imported inside the functions, never
when ``geograd`` or this package is imported. Figures are made with
``matplotlib.figure.Figure`` and an Agg canvas, not pyplot, so they need no
display and no global state (and nothing leaks when they are dropped); when
there is no display (neither ``DISPLAY`` nor ``WAYLAND_DISPLAY`` is set, on Linux and
the like) the Agg backend is also selected for any pyplot use that follows. Files are
written atomically: to a temporary file in the target's directory, then
``os.replace``, so a crash or Ctrl-C never leaves half a file.
"""

from __future__ import annotations

# ``plot.shutil``: tests replace ``shutil.which`` through it, as when this was one module.
import shutil as shutil

from geograd.plot.animation import DEFAULT_FRAMES, animate, animation_frame, frame_steps

# The old module's private names that tests still reach through ``geograd.plot`` (and
# ``_figure`` below).
from geograd.plot.animation import _AnimationScene as _AnimationScene
from geograd.plot.common import (
    COLORS,
    FIGURE_FORMATS,
    FLOOR,
    GAP_LABEL,
    GAP_LABEL_BEST,
    GRAD_LABEL,
    LINESTYLES,
    new_figure,
    save_figure,
)
from geograd.plot.convergence import convergence_figure
from geograd.plot.result import result_figure
from geograd.plot.runs import Run, as_runs
from geograd.plot.scene import trajectory_figure
from geograd.plot.sweep import h_sweep_figure
from geograd.plot.video import (
    ANIMATION_FORMATS,
    DEFAULT_FPS,
    HOLD_SECONDS,
    MIN_SECONDS,
    ffmpeg_path,
    frame_seconds,
)

#: The old module's name of :func:`~geograd.plot.common.new_figure`, which tests use.
_figure = new_figure

__all__ = [
    "ANIMATION_FORMATS",
    "COLORS",
    "DEFAULT_FPS",
    "DEFAULT_FRAMES",
    "FIGURE_FORMATS",
    "FLOOR",
    "GAP_LABEL",
    "GAP_LABEL_BEST",
    "GRAD_LABEL",
    "HOLD_SECONDS",
    "LINESTYLES",
    "MIN_SECONDS",
    "Run",
    "animate",
    "animation_frame",
    "as_runs",
    "convergence_figure",
    "ffmpeg_path",
    "frame_seconds",
    "frame_steps",
    "h_sweep_figure",
    "result_figure",
    "save_figure",
    "trajectory_figure",
]
