"""`nemogym-ingest convert`: rollouts files converted into one AgentRun JSONL output, written
atomically (a temporary file beside the target, renamed once complete), never over an input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from .. import exit_status
from ..errors import ConversionError
from ..options import add_option_arguments, options_from_args
from ..output import write_output
from ..pool import ChunkSettings, convert_input
from ..progress import Progress
from ..source import STDIN, open_source
from .common import (
    FileKind,
    OutputError,
    add_rollouts_argument,
    add_run_arguments,
    progress_line,
    say,
)


@dataclass
class _Output:
    """Where converted runs go; set `complete` once everything is written."""

    stream: BinaryIO
    complete: bool = False


@contextmanager
def _atomic_output(path: str | None) -> Iterator[_Output]:
    """The output for `path`: renamed into place on leaving if marked `complete`.

    A regular file is written to a temporary file beside it and renamed over it only when
    complete, so a failure never leaves a partial file (nor touches an existing one).
    Stdout (`None` or `-`) and special files such as /dev/null are written directly.
    """
    if path is None or path == STDIN:
        sys.stdout.flush()
        yield _Output(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    if os.path.exists(path) and not os.path.isfile(path):
        if os.path.isdir(path):
            raise OutputError(f"{path}: cannot write: is a directory")
        try:
            with open(path, "wb") as special:
                yield _Output(special)
        except OSError as error:
            raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
        return
    target = os.path.abspath(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".partial", dir=os.path.dirname(target)
        )
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            output = _Output(stream)
            yield output
        if output.complete:
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _output_is_an_input(output: str | None, inputs: Sequence[str]) -> str | None:
    """The input that `output` names too (through a link or another spelling; stdout
    redirected into it, `convert FILE >> FILE`), or None."""
    try:
        written = os.stat(output) if output not in (None, STDIN) else os.fstat(1)
    except (OSError, ValueError):  # no such output yet, or no stdout
        return None
    if not stat.S_ISREG(written.st_mode):  # a terminal, a pipe, /dev/null
        return None
    for path in inputs:
        if path != STDIN:
            with contextlib.suppress(OSError, ValueError):  # a missing input is reported later
                if os.path.samestat(os.stat(path), written):
                    return path
    return None


def _stopped_by(error: ConversionError, path: str, progress: Progress) -> int:
    """Stop at `error`; when an option would resolve it, say that `check` lists them all."""
    if error.option is not None:
        say(
            f"nemogym-ingest: convert stops at the first rejected line; "
            f"nemogym-ingest check {shlex.quote(path)} lists every option the file needs",
            progress,
        )
    return exit_status.REJECTED


def _convert(args: argparse.Namespace) -> int:
    clobbered = _output_is_an_input(args.output, args.rollouts)
    if clobbered is not None:
        output = "stdout" if args.output in (None, STDIN) else args.output
        say(
            f"nemogym-ingest: {output}: the output is the input {clobbered}; "
            "nothing written (convert never changes an input)"
        )
        return exit_status.USAGE
    settings = ChunkSettings(keep_going=args.keep_going, options=options_from_args(args))
    rejected = lines = not_rollouts = 0
    with _atomic_output(args.output) as output:
        for path in args.rollouts:
            with (
                open_source(path) as source,
                progress_line("convert", source, args.quiet) as progress,
                closing(convert_input(source, settings, args.workers)) as results,
            ):
                file_kind = FileKind()
                for chunk, result in results:
                    stopped = bool(result.errors) and not args.keep_going
                    progress.advance(result.converted_count, chunk.nbytes, chunk.position)
                    if file_kind.observe(result, stopped=stopped):
                        continue  # nothing converted: no output to write
                    held = [error for error, _ in file_kind.release()]
                    lines += len(held) + result.converted_count + len(result.errors)
                    rejected += len(held) + len(result.errors)
                    for error in held[:1] if held and not args.keep_going else held:
                        say(str(error), progress)
                    if held and not args.keep_going:
                        return _stopped_by(held[0], path, progress)
                    write_output(result.output, result.spooled, output.stream)
                    for error in result.errors:
                        say(str(error), progress)
                    if stopped:
                        return _stopped_by(result.errors[0], path, progress)
                name = source.name or path
                not_rollouts_sentence = file_kind.not_rollouts(name)
                for sentence in (not_rollouts_sentence, file_kind.failed_attempts(name)):
                    if sentence is not None:
                        say(sentence, progress)
                if not_rollouts_sentence is not None:
                    not_rollouts += 1
                    if not args.keep_going:
                        return exit_status.REJECTED
        output.complete = True
    if rejected:
        say(f"nemogym-ingest: {rejected:,} of {lines:,} rollout lines rejected")
    return exit_status.REJECTED if rejected or not_rollouts else exit_status.OK


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest convert` (`summary`: its line in `--help`)."""
    parser = subparsers.add_parser(
        "convert",
        help=summary,
        description="Convert NeMo Gym rollouts (one JSON object per line, plain or .gz) into "
        "Docent AgentRun payloads, one JSON object per line, in input order (file after "
        "file, into one output). By default it stops at the first line that cannot be "
        "converted exactly and prints FILE:LINE: PATH: reason on stderr; an output file (-o) "
        "is then not created, nor is an existing one touched. An output that is one of the "
        "inputs is refused.",
        epilog=exit_status.CONVERT_HELP,
    )
    add_rollouts_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="AGENT_RUNS.jsonl",
        help="write here instead of stdout; written to a temporary file and renamed when done",
    )
    parser.add_argument(
        "-k",
        "--keep-going",
        action="store_true",
        help="convert every good line and report every bad one (exit status 1 if any); "
        "the output file then holds the good lines",
    )
    add_run_arguments(parser)
    add_option_arguments(parser)
    parser.set_defaults(handler=_convert)
