"""Throughput and peak memory of `nemogym-ingest upload`, for growing files.

    uv run python benchmarks/bench_upload.py                  # 10 MB and 100 MB corpora
    uv run python benchmarks/bench_upload.py --sizes 10MB,1GB --chunk-size 200

Each size is uploaded by `nemogym-ingest upload` in a fresh subprocess (so its peak RSS
is its own) with the real docent SDK client, to the fake Docent API of
tests/fake_docent_server.py running in this process (it counts the runs and keeps none).
Peak memory should not grow with the file: it is bounded by one chunk (the corpus's runs
are ~80 kB, so the whole 10 MB corpus fits in one default chunk of 16 MB; `--chunk-size 50`
compares full chunks). The corpus (see corpus.py) is generated once into --corpus-dir.

Measured 2026-11-25 on 2 shared cores (load ~9), `--chunk-size 50`: 10 MB in 5.1 s,
70 MB peak; 100 MB in 27.3 s (3.7 MB/s), 78 MB peak (x1.12). Default chunks: 91 MB and
163 MB peak. Most of the time is the SDK's gzip (level 9) and the fake server's decoding
in this process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import ensure_corpus

from tests.fake_docent_server import FakeDocentServer

SIZES = {"10MB": 10_000_000, "100MB": 100_000_000, "1GB": 1_000_000_000}


def _upload(corpus: Path, chunk_size: int) -> tuple[float, int, int, int]:
    """Upload `corpus` in a subprocess: seconds, peak RSS (kB), runs and requests received."""
    server = FakeDocentServer(keep_runs=False)
    server.start()
    server.add_collection("bench")
    try:
        with tempfile.TemporaryDirectory() as home:
            environment = {
                **os.environ,
                "HOME": home,  # no ~/.docent/docent.env
                "DOCENT_API_KEY": server.api_key,
                "DOCENT_API_URL": server.url,
                "DOCENT_FRONTEND_URL": server.url,
            }
            command = [sys.executable, "-m", "nemogym_ingest", "upload", str(corpus)]
            command += ["--collection-id", "bench", "--chunk-size", str(chunk_size), "--quiet"]
            started = time.perf_counter()
            child = subprocess.Popen(command, env=environment, cwd=home)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"upload of {corpus} failed with status {status}")
        accepted = [post for post in server.posts if post.status < 400]
        return seconds, usage.ru_maxrss, sum(post.run_count for post in accepted), len(accepted)
    finally:
        server.stop()


def main() -> None:
    """Parse the arguments, upload each corpus and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10MB,100MB", help=f"comma-separated, of {', '.join(SIZES)}"
    )
    parser.add_argument("--chunk-size", type=int, default=500, help="runs per request")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=Path(__file__).parent / ".corpus",
        help="where the generated corpus is kept",
    )
    args = parser.parse_args()
    print(f"chunk size: {args.chunk_size} runs")
    header = ("corpus", 8), ("rollouts", 10), ("requests", 9), ("seconds", 8), ("MB/s", 7)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'peak RSS':>10}")
    peaks: list[int] = []
    for size in args.sizes.split(","):
        corpus, rollouts = ensure_corpus(args.corpus_dir, SIZES[size])
        seconds, peak_kb, runs, requests = _upload(corpus, args.chunk_size)
        if runs != rollouts:
            raise SystemExit(f"{corpus}: {runs} runs arrived of {rollouts}")
        megabytes = corpus.stat().st_size / 1e6
        print(
            f"{size:>8} {rollouts:>10,} {requests:>9,} {seconds:>8.1f} "
            f"{megabytes / seconds:>7.1f} {peak_kb / 1024:>7.0f} MB"
        )
        peaks.append(peak_kb)
    if len(peaks) > 1:
        print(f"peak RSS, largest / smallest corpus: {max(peaks[1:]) / peaks[0]:.2f}")


if __name__ == "__main__":
    main()
