"""Coverage-guided fuzzing (atheris) of the JSONL reader and the single-rollout converter.

Any exception other than `ConversionError` is a crash: atheris stops and saves the input.

    uv run python fuzz/atheris_fuzz.py -runs=100000          # both targets, alternating
    uv run python fuzz/atheris_fuzz.py -max_total_time=600 fuzz/corpus

Seeds: the bundled examples and every spec case (written to the corpus directory given,
or used in memory when none is).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from nemogym_ingest import ConversionError, convert_nemogym_rollout_to_agent_run
    from nemogym_ingest.jsonl import _iter_runs

ROOT = Path(__file__).resolve().parents[1]


def seeds() -> list[bytes]:
    """Realistic starting inputs: the example rollouts and every spec case's rollout."""
    found = [
        line.encode()
        for line in (ROOT / "examples" / "rollouts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for case_file in sorted((ROOT / "spec" / "cases").glob("*.json")):
        for case in json.loads(case_file.read_text(encoding="utf-8")).get("cases", []):
            if "rollout" in case:
                found.append(json.dumps(case["rollout"]).encode())
    return found


def convert_bytes(data: bytes) -> None:
    """Feed `data` to both entry points; only ConversionError may escape them."""
    try:
        for run in _iter_runs(io.BytesIO(data), "<fuzz>"):
            run.to_json()
    except ConversionError:
        pass
    try:
        rollout = json.loads(data)
    except (ValueError, RecursionError):
        return
    with contextlib.suppress(ConversionError):
        convert_nemogym_rollout_to_agent_run(rollout).to_json()


def main() -> None:
    corpus_dirs = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    for directory in corpus_dirs:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(seeds()):
            (Path(directory) / f"seed-{index:04d}").write_bytes(seed)
    atheris.Setup(sys.argv, convert_bytes)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
