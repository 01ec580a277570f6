"""Implementations under test: Python callables and programs speaking the stdin/stdout
protocol, each turning a case's input into an `Answer`; our own converter as the default.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from ..convert import convert_nemogym_rollout_to_agent_run
from ..exit_status import REJECTED, USAGE
from ..jsonl import convert_nemogym_jsonl_file_to_agent_runs
from ..model import AgentRun
from ..options import ConversionOptions
from ..wire import JsonDict
from .compare import first_difference, shown_path
from .suite import SuiteError

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Answer:
    """What an implementation made of a case: its output, a rejection, or neither.

    `kind` is `"output"` (`value` holds the payload, or the list of payloads for a file),
    `"rejected"` (`path`, `line` and `rule` are the error's, `None` when they cannot be told),
    `"crashed"` (a Python function raised an exception naming no error path: `log` holds its
    traceback) or `"broken"` (no answer at all: a timeout, unreadable output). `detail`
    describes the rejection or the breakage in one line; `log` is what else there is to
    see (an exception's full text or traceback, the end of a program's stderr);
    `exception` a crash's exception type (`builtins.KeyError`).
    """

    kind: Literal["output", "rejected", "crashed", "broken"]
    value: Any = None
    path: str | None = None
    line: int | None = None
    rule: str | None = None
    detail: str = ""
    log: str = ""
    exception: str = ""


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


def load_callable(spec: str) -> Callable[..., Any]:
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


def _shown_file(filename: str) -> str:
    """A traceback's file relative to the import path entry holding it (`json/decoder.py`,
    `docent/sdk/integrations/nemogym.py`): tracebacks do not depend on where things lie."""
    entries = sorted((entry for entry in sys.path if entry), key=len, reverse=True)
    for entry in entries:
        root = os.path.join(os.path.abspath(entry), "")
        if filename.startswith(root):
            return filename[len(root) :]
    return filename


def _traceback_text(error: BaseException) -> str:
    """The traceback of an exception the tested function raised, from the function's own
    frame (the runner's frames left out), files named relative to the import path."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if frame.filename != __file__]
    for frame in own:
        _ = frame.line  # read from the file before it is renamed
        frame.filename = _shown_file(frame.filename)
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(own)]
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip("\n")


def _takes_options(function: Callable[..., Any]) -> bool:
    """Whether `function` can be called with `options=` (a signature it does not tell is
    given the benefit of the doubt)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD
        or (parameter.name == "options" and parameter.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for parameter in parameters
    )


def _name_of(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}:{name}" if module else name


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

    def __post_init__(self) -> None:
        if self.options:
            for function in (self.function, self.file_function):
                if function is not None and not _takes_options(function):
                    raise SuiteError(
                        f"{_name_of(function)} takes no options parameter: leave out "
                        "--takes-options (options=True in Python); cases with options are "
                        "then skipped"
                    )

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
        """A rejection when the exception names its path (a `path` attribute, or a message
        `error_paths` read), else a crash with its traceback."""
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
            kind = type(error)
            return Answer(
                "crashed",
                detail=detail,
                log=_traceback_text(error),
                exception=f"{kind.__module__}.{kind.__qualname__}",
            )
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
            return Answer("broken", detail=f"modified its input at {shown_path(modified)} (R47)")
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
    `--options JSON` before that. A rejection exits 1 (2 is a usage error, no answer);
    with `error_paths`, any non-zero status may carry one.
    """

    argv: tuple[str, ...]
    file_argv: tuple[str, ...] | None = None
    error_paths: ErrorPathPatterns = field(default_factory=ErrorPathPatterns)
    options: bool = False
    timeout: float = DEFAULT_TIMEOUT
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
        except OSError as error:  # the same for every case: the run stops once
            raise SuiteError(f"cannot run {argv[0]}: {error.strerror or error}") from None
        stdout = done.stdout.decode("utf-8", errors="replace")
        stderr = done.stderr.decode("utf-8", errors="replace")
        return done.returncode, stdout, stderr

    def _rejection(self, status: int, stdout: str, stderr: str, *, is_file: bool) -> Answer:
        text = stdout.strip()
        detail = f"exit status {status}" + (f": {_last_line(stderr)}" if stderr.strip() else "")
        log = stderr.strip()
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
        if status != REJECTED and not self.error_paths.patterns:
            meaning = "a usage error" if status == USAGE else "neither 0 nor 1"
            return Answer("broken", detail=f"{detail} ({meaning}; a rejection exits 1)", log=log)
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
        hint = "--error-path-from REGEX reads one from the output"
        detail = f"{detail}; no error path on stdout ({shown}); {hint}"
        return Answer("broken", detail=detail, log=log)

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
            return Answer("broken", detail=detail, log=stderr.strip())

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
            return Answer("broken", detail=detail, log=stderr.strip())


def _first_line(text: str) -> str:
    """The first line of `text` (whole: the runner shortens it, once the case's file path
    in it is replaced by the case's own name, so that reports do not depend on where the
    suite lies)."""
    return text.strip().split("\n", 1)[0]


def _last_line(text: str) -> str:
    return _first_line(text.strip().rsplit("\n", 1)[-1])


# --- our own implementation, as the runner's default --------------------------------------


def nemogym_ingest_rollout(rollout: Any, options: JsonDict | None = None) -> AgentRun:
    """Our converter as a conformance entry point, taking a case's options as JSON."""
    return convert_nemogym_rollout_to_agent_run(
        rollout, options=ConversionOptions.from_json(options or {})
    )


def nemogym_ingest_file(path: str, options: JsonDict | None = None) -> list[AgentRun]:
    """Our JSONL reader as a conformance entry point, taking a case's options as JSON."""
    return convert_nemogym_jsonl_file_to_agent_runs(
        path, options=ConversionOptions.from_json(options or {})
    )


def package_version() -> str:
    try:
        return version("nemogym-ingest")
    except PackageNotFoundError:
        return "(source)"
