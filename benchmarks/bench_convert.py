"""Throughput and peak memory of converting a NeMo Gym JSONL corpus, four ways.

    uv run python benchmarks/bench_convert.py                 # 10 MB corpus, 3 rounds
    uv run python benchmarks/bench_convert.py --size 100MB --rounds 2
    uv run python benchmarks/bench_convert.py --size 1GB --rounds 1

Variants, each timed in a fresh subprocess (so peak RSS is its own), interleaved round by
round so that load on a shared machine hits all of them alike:

  a  stdlib `json.loads` + `json.dumps` of each line (the bound for any Python converter)
  b  Docent 0.1.88: `json.loads`, `convert_nemogym_rollout_to_agent_run`, `model_dump_json`
  c  ours, `nemogym-ingest convert --workers 1` (the whole CLI path: read, convert, write)
  d  ours, `nemogym-ingest convert --workers N` (N = cores by default)

Output goes to /dev/null. The corpus (see corpus.py) is generated once into --corpus-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from corpus import ensure_corpus

SIZES = {"10MB": 10_000_000, "100MB": 100_000_000, "1GB": 1_000_000_000}
VARIANTS = ("a", "b", "c", "d")
LABELS = {
    "a": "json.loads+dumps",
    "b": "Docent 0.1.88",
    "c": "ours, 1 worker",
    "d": "ours, all workers",
}


def _run_variant(variant: str, corpus: str, workers: int) -> dict[str, Any]:
    """Run one variant over `corpus` in this process; its time and peak RSS."""
    with open(os.devnull, "w", encoding="utf-8") as sink:
        if variant in ("c", "d"):
            from nemogym_ingest.cli import main  # noqa: PLC0415 - each variant imports only its own

            argv = ["convert", corpus, "--quiet", "--workers", str(workers)]
            stdout, sys.stdout = sys.stdout, sink
            started = time.perf_counter()
            try:
                status = main(argv)
            finally:
                sys.stdout = stdout
            seconds = time.perf_counter() - started
            if status != 0:
                raise SystemExit(f"convert failed with status {status}")
        else:
            seconds = _run_per_line(variant, corpus, sink)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "rss_kb": own, "worker_rss_kb": children}


def _run_per_line(variant: str, corpus: str, sink: Any) -> float:
    if variant == "a":
        loads, dumps = json.loads, json.dumps
        started = time.perf_counter()
        with open(corpus, "rb") as lines:
            for line in lines:
                sink.write(dumps(loads(line)))
                sink.write("\n")
        return time.perf_counter() - started
    from docent.sdk.integrations import (  # noqa: PLC0415 - each variant imports only its own
        convert_nemogym_rollout_to_agent_run,
    )

    started = time.perf_counter()
    with open(corpus, "rb") as lines:
        for line in lines:
            run = convert_nemogym_rollout_to_agent_run(json.loads(line))
            sink.write(run.model_dump_json())
            sink.write("\n")
    return time.perf_counter() - started


def _measure(variant: str, corpus: Path, workers: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run-variant", variant, str(corpus)]
    command += ["--workers", str(workers)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"variant {variant} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    version = sys.version.split()[0]
    return f"{os.cpu_count()} cores ({model}), Python {version}, {sys.platform}"


def main() -> None:
    """Parse the arguments, run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="10MB", help="corpus size")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best is kept)")
    parser.add_argument("--variants", default="abcd", help="which variants to run, e.g. 'cd'")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="workers of variant d"
    )
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=Path(__file__).parent / ".corpus",
        help="where the generated corpus is kept",
    )
    parser.add_argument(
        "--run-variant", nargs=2, metavar=("VARIANT", "CORPUS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run_variant:
        variant, corpus = args.run_variant
        workers = 1 if variant == "c" else args.workers
        print(json.dumps(_run_variant(variant, corpus, workers)))
        return

    corpus, rollouts = ensure_corpus(args.corpus_dir, SIZES[args.size])
    size = corpus.stat().st_size
    print(f"machine: {_machine()}")
    print(f"corpus: {corpus} ({size / 1e6:,.1f} MB, {rollouts:,} rollouts)")
    variants = [variant for variant in VARIANTS if variant in args.variants]
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for round_number in range(1, args.rounds + 1):
        for variant in variants:
            result = _measure(variant, corpus, args.workers)
            results[variant].append(result)
            print(
                f"  round {round_number} {variant} ({LABELS[variant]}): "
                f"{size / result['seconds'] / 1e6:8.1f} MB/s",
                flush=True,
            )

    best = {variant: min(r["seconds"] for r in results[variant]) for variant in variants}
    print()
    print(f"| variant | MB/s | rollouts/s | peak RSS (MB) | best of {args.rounds} |")
    print("|---|---:|---:|---:|---:|")
    for variant in variants:
        seconds = best[variant]
        rss = max(r["rss_kb"] for r in results[variant]) / 1024
        rss_text = f"{rss:,.0f}"
        if variant == "d":
            worker_rss = max(r["worker_rss_kb"] for r in results[variant]) / 1024
            rss_text += f" (+ {worker_rss:,.0f} per worker)"
        print(
            f"| {variant} {LABELS[variant]} | {size / seconds / 1e6:,.1f} | "
            f"{rollouts / seconds:,.0f} | {rss_text} | {seconds:.2f} s |"
        )
    print()
    for top, bottom in (("c", "b"), ("d", "b"), ("c", "a"), ("d", "c")):
        if top in best and bottom in best:
            print(f"{top}/{bottom} = {best[bottom] / best[top]:.2f}")


if __name__ == "__main__":
    main()
