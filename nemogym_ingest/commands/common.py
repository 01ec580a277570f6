"""What the subcommands share: a message on stderr around the progress line (`say`), whole
number arguments, the run arguments (`-j/--workers`, `-q/--quiet`) and their progress line,
the output error that stops the program, and the watch over an input holding no rollouts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import ConversionError
from ..pool import ChunkResult, default_workers
from ..progress import Progress
from ..source import Source


class OutputError(Exception):
    """The output file cannot be created or written."""


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
        "when stderr is a terminal",
    )


def progress_line(label: str, source: Source, quiet: bool) -> Progress:
    """The progress line of a run over `source` (none with `--quiet`)."""
    return Progress(label, source.size, enabled=False if quiet else None)


@dataclass
class ForeignWatch:
    """Whether an input may not be NeMo Gym rollouts at all (a task list, a metrics dump):
    every line so far is a JSON object with neither `responses_create_params` nor
    `response`. While that holds, its rejections are held back, to be replaced by one
    sentence (`not_rollouts`)."""

    possible: bool = True
    lines: int = 0
    held: list[tuple[ConversionError, list[str]]] = field(default_factory=list)

    def observe(self, result: ChunkResult, *, stopped: bool) -> bool:
        """Take a chunk's result (`stopped`: at its first rejection); whether every line so
        far lacks both keys, its rejections then held back."""
        self.lines += result.converted + len(result.errors) + result.scanned
        if (
            result.converted
            or result.foreign < len(result.errors)
            or (stopped and not result.rest_foreign)
        ):
            self.possible = False
        if self.possible:
            rescues = result.rescues or [[] for _ in result.errors]
            self.held += zip(result.errors, rescues, strict=True)
        return self.possible

    def release(self) -> list[tuple[ConversionError, list[str]]]:
        """The held rejections, once the input proved to hold rollouts."""
        held, self.held = self.held, []
        return held

    def not_rollouts(self, file: str) -> str | None:
        """The sentence for an input that turned out not to be rollouts (None if it is)."""
        if not (self.possible and self.held):
            return None
        lines = f"{self.lines:,} line{'s' if self.lines != 1 else ''}"
        return (
            f"{file}: not a NeMo Gym rollouts file ({lines}, none with "
            "responses_create_params or response)"
        )
