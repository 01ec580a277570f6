"""Coverage-guided fuzzing (atheris) of the JSONL reader and the single-rollout converter.

Any exception other than `ConversionError` is a crash, and so is a run that cannot be
written as JSON in UTF-8: atheris stops, saves the input (`crash-*`) and exits non-zero.

    uv run python fuzz/atheris_fuzz.py -runs=100000          # both entry points per input
    uv run python fuzz/atheris_fuzz.py -max_total_time=600 fuzz/corpus

Seeds: the bundled examples, every spec case's rollout and every spec JSONL file, written
to the corpus directory given (a temporary one when none is). The dictionary
`fuzz/rollout.dict` (field names, item kinds, JSON tokens) is used unless `-dict=` is given.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from nemogym_ingest import (
        AgentRun,
        ConversionError,
        convert_nemogym_rollout_to_agent_run,
        iter_nemogym_jsonl,
    )
    from nemogym_ingest.jsonvalue import parse_json_text

ROOT = Path(__file__).resolve().parents[1]


def seeds() -> list[bytes]:
    """Realistic starting inputs: the examples, every spec case's rollout and JSONL file."""
    found = [
        line.encode()
        for line in (ROOT / "examples" / "rollouts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for case_file in sorted((ROOT / "spec" / "cases").glob("*.json")):
        for case in json.loads(case_file.read_text(encoding="utf-8")).get("cases", []):
            if "rollout" in case:
                found.append(json.dumps(case["rollout"]).encode())
    found += [path.read_bytes() for path in sorted((ROOT / "spec" / "cases" / "jsonl").glob("*"))]
    return found


def _write(run: AgentRun) -> None:
    """Serialise `run` as JSON text and as UTF-8: it must be both (R41, no lone surrogate)."""
    run.to_json()
    json.dumps(run.to_dict(), allow_nan=False, ensure_ascii=False).encode("utf-8")


def convert_bytes(data: bytes) -> None:
    """Feed `data` to both entry points; only ConversionError may escape them, and every
    run they return must be writable as JSON in UTF-8."""
    try:
        for run in iter_nemogym_jsonl(io.BytesIO(data)):
            _write(run)
    except ConversionError:
        pass
    try:
        rollout = parse_json_text(data.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError):
        return
    with contextlib.suppress(ConversionError):
        _write(convert_nemogym_rollout_to_agent_run(rollout))


def main() -> None:
    argv = list(sys.argv)
    corpus_dirs = [arg for arg in argv[1:] if not arg.startswith("-")]
    if not corpus_dirs:
        corpus_dirs = [tempfile.mkdtemp(prefix="nemogym-fuzz-corpus-")]
        argv.append(corpus_dirs[0])
    if not any(arg.startswith("-dict=") for arg in argv):
        argv.append(f"-dict={ROOT / 'fuzz' / 'rollout.dict'}")
    for directory in corpus_dirs:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(seeds()):
            (Path(directory) / f"seed-{index:04d}").write_bytes(seed)
    atheris.Setup(argv, convert_bytes)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
