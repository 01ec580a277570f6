"""The JSONL rules (R60-R67) and the one per-line driver turning raw lines into AgentRuns,
failed attempts or located errors (each row converted by the builder of its kind, told
once: `convert.kind_of`), which the library, the worker processes and the upload all use.

Rules: R60-R67, R91.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .convert import FailedAttempt, KindOfRow, RowKind, convert_row, kind_of
from .errors import ConversionError
from .fast import ORJSON_LOADS
from .jsonvalue import (
    JSON_WHITESPACE,
    TOO_DEEP,
    NotAllJson,
    no_lone_surrogate_escape,
    parse_json_text,
    parsed_too_deep,
    text_problem,
)
from .options import ConversionOptions, OptionsArgument, options_of
from .rescue import rescuing_options
from .source import RolloutsSource, Source, iter_raw_lines, open_source
from .wire import RunPayload

if TYPE_CHECKING:
    from .model import AgentRun

_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = JSON_WHITESPACE.encode()
_RECURSION_SAFE = 500
"""Brackets a line may hold for `json` to parse it far below Python's recursion limit."""

_orjson_loads: Callable[[bytes], Any] | None = ORJSON_LOADS
"""orjson's parser with the `fast` extra, else None (see `fast`)."""

_DIGITS_AS_ONES = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_DIGIT_RUN = b"1" * 19
"""orjson reads an integer beyond 64 bits (19 digits can be, -2**63-1) as a float."""


def line_content(raw: bytes, line: int) -> bytes:
    """A raw line without its surrounding JSON whitespace (and the BOM on line 1).

    Empty means the line is blank and is skipped (R61, R62).
    """
    if line == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    return raw.strip(_JSON_WHITESPACE)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """A non-blank line's JSON value; `owned`: it may take the trusted path
    (`convert_row(owned=…)`), known to be all JSON; `by_orjson`: orjson read it, so a float
    of magnitude 2**63 or more may be a longer integer (`MAY_BE_LONG_INTEGER`)."""

    value: Any
    owned: bool
    by_orjson: bool

    def may_hold_long_integer(self, content: bytes) -> bool:
        """Whether orjson read this line (its `content`) and may have read an integer beyond
        64 bits as a float: 19 digits in a row anywhere (strings included; False is never
        wrong)."""
        return self.by_orjson and _LONG_DIGIT_RUN in content.translate(_DIGITS_AS_ONES)

    def exact_value(self, content: bytes) -> Any:
        """The line's value with every number as written: `value`, or the line (`content`)
        read again by `json` when orjson may have read a long integer as a float. What the
        driver converts, and what `case add` records."""
        return (
            _parse_with_json(content).value if self.may_hold_long_integer(content) else self.value
        )


def parse_line(content: bytes) -> ParsedLine:
    """A non-blank line's content parsed.

    Raises `ConversionError` (path `""`) for invalid UTF-8, invalid JSON or nesting deeper
    than MAX_NESTING levels anywhere in the line (R63, R64). With the `fast` extra the
    line is parsed by orjson, and any line orjson refuses is parsed by `json`; orjson reads
    every value as `json` does but integers beyond 64 bits, which it reads as floats: the
    driver reads a line again with `json` when such a float matters (`convert_lines`), so
    every value and error is exactly that without the extra.
    """
    parsed = None if _orjson_loads is None else _parse_with_orjson(_orjson_loads, content)
    if parsed is None:
        parsed = _parse_with_json(content)
    if parsed_too_deep(content, parsed.value):
        raise ConversionError(TOO_DEEP, rule="R64")
    return parsed


def _parse_with_orjson(loads: Callable[[bytes], Any], content: bytes) -> ParsedLine | None:
    """The value orjson's `loads` reads, vouched all JSON (orjson reads no NaN, no lone
    surrogate), or None for a line it refuses."""
    try:
        return ParsedLine(loads(content), owned=True, by_orjson=True)
    except ValueError:  # orjson.JSONDecodeError
        return None


@contextlib.contextmanager
def _no_collection_if_deep(content: bytes) -> Iterator[None]:
    """No garbage collection while `json` may recurse to its limit (a line with more than
    _RECURSION_SAFE brackets): a finalizer the collector ran there (an unclosed generator's)
    would find no stack left and fail as an unraisable exception."""
    if content.count(b"[") + content.count(b"{") <= _RECURSION_SAFE or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _parse_with_json(content: bytes) -> ParsedLine:
    """`content` read by `json`, owned when the line holds no NaN or Infinity literal and no
    lone surrogate escape."""
    constants: list[str] = []
    value = _json_value(content, constants)
    return ParsedLine(value, not constants and no_lone_surrogate_escape(content), by_orjson=False)


def _json_value(content: bytes, constants: list[str]) -> Any:
    """`content` read by `json`, each NaN or Infinity literal appended to `constants`."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConversionError(
            f"invalid UTF-8 at byte {error.start}: {error.reason}", rule="R63"
        ) from None
    try:
        with _no_collection_if_deep(content):
            return parse_json_text(text, constants)
    except json.JSONDecodeError as error:
        raise ConversionError(_invalid_json(text, error), rule="R64") from None
    except RecursionError:
        raise ConversionError(TOO_DEEP, rule="R64") from None


def _invalid_json(text: str, error: json.JSONDecodeError) -> str:
    """Why a line is not JSON text: the parser's reason and column, or, for a second value
    after a lone CR (which ends no line, R60: a file of CR line ends reads as one line),
    that CR."""
    if error.msg == "Extra data":
        value = text[: error.pos].rstrip(JSON_WHITESPACE)
        gap = text[len(value) : error.pos]
        if "\r" in gap:
            column = len(value) + gap.index("\r") + 1
            return (
                f"invalid JSON: a lone CR at column {column} ends no line (lines end with "
                f"LF), so a second JSON value follows the first at column {error.colno}"
            )
    message = error.msg.removesuffix(" at")  # "Unterminated string starting at"
    return f"invalid JSON: {message} at column {error.colno}"


@dataclass(frozen=True)
class LineResult:
    """The outcome of one non-blank JSONL line: exactly one of `converted` (the run),
    `failure` (a failed attempt, which holds no rollout: R83) and `error` is set.

    `error` and `failure` carry the line and the file (when known). `rescuing` is filled
    only when asked (`nemogym-ingest check`): the options that, added, would let the line
    convert. `kind` is the kind of row the line holds (R80), `"other"` when it does not
    parse; a file whose every line is of one of the `NOT_ROLLOUT_KINDS` is not rollouts.
    """

    line: int
    converted: RunPayload | None = None
    """The run's wire payload, as the CLI writes it."""
    error: ConversionError | None = None
    rescuing: tuple[str, ...] = ()
    kind: RowKind = "other"
    failure: FailedAttempt | None = None
    trace: tuple[int, int] = (0, 0)
    """With `rescue` (`check`): whether the row carries a trace and its subagent invocations
    (`trace_census`)."""

    @functools.cached_property
    def run(self) -> AgentRun | None:
        """The AgentRun, built from `converted` when first asked for (sharing its values)."""
        if self.converted is None:
            return None
        # The model (and dataclasses-json) is loaded only where a run is asked for.
        from .model import run_from_payload  # noqa: PLC0415

        return run_from_payload(self.converted.payload)


def convert_lines(
    lines: Iterable[bytes],
    *,
    first_line: int = 1,
    options: ConversionOptions,
    file: str | None = None,
    rescue: bool = False,
) -> Iterator[LineResult]:
    """A `LineResult` per non-blank line of `lines` (raw lines of `file`, the first being
    line `first_line`), in order; blank lines give none (R61). The one per-line driver:
    each line is parsed (R63, R64) and its kind told once (`kind_of`, R80); a failed
    attempt is read as one (R83), any other row converted by its kind's builder.

    With `rescue`, each rejected line that parses also gets its `rescuing_options`, and
    each row its `trace_census`.
    """
    census = _trace_census() if rescue else None
    for line, raw in enumerate(lines, first_line):
        content = line_content(raw, line)
        if not content:
            continue
        try:
            parsed = parse_line(content)
        except ConversionError as error:
            yield LineResult(line, error=error.located(file=file, line=line))
            continue  # no option rescues a line that does not parse
        row = parsed.value
        kind = kind_of(row)
        trace = census(row) if census is not None else (0, 0)
        try:
            if kind.read_failure is not None:
                failure = kind.read_failure(row)
                located = dataclasses.replace(failure, line=line, file=file)
                yield LineResult(line, kind=kind.name, failure=located)
                continue
            try:
                converted = _converted(parsed, content, options, line, kind)
            except ConversionError:
                if not parsed.may_hold_long_integer(content):
                    raise
                row = parsed.exact_value(content)  # a check may have read a long integer
                converted = convert_row(row, options, line, kind=kind)
        except ConversionError as error:
            rescuing = tuple(rescuing_options(row, options, line, error, kind)) if rescue else ()
            rejected = error.located(file=file, line=line)
            yield LineResult(line, error=rejected, rescuing=rescuing, kind=kind.name, trace=trace)
            continue
        if options.record_source:
            converted = with_source(converted, file, line)
        yield LineResult(line, converted=converted, kind=kind.name, trace=trace)


def with_source(converted: RunPayload, file: str | None, line: int) -> RunPayload:
    """The run with where it was read, `file` (the input's name, when it has one) and
    `line`, in its `metadata.source` after `schema` (R91)."""
    metadata = converted.payload["metadata"]
    source = metadata["source"]
    located = {"schema": source["schema"]} | ({"file": file} if file else {}) | {"line": line}
    metadata["source"] = located | source
    return converted


def _trace_census() -> Callable[[Any], tuple[int, int]]:
    """`trace_census`, loaded only for `check` (the trajectory modules are not needed to
    convert without the `trajectory` option)."""
    from .convert.trajectory_record import trace_census  # noqa: PLC0415

    return trace_census


def _converted(
    parsed: ParsedLine, content: bytes, options: ConversionOptions, line: int, kind: KindOfRow
) -> RunPayload:
    """The row of `parsed` (of `kind`) converted; when it is owned and turns out not all
    JSON, converted again unowned, from the line read by `json` if orjson read it."""
    if not parsed.owned:
        return convert_row(parsed.value, options, line, kind=kind)
    try:
        return convert_row(parsed.value, options, line, owned=True, kind=kind)
    except NotAllJson:
        row = _parse_with_json(content).value if parsed.by_orjson else parsed.value
        return convert_row(row, options, line, kind=kind)


def _results(source: Source, options: ConversionOptions) -> Iterator[LineResult]:
    with source:
        yield from convert_lines(iter_raw_lines(source), options=options, file=source.name)


def iter_nemogym_jsonl_results(
    source: RolloutsSource, *, options: OptionsArgument = None
) -> Iterator[LineResult]:
    """A `LineResult` (a run or an error) for every non-blank line of NeMo Gym JSONL, lazily.

    `source` is a path (plain or gzip) or a binary file object (left open). A bad line does
    not stop the iteration; an input that cannot be read does: opening it fails here, and a
    read error partway raises `InputError` (a `ConversionError`, rule R68) from the
    iteration. `options` (default: strict; `ConversionOptions` or a mapping of its fields)
    say what to assume; with `record_source`, a file name that is not Unicode text raises
    `ValueError` here (R91 cannot record it).
    """
    checked = options_of(options)  # a bad value raises here, before the input is opened
    opened = open_source(source)
    problem = text_problem(opened.name or "", "the file name") if checked.record_source else None
    if problem is not None:
        opened.close()
        raise ValueError(f"record_source cannot record {opened.name!a}: {problem}")
    return _results(opened, checked)


def _runs(results: Iterator[LineResult]) -> Iterator[AgentRun]:
    for result in results:
        if result.error is not None:
            raise result.error
        if result.run is not None:  # a failed attempt gives no run (R83)
            yield result.run


def iter_nemogym_jsonl(
    source: RolloutsSource, *, options: OptionsArgument = None
) -> Iterator[AgentRun]:
    """AgentRuns of NeMo Gym JSONL, lazily, one line in memory at a time.

    `source` is a path (plain or gzip) or a binary file object (left open). The input is
    opened at once (a missing file fails here); iteration stops with a `ConversionError`
    carrying `file` and `line` at the first line that cannot be converted. A failed attempt
    (a failure row without a rollout, R83) gives no run and does not stop it.
    `options` (default: strict) say what to assume; `"line"` indices are line numbers.
    """
    return _runs(iter_nemogym_jsonl_results(source, options=options))


def convert_nemogym_jsonl_file_to_agent_runs(
    source: RolloutsSource, *, options: OptionsArgument = None
) -> list[AgentRun]:
    """All AgentRuns of NeMo Gym JSONL (a path, plain or gzip, or a binary file object);
    stops at the first bad line."""
    return list(iter_nemogym_jsonl(source, options=options))
