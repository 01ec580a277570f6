"""Scheduling the conversion of an input's chunks of lines, in this process or in worker
processes, and handing results back in input order.

Each chunk (about `CHUNK_BYTES` of whole lines, see `source.read_chunks`) is converted by
the reader's per-line driver and serialized where it lands by `output` (a worker returns
the output bytes, or the file `output.spool` left them in, not objects). With workers, a
plain file's chunks are only located (offsets and first line number) and each worker
reads its own; stdin and `.gz` lines are sent to the workers. At most two chunks per
worker are in flight, so memory is bounded by the chunk size and the longest line, not by
the input.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from .convert import FailedAttempt
from .errors import ConversionError
from .file_kind import NotRollouts
from .jsonl import convert_lines
from .options import ConversionOptions
from .output import payload_line, spool, spool_directory
from .source import Chunk, Source, read_chunks, read_spans

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

CHUNK_BYTES = 1 << 20
"""Input bytes per chunk of lines handed to a worker (a longer line makes its own chunk)."""


def default_workers() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class ChunkSettings:
    """What to do with each line of a chunk."""

    keep_going: bool = False
    """Convert every line even after a bad one (else stop at the first)."""
    serialize: bool = True
    """Produce each AgentRun's JSON line (else only validate)."""
    options: ConversionOptions = field(default_factory=ConversionOptions)
    rescue: bool = False
    """For each rejected line, find the options that would let it convert (for `check`)."""
    spool_directory: str | None = None
    """Where a worker leaves a chunk's output in a file rather than sending it back."""


@dataclass
class ChunkResult:
    """A converted chunk: output JSON lines (`payload_line`), counts, the rejected lines'
    errors and the failed attempts (R83)."""

    output: bytes = b""
    spooled: str | None = None
    """The file holding the output instead of `output` (see `ChunkSettings.spool_directory`)."""
    converted_count: int = 0
    blank: int = 0
    """Blank lines skipped (counted when no rejected line stopped the chunk)."""
    errors: list[ConversionError] = field(default_factory=list)
    rescues: list[list[str]] = field(default_factory=list)
    """With `ChunkSettings.rescue`, each error's rescuing options (field names), in order."""
    failures: list[FailedAttempt] = field(default_factory=list)
    rows: NotRollouts = field(default_factory=NotRollouts)
    """Whether the chunk's lines are all rejected rows of one not-rollouts kind (R80, see
    `file_kind`). Stopped (not `keep_going`) at such a line, the lines after it are only
    looked at, while they all are."""
    trace_rows: int = 0
    """With `ChunkSettings.rescue`: the rows carrying a trace (`trace_census`)..."""
    subagent_invocations: int = 0
    """... and the subagent invocations they hold."""

    @property
    def lines(self) -> int:
        """The non-blank lines converted, rejected or read as failed attempts (the ones only
        looked at for `rows` apart)."""
        return self.converted_count + len(self.errors) + len(self.failures)


def convert_chunk(chunk: Chunk, settings: ChunkSettings) -> ChunkResult:
    """Convert the lines of one chunk (read here for a span) with the per-line driver."""
    result = ChunkResult()
    outputs: list[bytes] = []
    lines = chunk.read_lines()
    outcomes = convert_lines(
        lines,
        first_line=chunk.first_line,
        options=settings.options,
        file=chunk.file,
        rescue=settings.rescue,
    )
    for outcome in outcomes:
        result.rows.take(outcome)
        run_payload = outcome.converted
        result.trace_rows += outcome.trace[0]
        result.subagent_invocations += outcome.trace[1]
        if outcome.failure is not None:
            result.failures.append(outcome.failure)
            continue
        if run_payload is None:
            result.errors.append(cast(ConversionError, outcome.error))
            if settings.rescue:
                result.rescues.append(list(outcome.rescuing))
            if settings.keep_going:
                continue
            result.rows.take_rest(outcomes)
            break
        if settings.serialize:
            outputs.append(payload_line(run_payload.payload, tiny_float=run_payload.tiny_float))
        result.converted_count += 1
    else:  # every line read
        result.blank = len(lines) - result.lines
    if outputs:
        outputs.append(b"")
        result.output = b"\n".join(outputs)
        if settings.spool_directory is not None:
            spooled = spool(result.output, settings.spool_directory)
            if spooled is not None:
                result.output, result.spooled = b"", spooled
    return result


def _ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the main process, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def convert_input(
    source: Source, settings: ChunkSettings, workers: int
) -> Generator[tuple[Chunk, ChunkResult], None, None]:
    """Each chunk of `source` with its result, in input order, over `workers` processes.

    A small input (one chunk) is converted in this process. Workers read the lines of a
    plain file themselves; those of stdin or a `.gz` file are sent to them. Stopping the
    iteration early stops the workers.
    """
    in_place = workers > 1 and source.stream is source.raw and source.size is not None
    chunks = (read_spans if in_place else read_chunks)(source, CHUNK_BYTES)
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for chunk in itertools.chain(head, chunks):
            yield chunk, convert_chunk(chunk, settings)
        return
    import multiprocessing  # noqa: PLC0415 - about 25 ms of start-up, needed only here

    with (
        spool_directory(settings.serialize) as directory,
        multiprocessing.Pool(workers, initializer=_ignore_interrupts) as pool,
    ):
        settings = dataclasses.replace(settings, spool_directory=directory)
        pending: deque[tuple[Chunk, AsyncResult[ChunkResult]]] = deque()
        try:
            for chunk in itertools.chain(head, chunks):
                task = pool.apply_async(convert_chunk, (chunk, settings))
                pending.append((chunk, task))
                if len(pending) >= 2 * workers:
                    done, task = pending.popleft()
                    yield done, task.get()
            pool.close()
            while pending:
                done, task = pending.popleft()
                yield done, task.get()
        finally:
            # Stopped early (a rejected line, Ctrl-C) or not: let the at most 2 * workers
            # chunks in flight finish and the workers exit. Pool.terminate() with busy workers
            # can kill one while it holds the result queue's lock, and the pool then hangs.
            pool.close()
            for _, task in pending:
                task.wait()
            pool.join()
