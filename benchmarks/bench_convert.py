"""Throughput and peak memory of converting a NeMo Gym JSONL corpus, five ways.

    uv run python benchmarks/bench_convert.py                 # real rollouts, 100 MB, 3 rounds
    uv run python benchmarks/bench_convert.py --size 17MB --rounds 5
    uv run python benchmarks/bench_convert.py --generated --size 10MB   # generated corpus
    uv run python benchmarks/bench_convert.py --breakdown     # CPU time by stage, in process

The headline corpus is real: the rollouts of NeMo Gym's own example exports (see
real_corpus.py), repeated to the size asked for. `--generated` measures the generated,
byte-heavy corpus of corpus.py instead; `--corpus FILE` any JSONL file.

Variants, each timed in a fresh subprocess (so peak RSS is its own), interleaved round by
round so that load on a shared machine hits all of them alike:

  a  stdlib `json.loads` + `json.dumps` of each line (the bound for any Python converter)
  b  Docent 0.1.88: `json.loads`, `convert_nemogym_rollout_to_agent_run`, `model_dump_json`
  c  ours, `nemogym-ingest convert --workers 1` (the whole CLI path: read, convert, write),
     without extras (NEMOGYM_INGEST_PARSER=json: the standard library reads and writes)
  d  ours, `nemogym-ingest convert --workers N` (N = cores by default), without extras
  e  ours, `nemogym-ingest convert --workers 1` with the `fast` extra (orjson parses lines)
  t  ours, the library's `run.to_dict()` of every run (converted before the clocks start)
  C, E, T  c, e and t run from another checkout (`--baseline DIR`, e.g. a git worktree of an
     earlier commit), for before/after ratios measured in the same rounds

Output goes to /dev/null. Two sets of figures are printed: "in process" (the conversion
alone, imports done before the clocks start) and "whole process" (the variant's process
from start to exit, imports included: what a user waits for).
"""

# ruff: noqa: PLC0415 (each variant imports only the library it measures, in its own process)

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from corpus import ensure_corpus
from real_corpus import ensure_real_corpus

SIZES = {
    "10MB": 10_000_000,
    "17MB": 17_000_000,
    "100MB": 100_000_000,
    "1GB": 1_000_000_000,
}
VARIANTS = ("a", "b", "c", "d", "e", "t", "C", "E", "T")
LABELS = {
    "a": "json.loads+dumps",
    "b": "Docent 0.1.88",
    "c": "ours, 1 worker",
    "e": "ours, 1 worker, fast extra",
    "d": "ours, all workers",
    "C": "baseline checkout, 1 worker",
    "E": "baseline checkout, 1 worker, fast extra",
    "t": "ours, to_dict() only",
    "T": "baseline checkout, to_dict() only",
}


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _run_variant(variant: str, corpus: str, workers: int) -> dict[str, Any]:
    """Run one variant over `corpus` in this process: wall and CPU seconds, peak RSS.

    Each variant imports only what it uses, before the clocks start.
    """
    if variant in ("c", "d", "e"):
        if variant != "e":
            os.environ["NEMOGYM_INGEST_PARSER"] = "json"  # read before the import below
        from nemogym_ingest.cli import main

        def run(sink: TextIO) -> None:
            argv = ["convert", corpus, "--quiet", "--workers", str(workers)]
            stdout, sys.stdout = sys.stdout, sink
            try:
                status = main(argv)
            finally:
                sys.stdout = stdout
            if status != 0:
                raise SystemExit(f"convert failed with status {status}")

    elif variant == "t":
        from nemogym_ingest import iter_nemogym_jsonl

        runs = list(iter_nemogym_jsonl(corpus))  # converted before the clocks start

        def run(sink: TextIO) -> None:
            for agent_run in runs:
                agent_run.to_dict()

    elif variant == "b":
        from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run

        def run(sink: TextIO) -> None:
            with open(corpus, "rb") as lines:
                for line in lines:
                    agent_run = convert_nemogym_rollout_to_agent_run(json.loads(line))
                    sink.write(agent_run.model_dump_json())
                    sink.write("\n")

    else:

        def run(sink: TextIO) -> None:
            loads, dumps = json.loads, json.dumps
            with open(corpus, "rb") as lines:
                for line in lines:
                    sink.write(dumps(loads(line)))
                    sink.write("\n")

    with open(os.devnull, "w", encoding="utf-8") as sink:
        cpu_before, workers_before = _cpu_seconds()
        started = time.perf_counter()
        run(sink)
        seconds = time.perf_counter() - started
        cpu_after, workers_after = _cpu_seconds()
    return {
        "seconds": seconds,
        "cpu": cpu_after - cpu_before,
        "worker_cpu": workers_after - workers_before,
        "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "worker_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def _measure(
    variant: str, corpus: Path, workers: int, baseline: Path | None = None
) -> dict[str, Any]:
    """One run of `variant` in its own process: its own figures, and the whole process's
    wall and CPU seconds (start-up and imports included). C and E run c and e with the
    package of the `baseline` checkout."""
    environment = dict(os.environ)
    if variant in ("C", "E", "T"):
        if baseline is None:
            raise SystemExit(f"variant {variant} needs --baseline DIR")
        environment["PYTHONPATH"] = str(baseline.resolve())
        variant = variant.lower()
    command = [sys.executable, __file__, "--run-variant", variant, str(corpus)]
    command += ["--workers", str(workers)]
    cpu_before = _cpu_seconds()[1]
    started = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, env=environment
    )
    process_seconds = time.perf_counter() - started
    process_cpu = _cpu_seconds()[1] - cpu_before
    if completed.returncode != 0:
        raise SystemExit(f"variant {variant} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    result["process_seconds"] = process_seconds
    result["process_cpu"] = process_cpu
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


def _breakdown(corpus: Path) -> None:
    """Print where the CPU time of ours (one process, without and with the `fast` extra)
    and of Docent goes, stage by stage, in process."""
    import orjson
    from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run as docent_convert

    from nemogym_ingest import ConversionOptions, jsonl, output
    from nemogym_ingest.convert import convert_row
    from nemogym_ingest.jsonl import line_content, parse_line
    from nemogym_ingest.jsonvalue import NotAllJson
    from nemogym_ingest.output import payload_line

    options = ConversionOptions()
    clock = time.process_time
    print("CPU seconds by stage, in process (best of 3 passes over the corpus)")
    for label, loads, dumps in (
        ("ours", None, None),
        ("ours + fast", orjson.loads, orjson.dumps),
    ):
        jsonl._orjson_loads, output._orjson_dumps = loads, dumps
        parse: Callable[[bytes], Any] = loads or json.loads
        best: dict[str, float] = {}
        for _ in range(3):
            stages = dict.fromkeys(_STAGES, 0.0)
            with open(os.devnull, "wb") as sink:
                started = clock()
                with open(corpus, "rb") as source:
                    raws = source.readlines()
                stages["read"] = clock() - started
                for number, raw in enumerate(raws, 1):
                    started = clock()
                    content = line_content(raw, number)
                    parse(content)
                    parsed_at = clock()
                    parsed = parse_line(content)
                    rollout, owned = parsed.value, parsed.owned
                    checked_at = clock()
                    try:
                        converted = convert_row(rollout, options, number, owned=owned)
                    except NotAllJson:  # as the reader does: the line read again, checked
                        converted = convert_row(json.loads(content), options, number)
                    converted_at = clock()
                    text = payload_line(converted.payload, tiny_float=converted.tiny_float)
                    dumped_at = clock()
                    sink.write(text + b"\n")
                    written_at = clock()
                    stages["parse"] += parsed_at - started
                    stages["line checks"] += checked_at - parsed_at - (parsed_at - started)
                    stages["convert"] += converted_at - checked_at
                    stages["dump"] += dumped_at - converted_at
                    stages["write"] += written_at - dumped_at
            if not best or sum(stages.values()) < sum(best.values()):
                best = stages
        parts = ", ".join(f"{stage} {seconds:.3f}" for stage, seconds in best.items())
        print(f"  {label}: {sum(best.values()):.3f} s = {parts}")
    docent = dict.fromkeys(("json.loads", "convert", "model_dump_json"), 0.0)
    with open(corpus, "rb") as lines:
        for raw in lines:
            started = clock()
            rollout = json.loads(raw)
            parsed_at = clock()
            docent_run = docent_convert(rollout)
            converted_at = clock()
            docent_run.model_dump_json()
            docent["json.loads"] += parsed_at - started
            docent["convert"] += converted_at - parsed_at
            docent["model_dump_json"] += clock() - converted_at
    parts = ", ".join(f"{stage} {seconds:.3f}" for stage, seconds in docent.items())
    print(f"  Docent: {sum(docent.values()):.3f} s = {parts}")
    print(
        "  ('parse' is json.loads or orjson.loads alone; 'line checks' the rest of reading a"
        " line: UTF-8, nesting, what the trusted path needs)"
    )


_STAGES = ("read", "parse", "line checks", "convert", "dump", "write")


def _corpus(args: argparse.Namespace) -> tuple[Path, int]:
    """The file to measure (`--corpus`, or the real or generated one of `--size`) and its
    number of rollouts."""
    if args.corpus is None:
        build = ensure_corpus if args.generated else ensure_real_corpus
        return build(args.corpus_dir, SIZES[args.size])
    with args.corpus.open("rb") as lines:
        return args.corpus, sum(1 for line in lines if line.strip())


def main() -> None:
    """Parse the arguments, run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="100MB", help="corpus size")
    parser.add_argument(
        "--generated", action="store_true", help="the generated corpus instead of the real one"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best is kept)")
    parser.add_argument("--variants", default="abcde", help="which variants to run, e.g. 'ce'")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="workers of variant d"
    )
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=Path(__file__).parent / ".corpus",
        help="where the corpora (and the nemo-gym wheel) are kept",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="measure this JSONL file (e.g. your own export) instead of a generated corpus",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout (e.g. a git worktree of an earlier commit) whose package runs "
        "variants C, E and T beside c, e and t",
    )
    parser.add_argument(
        "--run-variant", nargs=2, metavar=("VARIANT", "CORPUS"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="print CPU time by stage instead (ours, Docent)"
    )
    parser.add_argument(
        "--marginal",
        action="store_true",
        help="run the real corpus at 17 MB and at 100 MB, interleaved, and print the marginal "
        "ratios (the 6x run's CPU time minus the 1x run's, on both sides: start-up cancelled)",
    )
    args = parser.parse_args()
    if args.breakdown:
        _breakdown(_corpus(args)[0])
        return
    if args.marginal:
        _marginal(args)
        return
    if args.run_variant:
        variant, corpus = args.run_variant
        workers = args.workers if variant == "d" else 1
        print(json.dumps(_run_variant(variant, corpus, workers)))
        return

    corpus, rollouts = _corpus(args)
    size = corpus.stat().st_size
    print(f"machine: {_machine()}")
    print(f"corpus: {corpus} ({size / 1e6:,.1f} MB, {rollouts:,} rollouts)")
    wanted = args.variants
    if args.baseline is not None:  # each variant of ours also from the baseline checkout
        wanted += "".join(variant.upper() for variant in "cet" if variant in args.variants)
    variants = [variant for variant in VARIANTS if variant in wanted]
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for round_number in range(1, args.rounds + 1):
        for variant in variants:
            result = _measure(variant, corpus, args.workers, args.baseline)
            results[variant].append(result)
            print(
                f"  round {round_number} {variant} ({LABELS[variant]}): "
                f"{size / result['seconds'] / 1e6:8.1f} MB/s wall, "
                f"{size / (result['cpu'] + result['worker_cpu']) / 1e6:8.1f} MB/s per CPU-second",
                flush=True,
            )

    _summarize(results, size, rollouts, args.workers)


def _marginal(args: argparse.Namespace) -> None:
    """Whole-process CPU seconds of each variant at 1x (17 MB) and 6x (100 MB) of the real
    corpus, interleaved round by round, and the ratios of the differences to Docent's."""
    corpora = {
        size: ensure_real_corpus(args.corpus_dir, SIZES[size])[0] for size in ("17MB", "100MB")
    }
    variants = [variant for variant in VARIANTS if variant in args.variants]
    best: dict[tuple[str, str], float] = {}
    print(f"machine: {_machine()}")
    for round_number in range(1, args.rounds + 1):
        for size, corpus in corpora.items():
            for variant in variants:
                cpu = _measure(variant, corpus, args.workers, args.baseline)["process_cpu"]
                best[size, variant] = min(cpu, best.get((size, variant), cpu))
                print(f"  round {round_number} {size} {variant}: {cpu:.2f} CPU s", flush=True)
    print()
    print("| variant | CPU s, 17 MB | 100 MB | marginal | to Docent, 17 MB | 100 MB | marginal |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for variant in variants:
        small, large = best["17MB", variant], best["100MB", variant]
        row = f"| {variant} {LABELS[variant]} | {small:.2f} | {large:.2f} | {large - small:.2f} |"
        if "b" in variants:
            docent_small, docent_large = best["17MB", "b"], best["100MB", "b"]
            row += f" {docent_small / small:.2f} | {docent_large / large:.2f} |"
            row += f" {(docent_large - docent_small) / (large - small):.2f} |"
        print(row)


_RATIOS = (
    ("c", "b"),
    ("e", "b"),
    ("d", "b"),
    ("c", "a"),
    ("e", "a"),
    ("d", "c"),
    ("c", "C"),
    ("e", "E"),
    ("t", "T"),
    ("C", "b"),
    ("E", "b"),
)
"""The ratios printed (`top/bottom`: how many times faster top runs), when both ran."""


def _summarize(
    results: dict[str, list[dict[str, Any]]], size: int, rollouts: int, workers: int
) -> None:
    """Print the best figures of each variant and the ratios between them, in process and
    for the whole process."""
    figures = {
        "in process": {
            variant: (
                min(r["seconds"] for r in runs),
                min(r["cpu"] + r["worker_cpu"] for r in runs),
            )
            for variant, runs in results.items()
        },
        "whole process": {
            variant: (
                min(r["process_seconds"] for r in runs),
                min(r["process_cpu"] for r in runs),
            )
            for variant, runs in results.items()
        },
    }
    for title, best in figures.items():
        print()
        print(f"{title}:")
        print("| variant | MB/s (wall) | MB/s per CPU-second | rollouts/s (wall) | peak RSS (MB) |")
        print("|---|---:|---:|---:|---:|")
        for variant, runs in results.items():
            wall, cpu = best[variant]
            rss_text = f"{max(r['rss_kb'] for r in runs) / 1024:,.0f}"
            if variant == "d":
                worker_rss = max(r["worker_rss_kb"] for r in runs) / 1024
                rss_text += f" + {worker_rss:,.0f} per worker"
            print(
                f"| {variant} {LABELS[variant]} | {size / wall / 1e6:,.1f} | "
                f"{size / cpu / 1e6:,.1f} | {rollouts / wall:,.0f} | {rss_text} |"
            )
        print()
        for top, bottom in _RATIOS:
            if top in best and bottom in best:
                line = f"{top}/{bottom} = {best[bottom][0] / best[top][0]:.2f} (wall)"
                if "d" not in (top, bottom):
                    line += f", {best[bottom][1] / best[top][1]:.2f} (CPU)"
                print(line)
    if "c" in results and "d" in results:
        # On `workers` otherwise idle cores, d takes at least its main process's CPU time
        # and at least its total CPU time spread over the cores.
        c_cpu = figures["in process"]["c"][1]
        best_d = min(results["d"], key=lambda r: r["cpu"] + r["worker_cpu"])
        bound = max(best_d["cpu"], (best_d["cpu"] + best_d["worker_cpu"]) / workers)
        print(
            f"d/c on {workers} idle cores, from CPU times: at most {c_cpu / bound:.2f} "
            f"(d: {best_d['cpu']:.2f} s main + {best_d['worker_cpu']:.2f} s workers; "
            f"c: {c_cpu:.2f} s)"
        )


if __name__ == "__main__":
    main()
