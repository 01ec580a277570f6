"""`nemogym-ingest convert`: rollouts files converted into one AgentRun JSONL output, written
atomically (a temporary file beside the target, renamed once complete), never over an input.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
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
from ..file_kind import FileKind
from ..options import ConversionOptions, add_option_arguments, options_from_args
from ..output import write_output
from ..pool import ChunkSettings, convert_input
from ..progress import Progress
from ..source import STDIN, open_source
from ..wording import plural
from .common import (
    OutputError,
    add_rollouts_argument,
    add_run_arguments,
    file_options,
    progress_line,
    say,
)


@dataclass
class _Output:
    """Where converted runs go; set `complete` once everything is written."""

    stream: BinaryIO
    complete: bool = False


class _GzipWriter(gzip.GzipFile):
    """gzip output whose file descriptor is not offered, so no writer copies plain bytes
    past the compressor (`write_output` sends a spooled chunk to a descriptor directly)."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("compressed output has no descriptor of its own")


@contextmanager
def _compressed(path: str, stream: BinaryIO) -> Iterator[BinaryIO]:
    """`stream` itself, or for a `.gz` path a gzip stream over it (no name and no time in
    its header, so the same runs give the same bytes), finished on leaving."""
    if not path.endswith(".gz"):
        yield stream
        return
    with _GzipWriter(filename="", mode="wb", fileobj=stream, mtime=0) as compressed:
        yield compressed  # type: ignore[misc]


@contextmanager
def _atomic_output(path: str | None) -> Iterator[_Output]:
    """The output for `path`: renamed into place on leaving if marked `complete`.

    A regular file is written to a temporary file beside it and renamed over it only when
    complete, so a failure never leaves a partial file (nor touches an existing one).
    Stdout (`None` or `-`) and special files such as /dev/null are written directly. A
    path ending `.gz` is written gzip-compressed.
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
            with open(path, "wb") as special, _compressed(path, special) as stream:
                yield _Output(stream)
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
        with os.fdopen(handle, "wb") as file, _compressed(path, file) as stream:
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


@dataclass
class _Tally:
    """What `convert` did so far: runs written, rollout lines read and rejected, and the
    inputs skipped as holding no rollout."""

    written: int = 0
    lines: int = 0
    rejected: int = 0
    skipped: int = 0


def _convert_file(
    path: str, options: ConversionOptions, args: argparse.Namespace, output: BinaryIO, tally: _Tally
) -> int | None:
    """Convert one input into `output`; the exit status when a rejected line stops it."""
    settings = ChunkSettings(keep_going=args.keep_going, options=options)
    with (
        open_source(path) as source,
        progress_line("convert", source, args.quiet) as progress,
        closing(convert_input(source, settings, args.workers)) as results,
    ):
        file_kind: FileKind[ConversionError] = FileKind()
        for chunk, result in results:
            stopped = bool(result.errors) and not args.keep_going
            progress.advance(result.converted_count, chunk.nbytes, chunk.position)
            if file_kind.observe(result.rows, result.errors, result.failures):
                continue  # nothing converted: no output to write
            held = file_kind.release()
            tally.lines += len(held) + result.converted_count + len(result.errors)
            tally.rejected += len(held) + len(result.errors)
            for error in held[:1] if held and not args.keep_going else held:
                say(str(error), progress)
            if held and not args.keep_going:
                return _stopped_by(held[0], path, progress)
            write_output(result.output, result.spooled, output)
            tally.written += result.converted_count
            for error in result.errors:
                say(str(error), progress)
            if stopped:
                return _stopped_by(result.errors[0], path, progress)
        name = source.name or path
        not_rollouts = file_kind.not_rollouts(name)
        for sentence in (not_rollouts, file_kind.failed_attempts(name)):
            if sentence is not None:
                say(sentence, progress)
        tally.skipped += not_rollouts is not None
    return None


def _summary(tally: _Tally, output: str | None, inputs: int) -> str:
    """The closing line on stderr: what was written, skipped and rejected."""
    target = "stdout" if output in (None, STDIN) else output
    parts = [f"wrote {plural(tally.written, 'run', grouped=True)} to {target}"]
    if tally.skipped:
        hold = "holds" if tally.skipped == 1 else "hold"
        parts.append(f"skipped {tally.skipped:,} of {inputs:,} inputs, which {hold} no rollout")
    if tally.rejected:
        parts.append(f"{tally.rejected:,} of {tally.lines:,} rollout lines rejected")
    return "nemogym-ingest: " + "; ".join(parts)


def _convert(args: argparse.Namespace) -> int:
    clobbered = _output_is_an_input(args.output, args.rollouts)
    if clobbered is not None:
        output = "stdout" if args.output in (None, STDIN) else args.output
        say(
            f"nemogym-ingest: {output}: the output is the input {clobbered}; "
            "nothing written (convert never changes an input)"
        )
        return exit_status.USAGE
    tally = _Tally()
    inputs = len(args.rollouts)
    options = options_from_args(args)
    per_file = [file_options(options, path) for path in args.rollouts]  # usage errors first
    with _atomic_output(args.output) as output:
        for path, file_option in zip(args.rollouts, per_file, strict=True):
            stopped = _convert_file(path, file_option, args, output.stream, tally)
            if stopped is not None:
                return stopped
        if tally.skipped == inputs:
            none = "the input holds no" if inputs == 1 else f"none of the {inputs:,} inputs holds a"
            say(f"nemogym-ingest: {none} rollout: nothing written")
            return exit_status.REJECTED
        output.complete = True
    if tally.rejected or not args.quiet:
        say(_summary(tally, args.output, inputs))
    return exit_status.REJECTED if tally.rejected else exit_status.OK


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest convert` (`summary`: its line in `--help`)."""
    parser = subparsers.add_parser(
        "convert",
        help=summary,
        description="Convert NeMo Gym rollouts (one JSON object per line, plain or .gz) into "
        "Docent AgentRun payloads, one JSON object per line, in input order (file after "
        "file, into one output). By default it stops at the first line that cannot be "
        "converted exactly and prints FILE:LINE: PATH: reason on stderr; an output file (-o) "
        "is then not created, nor is an existing one touched. An input that holds no rollout "
        "(task inputs, other JSON objects) is named and skipped. An output that is one of the "
        "inputs is refused. On success, stderr says what was written and skipped.",
        epilog=exit_status.CONVERT_HELP,
    )
    add_rollouts_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="AGENT_RUNS.jsonl",
        help="write here instead of stdout; written to a temporary file and renamed when "
        "done; gzip-compressed when the name ends .gz",
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
