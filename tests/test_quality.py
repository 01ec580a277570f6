"""The project's own static checks run with the tests: mypy --strict and ruff."""

from __future__ import annotations

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
