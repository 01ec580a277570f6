"""A corpus of real NeMo Gym rollouts: the example exports shipped inside the nemo-gym wheel.

The nemo-gym 0.7.0 wheel (Apache-2.0) carries `*rollouts*.jsonl` example files written by
NeMo Gym's own environments and benchmarks. The rollouts of those files that Docent 0.1.88
and this project both accept, in the order of the wheel's file names, are repeated until
the corpus reaches the size asked for. The wheel is fetched once with
`pip download` (checked against its SHA-256) and kept beside the corpus.
"""

# ruff: noqa: PLC0415 (Docent and this package are imported only when the corpus is built)

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from fnmatch import fnmatch
from pathlib import Path

REAL_CORPUS_VERSION = 1
WHEEL = "nemo_gym-0.7.0-py3-none-any.whl"
WHEEL_SHA256 = "cce78fc3fd048f36b4c465fe8e9fe3cc5e7afb6f6e287bfe831f156988508a70"
ROLLOUT_FILES = "*rollouts*.jsonl"


def _pip_download(directory: Path) -> None:
    """Fetch the wheel into `directory` (nemo-gym 0.7.0 asks for Python 3.13.14 or newer)."""
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run([*pip, "--version"], capture_output=True, check=False).returncode != 0:
        uvx = shutil.which("uvx")
        if uvx is None:
            raise SystemExit("building the real corpus needs pip (or uv's uvx) to fetch nemo-gym")
        pip = [uvx, "pip"]
    command = [*pip, "download", "nemo-gym==0.7.0", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.13.14", "--dest", str(directory), "--quiet"]
    subprocess.run(command, check=True)


def ensure_wheel(directory: Path) -> Path:
    """The nemo-gym wheel, downloaded once and checked against its known SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / WHEEL
    if not wheel.exists():
        _pip_download(directory)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def _both_accept(line: bytes) -> bool:
    """Whether Docent 0.1.88 and this project both convert the JSONL line."""
    from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run as docent_convert

    from nemogym_ingest import ConversionError, convert_nemogym_rollout_to_agent_run

    try:
        rollout = json.loads(line)
        docent_convert(rollout)
    except Exception:  # any failure of Docent's means Docent does not accept the line
        return False
    try:
        convert_nemogym_rollout_to_agent_run(json.loads(line))
    except ConversionError:
        return False
    return True


def accepted_rollouts(wheel: Path) -> list[bytes]:
    """The lines of the wheel's rollout files that both converters accept, newline-ended."""
    lines: list[bytes] = []
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(name for name in archive.namelist() if fnmatch(name, ROLLOUT_FILES))
        for name in names:
            for line in archive.read(name).splitlines():
                if line.strip() and _both_accept(line):
                    lines.append(line.strip() + b"\n")
    return lines


def ensure_real_corpus(directory: Path, size_bytes: int) -> tuple[Path, int]:
    """The real corpus of at least `size_bytes` bytes (built once, then reused).

    Returns the path and its number of rollouts.
    """
    path = directory / f"real-v{REAL_CORPUS_VERSION}-{size_bytes}.jsonl"
    count_path = path.with_suffix(".count")
    if path.exists() and count_path.exists():
        return path, int(count_path.read_text())
    lines = accepted_rollouts(ensure_wheel(directory))
    partial = path.with_suffix(".partial")
    written = count = 0
    with partial.open("wb") as out:
        while written < size_bytes:
            line = lines[count % len(lines)]
            out.write(line)
            written += len(line)
            count += 1
    partial.replace(path)
    count_path.write_text(str(count))
    return path, count


def describe(lines: list[bytes]) -> str:
    """A one-line summary of the distinct rollouts: count, bytes, items."""
    items = 0
    for line in lines:
        rollout = json.loads(line)
        output = (rollout.get("response") or {}).get("output") or []
        given = (rollout.get("responses_create_params") or {}).get("input")
        items += len(output) + (len(given) if isinstance(given, list) else 1)
    size = sum(len(line) for line in lines)
    return f"{len(lines)} distinct rollouts, {size / 1e6:.1f} MB, {items:,} items"


if __name__ == "__main__":
    here = Path(__file__).parent / ".corpus"
    print(describe(accepted_rollouts(ensure_wheel(here))))
