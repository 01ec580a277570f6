"""The core stays free of Docent: one runtime dependency, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_runtime_dependencies_are_minimal() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [dep.split(">")[0].split("=")[0] for dep in project["dependencies"]] == [
        "dataclasses-json"
    ]
    assert project["optional-dependencies"]["docent"] == ["docent==0.1.88"]


def test_import_does_not_pull_docent_or_pydantic() -> None:
    code = (
        "import sys, nemogym_ingest, nemogym_ingest.cli; "
        "heavy = [m for m in ('docent', 'pydantic', 'openai', 'hypothesis') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_py_typed_marker_ships() -> None:
    assert (ROOT / "nemogym_ingest" / "py.typed").exists()
