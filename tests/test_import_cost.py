"""``import geograd`` stays light: nothing heavy until a registry lookup needs it.

(What it costs in milliseconds is the benchmark's business; which modules it
loads is a fact a test can check.)"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("importlib.metadata", "email", "zipfile", "numpy", "scipy", "matplotlib")


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return set(out.split())


def test_import_geograd_loads_no_metadata_machinery() -> None:
    loaded = loaded_after("import geograd")
    assert not [m for m in HEAVY if m in loaded]


def test_a_registry_lookup_reads_the_entry_points_then() -> None:
    loaded = loaded_after("from geograd.optim import get_optimizer; get_optimizer('adam')")
    assert "importlib.metadata" in loaded
