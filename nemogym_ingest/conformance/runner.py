"""Judging: each case run on an implementation and its answer compared with the case's
expectation; allow lists of expected failures and the tally.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..wire import normalize_payload
from .adapters import Answer, Implementation
from .compare import (
    EXACT,
    Comparison,
    abbreviated,
    describe_difference,
    first_difference,
    shown_path,
)
from .suite import Case, ExpectedError, SuiteError

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Result:
    """The result of one case: `summary` in one line, `detail` (a diff) below it.

    `allowed` is the reason from the allow file when the case failed and is listed there;
    `traceback` the tested function's traceback when it crashed (text and JSON reports
    show it, the markdown report does not: it depends on the Python version).
    """

    case: Case
    status: Status
    summary: str = ""
    detail: str = ""
    allowed: str | None = None
    traceback: str = ""


def _where(path: str | None, line: int | None) -> str:
    shown = (
        "(unknown path)" if path is None else abbreviated(path) if path else '`""` (the rollout)'
    )
    return shown if line is None else f"{shown} on line {line}"


def _failure(case: Case, summary: str, answer: Answer, diff: str = "") -> Result:
    if answer.kind == "crashed":
        return Result(case, "fail", summary, diff, traceback=answer.log)
    detail = "\n".join(part for part in (diff, answer.log) if part)
    return Result(case, "fail", summary, detail)


def _compared(case: Case, payload: Any, comparison: Comparison) -> Any:
    """What is compared of a payload, or of a file's list of them, normalized (R87's group
    ids are positions)."""

    def view(run: Any) -> Any:
        return comparison.view(normalize_payload(run))

    if not case.is_file:
        return view(payload)
    return [view(run) for run in payload] if isinstance(payload, list) else payload


def judge(
    case: Case, answer: Answer, *, rules: bool = False, comparison: Comparison = EXACT
) -> Result:
    """Compare an implementation's answer with the case's expectation; with `rules`, a
    rejection must also name the expected rule; an output is compared as `comparison` says
    (its level and ignored metadata paths)."""
    expected = case.expected
    said = f" ({answer.detail})" if answer.detail else ""
    crashed = f"crashed{said[:-1]}; no error path in it)" if answer.detail else "crashed"
    if isinstance(expected, ExpectedError):
        want = _where(expected.path, expected.line)
        if answer.kind == "output":
            return _failure(case, f"accepted; expected a rejection at {want}", answer)
        if answer.kind == "crashed":
            return _failure(case, f"{crashed}; expected a rejection at {want}", answer)
        if answer.kind == "broken":
            return _failure(case, f"no answer{said}; expected a rejection at {want}", answer)
        if answer.path is None:
            summary = f"rejected without a readable error path{said}; expected {want}"
            return _failure(case, summary, answer)
        line = answer.line if case.is_file else None
        if (answer.path, line) != (expected.path, expected.line):
            got = _where(answer.path, line)
            return _failure(case, f"rejected at {got}{said}; expected {want}", answer)
        if rules and answer.rule != expected.rule:
            got = "no rule" if answer.rule is None else f"rule {answer.rule}"
            summary = f"rejected at {want} with {got}{said}; expected rule {expected.rule}"
            return _failure(case, summary, answer)
        return Result(case, "pass")
    if answer.kind == "crashed":
        return _failure(case, f"{crashed}; expected output", answer)
    if answer.kind == "broken":
        return _failure(case, f"no answer{said}; expected output", answer)
    if answer.kind == "rejected":
        at = "" if answer.path is None else f" at {_where(answer.path, answer.line)}"
        return _failure(case, f"rejected{at}{said}; expected output", answer)
    golden = _compared(case, expected, comparison)  # a golden file's group ids are local (R87)
    actual = _compared(case, answer.value, comparison)
    difference = first_difference(golden, actual)
    if difference is None:
        return Result(case, "pass")
    diff = describe_difference(golden, actual)
    return _failure(case, f"output differs at {shown_path(difference)}", answer, diff)


def skip_reason(implementation: Implementation, case: Case) -> str | None:
    """Why `case` cannot be run on `implementation`, or None."""
    if case.is_file and not implementation.handles_files:
        return (
            "a JSONL file case; the implementation has no file entry point (give one with "
            "--python-file or --command-file)"
        )
    if case.options is not None and not implementation.handles_options:
        options = json.dumps(case.options, sort_keys=True)
        return (
            f"needs options {options}; the implementation does not declare --takes-options "
            "(pass it to run such cases)"
        )
    return None


def run_case(
    implementation: Implementation,
    case: Case,
    *,
    rules: bool = False,
    compare: str = "exact",
    ignore: Sequence[str] = (),
) -> Result:
    """Run one case (or skip it, saying why); `rules` as `judge` takes it; `compare` (the
    level: `"exact"` or `"transcripts"`) and `ignore` (metadata paths) as `Comparison`."""
    return _run_case(implementation, case, rules, Comparison(compare, tuple(ignore)))


def _run_case(
    implementation: Implementation, case: Case, rules: bool, comparison: Comparison
) -> Result:
    reason = skip_reason(implementation, case)
    if reason is not None:
        return Result(case, "skip", reason)
    if case.file is not None:
        answer = recorded_file_as_named(case, implementation.run_file(case.file, case.options))
    else:
        answer = implementation.run_rollout(case.rollout, case.options)
    return judge(case, _for_reports(case, answer), rules=rules, comparison=comparison)


def recorded_file_as_named(case: Case, answer: Answer) -> Answer:
    """A file case's answer with each run's recorded source file (R91, `record_source`)
    that is the path the runner gave read as the case names its file (`jsonl/ID.jsonl`),
    as golden files record it: the path the runner gives depends on where the suite lies
    ("What is compared", spec/README.md)."""
    if answer.kind != "output" or not isinstance(answer.value, list):
        return answer
    for run in answer.value:
        metadata = run.get("metadata") if isinstance(run, dict) else None
        source = metadata.get("source") if isinstance(metadata, dict) else None
        if isinstance(source, dict) and source.get("file") == str(case.file):
            source["file"] = case.file_name
    return answer


_DETAIL_LIMIT = 200
_LOG_LIMIT = 1000


def _for_reports(case: Case, answer: Answer) -> Answer:
    """`answer` with the case's file named as the case names it (no absolute paths in
    reports), then its detail and log shortened: reports do not depend on where the suite
    lies."""
    detail, log = answer.detail, answer.log
    if case.file is not None:
        detail = detail.replace(str(case.file), case.file_name)
        log = log.replace(str(case.file), case.file_name)
    if len(detail) > _DETAIL_LIMIT:
        detail = detail[: _DETAIL_LIMIT - 3] + "..."
    if len(log) > _LOG_LIMIT:
        log = "..." + log[-_LOG_LIMIT:]
    return dataclasses.replace(answer, detail=detail, log=log)


def run_suite(
    implementation: Implementation,
    cases: Sequence[Case],
    jobs: int = 1,
    *,
    rules: bool = False,
    compare: str = "exact",
    ignore: Sequence[str] = (),
) -> list[Result]:
    """Every case's result, in suite order; `jobs` cases run at once; `rules` as `judge`;
    `compare` and `ignore` as `run_case` (a bad level or path raises `ValueError`)."""
    comparison = Comparison(compare, tuple(ignore))

    def run(case: Case) -> Result:
        return _run_case(implementation, case, rules, comparison)

    if jobs <= 1:
        return [run(case) for case in cases]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run, cases))


_PROBED = 3


def unreadable_error_paths(implementation: Implementation, cases: Sequence[Case]) -> str | None:
    """Why the implementation cannot be judged at all, or None: the first three rejecting
    rollout cases it can run all raised exceptions naming no error path, of one type that
    is its way of rejecting (a `ValueError` or an exception of its own, not Python's
    `KeyError` or `RecursionError`, which are crashes)."""
    crashes: list[Answer] = []
    for case in cases:
        if not isinstance(case.expected, ExpectedError) or case.is_file:
            continue
        if skip_reason(implementation, case) is not None:
            continue
        answer = implementation.run_rollout(case.rollout, case.options)
        if answer.kind != "crashed":
            return None
        crashes.append(answer)
        if len(crashes) == _PROBED:
            break
    kinds = {answer.exception for answer in crashes}
    if len(crashes) < _PROBED or len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind.startswith("builtins.") and kind != "builtins.ValueError":
        return None
    first = _for_reports_text(crashes[0].detail)
    return (
        f"no rejection names an error path (the first {_PROBED} rejecting cases raised "
        f"{kind.rpartition('.')[2]} without one; first: {first}): give the "
        "exception a `path` attribute (and `line`), or pass --error-path-from REGEX to read "
        "the path from its message (spec/RUNNER.md)"
    )


def _for_reports_text(text: str) -> str:
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 3] + "..."


def read_allow_file(path: Path) -> dict[str, str]:
    """Allowed failures: a case id a line, then its reason (after an optional `#`).

    Blank lines and lines starting with `#` are comments. An entry without a reason, or
    a case listed twice, is a `SuiteError`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SuiteError(f"{path}: {error.strerror or error}") from None
    allowed: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        case_id, _, reason = line.replace("\t", " ").partition(" ")
        reason = reason.strip().removeprefix("#").strip()
        if not reason:
            raise SuiteError(f"{path}:{number}: {case_id} needs a reason after the case id")
        if case_id in allowed:
            raise SuiteError(f"{path}:{number}: {case_id} is listed twice")
        allowed[case_id] = reason
    return allowed


def apply_allow(results: Iterable[Result], allowed: dict[str, str]) -> list[Result]:
    """The results with each listed failure marked as allowed (with its reason)."""
    return [
        Result(result.case, result.status, result.summary, result.detail, allowed[result.case.id])
        if result.status == "fail" and result.case.id in allowed
        else result
        for result in results
    ]


@dataclass(frozen=True)
class Tally:
    """How many cases passed, failed (of which allowed) and were skipped."""

    passed: int
    failed: int
    allowed: int
    skipped: int

    @classmethod
    def of(cls, results: Sequence[Result]) -> Tally:
        """Count `results`."""
        failed = [result for result in results if result.status == "fail"]
        return cls(
            passed=sum(result.status == "pass" for result in results),
            failed=len(failed),
            allowed=sum(result.allowed is not None for result in failed),
            skipped=sum(result.status == "skip" for result in results),
        )

    @property
    def ok(self) -> bool:
        """Whether every failure is allowed."""
        return self.failed == self.allowed

    def __str__(self) -> str:
        failed = f"{self.failed} failed" + (f" ({self.allowed} allowed)" if self.allowed else "")
        return f"{self.passed} passed, {failed}, {self.skipped} skipped"


def stale_allow_entries(
    results: Sequence[Result], allowed: dict[str, str], suite: Sequence[Case] | None = None
) -> list[str]:
    """Warnings for allow-file entries that name no failing case.

    Given the whole `suite`, only entries whose case passed or is not in the suite count
    (a case left out by `--case` is not stale); without it, every entry not among `results`.
    """
    status = {result.case.id: result.status for result in results}
    known = {case.id for case in suite} if suite is not None else set(status)
    warnings = []
    for case_id in allowed:
        if case_id not in known:
            unknown = "is not in the suite" + ("" if suite is not None else " (or not selected)")
            warnings.append(f"allowed case {case_id} {unknown}")
        elif status.get(case_id) == "pass":
            warnings.append(f"allowed case {case_id} passes now; remove it from the allow file")
    return warnings
