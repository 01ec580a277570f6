"""Reading NeMo Gym JSONL files, one rollout a line (spec rules R60-R66)."""

from __future__ import annotations

import array
import itertools
import json
import os
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from .convert import convert_rollout
from .errors import ConversionError
from .jsonvalue import MAX_NESTING, all_json_line, parse_json_text
from .model import AgentRun
from .options import ConversionOptions

_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"
_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes
_TOO_DEEP = f"nested deeper than {MAX_NESTING} levels"


def line_content(raw: bytes, line: int) -> bytes:
    """A raw line without its surrounding JSON whitespace (and the BOM on line 1).

    Empty means the line is blank and is skipped (R61, R62).
    """
    if line == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    return raw.strip(_JSON_WHITESPACE)


def parse_jsonl_line(content: bytes) -> Any:
    """The JSON value of a non-blank line's content.

    Raises `ConversionError` (path `""`) for invalid UTF-8, invalid JSON or nesting deeper
    than MAX_NESTING levels anywhere in the line (R63, R64).
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConversionError(
            f"invalid UTF-8 at byte {error.start}: {error.reason}", rule="R63"
        ) from None
    try:
        value = parse_json_text(text)
    except json.JSONDecodeError as error:
        message = error.msg.removesuffix(" at")  # "Unterminated string starting at"
        raise ConversionError(
            f"invalid JSON: {message} at column {error.colno}", rule="R64"
        ) from None
    except RecursionError:
        raise ConversionError(_TOO_DEEP, rule="R64") from None
    if _nested_too_deeply(content):
        raise ConversionError(_TOO_DEEP, rule="R64")
    return value


def _nested_too_deeply(content: bytes) -> bool:
    """Whether valid JSON text `content` nests arrays and objects deeper than MAX_NESTING
    levels (its own value is level 1), wherever they are (R64)."""
    if content.count(b"[") + content.count(b"{") <= MAX_NESTING:
        return False
    brackets = _STRING_LITERAL.sub(b"", content).translate(_BRACKET_STEPS, _NOT_A_BRACKET)
    return max(itertools.accumulate(array.array("b", brackets)), default=0) > MAX_NESTING


def _open(file_path: str | os.PathLike[str]) -> BinaryIO:
    try:
        if os.path.isdir(file_path):
            raise IsADirectoryError(21, "is a directory")
        return open(file_path, "rb")
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConversionError(
            f"cannot read file: {reason}", rule="R68", file=os.fspath(file_path)
        ) from None


def _iter_runs(
    stream: BinaryIO, file: str, options: ConversionOptions | None = None
) -> Iterator[AgentRun]:
    options = ConversionOptions() if options is None else options
    with stream:
        line = 0
        while True:
            try:
                raw = stream.readline()
            except OSError as error:
                reason = error.strerror or str(error)
                raise ConversionError(
                    f"cannot read file: {reason}", rule="R68", file=file, line=line + 1
                ) from None
            if not raw:
                return
            line += 1
            content = line_content(raw, line)
            if not content:
                continue
            try:
                rollout = parse_jsonl_line(content)
                run = convert_rollout(rollout, options, line, owned=all_json_line(content))
            except ConversionError as error:
                raise error.located(file=file, line=line) from None
            yield run


def iter_nemogym_jsonl(
    file_path: str | os.PathLike[str], *, options: ConversionOptions | None = None
) -> Iterator[AgentRun]:
    """AgentRuns of a NeMo Gym JSONL file, lazily, one line in memory at a time.

    The file is opened at once (a missing file fails here); iteration stops with a
    `ConversionError` carrying `file` and `line` at the first line that cannot be converted.
    `options` (default: strict) say what to assume; `"line"` indices are line numbers.
    """
    return _iter_runs(_open(file_path), os.fspath(file_path), options)


def convert_nemogym_jsonl_file_to_agent_runs(
    file_path: str | os.PathLike[str], *, options: ConversionOptions | None = None
) -> list[AgentRun]:
    """All AgentRuns of a NeMo Gym JSONL file; stops at the first bad line."""
    return list(iter_nemogym_jsonl(file_path, options=options))
