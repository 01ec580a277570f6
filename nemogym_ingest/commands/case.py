"""`nemogym-ingest case add`: the arguments checked against the suite (`Request`), the case
written (`nemogym_ingest.casebook`), and what was written and found, reported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from .. import casebook, exit_status, verdict
from ..casebook import Added, CaseError, Request
from ..conformance.suite import Suite, SuiteError, checkout_spec_dir
from ..docent.settings import DOCENT_VERSION
from ..options import ConversionOptions
from ..wording import plural

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_RULE = re.compile(r"[RD][1-9][0-9]*")
_LINE_INDEX = 'a "line" index needs a JSONL file case (added by hand); give the index as an integer'


def _source_and_line(text: str) -> tuple[str, int]:
    source, colon, number = text.rpartition(":")
    if not colon or not source or not number.isdigit() or int(number) < 1:
        raise CaseError(f"{text}: expected FILE:LINE, the line a whole number from 1")
    return source, int(number)


def _names(text: str | None, flag: str) -> tuple[str, ...]:
    if not text:
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    bad = [name for name in names if not _RULE.fullmatch(name)]
    if bad or not names:
        raise CaseError(f"{flag} {text!r}: expected names like R13,R43 (or D1 for --divergence)")
    return names


def _options(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        options = json.loads(text)
    except ValueError as error:
        raise CaseError(f"--options: not JSON: {error}") from None
    try:  # an empty object names no option: refused as not an object is
        ConversionOptions.from_json(options or None, "--options", refuse_line=_LINE_INDEX)
    except ValueError as error:
        raise CaseError(str(error)) from None
    return dict(options)


def _request(args: argparse.Namespace) -> Request:
    """The request, checked: the arguments, the suite, the id and the rules."""
    source, line = _source_and_line(args.source_line)
    spec = Path(args.spec) if args.spec is not None else checkout_spec_dir()
    if spec is None:
        raise CaseError(
            "not run from a source checkout, and the installed suite is not edited: "
            "pass --spec DIR (the spec/ of a checkout or a copy of the suite)"
        )
    if not Suite(spec).cases.is_dir():
        raise CaseError(f"{spec}: not a spec directory holding cases/; pass --spec DIR")
    suite = Suite(spec)
    for flag, value in (("--id", args.id), ("--group", args.group)):
        if not _ID.fullmatch(value):
            raise CaseError(f"{flag} {value!r}: expected kebab-case (a-z, 0-9, single hyphens)")
    taken = suite.taken_by(args.id)
    if taken is not None:
        raise CaseError(f"--id {args.id}: the id is taken ({taken}); ids are unique suite-wide")
    rules, divergence = _names(args.rules, "--rules"), _names(args.divergence, "--divergence")
    if any(not name.startswith("D") for name in divergence):
        raise CaseError(f"--divergence {args.divergence!r}: divergences are D-numbers")
    defined = suite.defined_rules()
    unknown = [name for name in (*rules, *divergence) if defined and name not in defined]
    if unknown:
        raise CaseError(f"{', '.join(unknown)}: not defined in {suite.readme}")
    return Request(
        source=source,
        line=line,
        case_id=args.id,
        group=args.group,
        rules=rules,
        divergence=divergence,
        description=args.description,
        options=_options(args.options),
        minimize=args.minimize,
        suite=suite,
    )


def _report_lines(request: Request, added: Added) -> list[str]:
    """What `case add` prints: what it wrote, what it found, and the next step."""
    case, outcome = added.case, added.outcome
    if outcome.error is not None:
        outcome_words = f"rejected at {outcome.error.path or '(rollout)'} ({outcome.error.rule})"
    else:
        assert outcome.run is not None
        count = len(outcome.run.transcripts[0].messages)
        outcome_words = f"accepted ({plural(count, 'message')})"
    lines = [f"added case {case['id']} to {request.group}.json: {outcome_words}"]
    lines.append(f"  rules: {', '.join(case['rules'])}")
    if not added.docent.compared:
        why = "options given" if request.options else "Docent is not installed"
        marked = f"; marked {', '.join(case['divergence'])}" if "divergence" in case else ""
        lines.append(f"  Docent: not compared ({why}){marked}")
    elif added.docent.agrees:
        lines.append(f"  Docent {DOCENT_VERSION}: agrees")
    else:
        lines.append(
            f"  Docent {DOCENT_VERSION}: differs; divergence {', '.join(case['divergence'])}"
        )
    if added.minimized is not None:
        before, after = added.minimized.size_before, added.minimized.size_after
        lines.append(
            f"  minimized: {before:,} -> {after:,} bytes ({before / max(after, 1):.1f}x smaller, "
            f"{added.minimized.tries:,} candidates), keeping {added.kept}"
        )
    if not added.validated:
        lines.append("  not checked against case.schema.json (jsonschema is not installed)")
    for path in added.written:
        lines.append(f"  wrote {_shown(path)}")
    if added.cases_now is not None:
        lines.append(f"  manifest.json: cases {added.cases_now}")
    lines.append(_next_step(request, added))
    return lines


def _shown(path: Path) -> str:
    """`path` relative to the current directory when under it, else absolute."""
    absolute = path.resolve()
    return (
        str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(path)
    )


def _next_step(request: Request, added: Added) -> str:
    """What to do next, for the suite that was written: its diff (when under git), its
    changelog and its tests (when beside it), and the runner on it."""
    suite = request.suite
    root = suite.spec.resolve().parent
    written = " ".join(_shown(folder) for folder in (suite.spec, suite.golden))
    trust = "; read the golden file, do not trust it" if added.outcome.run is not None else ""
    if any((folder / ".git").exists() for folder in (root, *root.parents)):
        steps = [f"review the diff (git diff -- {written}{trust})"]
    else:
        steps = [f"review the files written above{trust}"]
    if (root / "CHANGELOG.md").is_file():
        steps.append(f"record the case in {_shown(root / 'CHANGELOG.md')}")
    runs = []
    if (root / "tests" / "test_spec_cases.py").is_file():
        runs.append(f"uv run pytest {_shown(root / 'tests' / 'test_spec_cases.py')}")
    default = checkout_spec_dir()
    spec_flag = (
        ""
        if default and default.resolve() == suite.spec.resolve()
        else f" --spec {_shown(suite.spec)}"
    )
    runs.append(f"nemogym-ingest conformance --takes-options{spec_flag}")
    return f"next: {', '.join(steps)}, then run {' and '.join(runs)}"


def _case_add(args: argparse.Namespace) -> int:
    try:
        request = _request(args)
        added = casebook.add_case(request, verdict.docent_view())
    except (CaseError, SuiteError) as error:
        print(f"nemogym-ingest case add: {error}", file=sys.stderr)
        return exit_status.USAGE
    print("\n".join(_report_lines(request, added)))
    return exit_status.OK


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest case add` (`summary`: its line in `--help`)."""
    case = subparsers.add_parser(
        "case",
        help=summary,
        description="Work on the spec suite's cases (spec/CONTRIBUTING.md).",
    )
    actions = case.add_subparsers(dest="case_action", required=True, metavar="ACTION")
    parser = actions.add_parser(
        "add",
        help="add line LINE of a rollouts file as a case",
        description="Read line LINE of a rollouts file (.jsonl or .gz), convert it, and append "
        "it as a case to spec/cases/GROUP.json (created if new) with its expected outcome, "
        "its golden file (accepted cases) and the manifest's count. With Docent installed, "
        "its converter is compared and the divergences that explain a difference recorded. "
        "Exit status: 0 when written, 2 when nothing could be written (the message says why).",
    )
    parser.add_argument("source_line", metavar="SOURCE:LINE", help="a rollouts file and a line")
    parser.add_argument("--id", required=True, help="the new case's id (kebab-case, unused)")
    parser.add_argument("--group", required=True, help="the group file spec/cases/GROUP.json")
    parser.add_argument(
        "--rules",
        metavar="R13,R43",
        help="the rules the case exercises (required for an accepted line; a rejected one "
        "defaults to the rule it breaks)",
    )
    parser.add_argument(
        "--divergence",
        metavar="D1,D2",
        help="the divergences from Docent, when they cannot be told automatically",
    )
    parser.add_argument("--description", metavar="TEXT", help="one line saying what it shows")
    parser.add_argument(
        "--options", metavar="JSON", help='conversion options, e.g. \'{"agent_name": "a"}\''
    )
    parser.add_argument(
        "--minimize",
        action="store_true",
        help="shrink the rollout first, keeping the outcome (rule and path pattern, or the "
        "transcript shape; and Docent's verdict)",
    )
    parser.add_argument(
        "--spec",
        metavar="DIR",
        help="the spec directory (golden/ beside it; default: the spec/ of the source checkout "
        "the package runs from; required for an installed package, whose suite is not edited)",
    )
    parser.set_defaults(handler=_case_add)
