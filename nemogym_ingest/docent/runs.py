"""The runs an upload sends: its inputs read through the reader's per-line driver, or, for
an input of AgentRun payloads (`convert`'s output, told by its first line's shape), read as
they are; the upload pass that yields exactly the good runs the validation pass found (or
`FileChanged`); and the runs grouped into chunks of Docent runs, one request each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConversionError, Loc, render_path
from ..jsonl import LineResult, convert_lines, line_content, parse_line
from ..options import ConversionOptions
from ..pool import CHUNK_BYTES
from ..source import Chunk, InputError, Source, open_source, read_chunks
from ..wire import JsonDict, RunPayload
from ._sdk import DocentAgentRun, serialize_agent_run
from .groups import docent_run

_ENVELOPE_BYTES = len(b'{"agent_runs":[]}')

ROW_MEMBERS = frozenset({"response", "responses_create_params", "invocations"})
"""The members that make a line a NeMo Gym row (R80) rather than an AgentRun payload."""


class FileChanged(Exception):
    """The file no longer reads as it did in the validation pass."""


class RunTooLarge(Exception):
    """A run whose request body alone would exceed the limit."""


@dataclass(frozen=True)
class StdinCopy:
    """Standard input, copied to the file `path` so that it can be read twice, and named
    `<stdin>` wherever an input is named."""

    path: str

    def __fspath__(self) -> str:
        return self.path


UploadInput = str | os.PathLike[str]
"""An input of `upload`: a path (rollouts or AgentRun payloads, plain or .gz)."""


def is_payload(value: Any) -> bool:
    """Whether a line's value is an AgentRun payload (`convert`'s output): an object with
    `transcripts` and none of the members of a NeMo Gym row (R80)."""
    return isinstance(value, dict) and "transcripts" in value and not ROW_MEMBERS & value.keys()


def _holds_payloads(lines: Sequence[bytes], first_line: int) -> bool | None:
    """Whether the first non-blank line of `lines` is an AgentRun payload (None: all blank)."""
    for line, raw in enumerate(lines, first_line):
        content = line_content(raw, line)
        if content:
            try:
                return is_payload(parse_line(content).value)
            except ConversionError:  # not JSON: a rollouts file, whose driver says why
                return False
    return None


class PayloadError(ValueError):
    """A line of an AgentRun payload file that is no payload Docent's model takes: the
    file is not sent (payloads are sent as they are, so there is nothing to leave out).
    `str()` reads `FILE:LINE: PATH: reason`, as a rejection does."""

    def __init__(self, reason: str, loc: Loc = (), *, file: str | None, line: int) -> None:
        self.reason, self.loc, self.file, self.line = reason, loc, file, line
        self.path = render_path(loc)
        where = f"{file}:{line}" if file else f"line {line}"
        super().__init__(": ".join(part for part in (where, self.path, reason) if part))


def checked_payload(value: Any, *, file: str | None, line: int) -> JsonDict:
    """A line's value as an AgentRun payload Docent's model takes and its SDK can send, as
    it is; else `PayloadError`, at the first problem's path."""
    from pydantic import ValidationError  # noqa: PLC0415 - comes with Docent's SDK

    if not is_payload(value):
        reason = "not an AgentRun payload (an object with transcripts), in a file whose first "
        raise PayloadError(reason + "line is one", file=file, line=line)
    try:
        serialize_agent_run(DocentAgentRun.model_validate(value))
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(part for part in first["loc"] if isinstance(part, str | int))
        reason = f"not a Docent AgentRun: {first['msg']}"
        raise PayloadError(reason, loc, file=file, line=line) from None
    except ValueError as error:  # a value the SDK cannot serialize
        raise PayloadError(f"not a Docent AgentRun: {error}", file=file, line=line) from None
    payload: JsonDict = value
    return payload


def payload_results(
    lines: Iterable[bytes], *, first_line: int, file: str | None
) -> Iterator[LineResult]:
    """A `LineResult` per non-blank line of an AgentRun payload file: the payload as it is
    (`converted`), or the line's rejection when it cannot be read (R60-R64). A line that
    is read but is no payload Docent's model takes raises `PayloadError`."""
    for line, raw in enumerate(lines, first_line):
        content = line_content(raw, line)
        if not content:
            continue
        try:
            value = parse_line(content).value
        except ConversionError as error:
            yield LineResult(line, error=error.located(file=file, line=line))
            continue
        payload = checked_payload(value, file=file, line=line)
        yield LineResult(line, converted=RunPayload(payload, tiny_float=False))


def _open(path: UploadInput) -> Source:
    source = open_source(path)
    if isinstance(path, StdinCopy):
        source.name = "<stdin>"
    return source


def iter_results(
    path: UploadInput,
    options: ConversionOptions,
    on_chunk: Callable[[Source, Chunk], None] | None = None,
) -> Iterator[LineResult]:
    """Every non-blank line of one input: its run (converted from a rollout, or an AgentRun
    payload as it is), its failed attempt or its error, naming the input.

    An input is of AgentRun payloads when its first non-blank line is one (`is_payload`).
    A bad line does not end the iteration; an input that cannot be read does (`InputError`).
    `on_chunk` hears of each chunk of lines once its lines are through.
    """
    with _open(path) as source:
        payloads: bool | None = None
        for chunk in read_chunks(source, CHUNK_BYTES):
            if payloads is None:
                payloads = _holds_payloads(chunk.lines, chunk.first_line)
            if payloads:
                yield from payload_results(
                    chunk.lines, first_line=chunk.first_line, file=chunk.file
                )
            else:
                yield from convert_lines(
                    chunk.lines, first_line=chunk.first_line, options=options, file=chunk.file
                )
            if on_chunk is not None:
                on_chunk(source, chunk)


RejectedLines = set[tuple[int, int]]
"""The lines the validation pass rejected: (the input's index among the inputs, line)."""


def checked_payloads(
    paths: Sequence[UploadInput],
    options: Sequence[ConversionOptions],
    runs: int,
    rejected: RejectedLines,
) -> Iterator[JsonDict]:
    """The upload pass: exactly the payloads of the `runs` good runs the validation pass
    found in the inputs (each converted with its `options`), which rejected the lines
    `rejected`.

    Raises `FileChanged` when a line converts differently now or an input cannot be read;
    runs appended since the validation pass are left out.
    """
    if runs == 0:
        return
    count = 0
    try:
        for index, path in enumerate(paths):
            for result in iter_results(path, options[index]):
                line, error = result.line, result.error
                if result.converted is not None:
                    if (index, line) in rejected:
                        raise FileChanged(f"line {line} converts now but did not before")
                    count += 1
                    yield result.converted.payload
                    if count == runs:
                        return
                elif error is not None and (index, line) not in rejected:
                    raise FileChanged(f"{error.reason} at line {line}, {error.path or 'rollout'}")
    except (InputError, PayloadError) as error:
        raise FileChanged(str(error)) from None
    if count < runs:
        raise FileChanged(f"it has {count} runs now, {runs} before")


def chunks(
    payloads: Iterable[JsonDict], chunk_size: int, chunk_bytes: int, max_request_bytes: int
) -> Iterator[tuple[list[DocentAgentRun], int]]:
    """The Docent runs of wire payloads, grouped into chunks of at most `chunk_size` runs
    and `chunk_bytes` (a run bigger than that alone), each with its request body's size.

    Sizes are measured with the SDK's own serializer and envelope, so the SDK sends each
    chunk as exactly one request. A run over `max_request_bytes` raises `RunTooLarge` once
    the chunk before it has been yielded.
    """
    limit = min(chunk_bytes, max_request_bytes)
    chunk: list[DocentAgentRun] = []
    size = _ENVELOPE_BYTES
    for payload in payloads:
        docent = docent_run(payload)  # groups get Docent's own fresh ids (R87)
        run_bytes = len(serialize_agent_run(docent))
        if _ENVELOPE_BYTES + run_bytes > max_request_bytes:
            if chunk:
                yield chunk, size
            raise RunTooLarge(
                f"the run {payload.get('name')!r} is {run_bytes} bytes serialized, over the "
                f"{max_request_bytes} bytes Docent accepts in one request"
            )
        separator = 1 if chunk else 0
        if chunk and size + separator + run_bytes > limit:
            yield chunk, size
            chunk, size, separator = [], _ENVELOPE_BYTES, 0
        chunk.append(docent)
        size += separator + run_bytes
        if len(chunk) == chunk_size:
            yield chunk, size
            chunk, size = [], _ENVELOPE_BYTES
    if chunk:
        yield chunk, size
