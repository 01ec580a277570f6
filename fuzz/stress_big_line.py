"""Stress: a single JSONL line of about 200 MB through `nemogym-ingest convert`.

Two shapes: one huge string (a benchmark field) and one huge trajectory (many items).
For each, the intact line must convert (exit 0), and the same line cut short or with an
invalid UTF-8 byte must be rejected at line 1 (exit 1) leaving no output file. Prints
wall time, peak memory of the converting process and the output size.

    uv run python fuzz/stress_big_line.py            # 200 MB
    uv run python fuzz/stress_big_line.py --mb 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rollout(**top: Any) -> dict[str, Any]:
    return {
        "responses_create_params": {"input": "Summarise the attached log."},
        "response": {"output": []},
        "agent_ref": {"name": "stress_agent"},
        "_ng_task_index": 0,
        "_ng_rollout_index": 0,
        **top,
    }


def one_string(size: int) -> bytes:
    """A rollout whose benchmark field is one string of `size` bytes."""
    rollout = _rollout(log="@@LOG@@")
    rollout["response"]["output"] = [{"role": "assistant", "content": "Done."}]
    head, tail = json.dumps(rollout).split('"@@LOG@@"')
    return head.encode() + b'"' + b"x" * size + b'"' + tail.encode()


def many_items(size: int) -> bytes:
    """A rollout whose output holds tool-calling steps of about 1 KB each, `size` in all."""
    step = [
        {"type": "function_call", "call_id": "c", "name": "read", "arguments": '{"n": 1}'},
        {"type": "function_call_output", "call_id": "c", "output": "y" * 900},
    ]
    steps = max(1, size // (len(json.dumps(step)) + 2))
    rollout = _rollout()
    rollout["response"]["output"] = step * steps
    return json.dumps(rollout).encode()


def _convert(source: Path, output: Path) -> tuple[int, float, float, str]:
    """Exit status, seconds, peak RSS (MB) of the converting process and its last message."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        command = [sys.executable, "-m", "nemogym_ingest", "convert", str(source)]
        process = subprocess.Popen(
            [*command, "-o", str(output), "-q", "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, wait_status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(wait_status)
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
    message = lines[-1][-120:] if lines else ""
    return process.returncode, time.monotonic() - started, usage.ru_maxrss / 1024, message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="line size in MB (default 200)")
    args = parser.parse_args(argv)
    size = args.mb * 1_000_000
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nemogym-stress-") as directory:
        folder = Path(directory)
        for shape, make in [("one-string", one_string), ("many-items", many_items)]:
            line = make(size)
            variants = {
                "intact": (line + b"\n", 0),
                "cut-short": (line[: len(line) - 7], 1),
                "invalid-utf8": (line[:-2] + b"\xff" + line[-2:] + b"\n", 1),
            }
            for variant, (data, expected) in variants.items():
                source = folder / "big.jsonl"
                source.write_bytes(data)
                output = folder / "out" / "runs.jsonl"
                output.parent.mkdir(exist_ok=True)
                status, seconds, peak_mb, message = _convert(source, output)
                written = output.stat().st_size if output.exists() else 0
                leftovers = os.listdir(output.parent)
                good = status == expected and (expected == 0 or not leftovers)
                failures += not good
                print(
                    f"{shape:10} {variant:12} line {len(data) / 1e6:6.1f} MB  exit {status}  "
                    f"{seconds:5.1f} s  peak RSS {peak_mb:6.0f} MB  output {written / 1e6:6.1f} MB"
                    f"  {'ok' if good else 'UNEXPECTED'}  {message}",
                    flush=True,
                )
                for leftover in leftovers:
                    os.unlink(output.parent / leftover)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
