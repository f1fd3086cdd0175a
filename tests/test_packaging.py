"""What an install shows: pyproject.toml's metadata in the form setuptools builds without
deprecation warnings, and a typer whose --help does not print "<bool>" after every flag."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


def version(requirement: str) -> tuple[int, ...]:
    """The version of a ``>=`` bound: "setuptools>=77" -> (77,)."""
    match = re.search(r">=\s*([0-9][0-9.]*)", requirement)
    assert match, requirement
    return tuple(int(part) for part in match.group(1).split("."))


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    project = pyproject()["project"]
    # A table ({ text = "MIT" }) and License classifiers are deprecated by setuptools
    # (no longer built from February 2027).
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").is_file()
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]


def test_the_build_needs_a_setuptools_that_reads_it() -> None:
    requires = pyproject()["build-system"]["requires"]
    (setuptools,) = [r for r in requires if re.match(r"setuptools\b", r)]
    assert version(setuptools) >= (77,)  # the first with PEP 639's license fields


def test_typer_is_pinned_to_the_versions_that_work() -> None:
    (typer,) = [r for r in pyproject()["project"]["dependencies"] if r.startswith("typer")]
    # Below: typer.TyperException (cli/errors.py) is new in 0.27.2. Above: 0.29 prints
    # "<bool>" after every on/off flag in --help (see the test below).
    assert version(typer) >= (0, 27, 2)
    assert "<0.29" in typer.replace(" ", "")


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "median", "--help"],
        ["compare", "median", "--help"],
        ["check", "median", "--help"],
        ["plot", "--help"],
        ["--help"],
    ],
)
def test_help_shows_no_type_after_on_off_flags(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "--help" in result.stdout
    assert "<bool>" not in result.stdout
