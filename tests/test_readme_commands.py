"""Every problem's command in the README's "Problems" section runs as written and ends
with exit code 0 (issue 15: "each problem's README command still works")."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app

README = Path(__file__).resolve().parents[1] / "README.md"


def problem_commands() -> list[str]:
    """The one-line ``geograd solve`` commands of the Problems section (the dask section
    after it needs files and clusters the reader brings)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Problems") : text.index("### Beyond one machine")]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_section_has_a_command_for_every_problem() -> None:
    from geograd.problems import available_problems

    named = {shlex.split(c)[2] for c in problem_commands()}
    assert named == set(available_problems())


@pytest.mark.parametrize("command", problem_commands())
def test_each_readme_command_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a plot the command writes lands here
    words = shlex.split(command)
    assert words[:2] == ["geograd", "solve"]
    result = CliRunner().invoke(app, [*words[1:], "-q"])
    assert result.exit_code == 0, (command, result.stdout, result.stderr)
    if "--plot" in words:
        assert (tmp_path / words[words.index("--plot") + 1]).stat().st_size > 0
