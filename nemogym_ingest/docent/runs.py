"""The runs an upload sends: a rollouts file read through the reader's per-line driver, the
upload pass that yields exactly the good runs the validation pass found (or `FileChanged`),
and the runs grouped into chunks of Docent runs, one request each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from ..jsonl import LineResult, convert_lines
from ..options import ConversionOptions
from ..pool import CHUNK_BYTES
from ..source import Chunk, InputError, Source, open_source, read_chunks
from ..wire import JsonDict
from ._sdk import DocentAgentRun, serialize_agent_run
from .groups import docent_run

_ENVELOPE_BYTES = len(b'{"agent_runs":[]}')


class FileChanged(Exception):
    """The file no longer reads as it did in the validation pass."""


class RunTooLarge(Exception):
    """A run whose request body alone would exceed the limit."""


def iter_results(
    path: str | os.PathLike[str],
    options: ConversionOptions,
    on_chunk: Callable[[Source, Chunk], None] | None = None,
) -> Iterator[LineResult]:
    """Every non-blank line of a rollouts file (plain or .gz): its run, its failed attempt
    or its error, from the reader's per-line driver.

    A bad line does not end the iteration; a file that cannot be read does (`InputError`).
    `on_chunk` hears of each chunk of lines once its lines are through.
    """
    with open_source(path) as source:
        for chunk in read_chunks(source, CHUNK_BYTES):
            yield from convert_lines(
                chunk.lines, first_line=chunk.first_line, options=options, file=chunk.file
            )
            if on_chunk is not None:
                on_chunk(source, chunk)


def checked_payloads(
    path: str | os.PathLike[str], options: ConversionOptions, runs: int, rejected: set[int]
) -> Iterator[JsonDict]:
    """The upload pass: the payloads of exactly the `runs` good runs the validation pass
    found, which rejected the lines `rejected`, as the driver built them.

    Raises `FileChanged` when a line converts differently now or the file cannot be read;
    runs appended since the validation pass are left out.
    """
    if runs == 0:
        return
    count = 0
    try:
        for result in iter_results(path, options):
            line = result.line
            if result.converted is not None:
                if line in rejected:
                    raise FileChanged(f"line {line} converts now but did not before")
                count += 1
                yield result.converted.payload
                if count == runs:
                    return
            elif line not in rejected and result.error is not None:
                where = result.error.path or "rollout"
                raise FileChanged(f"{result.error.reason} at line {line}, {where}")
    except InputError as error:
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
