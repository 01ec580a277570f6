"""The `nemogym-ingest` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import TextIO

from .errors import ConversionError
from .jsonl import iter_nemogym_jsonl
from .model import AgentRun


def _write_runs(runs: Iterator[AgentRun], out: TextIO) -> int:
    count = 0
    for run in runs:
        out.write(json.dumps(run.to_dict(), ensure_ascii=True))
        out.write("\n")
        count += 1
    return count


def _convert(args: argparse.Namespace) -> int:
    source = "/dev/stdin" if args.rollouts == "-" else args.rollouts
    runs = iter_nemogym_jsonl(source)
    if args.output is None or args.output == "-":
        _write_runs(runs, sys.stdout)
        return 0
    target = os.path.abspath(args.output)
    handle, temporary = tempfile.mkstemp(
        prefix=".nemogym-ingest-", suffix=".tmp", dir=os.path.dirname(target)
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            _write_runs(runs, out)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `nemogym-ingest`."""
    parser = argparse.ArgumentParser(
        prog="nemogym-ingest",
        description=(
            "Convert NeMo Gym rollouts (JSONL) into Docent AgentRuns: exactly, or not at all."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    convert = commands.add_parser(
        "convert",
        help="convert a rollouts JSONL file into AgentRun JSONL",
        description="Write one Docent AgentRun payload (JSON) per rollout line. Stops at the "
        "first line that cannot be converted, printing FILE:LINE: PATH: reason, and leaves "
        "no partial output file behind.",
    )
    convert.add_argument("rollouts", metavar="ROLLOUTS.jsonl", help="input file, '-' for stdin")
    convert.add_argument(
        "-o", "--output", metavar="AGENT_RUNS.jsonl", help="output file (default: stdout)"
    )
    convert.set_defaults(handler=_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except ConversionError as error:
        print(f"nemogym-ingest: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
