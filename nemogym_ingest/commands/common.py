"""What the subcommands share: a message on stderr around the progress line (`say`), whole
number arguments, the run arguments (`-j/--workers`, `-q/--quiet`) and their progress line,
the output error that stops the program, and what a file turned out to hold (`FileKind`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from typing import TextIO

from ..jsonvalue import text_problem
from ..layout import agent_name_for, is_template
from ..options import ConversionOptions
from ..pool import default_workers
from ..progress import Progress
from ..source import STDIN, Source


class OutputError(Exception):
    """The output file cannot be created or written."""


class UsageError(Exception):
    """A command line that cannot run on its inputs (exit status 2), found before any is
    converted: an agent-name template an input's path cannot fill."""


def file_options(options: ConversionOptions, path: str) -> ConversionOptions:
    """The options for input `path` (`-`: stdin): an `--agent-name` template filled from
    the path (`layout`), and with `--record-source` the path checked to be Unicode text
    (R91 records it)."""
    name = options.agent_name
    if name is not None and is_template(name):
        try:
            filled = agent_name_for(name, None if path == STDIN else path)
            options = dataclasses.replace(options, agent_name=filled)
        except ValueError as error:  # TemplateError, or the name it gives is refused (R71)
            raise UsageError(str(error)) from None
    problem = text_problem(path, "the file name") if options.record_source else None
    if problem is not None:
        raise UsageError(f"{os.fsencode(path)!r}: cannot record it (--record-source): {problem}")
    return options


def say(message: str, progress: Progress | None = None, stream: TextIO | None = None) -> None:
    """Print `message` on stderr (or `stream`), clearing the progress line first."""
    if progress is not None:
        progress.clear()
    print(message, file=stream or sys.stderr, flush=True)


def whole_number(minimum: int) -> Callable[[str], int]:
    """The argparse `type` of a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def seconds(text: str) -> float:
    """The argparse `type` of a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def add_rollouts_argument(parser: argparse.ArgumentParser) -> None:
    """The input files of `convert` and `check`: one or more, `-` for stdin."""
    parser.add_argument(
        "rollouts",
        metavar="ROLLOUTS.jsonl",
        nargs="+",
        help="NeMo Gym rollouts (.jsonl or .jsonl.gz); '-' reads stdin",
    )


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`-j/--workers N` and `-q/--quiet`, for the commands that convert files."""
    parser.add_argument(
        "-j",
        "--workers",
        type=whole_number(1),
        default=default_workers(),
        metavar="N",
        help="worker processes converting in parallel; output order is kept "
        "(default: the number of cores, %(default)s here)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line (rollouts, MB/s, ETA) on stderr, which is otherwise shown "
        "when stderr is a terminal, and no closing 'wrote N runs' line (convert)",
    )


def progress_line(label: str, source: Source, quiet: bool) -> Progress:
    """The progress line of a run over `source` (none with `--quiet`)."""
    return Progress(label, source.size, enabled=False if quiet else None)
