"""The project's own static checks run with the tests: mypy --strict, ruff, and the size of
the package's modules and functions."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", ".")],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(command: tuple[str, ...]) -> None:
    executable = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert executable, "ruff is in the dev group"
    completed = _run(executable, *command[1:])
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_mypy_strict() -> None:
    completed = _run(sys.executable, "-m", "mypy")
    assert completed.returncode == 0, completed.stdout + completed.stderr


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
_LIMITED = [
    path
    for path in sorted((ROOT / "nemogym_ingest").rglob("*.py"))
    if "testing" not in path.relative_to(ROOT / "nemogym_ingest").parts
]
"""The package's modules but the Hypothesis strategies (`testing/`), which are one table."""


def test_no_module_is_over_500_lines() -> None:
    lengths = {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in _LIMITED
    }
    assert "nemogym_ingest/convert/rollout.py" in lengths
    assert {name: length for name, length in lengths.items() if length > MAX_MODULE_LINES} == {}


def test_no_function_is_over_60_lines() -> None:
    long = [
        f"{path.relative_to(ROOT).as_posix()}:{node.name} ({length} lines)"
        for path in _LIMITED
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []
