"""The `nemogym-ingest` command line.

Each subcommand is registered by an `add_*_command(commands)` function; `build_parser`
calls one per subcommand. Exit statuses: `exit_status`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from . import __version__, exit_status
from .casebook import add_case_command
from .cli_upload import add_command as add_upload_command
from .conformance import add_command as add_conformance_command
from .errors import ConversionError, render_path
from .options import OPTION_HINTS, add_option_arguments, options_from_args
from .pool import ChunkResult, Settings, convert_input, default_workers, write_output
from .progress import Progress
from .source import STDIN, InputError, Source, open_source

_EXIT_STATUS_HELP = exit_status.CONVERT_HELP


class OutputError(Exception):
    """The output file cannot be created or written."""


def _report(message: str, progress: Progress | None = None, stream: TextIO | None = None) -> None:
    if progress is not None:
        progress.clear()
    print(message, file=stream or sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--workers",
        type=_positive_int,
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


def _progress(label: str, source: Source, quiet: bool) -> Progress:
    return Progress(label, source.size, enabled=False if quiet else None)


# --- inputs that are not rollouts at all ----------------------------------------------------


@dataclass
class _ForeignWatch:
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


# --- convert -------------------------------------------------------------------------------


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
    """The input that `output` names too (through a link or another spelling), or None."""
    if output is None or output == STDIN:
        return None
    for path in inputs:
        if path != STDIN:
            with contextlib.suppress(OSError, ValueError):  # a missing input is reported later
                if os.path.samefile(path, output):
                    return path
    return None


def _convert(args: argparse.Namespace) -> int:
    clobbered = _output_is_an_input(args.output, args.rollouts)
    if clobbered is not None:
        _report(
            f"nemogym-ingest: {args.output}: the output is the input {clobbered}; "
            "nothing written (convert never changes an input)"
        )
        return exit_status.USAGE
    settings = Settings(keep_going=args.keep_going, options=options_from_args(args))
    rejected = lines = 0
    with _atomic_output(args.output) as output:
        for path in args.rollouts:
            with (
                open_source(path) as source,
                _progress("convert", source, args.quiet) as progress,
                closing(convert_input(source, settings, args.workers)) as results,
            ):
                watch = _ForeignWatch()
                for chunk, result in results:
                    stopped = bool(result.errors) and not args.keep_going
                    lines += result.converted + len(result.errors)
                    rejected += len(result.errors)
                    progress.advance(result.converted, chunk.nbytes, chunk.position)
                    if watch.observe(result, stopped=stopped):
                        continue  # nothing converted: no output to write
                    held = watch.release()
                    for error, _ in held[:1] if held and not args.keep_going else held:
                        _report(str(error), progress)
                    if held and not args.keep_going:
                        return exit_status.REJECTED
                    write_output(result, output.stream)
                    for error in result.errors:
                        _report(str(error), progress)
                    if stopped:
                        return exit_status.REJECTED
                sentence = watch.not_rollouts(source.name or path)
                if sentence is not None:
                    _report(sentence, progress)
                    if not args.keep_going:
                        return exit_status.REJECTED
        output.complete = True
    if rejected:
        _report(f"nemogym-ingest: {rejected:,} of {lines:,} rollout lines rejected")
        return exit_status.REJECTED
    return exit_status.OK


def add_convert_command(commands: Any) -> None:
    """Register `nemogym-ingest convert`."""
    parser = commands.add_parser(
        "convert",
        help="convert rollouts JSONL files into AgentRun JSONL",
        description="Convert NeMo Gym rollouts (one JSON object per line, plain or .gz) into "
        "Docent AgentRun payloads, one JSON object per line, in input order (file after "
        "file, into one output). By default it stops at the first line that cannot be "
        "converted exactly and prints FILE:LINE: PATH: reason on stderr; an output file (-o) "
        "is then not created, nor is an existing one touched. An output that is one of the "
        "inputs is refused.",
        epilog=_EXIT_STATUS_HELP,
    )
    parser.add_argument(
        "rollouts",
        metavar="ROLLOUTS.jsonl",
        nargs="+",
        help="NeMo Gym rollouts (.jsonl or .jsonl.gz); '-' reads stdin",
    )
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
    _add_run_arguments(parser)
    add_option_arguments(parser)
    parser.set_defaults(handler=_convert)


# --- check ---------------------------------------------------------------------------------

RejectionGroup = tuple[str, str]
"""How `check` groups rejected lines: the rule and the path with array indices as `[*]`."""


def rejection_group(error: ConversionError) -> RejectionGroup:
    """The (rule, path pattern) under which `check` counts a rejected line."""
    return error.rule, render_path(error.loc, any_index=True)


def _flags(options: Sequence[str]) -> list[str]:
    """Option names as the flags `check` reports: `--agent-name NAME`, `--task-index line`."""
    return [OPTION_HINTS[option].probe_flag for option in options]


@dataclass
class _FileTally:
    file: str
    lines: int = 0
    blank: int = 0
    converted: int = 0
    rejected: int = 0
    unreadable: str | None = None
    not_rollouts: str | None = None
    """The sentence saying the file is not NeMo Gym rollouts at all, if it is not."""


@dataclass
class _CheckReport:
    files: list[_FileTally] = field(default_factory=list)
    errors: list[ConversionError] = field(default_factory=list)
    groups: Counter[RejectionGroup] = field(default_factory=Counter)
    first_seen: dict[RejectionGroup, ConversionError] = field(default_factory=dict)
    rescued: dict[RejectionGroup, Counter[tuple[str, ...]]] = field(default_factory=dict)
    """Per group, how many lines each combination of options would let convert."""

    def add(self, error: ConversionError, rescue: list[str]) -> None:
        group = rejection_group(error)
        self.groups[group] += 1
        self.first_seen.setdefault(group, error)
        if rescue:
            self.rescued.setdefault(group, Counter())[tuple(rescue)] += 1

    def total(self, name: str) -> int:
        return sum(getattr(tally, name) for tally in self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [vars(tally) for tally in self.files],
            "lines": self.total("lines"),
            "blank": self.total("blank"),
            "converted": self.total("converted"),
            "rejected": self.total("rejected"),
            "rejected_by_reason": [
                {
                    "rule": group[0],
                    "path": group[1],
                    "reason": self.first_seen[group].reason,
                    "option": self.first_seen[group].option,
                    "count": count,
                    "first": _location(self.first_seen[group]),
                    "would_convert_with": [
                        {"options": _flags(options), "count": rescued}
                        for options, rescued in self.rescued.get(group, Counter()).most_common()
                    ],
                }
                for group, count in self.groups.most_common()
            ],
            "errors": [
                {
                    **_location(error),
                    "rule": error.rule,
                    "path": error.path,
                    "option": error.option,
                    "reason": error.reason,
                }
                for error in self.errors
            ],
        }

    def summary_lines(self) -> Iterator[str]:
        unreadable = [tally for tally in self.files if tally.unreadable is not None]
        yield (
            f"checked {len(self.files)} file{'s' if len(self.files) != 1 else ''}: "
            f"{self.total('lines'):,} lines, {self.total('converted'):,} converted, "
            f"{self.total('rejected'):,} rejected, {self.total('blank'):,} blank"
            + (f", {len(unreadable)} unreadable" if unreadable else "")
        )
        if self.groups:
            yield "rejected by reason:"
            for group, count in self.groups.most_common():
                rule, path = group
                first = self.first_seen[group]
                yield (
                    f"  {count:>8,}  {rule} {path or '(rollout)'}: {first.reason}"
                    f"  (first: {first.file}:{first.line})"
                )
                for options, rescued in self.rescued.get(group, Counter()).most_common():
                    yield f"  {rescued:>8,}    would convert with {' '.join(_flags(options))}"


def _location(error: ConversionError) -> dict[str, Any]:
    return {"file": error.file, "line": error.line}


def _check_file(path: str, args: argparse.Namespace, report: _CheckReport) -> None:
    tally = _FileTally(path)
    report.files.append(tally)
    text = args.format == "text"
    try:
        source = open_source(path)
    except InputError as error:
        tally.unreadable = str(error)
        _report(f"nemogym-ingest: {error}")
        return
    tally.file = source.name or path
    settings = Settings(
        keep_going=True, serialize=False, options=options_from_args(args), rescue=True
    )
    try:
        with (
            _progress("check", source, args.quiet) as progress,
            closing(convert_input(source, settings, args.workers)) as results,
        ):
            watch = _ForeignWatch()
            for chunk, result in results:
                tally.lines += result.blank + result.converted + len(result.errors)
                tally.blank += result.blank
                tally.converted += result.converted
                tally.rejected += len(result.errors)
                progress.advance(result.converted, chunk.nbytes, chunk.position)
                if watch.observe(result, stopped=False):
                    continue
                rejections = watch.release()
                rejections += zip(result.errors, result.rescues, strict=True)
                for rejection, rescue in rejections:
                    report.add(rejection, rescue)
                    if text:
                        _report(str(rejection), progress, sys.stdout)
                    else:
                        report.errors.append(rejection)
            tally.not_rollouts = watch.not_rollouts(tally.file)
            if tally.not_rollouts is not None and text:
                _report(tally.not_rollouts, progress, sys.stdout)
    except InputError as error:
        tally.unreadable = str(error)
        _report(f"nemogym-ingest: {error}")
    finally:
        source.close()


def _check(args: argparse.Namespace) -> int:
    report = _CheckReport()
    for path in args.rollouts:
        _check_file(path, args, report)
    if args.format == "json":
        json.dump(report.as_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for line in report.summary_lines():
            print(line)
    if any(tally.unreadable is not None for tally in report.files):
        return exit_status.UNREADABLE
    return exit_status.REJECTED if report.total("rejected") else exit_status.OK


def add_check_command(commands: Any) -> None:
    """Register `nemogym-ingest check`."""
    parser = commands.add_parser(
        "check",
        help="validate rollouts JSONL files without writing anything",
        description="Convert every line of each file without writing the result: print "
        "each line that cannot be converted as FILE:LINE: PATH: reason, then a summary "
        "(lines, converted, rejected, blank, and the rejections grouped by field path and "
        "reason, with array indices shown as [*], and under each how many of its lines the "
        "assumption flags below would let convert, e.g. 'would convert with --agent-name NAME').",
        epilog=_EXIT_STATUS_HELP,
    )
    parser.add_argument(
        "rollouts",
        metavar="ROLLOUTS.jsonl",
        nargs="+",
        help="NeMo Gym rollouts (.jsonl or .jsonl.gz); '-' reads stdin",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="'json' prints one JSON report (every rejected line and the summary) instead",
    )
    _add_run_arguments(parser)
    add_option_arguments(parser)
    parser.set_defaults(handler=_check)


# --- the program -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `nemogym-ingest`."""
    parser = argparse.ArgumentParser(
        prog="nemogym-ingest",
        description="Convert NeMo Gym rollouts (JSONL) into Docent AgentRuns: exactly, or "
        "not at all. Run 'nemogym-ingest COMMAND --help' for a command's options.",
        epilog=_EXIT_STATUS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"nemogym-ingest {__version__}")
    commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    add_convert_command(commands)
    add_check_command(commands)
    add_conformance_command(commands)
    add_upload_command(commands)
    add_case_command(commands)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; a usage error inside a subcommand shows that subcommand's usage."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        commands.choices[args.subcommand].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parse(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()  # a write error of the last buffered output is reported here
    except (InputError, OutputError) as error:
        _report(f"nemogym-ingest: {error}")
        return exit_status.UNREADABLE
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_status.REJECTED
    except OSError as error:  # reading errors are InputErrors: this is stdout (disk full)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _report(f"nemogym-ingest: stdout: cannot write: {error.strerror or error}")
        return exit_status.UNREADABLE
    except KeyboardInterrupt:
        return exit_status.KEYBOARD_INTERRUPT
    return status
