"""`nemogym-ingest check`: rollouts files converted without writing anything, every rejected
line printed and the rejections summed up by rule and path pattern, with the options that
would let them convert; as text or one JSON report.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from .. import exit_status
from ..convert import FailedAttempt
from ..errors import ConversionError, render_path
from ..file_kind import FileKind
from ..options import (
    OPTIONS,
    ConversionOptions,
    add_option_arguments,
    options_from_args,
    suggested_flags,
)
from ..pool import ChunkSettings, convert_input
from ..source import InputError, open_source
from ..wording import plural
from .common import (
    add_rollouts_argument,
    add_run_arguments,
    file_options,
    progress_line,
    say,
)

RejectionGroup = tuple[str, str, str]
"""How `check` groups rejected lines: the rule, the path with array indices as `[*]`, and
for a line that is not read at all (path `""`: invalid UTF-8, invalid JSON) the problem."""

_POSITION = re.compile(r"(?<=column )\d+|(?<=byte )\d+")
_READING_RULES = ("R63", "R64")


def rejection_group(error: ConversionError) -> RejectionGroup:
    """The (rule, path pattern, problem) under which `check` counts a rejected line: the
    problem is `""` but for a line that cannot be read (R63, R64), whose reasons are as
    many problems (an unterminated string, a lone CR, nesting too deep): its reason with
    its column or byte read as `N`."""
    path = render_path(error.loc, any_index=True)
    problem = _POSITION.sub("N", error.reason) if error.rule in _READING_RULES else ""
    return error.rule, path, problem


def _flags(options: Sequence[str]) -> list[str]:
    """Option names as the flags `check` reports: `--agent-name NAME`, `--task-index line`."""
    return suggested_flags(options)


@dataclass
class _FileTally:
    file: str
    lines: int = 0
    blank: int = 0
    converted: int = 0
    rejected: int = 0
    failed_attempts: int = 0
    not_rollout_lines: int = 0
    """Lines of a file that is not NeMo Gym rollouts at all (counted apart from `rejected`)."""
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
    failure_classes: Counter[str] = field(default_factory=Counter)
    first_failures: dict[str, FailedAttempt] = field(default_factory=dict)
    """Per failure class, its first failed attempt (R83)."""
    trace_rows: int = 0
    """Rows carrying a trace (`ng_trajectory`), which `trajectory` converts (R79)."""
    subagent_invocations: int = 0
    trajectory_applied: bool = False
    """Whether the check ran with `--trajectory transcripts`."""

    def traces(self) -> dict[str, Any]:
        """The rows carrying traces, their subagent invocations and the option (R79)."""
        return {
            "rows": self.trace_rows,
            "subagent_invocations": self.subagent_invocations,
            "option": OPTIONS["trajectory"].usage,
            "applied": self.trajectory_applied,
        }

    def trace_sentence(self) -> str:
        """`traces: N rows carry ng_trajectory (M subagent invocations); …the option…`."""
        rows = plural(self.trace_rows, "row", grouped=True)
        verb = "carries" if self.trace_rows == 1 else "carry"
        held = plural(self.subagent_invocations, "subagent invocation", grouped=True)
        option = OPTIONS["trajectory"].usage
        if self.trajectory_applied:
            tail = f"converted with {option}: a transcript per invocation"
        else:
            tail = f"{option} shows each invocation as a transcript"
        return f"traces: {rows} {verb} ng_trajectory ({held}); {tail}"

    def add_failures(self, failures: list[FailedAttempt]) -> None:
        for failure in failures:
            self.failure_classes[failure.failure_class] += 1
            self.first_failures.setdefault(failure.failure_class, failure)

    def add(self, error: ConversionError, rescue: list[str]) -> None:
        group = rejection_group(error)
        self.groups[group] += 1
        self.first_seen.setdefault(group, error)
        if rescue:
            self.rescued.setdefault(group, Counter())[tuple(rescue)] += 1

    def total(self, name: str) -> int:
        return sum(getattr(tally, name) for tally in self.files)

    def as_json(self) -> dict[str, Any]:
        report = self._as_json()
        if self.trace_rows:
            report["traces"] = self.traces()
        return report

    def _as_json(self) -> dict[str, Any]:
        return {
            "files": [vars(tally) for tally in self.files],
            "lines": self.total("lines"),
            "blank": self.total("blank"),
            "converted": self.total("converted"),
            "rejected": self.total("rejected"),
            "failed_attempts": self.total("failed_attempts"),
            "not_rollout_lines": self.total("not_rollout_lines"),
            "failed_attempts_by_class": [
                {
                    "class": name,
                    "count": count,
                    "message": self.first_failures[name].message,
                    "first": _location(self.first_failures[name]),
                }
                for name, count in self.failure_classes.most_common()
            ],
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
            f"checked {plural(len(self.files), 'file', grouped=True)}: "
            f"{plural(self.total('lines'), 'line', grouped=True)}, "
            f"{self.total('converted'):,} converted, "
            f"{self.total('rejected'):,} rejected, "
            + "".join(
                f"{self.total(name):,} {label}, " for name, label in _APART if self.total(name)
            )
            + f"{self.total('blank'):,} blank"
            + (f", {len(unreadable)} unreadable" if unreadable else "")
        )
        if self.trace_rows:
            yield self.trace_sentence()
        if self.failure_classes:
            yield "failed attempts by class (failure rows without a rollout):"
            for name, count in self.failure_classes.most_common():
                attempt = self.first_failures[name]
                yield f"  {count:>8,}  {attempt.describe()}  (first: {attempt.file}:{attempt.line})"
        if self.groups:
            yield "rejected by reason:"
            for group, count in self.groups.most_common():
                rule, path, _ = group
                first = self.first_seen[group]
                yield (
                    f"  {count:>8,}  {rule} {path or '(rollout)'}: {first.reason}"
                    f"  (first: {first.file}:{first.line})"
                )
                for options, rescued in self.rescued.get(group, Counter()).most_common():
                    yield f"  {rescued:>8,}    would convert with {' '.join(_flags(options))}"


_APART = (("failed_attempts", "failed attempts"), ("not_rollout_lines", "in files not rollouts"))
"""The lines counted apart from converted and rejected ones, as the summary names them."""


def _location(error: ConversionError | FailedAttempt) -> dict[str, Any]:
    return {"file": error.file, "line": error.line}


def _check_file(
    path: str, options: ConversionOptions, args: argparse.Namespace, report: _CheckReport
) -> None:
    tally = _FileTally(path)
    report.files.append(tally)
    text = args.format == "text" and not args.summary
    try:
        source = open_source(path)
    except InputError as error:
        tally.unreadable = str(error)
        say(f"nemogym-ingest: {error}")
        return
    tally.file = source.name or path
    settings = ChunkSettings(keep_going=True, serialize=False, options=options, rescue=True)
    try:
        with (
            progress_line("check", source, args.quiet) as progress,
            closing(convert_input(source, settings, args.workers)) as results,
        ):
            file_kind: FileKind[tuple[ConversionError, list[str]]] = FileKind()
            for chunk, result in results:
                tally.lines += result.blank + result.lines
                tally.blank += result.blank
                tally.converted += result.converted_count
                tally.failed_attempts += len(result.failures)
                report.trace_rows += result.trace_rows
                report.subagent_invocations += result.subagent_invocations
                report.add_failures(result.failures)
                progress.advance(result.converted_count, chunk.nbytes, chunk.position)
                rejections = list(zip(result.errors, result.rescues, strict=True))
                if file_kind.observe(result.rows, rejections, result.failures):
                    continue
                rejections = file_kind.release() + rejections
                tally.rejected += len(rejections)
                for rejection, rescue in rejections:
                    report.add(rejection, rescue)
                    if text:
                        say(str(rejection), progress, sys.stdout)
                    elif not args.summary:
                        report.errors.append(rejection)
            tally.not_rollouts = file_kind.not_rollouts(tally.file)
            tally.not_rollout_lines = len(file_kind.held) if tally.not_rollouts else 0
            for sentence in (tally.not_rollouts, file_kind.failed_attempts(tally.file)):
                if sentence is not None and text:
                    say(sentence, progress, sys.stdout)
    except InputError as error:
        tally.unreadable = str(error)
        say(f"nemogym-ingest: {error}")
    finally:
        source.close()


def _check(args: argparse.Namespace) -> int:
    report = _CheckReport(trajectory_applied=args.trajectory is not None)
    options = options_from_args(args)
    per_file = [file_options(options, path) for path in args.rollouts]  # usage errors first
    for path, file_option in zip(args.rollouts, per_file, strict=True):
        _check_file(path, file_option, args, report)
    if args.format == "json":
        document = report.as_json()
        if args.summary:
            del document["errors"]
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for line in report.summary_lines():
            print(line)
    if any(tally.unreadable is not None for tally in report.files):
        return exit_status.UNREADABLE
    no_rollouts = all(tally.not_rollouts is not None for tally in report.files)
    if report.total("rejected") or no_rollouts:
        return exit_status.REJECTED
    return exit_status.OK


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest check` (`summary`: its line in `--help`)."""
    parser = subparsers.add_parser(
        "check",
        help=summary,
        description="Convert every line of each file without writing the result: print "
        "each line that cannot be converted as FILE:LINE: PATH: reason, then a summary "
        "(lines, converted, rejected, blank, and the rejections grouped by field path and "
        "reason, with array indices shown as [*], and under each how many of its lines the "
        "assumption flags below would let convert, e.g. 'would convert with --agent-name NAME').",
        epilog=exit_status.CONVERT_HELP,
    )
    add_rollouts_argument(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="'json' prints one JSON report (every rejected line and the summary) instead",
    )
    parser.add_argument(
        "-s",
        "--summary",
        action="store_true",
        help="print the summary alone: no line per rejected line or per file that holds no "
        "rollout (with --format json: no 'errors')",
    )
    add_run_arguments(parser)
    add_option_arguments(parser)
    parser.set_defaults(handler=_check)
