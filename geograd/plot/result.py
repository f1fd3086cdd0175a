"""What ``--plot FILE`` saves: the scene beside the convergence panels, or the
convergence panels alone for a problem without a 2-D picture."""

from __future__ import annotations

from typing import Any

from geograd.plot.common import check_resolution, new_figure, problem_title
from geograd.plot.convergence import convergence_figure, draw_convergence
from geograd.plot.runs import as_runs, reference_loss, resolve_reference
from geograd.plot.scene import draw_scene, has_scene, scene_decorations


def result_figure(
    problem: Any,
    runs: Any,
    reference: Any = None,
    *,
    title: str | None = None,
    resolution: int = 120,
    log_steps: bool | None = None,
) -> Any:
    """What ``--plot FILE`` saves: the trajectory beside the convergence panels.

    For a problem without a 2-D picture (``problem.plot_xy`` gives None, or
    ``problem`` is None) only the convergence panels are drawn. ``reference`` as
    in :func:`trajectory_figure`; its loss is L* of the gap. ``log_steps`` as in
    :func:`convergence_figure`.
    """
    rs = as_runs(runs)
    check_resolution(resolution)
    ref = resolve_reference(problem, reference)
    ref_loss = reference_loss(ref)
    head = title or (f"{problem_title(problem)}" if problem is not None else "Convergence")
    if not has_scene(problem, rs):
        return convergence_figure(rs, ref_loss, title=head, log_steps=log_steps)
    fig = new_figure(13.0, 6.0)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.15, 1.0))
    ax_scene = fig.add_subplot(grid[:, 0])
    ax_gap = fig.add_subplot(grid[0, 1])
    ax_grad = fig.add_subplot(grid[1, 1], sharex=ax_gap)
    handles = draw_scene(ax_scene, problem, rs, ref, resolution=resolution)
    scene_decorations(fig, ax_scene, handles, 4)
    # The scene's legend names the runs, with the same colours, line styles and markers.
    draw_convergence(ax_gap, ax_grad, rs, ref_loss, log_steps)
    ax_gap.tick_params(labelbottom=False)
    ax_gap.set_title("convergence", fontsize=10)
    fig.suptitle(head, fontsize=13)
    return fig
