"""The conformance runner: any implementation against `spec/cases/` and `golden/`.

In the manner of toml-test: every case of the suite is given to an implementation — a
Python callable (`--python module:function`) or any program speaking the stdin/stdout
protocol of spec/README.md, "Testing an implementation" (`--command "CMD …"`) — and its
answer is compared with the golden payload, or with the expected error path (and line),
on Docent's wire layout with ids and model defaults normalized (`normalize_payload`).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import fnmatch
import importlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from .convert import convert_nemogym_rollout_to_agent_run
from .errors import render_path
from .jsonl import convert_nemogym_jsonl_file_to_agent_runs
from .model import AgentRun
from .options import ConversionOptions

JsonDict = dict[str, Any]
Status = Literal["pass", "fail", "skip"]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_DIFF_LINES = 40
_SHOWN_CHARS = 300
_DEFAULT_TIMEOUT = 60.0


class SuiteError(Exception):
    """The suite itself (a case file, a golden file, an allow file) is unusable."""


# --- normalization and comparison ------------------------------------------------------


def _without_nulls(mapping: JsonDict, *, drop: Sequence[str] = ()) -> JsonDict:
    return {key: value for key, value in mapping.items() if value is not None and key not in drop}


def _normalize_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    message = _without_nulls(message, drop=("id",))
    content = message.get("content")
    if isinstance(content, list):
        message["content"] = [
            {
                key: value
                for key, value in _without_nulls(block).items()
                if not (key == "redacted" and value is False)
            }
            if isinstance(block, dict)
            else block
            for block in content
        ]
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        message["tool_calls"] = [
            _without_nulls(call) if isinstance(call, dict) else call for call in tool_calls
        ]
    return message


def _normalize_transcript(transcript: Any) -> Any:
    if not isinstance(transcript, dict):
        return transcript
    transcript = _without_nulls(transcript, drop=("id",))
    messages = transcript.get("messages")
    if isinstance(messages, list):
        transcript["messages"] = [_normalize_message(message) for message in messages]
    return transcript


def normalize_payload(payload: Any) -> Any:
    """An AgentRun payload on our wire layout: Docent's ids and model defaults removed.

    Exactly these, at the levels of Docent's models only (never inside `metadata` or a
    tool call's `arguments`): the `id` of the run, of each transcript and of each message
    is dropped; members whose value is `null` are dropped from the run, each transcript,
    message, content block and tool call; `transcript_groups: []` and a content block's
    `redacted: false` are dropped. Anything that is not shaped like a run is returned as is.
    The payload is not modified.
    """
    if not isinstance(payload, dict):
        return payload
    run = _without_nulls(payload, drop=("id",))
    if run.get("transcript_groups") == []:
        del run["transcript_groups"]
    transcripts = run.get("transcripts")
    if isinstance(transcripts, list):
        run["transcripts"] = [_normalize_transcript(transcript) for transcript in transcripts]
    return run


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_scalar(expected: Any, actual: Any) -> bool:
    if _is_number(expected) and _is_number(actual):
        both_nan = isinstance(expected, float) and isinstance(actual, float)
        both_nan = both_nan and math.isnan(expected) and math.isnan(actual)
        return both_nan or bool(expected == actual)
    return type(expected) is type(actual) and bool(expected == actual)


Step = str | int
"""An object member name or an array index: one step of a path."""


def _difference(expected: Any, actual: Any) -> list[Step] | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if not all(isinstance(key, str) for key in actual):
            return []  # not JSON: object keys are strings
        for key in sorted(expected.keys() | actual.keys()):
            if key not in expected or key not in actual:
                return [key]
            below = _difference(expected[key], actual[key])
            if below is not None:
                return [key, *below]
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            below = _difference(left, right)
            if below is not None:
                return [index, *below]
        if len(expected) != len(actual):
            return [min(len(expected), len(actual))]
        return None
    if isinstance(expected, dict | list) or isinstance(actual, dict | list):
        return []
    return None if _same_scalar(expected, actual) else []


def _path(steps: Sequence[Step]) -> str:
    return render_path(tuple(steps))


def first_difference(expected: Any, actual: Any) -> str | None:
    """The JSON path of the first place where `actual` differs from `expected`, or None.

    Objects compare member by member in sorted key order, arrays element by element;
    numbers compare by value (`1` equals `1.0`), but `true`/`false` are not numbers.
    An object with a key that is not a string differs as a whole.
    """
    steps = _difference(expected, actual)
    return None if steps is None else _path(steps)


_ABSENT = object()


def _at(value: Any, steps: Sequence[Step]) -> Any:
    """The value `steps` lead to, or `_ABSENT`."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _ABSENT
        elif not isinstance(value, dict) or step not in value:
            return _ABSENT
        value = value[step]
    return value


def _dumps(value: Any, indent: int | None = None) -> str:
    """`value` as JSON text for display; whatever an implementation returned, never raises."""
    try:
        return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError) as error:
        return f"(cannot be shown as JSON: {type(error).__name__})"


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = _dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _abbreviated(path: str, limit: int = 100) -> str:
    """`path` in backquotes, its middle elided when it is very long (deep nesting)."""
    if len(path) > limit:
        path = f"{path[: limit // 2]}…{path[-limit // 4 :]}"
    return f"`{path}`"


def _shown_path(path: str) -> str:
    return _abbreviated(path) if path else "the top level"


def describe_difference(expected: Any, actual: Any) -> str:
    """A readable diff: the first differing path, both values there, then a unified diff."""
    steps = _difference(expected, actual) or []
    lines = [
        f"first difference at {_shown_path(_path(steps))}:",
        f"  expected: {_shown(_at(expected, steps))}",
        f"  actual:   {_shown(_at(actual, steps))}",
    ]
    diff = list(
        difflib.unified_diff(
            _dumps(expected, indent=2).splitlines(),
            _dumps(actual, indent=2).splitlines(),
            "expected",
            "actual",
            n=2,
            lineterm="",
        )
    )
    if len(diff) > _DIFF_LINES:
        diff = [*diff[:_DIFF_LINES], f"... ({len(diff) - _DIFF_LINES} more diff lines)"]
    return "\n".join([*lines, *diff])


# --- the suite -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedError:
    """A rejection at `path` (and, for a JSONL file, on `line`) under spec rule `rule`."""

    path: str
    line: int | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Case:
    """One spec case with its expectation: the golden payload(s), or an `ExpectedError`."""

    id: str
    description: str
    rules: tuple[str, ...]
    divergence: tuple[str, ...]
    options: JsonDict | None
    expected: Any
    rollout: Any = None
    file: Path | None = None
    file_name: str = ""

    @property
    def is_file(self) -> bool:
        """Whether the case is a JSONL file rather than one rollout."""
        return self.file is not None


def default_spec_dir() -> Path | None:
    """`spec/` next to the package (a source checkout), when it holds `cases/`."""
    candidate = _PACKAGE_ROOT / "spec"
    return candidate if (candidate / "cases").is_dir() else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise SuiteError(f"{path}: cannot read JSON: {error}") from None


def _expected_error(raw: Any, where: str, *, is_file: bool) -> ExpectedError:
    error = raw.get("error") if isinstance(raw, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("path"), str):
        raise SuiteError(
            f"{where}: expect must be an agent_run(s) or {{'error': {{'rule': …, 'path': …}}}}"
        )
    line = error.get("line")
    if is_file and (isinstance(line, bool) or not isinstance(line, int)):
        raise SuiteError(f"{where}: a JSONL case's expected error needs an integer line")
    rule = error.get("rule")
    if not isinstance(rule, str) or not re.fullmatch(r"R\d+", rule):
        raise SuiteError(f"{where}: an expected error needs its rule, e.g. 'R22'")
    return ExpectedError(error["path"], line if is_file else None, rule)


def _load_case(raw: Any, cases_dir: Path, golden_dir: Path, where: str) -> Case:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise SuiteError(f"{where}: a case must be an object with a string id")
    case_id = raw["id"]
    where = f"{where} ({case_id})"
    is_file = "file" in raw
    if is_file == ("rollout" in raw):
        raise SuiteError(f"{where}: a case needs exactly one of rollout and file")
    expect = raw.get("expect")
    expected: Any
    if expect in ("agent_run", "agent_runs"):
        if (expect == "agent_runs") != is_file:
            raise SuiteError(f"{where}: expect {expect!r} does not fit the case's kind")
        golden = golden_dir / f"{case_id}.json"
        if not golden.is_file():
            raise SuiteError(f"{where}: golden snapshot {golden} is missing")
        expected = _read_json(golden)
    else:
        expected = _expected_error(expect, where, is_file=is_file)
    options = raw.get("options")
    if options is not None and not isinstance(options, dict):
        raise SuiteError(f"{where}: options must be an object")
    file = None
    if is_file:
        file = cases_dir / str(raw["file"])
        if not file.is_file():
            raise SuiteError(f"{where}: {file} is missing")
    return Case(
        id=case_id,
        description=str(raw.get("description", "")),
        rules=tuple(raw.get("rules", ())),
        divergence=tuple(raw.get("divergence", ())),
        options=options,
        expected=expected,
        rollout=raw.get("rollout"),
        file=file,
        file_name=str(raw["file"]) if is_file else "",
    )


def load_suite(spec_dir: Path, golden_dir: Path | None = None) -> list[Case]:
    """Every case of `spec_dir/cases/*.json`, in file then case order, with its expectation.

    `golden_dir` defaults to `golden/` beside `spec_dir`. Raises `SuiteError` for a
    malformed case, a duplicate id or a missing golden snapshot.
    """
    cases_dir = spec_dir / "cases"
    golden_dir = golden_dir if golden_dir is not None else spec_dir.parent / "golden"
    case_files = sorted(cases_dir.glob("*.json"))
    if not case_files:
        raise SuiteError(f"no case files in {cases_dir}")
    cases: list[Case] = []
    seen: set[str] = set()
    for case_file in case_files:
        document = _read_json(case_file)
        if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
            raise SuiteError(f"{case_file}: expected an object with a cases array")
        for index, raw in enumerate(document["cases"]):
            case = _load_case(raw, cases_dir, golden_dir, f"{case_file.name}[{index}]")
            if case.id in seen:
                raise SuiteError(f"{case_file.name}: duplicate case id {case.id!r}")
            seen.add(case.id)
            cases.append(case)
    return cases


# --- implementations -------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What an implementation made of a case: its output, a rejection, or neither.

    `kind` is `"output"` (`value` holds the payload, or the list of payloads for a file),
    `"rejected"` (`path`, `line` and `rule` are the error's, `None` when they cannot be told) or
    `"broken"` (no answer at all: a crash, a timeout, unreadable output). `detail`
    describes the rejection or the breakage in one line; `log` is what else there is to
    see (an exception's full text, the end of a program's stderr).
    """

    kind: Literal["output", "rejected", "broken"]
    value: Any = None
    path: str | None = None
    line: int | None = None
    rule: str | None = None
    detail: str = ""
    log: str = ""


class Implementation(Protocol):
    """An implementation under test."""

    @property
    def handles_files(self) -> bool:
        """Whether JSONL file cases can be run."""

    @property
    def handles_options(self) -> bool:
        """Whether cases with `options` can be run."""

    def describe(self) -> list[str]:
        """How the implementation is plugged in, one line each (for reports)."""

    def run_rollout(self, rollout: Any, options: JsonDict | None) -> Answer:
        """Convert one rollout."""

    def run_file(self, path: Path, options: JsonDict | None) -> Answer:
        """Convert one JSONL file."""


@dataclass(frozen=True)
class ErrorPathPatterns:
    """Regular expressions reading an error path (group `path`) and line (group `line`).

    The first pattern that matches (`re.search`) wins; a pattern without a matching
    `path` group names the rollout itself (`""`).
    """

    patterns: tuple[re.Pattern[str], ...] = ()

    def read(self, message: str) -> tuple[str, int | None] | None:
        """The path and line a message names, or None when no pattern matches."""
        for pattern in self.patterns:
            match = pattern.search(message)
            if match is None:
                continue
            groups = match.groupdict()
            line = groups.get("line")
            return groups.get("path") or "", int(line) if line is not None else None
        return None


def _rule_of(value: Any) -> str | None:
    """A reported rule (`"R22"`), or None when none (or no string) was reported."""
    return value if isinstance(value, str) else None


def _payload_of(value: Any) -> Any:
    """A returned AgentRun as its JSON payload: a dict, `model_dump(mode="json")` or `to_dict()`."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _load_callable(spec: str) -> Callable[..., Any]:
    module_name, separator, name = spec.partition(":")
    if not separator or not module_name or not name:
        raise SuiteError(f"{spec!r}: expected module:function")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
        for attribute in name.split("."):
            target = getattr(target, attribute)
    except Exception as error:  # an import can fail in any way: report it, do not crash
        raise SuiteError(f"{spec}: {_exception_text(error)}") from None
    if not callable(target):
        raise SuiteError(f"{spec}: not callable")
    return cast(Callable[..., Any], target)


def _exception_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class PythonImplementation:
    """Python callables: `function(rollout)` and optionally `file_function(path)`.

    They return a dict, a dataclass with `to_dict()` or a pydantic model (an iterable of
    those for files) and raise on rejection. The error's `path` (and `line`) attribute
    names the field; without one, `error_paths` read it from the message. With
    `options`, cases with options call `function(rollout, options=OPTIONS)` (a dict).
    """

    function: Callable[..., Any]
    file_function: Callable[..., Any] | None = None
    error_paths: ErrorPathPatterns = field(default_factory=ErrorPathPatterns)
    options: bool = False
    description: tuple[str, ...] = ()

    @property
    def handles_files(self) -> bool:
        """Whether a file function was given."""
        return self.file_function is not None

    @property
    def handles_options(self) -> bool:
        """Whether the callables take `options=`."""
        return self.options

    def describe(self) -> list[str]:
        """The callables and patterns, as given."""
        return list(self.description)

    def _rejection(self, error: Exception) -> Answer:
        path = getattr(error, "path", None)
        line = getattr(error, "line", None)
        text = _exception_text(error)
        detail, log = _first_line(text), text if "\n" in text.strip() else ""
        if isinstance(path, str):
            line = line if isinstance(line, int) and not isinstance(line, bool) else None
            rule = _rule_of(getattr(error, "rule", None))
            return Answer("rejected", path=path, line=line, rule=rule, detail=detail, log=log)
        read = self.error_paths.read(str(error))
        if read is None:
            return Answer("rejected", detail=detail, log=log)
        return Answer("rejected", path=read[0], line=read[1], detail=detail, log=log)

    def _call(self, function: Callable[..., Any], argument: Any, options: JsonDict | None) -> Any:
        if options is not None:
            return function(argument, options=options)
        return function(argument)

    def run_rollout(self, rollout: Any, options: JsonDict | None) -> Answer:
        """Call the function on a copy of the rollout; modifying that copy is no answer (R47)."""
        given = copy.deepcopy(rollout)
        try:
            answer = Answer("output", value=_payload_of(self._call(self.function, given, options)))
        except Exception as error:
            answer = self._rejection(error)
        modified = first_difference(rollout, given)
        if modified is not None:
            return Answer("broken", detail=f"modified its input at {_shown_path(modified)} (R47)")
        return answer

    def run_file(self, path: Path, options: JsonDict | None) -> Answer:
        """Call the file function on the file and read every run it yields."""
        assert self.file_function is not None
        try:
            runs = self._call(self.file_function, str(path), options)
            return Answer("output", value=[_payload_of(run) for run in runs])
        except Exception as error:
            return self._rejection(error)


@dataclass(frozen=True)
class CommandImplementation:
    """Programs speaking the stdin/stdout protocol (spec/README.md, "Testing an implementation").

    `argv` reads one rollout on stdin; `file_argv`, when given, is run with the JSONL
    file's path as its last argument. With `options`, a case's options are passed as
    `--options JSON` before that.
    """

    argv: tuple[str, ...]
    file_argv: tuple[str, ...] | None = None
    error_paths: ErrorPathPatterns = field(default_factory=ErrorPathPatterns)
    options: bool = False
    timeout: float = _DEFAULT_TIMEOUT
    description: tuple[str, ...] = ()

    @property
    def handles_files(self) -> bool:
        """Whether a file command was given."""
        return self.file_argv is not None

    @property
    def handles_options(self) -> bool:
        """Whether the commands take `--options JSON`."""
        return self.options

    def describe(self) -> list[str]:
        """The commands and patterns, as given."""
        return list(self.description)

    def _run(
        self, argv: Sequence[str], stdin: bytes, options: JsonDict | None, *last: str
    ) -> tuple[int, str, str] | Answer:
        if options is not None:
            argv = [*argv, "--options", json.dumps(options, ensure_ascii=True, sort_keys=True)]
        argv = [*argv, *last]
        try:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return Answer("broken", detail=f"no answer within {self.timeout:g} s")
        except OSError as error:
            return Answer("broken", detail=f"cannot run {argv[0]}: {error.strerror or error}")
        stdout = done.stdout.decode("utf-8", errors="replace")
        stderr = done.stderr.decode("utf-8", errors="replace")
        return done.returncode, stdout, stderr

    def _rejection(self, status: int, stdout: str, stderr: str, *, is_file: bool) -> Answer:
        text = stdout.strip()
        detail = f"exit status {status}" + (f": {_last_line(stderr)}" if stderr.strip() else "")
        log = _tail(stderr)
        try:
            parsed: Any = json.loads(text) if text else None
        except (ValueError, RecursionError):
            parsed = None
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(error, dict) and isinstance(error.get("path"), str):
            line = error.get("line")
            line = line if isinstance(line, int) and not isinstance(line, bool) else None
            rule = _rule_of(error.get("rule"))
            return Answer(
                "rejected", path=error["path"], line=line, rule=rule, detail=detail, log=log
            )
        if self.error_paths.patterns:
            read = self.error_paths.read(stdout) or self.error_paths.read(stderr)
            if read is not None:
                return Answer("rejected", path=read[0], line=read[1], detail=detail, log=log)
            return Answer("rejected", detail=detail, log=log)
        if isinstance(parsed, str) and not is_file:
            return Answer("rejected", path=parsed, detail=detail, log=log)
        if text and "\n" not in text and not is_file:
            return Answer("rejected", path=text, detail=detail, log=log)
        shown = _first_line(text) if text else "nothing"
        return Answer("broken", detail=f"{detail}; no error path on stdout ({shown})", log=log)

    def run_rollout(self, rollout: Any, options: JsonDict | None) -> Answer:
        """Run the command with the rollout (ASCII JSON) on stdin."""
        stdin = json.dumps(rollout, ensure_ascii=True).encode("ascii")
        ran = self._run(self.argv, stdin, options)
        if isinstance(ran, Answer):
            return ran
        status, stdout, stderr = ran
        if status != 0:
            return self._rejection(status, stdout, stderr, is_file=False)
        try:
            return Answer("output", value=json.loads(stdout))
        except (ValueError, RecursionError) as error:
            detail = f"exit status 0 but stdout is not JSON: {error}"
            return Answer("broken", detail=detail, log=_tail(stderr))

    def run_file(self, path: Path, options: JsonDict | None) -> Answer:
        """Run the file command with the file's path as its last argument."""
        assert self.file_argv is not None
        ran = self._run(self.file_argv, b"", options, str(path))
        if isinstance(ran, Answer):
            return ran
        status, stdout, stderr = ran
        if status != 0:
            return self._rejection(status, stdout, stderr, is_file=True)
        try:
            return Answer(
                "output", value=[json.loads(line) for line in stdout.split("\n") if line.strip()]
            )
        except (ValueError, RecursionError) as error:
            detail = f"exit status 0 but stdout is not JSON Lines: {error}"
            return Answer("broken", detail=detail, log=_tail(stderr))


def _tail(text: str, limit: int = 1000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _last_line(text: str) -> str:
    return _first_line(text.strip().rsplit("\n", 1)[-1])


# --- our own implementation, as the runner's default --------------------------------------


def nemogym_ingest_rollout(rollout: Any, options: JsonDict | None = None) -> AgentRun:
    """Our converter as a conformance entry point, taking a case's options as JSON."""
    return convert_nemogym_rollout_to_agent_run(rollout, options=ConversionOptions(**options or {}))


def nemogym_ingest_file(path: str, options: JsonDict | None = None) -> list[AgentRun]:
    """Our JSONL reader as a conformance entry point, taking a case's options as JSON."""
    return convert_nemogym_jsonl_file_to_agent_runs(
        path, options=ConversionOptions(**options or {})
    )


def _package_version() -> str:
    try:
        return version("nemogym-ingest")
    except PackageNotFoundError:
        return "(source)"


# --- running the suite -----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The verdict on one case: `summary` in one line, `detail` (a diff) below it.

    `allowed` is the reason from the allow file when the case failed and is listed there.
    """

    case: Case
    status: Status
    summary: str = ""
    detail: str = ""
    allowed: str | None = None


def _where(path: str | None, line: int | None) -> str:
    shown = (
        "(unknown path)" if path is None else _abbreviated(path) if path else '`""` (the rollout)'
    )
    return shown if line is None else f"{shown} on line {line}"


def _failure(case: Case, summary: str, answer: Answer, diff: str = "") -> Result:
    detail = "\n".join(part for part in (diff, answer.log) if part)
    return Result(case, "fail", summary, detail)


def judge(case: Case, answer: Answer, *, rules: bool = False) -> Result:
    """Compare an implementation's answer with the case's expectation; with `rules`, a
    rejection must also name the expected rule."""
    expected = case.expected
    said = f" ({answer.detail})" if answer.detail else ""
    if isinstance(expected, ExpectedError):
        want = _where(expected.path, expected.line)
        if answer.kind == "output":
            return _failure(case, f"accepted; expected a rejection at {want}", answer)
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
    if answer.kind == "broken":
        return _failure(case, f"no answer{said}; expected output", answer)
    if answer.kind == "rejected":
        at = "" if answer.path is None else f" at {_where(answer.path, answer.line)}"
        return _failure(case, f"rejected{at}{said}; expected output", answer)
    actual = answer.value
    if case.is_file and isinstance(actual, list):
        actual = [normalize_payload(run) for run in actual]
    elif not case.is_file:
        actual = normalize_payload(actual)
    difference = first_difference(expected, actual)
    if difference is None:
        return Result(case, "pass")
    diff = describe_difference(expected, actual)
    return _failure(case, f"output differs at {_shown_path(difference)}", answer, diff)


def skip_reason(implementation: Implementation, case: Case) -> str | None:
    """Why `case` cannot be run on `implementation`, or None."""
    if case.is_file and not implementation.handles_files:
        return "a JSONL file case; the implementation has no file entry point"
    if case.options is not None and not implementation.handles_options:
        options = json.dumps(case.options, sort_keys=True)
        return f"needs options {options}; the implementation does not declare --options"
    return None


def run_case(implementation: Implementation, case: Case, *, rules: bool = False) -> Result:
    """Run one case (or skip it, saying why); `rules` as `judge` takes it."""
    reason = skip_reason(implementation, case)
    if reason is not None:
        return Result(case, "skip", reason)
    if case.file is not None:
        answer = implementation.run_file(case.file, case.options)
    else:
        answer = implementation.run_rollout(case.rollout, case.options)
    result = judge(case, answer, rules=rules)
    if case.file is not None:  # no absolute paths in reports: the file as the case names it
        result = Result(
            case,
            result.status,
            result.summary.replace(str(case.file), case.file_name),
            result.detail.replace(str(case.file), case.file_name),
        )
    return result


def run_suite(
    implementation: Implementation,
    cases: Sequence[Case],
    jobs: int = 1,
    *,
    rules: bool = False,
) -> list[Result]:
    """Every case's result, in suite order; `jobs` cases run at once; `rules` as `judge`."""
    if jobs <= 1:
        return [run_case(implementation, case, rules=rules) for case in cases]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda case: run_case(implementation, case, rules=rules), cases))


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


def stale_allow_entries(results: Sequence[Result], allowed: dict[str, str]) -> list[str]:
    """Warnings for allow-file entries that name no failing case."""
    status = {result.case.id: result.status for result in results}
    warnings = []
    for case_id in allowed:
        if case_id not in status:
            warnings.append(f"allowed case {case_id} is not in the suite (or not selected)")
        elif status[case_id] == "pass":
            warnings.append(f"allowed case {case_id} passes now; remove it from the allow file")
    return warnings


# --- reporting -------------------------------------------------------------------------


def _indented(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_text(results: Sequence[Result], warnings: Sequence[str], *, verbose: bool) -> str:
    """The per-case lines (failures with their diffs), warnings and the closing tally."""
    lines: list[str] = []
    for result in results:
        case_id = result.case.id
        if result.status == "pass":
            if verbose:
                lines.append(f"PASS {case_id}")
        elif result.status == "skip":
            lines.append(f"SKIP {case_id}: {result.summary}")
        else:
            allowed = "" if result.allowed is None else f" (allowed: {result.allowed})"
            lines.append(f"FAIL {case_id}{allowed}: {result.summary}")
            if result.detail:
                lines.append(_indented(result.detail))
    lines.extend(f"warning: {warning}" for warning in warnings)
    lines.append(str(Tally.of(results)))
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[Result], warnings: Sequence[str]) -> str:
    """The results as one JSON document."""
    tally = Tally.of(results)
    document = {
        "passed": tally.passed,
        "failed": tally.failed,
        "allowed": tally.allowed,
        "skipped": tally.skipped,
        "warnings": list(warnings),
        "results": [
            {
                "id": result.case.id,
                "status": result.status,
                "summary": result.summary,
                "detail": result.detail,
                "allowed": result.allowed,
            }
            for result in results
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _why(result: Result) -> str:
    if result.allowed is None:
        return "(not in the allow file)"
    return result.allowed


def _divergence_tally(failures: Sequence[Result]) -> str:
    """How many failures are cases marked with each divergence from Docent 0.1.88."""
    counts: dict[str, int] = {}
    for result in failures:
        for divergence in result.case.divergence:
            counts[divergence] = counts.get(divergence, 0) + 1
    marked = ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"
    unmarked = sum(not result.case.divergence for result in failures)
    return (
        "Failures in cases marked with a divergence from Docent 0.1.88 (spec/README.md, "
        f'"Divergences from Docent 0.1.88"): {marked}; in unmarked cases: {unmarked}.'
    )


def render_markdown(
    results: Sequence[Result],
    warnings: Sequence[str],
    *,
    name: str,
    implementation: Sequence[str],
    invocation: str,
) -> str:
    """A markdown report: the tally, then every failure with its reason and diff, then skips."""
    tally = Tally.of(results)
    out = [
        f"# Conformance report: {name}",
        "",
        f"The {len(results)} cases of `spec/cases/` against {name}, compared with `golden/` as",
        'spec/README.md, "Testing an implementation", describes. Generated by:',
        "",
        "```sh",
        invocation,
        "```",
        "",
        *(f"- {line}" for line in implementation),
        "",
        f"**{tally}.**",
    ]
    failures = [result for result in results if result.status == "fail"]
    if failures:
        out += ["", _divergence_tally(failures)]
        out += [
            "",
            "## Failures",
            "",
            "| Case | Rules | Divergence | What happened | Why |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| `{result.case.id}` | {', '.join(result.case.rules)} "
            f"| {', '.join(result.case.divergence) or '—'} | {_cell(result.summary)} "
            f"| {_cell(_why(result))} |"
            for result in failures
        ]
        for result in failures:
            out += ["", f"### `{result.case.id}`", "", _cell(result.case.description), ""]
            out += [f"What happened: {result.summary}."]
            out += ["", f"Why: {_why(result)}."]
            if result.detail:
                out += ["", "```", result.detail, "```"]
    skipped = [result for result in results if result.status == "skip"]
    if skipped:
        out += ["", "## Skipped", "", "| Case | Why |", "|---|---|"]
        out += [f"| `{result.case.id}` | {_cell(result.summary)} |" for result in skipped]
    if warnings:
        out += ["", "## Warnings", ""]
        out += [f"- {warning}" for warning in warnings]
    return "\n".join(out) + "\n"


# --- the command line ------------------------------------------------------------------


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
            function=_load_callable(args.python),
            file_function=_load_callable(args.python_file) if args.python_file else None,
            error_paths=patterns,
            options=args.options,
            description=(*description, *_pattern_lines(args)),
        )
    return PythonImplementation(
        function=nemogym_ingest_rollout,
        file_function=nemogym_ingest_file,
        options=True,
        description=(f"nemogym-ingest {_package_version()} itself (no --python or --command)",),
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
        words.append("--options")
    for pattern in args.error_path_from:
        words += ["--error-path-from", pattern]
    for glob in args.case:
        words += ["--case", glob]
    if args.allow is not None:
        words += ["--allow", args.allow]
    if args.rules:
        words.append("--rules")
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


def _run_conformance(args: argparse.Namespace) -> int:
    try:
        spec_dir = Path(args.spec) if args.spec is not None else default_spec_dir()
        if spec_dir is None:
            raise SuiteError("no spec/ beside the package: pass --spec DIR")
        cases = load_suite(spec_dir, Path(args.golden) if args.golden is not None else None)
        if args.case:
            cases = [
                case
                for case in cases
                if any(fnmatch.fnmatchcase(case.id, glob) for glob in args.case)
            ]
        allowed = read_allow_file(Path(args.allow)) if args.allow is not None else {}
        implementation = _implementation(args)
    except SuiteError as error:
        print(f"nemogym-ingest conformance: {error}", file=sys.stderr)
        return 2
    jobs = args.jobs if isinstance(implementation, CommandImplementation) else 1
    results = apply_allow(run_suite(implementation, cases, jobs, rules=args.rules), allowed)
    warnings = stale_allow_entries(results, allowed)
    if args.format == "json":
        sys.stdout.write(render_json(results, warnings))
    else:
        sys.stdout.write(render_text(results, warnings, verbose=args.verbose))
    if args.report is not None:
        name = args.name or (args.python or args.command or f"nemogym-ingest {_package_version()}")
        report = render_markdown(
            results,
            warnings,
            name=name,
            implementation=implementation.describe(),
            invocation=_invocation(args),
        )
        Path(args.report).write_text(report, encoding="utf-8")
    return 0 if Tally.of(results).ok else 1


def add_command(subparsers: Any) -> None:
    """Register the `conformance` subcommand on `nemogym-ingest`'s subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "conformance",
        help="test an implementation against the spec cases and golden outputs",
        description="Run every case of spec/cases/ against an implementation and compare its "
        "answers with golden/ (spec/README.md, 'Testing an implementation'). Without --python "
        "or --command, tests nemogym-ingest itself. Exit status: 0 when every case passes or "
        "every failure is allowed, 1 otherwise, 2 when the suite or the arguments are unusable.",
    )
    suite = parser.add_argument_group("suite")
    suite.add_argument(
        "--spec",
        metavar="DIR",
        help="the spec directory holding cases/ (default: the spec/ of the source checkout "
        "this package runs from)",
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
        "--rules",
        action="store_true",
        help="a rejection must also name the case's rule (the error's 'rule' member or "
        "attribute); by default only its path (and line) are compared",
    )
    target = parser.add_argument_group("implementation")
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
        "--options",
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
        type=float,
        default=_DEFAULT_TIMEOUT,
        help="per-case limit for commands (default: %(default)g)",
    )
    target.add_argument(  # the old name
        "--jobs", type=int, dest="jobs", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    target.add_argument(
        "-j",
        "--workers",
        dest="jobs",
        metavar="N",
        type=int,
        default=os.cpu_count() or 1,
        help="commands run at once (default: the number of CPUs; Python callables run one "
        "at a time)",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="per-case lines and a tally (default), or one JSON document",
    )
    output.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    output.add_argument("--report", metavar="FILE.md", help="also write a markdown report")
    output.add_argument("--name", help="the implementation's name in the report")
    parser.set_defaults(handler=_run_conformance)
