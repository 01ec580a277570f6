"""`nemogym-ingest conformance`: the arguments, the implementation they name, the run of the
runner (`nemogym_ingest.conformance`) and its exit status.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import exit_status
from ..conformance.adapters import (
    DEFAULT_TIMEOUT,
    CommandImplementation,
    ErrorPathPatterns,
    Implementation,
    PythonImplementation,
    load_callable,
    nemogym_ingest_file,
    nemogym_ingest_rollout,
    package_version,
)
from ..conformance.report import render_json, render_markdown, render_text
from ..conformance.runner import Tally, apply_allow, read_allow_file, run_suite, stale_allow_entries
from ..conformance.suite import Case, Suite, SuiteError, default_spec_dir, load_suite
from ..pool import default_workers
from .common import seconds, whole_number


def _patterns(texts: Sequence[str]) -> ErrorPathPatterns:
    compiled = []
    for text in texts:
        try:
            compiled.append(re.compile(text))
        except re.error as error:
            raise SuiteError(f"--error-path-from {text!r}: {error}") from None
    return ErrorPathPatterns(tuple(compiled))


def _implementation(args: argparse.Namespace) -> Implementation:
    patterns = _patterns(args.error_path_from)
    if args.python_file and not args.python:
        raise SuiteError("--python-file needs --python")
    if args.command_file and not args.command:
        raise SuiteError("--command-file needs --command")
    if args.command:
        description = [f"rollouts: `--command {shlex.quote(args.command)}`"]
        if args.command_file:
            description.append(f"JSONL files: `--command-file {shlex.quote(args.command_file)}`")
        return CommandImplementation(
            argv=tuple(shlex.split(args.command)),
            file_argv=tuple(shlex.split(args.command_file)) if args.command_file else None,
            error_paths=patterns,
            options=args.options,
            timeout=args.timeout,
            description=(*description, *_pattern_lines(args)),
        )
    if args.python:
        description = [f"rollouts: `{args.python}`"]
        if args.python_file:
            description.append(f"JSONL files: `{args.python_file}`")
        return PythonImplementation(
            function=load_callable(args.python),
            file_function=load_callable(args.python_file) if args.python_file else None,
            error_paths=patterns,
            options=args.options,
            description=(*description, *_pattern_lines(args)),
        )
    return PythonImplementation(
        function=nemogym_ingest_rollout,
        file_function=nemogym_ingest_file,
        options=True,
        description=(f"nemogym-ingest {package_version()} itself (no --python or --command)",),
    )


def _pattern_lines(args: argparse.Namespace) -> list[str]:
    return [f"error paths read with `{pattern}`" for pattern in args.error_path_from]


def _invocation(args: argparse.Namespace) -> str:
    """The command line that reproduces a report (output options left out)."""
    words = ["nemogym-ingest", "conformance"]
    if args.spec is not None:
        words += ["--spec", args.spec]
    if args.golden is not None:
        words += ["--golden", args.golden]
    for flag, value in (
        ("--name", args.name),
        ("--python", args.python),
        ("--python-file", args.python_file),
        ("--command", args.command),
        ("--command-file", args.command_file),
    ):
        if value:
            words += [flag, value]
    if args.options:
        words.append("--takes-options")
    for pattern in args.error_path_from:
        words += ["--error-path-from", pattern]
    for glob in args.case:
        words += ["--case", glob]
    if args.allow is not None:
        words += ["--allow", args.allow]
    if args.strict_allow:
        words.append("--strict-allow")
    if args.rules:
        words.append("--check-rules")
    return " \\\n    ".join(
        " ".join(shlex.quote(word) for word in chunk) for chunk in _flag_chunks(words)
    )


def _flag_chunks(words: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for word in words:
        if word.startswith("--") and chunks[-1]:
            chunks.append([])
        chunks[-1].append(word)
    return chunks


def _selected(cases: list[Case], globs: Sequence[str]) -> list[Case]:
    """The cases whose id matches one of `globs` (all without any); a glob that matches
    no case is a `SuiteError`."""
    if not globs:
        return cases
    unmatched = [g for g in globs if not any(fnmatch.fnmatchcase(c.id, g) for c in cases)]
    if unmatched:
        raise SuiteError(f"--case {' '.join(map(shlex.quote, unmatched))} matches no case")
    return [case for case in cases if any(fnmatch.fnmatchcase(case.id, g) for g in globs)]


def _run_conformance(args: argparse.Namespace) -> int:
    try:
        spec_dir = Path(args.spec) if args.spec is not None else default_spec_dir()
        if spec_dir is None:
            raise SuiteError("no spec/ found (installed or in a checkout): pass --spec DIR")
        golden_dir = Path(args.golden) if args.golden is not None else None
        suite = load_suite(spec_dir, golden_dir)
        cases = _selected(suite, args.case)
        allowed = read_allow_file(Path(args.allow)) if args.allow is not None else {}
        implementation = _implementation(args)
        jobs = args.jobs if isinstance(implementation, CommandImplementation) else 1
        results = run_suite(implementation, cases, jobs, rules=args.rules)
    except SuiteError as error:
        print(f"nemogym-ingest conformance: {error}", file=sys.stderr)
        return exit_status.USAGE
    results = apply_allow(results, allowed)
    warnings = stale_allow_entries(results, allowed)
    if args.format == "json":
        sys.stdout.write(render_json(results, warnings))
    else:
        sys.stdout.write(render_text(results, warnings, verbose=args.verbose))
    if args.report is not None:
        name = args.name or (args.python or args.command or f"nemogym-ingest {package_version()}")
        report = render_markdown(
            results,
            warnings,
            name=name,
            implementation=implementation.describe(),
            invocation=_invocation(args),
            docent_version=Suite(spec_dir, golden_dir).docent_version(),
        )
        Path(args.report).write_text(report, encoding="utf-8")
    stale = args.strict_allow and bool(stale_allow_entries(results, allowed, suite))
    return exit_status.OK if Tally.of(results).ok and not stale else exit_status.REJECTED


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest conformance` (`summary`: its line in `--help`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "conformance",
        help=summary,
        description="Run every case of spec/cases/ against an implementation and compare its "
        "answers with golden/ (spec/RUNNER.md). Without --python "
        "or --command, tests nemogym-ingest itself. Exit status: 0 when every case passes or "
        "every failure is allowed, 1 otherwise, 2 when the suite or the arguments are unusable.",
    )
    _add_suite_arguments(parser.add_argument_group("suite"))
    _add_implementation_arguments(parser.add_argument_group("implementation"))
    _add_output_arguments(parser.add_argument_group("output"))
    _add_renamed_switches(parser)
    parser.set_defaults(handler=_run_conformance)


def _add_suite_arguments(suite: argparse._ArgumentGroup) -> None:
    """Which suite, which cases, which failures are allowed, what a rejection must name."""
    suite.add_argument(
        "--spec",
        metavar="DIR",
        help="the spec directory holding cases/ (default: the suite installed with the package, "
        "or the spec/ of the source checkout it runs from)",
    )
    suite.add_argument("--golden", metavar="DIR", help="golden snapshots (default: DIR/../golden)")
    suite.add_argument(
        "--case", metavar="GLOB", action="append", default=[], help="run only matching case ids"
    )
    suite.add_argument(
        "--allow",
        metavar="FILE",
        help="allowed failures: one case id a line, then its reason; '#' starts a comment",
    )
    suite.add_argument(
        "--strict-allow",
        action="store_true",
        help="fail (exit 1) when an allow-file entry's case passes now or is not in the suite",
    )
    suite.add_argument(
        "--check-rules",
        dest="rules",
        action="store_true",
        help="a rejection must also name the case's rule (the error's 'rule' member or "
        "attribute); by default only its path (and line) are compared",
    )


def _add_implementation_arguments(target: argparse._ArgumentGroup) -> None:
    """The implementation under test and how it is run."""
    target.add_argument(
        "--python",
        metavar="MODULE:FUNCTION",
        help="a callable taking a rollout and returning the AgentRun (dict, to_dict() or "
        "pydantic), raising on rejection",
    )
    target.add_argument(
        "--python-file",
        metavar="MODULE:FUNCTION",
        help="a callable taking a JSONL file path and returning its AgentRuns (JSONL cases)",
    )
    target.add_argument(
        "--command",
        metavar="CMD",
        help="a program reading one rollout JSON on stdin (shell-style words, no shell)",
    )
    target.add_argument(
        "--command-file",
        metavar="CMD",
        help="a program given a JSONL file path as its last argument (JSONL cases)",
    )
    target.add_argument(
        "--takes-options",
        dest="options",
        action="store_true",
        help="the implementation takes case options: options=DICT in Python, --options JSON "
        "for commands (else such cases are skipped)",
    )
    target.add_argument(
        "--error-path-from",
        metavar="REGEX",
        action="append",
        default=[],
        help="read the error path (group 'path', absent: \"\") and line (group 'line') from the "
        "error message; repeatable, the first match wins",
    )
    target.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        help="per-case limit for commands (default: %(default)g)",
    )
    workers = whole_number(1)
    target.add_argument(  # the old name
        "--jobs", type=workers, dest="jobs", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    target.add_argument(
        "-j",
        "--workers",
        dest="jobs",
        metavar="N",
        type=workers,
        default=default_workers(),
        help="commands run at once (default: the number of CPUs; Python callables run one "
        "at a time)",
    )


def _add_renamed_switches(parser: argparse.ArgumentParser) -> None:
    """The switches' old names, hidden and refused: one meaning per flag name."""
    for old, new, value in (
        ("--options", "--takes-options", "JSON"),
        ("--rules", "--check-rules", "R1,R2"),
    ):
        parser.add_argument(
            old,
            nargs="?",
            action=_Renamed,
            const=new,
            metavar=value,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )


class _Renamed(argparse.Action):
    """An old switch name, refused with its new one (`const`): `--options JSON` and `--rules
    R1,R2` take values in `case add` (and `--options JSON` in the protocol), so here the
    switches are `--takes-options` and `--check-rules`."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        old = self.option_strings[0]
        parser.error(f"{old} is {self.const} here (a switch); {old} {self.metavar} is case add's")


def _add_output_arguments(output: argparse._ArgumentGroup) -> None:
    """What the run prints and writes."""
    output.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="per-case lines and a tally (default), or one JSON document",
    )
    output.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    output.add_argument("--report", metavar="FILE.md", help="also write a markdown report")
    output.add_argument("--name", help="the implementation's name in the report")
