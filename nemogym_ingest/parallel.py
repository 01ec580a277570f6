"""Converting JSONL input in chunks of lines, in this process or in worker processes, in order.

The reader hands out chunks of whole lines (about `CHUNK_BYTES` each); each chunk is
converted and serialized where it lands (a worker returns the output bytes, not objects),
and results come back in input order. With workers, a plain file's chunks are only
located (offsets and first line number) and each worker reads its own; stdin and `.gz`
lines are sent to the workers. At most two chunks per worker are in flight, so memory is
bounded by the chunk size and the longest line, not by the input.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gzip
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import zlib
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from typing import Any, BinaryIO

from .convert import convert_rollout
from .errors import ConversionError
from .jsonl import line_content, parse_jsonl_line
from .jsonvalue import all_json_line
from .model import wire_payload
from .options import ConversionOptions
from .rescue import rescuing_options

CHUNK_BYTES = 1 << 20
"""Input bytes per chunk of lines handed to a worker (a longer line makes its own chunk)."""

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error)


class InputError(Exception):
    """An input that cannot be read at all (missing, a directory, unreadable, corrupt)."""


def default_workers() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass
class Input:
    """An open rollouts input: `.gz` is decompressed transparently (found by its magic bytes).

    `size` is the file's size on disk (None for stdin or a pipe) and `position()` how far
    into it reading has got, both in on-disk (compressed) bytes.
    """

    name: str
    stream: BinaryIO
    raw: BinaryIO
    size: int | None

    @classmethod
    def open(cls, path: str) -> Input:
        """Open `path` (`-` is stdin); raises `InputError` with a message for the user."""
        name = "<stdin>" if path == STDIN else path
        try:
            if path == STDIN:
                raw: BinaryIO = sys.stdin.buffer
            elif os.path.isdir(path):
                raise InputError(f"{path}: cannot read: is a directory")
            else:
                raw = open(path, "rb")  # noqa: SIM115 - closed by Input.close()
            size = os.fstat(raw.fileno()).st_size if path != STDIN else None
            magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        except OSError as error:
            raise InputError(f"{name}: cannot read: {error.strerror or error}") from None
        stream: BinaryIO = raw
        if magic == _GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        return cls(name, stream, raw, size or None)

    def position(self) -> int:
        """Bytes of the on-disk input consumed so far (0 when unknown)."""
        try:
            return self.raw.tell()
        except OSError:
            return 0

    def close(self) -> None:
        """Close the input (stdin stays open)."""
        if self.stream is not self.raw:
            self.stream.close()
        if self.raw is not sys.stdin.buffer:
            self.raw.close()


@dataclass
class Chunk:
    """Consecutive raw lines of one input, the first being line `first_line`.

    `position` is where reading got to in the on-disk input after them. A chunk from
    `read_spans` leaves its lines in the file: `lines` is empty and `span` says where.
    """

    first_line: int
    lines: list[bytes]
    nbytes: int
    position: int
    span: tuple[str, int, int] | None = None
    """(path, start offset, end offset) of the lines when they are left in the file."""


def _read_error(source: Input, line: int, error: Exception) -> InputError:
    reason = getattr(error, "strerror", None) or str(error)
    return InputError(f"{source.name}:{line}: cannot read: {reason}")


def read_chunks(source: Input, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """The input's lines in chunks of about `chunk_bytes` (default `CHUNK_BYTES`).

    Raises `InputError` naming the line a read failed on.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    next_line = 1
    while True:
        try:
            lines = source.stream.readlines(chunk_bytes)
        except _READ_ERRORS as error:
            raise _read_error(source, next_line, error) from None
        if not lines:
            return
        yield Chunk(next_line, lines, sum(map(len, lines)), source.position())
        next_line += len(lines)


def read_spans(source: Input, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """Like `read_chunks` for a plain file, but each chunk only says where its lines are.

    The lines are read here only to count them; a worker reads its chunk's lines itself,
    which spares sending them through a pipe.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    next_line, start = 1, source.position()
    while True:
        try:
            block = source.raw.read(chunk_bytes)
            if block and not block.endswith(b"\n"):
                block += source.raw.readline()
        except OSError as error:
            raise _read_error(source, next_line, error) from None
        if not block:
            return
        end = start + len(block)
        yield Chunk(next_line, [], len(block), end, span=(source.name, start, end))
        next_line += block.count(b"\n") + (not block.endswith(b"\n"))
        start = end


@dataclass(frozen=True)
class Settings:
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


_UNPARSED = object()
"""Stands for the rollout of a line that does not parse."""


@dataclass
class ChunkResult:
    """A converted chunk: output JSON lines (ASCII), counts, and the rejected lines' errors."""

    output: bytes = b""
    spooled: str | None = None
    """The file holding the output instead of `output` (see `Settings.spool_directory`)."""
    converted: int = 0
    blank: int = 0
    errors: list[ConversionError] = field(default_factory=list)
    rescues: list[list[str]] = field(default_factory=list)
    """With `Settings.rescue`, each error's `rescuing_options` (as flags), in order."""


def convert_chunk(first_line: int, lines: list[bytes], settings: Settings) -> ChunkResult:
    """Convert the lines of one chunk (errors carry their line number, not yet the file)."""
    result = ChunkResult()
    outputs: list[str] = []
    dumps = json.dumps
    for line, raw in enumerate(lines, first_line):
        content = line_content(raw, line)
        if not content:
            result.blank += 1
            continue
        rollout: Any = _UNPARSED
        try:
            rollout = parse_jsonl_line(content)
            run = convert_rollout(rollout, settings.options, line, owned=all_json_line(content))
        except ConversionError as error:
            result.errors.append(error.located(file=None, line=line))
            if settings.rescue:
                result.rescues.append(
                    []  # no option rescues a line that does not parse
                    if rollout is _UNPARSED
                    else rescuing_options(rollout, settings.options, line, error)
                )
            if settings.keep_going:
                continue
            break
        if settings.serialize:
            outputs.append(dumps(wire_payload(run), ensure_ascii=True))
        result.converted += 1
    if outputs:
        outputs.append("")
        result.output = "\n".join(outputs).encode()
        if settings.spool_directory is not None:
            _spool(result, settings.spool_directory)
    return result


def _spool(result: ChunkResult, directory: str) -> None:
    """Move the output into a file of `directory` (kept in memory if that fails)."""
    try:
        handle, path = tempfile.mkstemp(suffix=".jsonl", dir=directory)
        with os.fdopen(handle, "wb") as spool:
            spool.write(result.output)
    except OSError:
        return
    result.output, result.spooled = b"", path


def write_output(result: ChunkResult, stream: BinaryIO) -> None:
    """Write a chunk's output to `stream`; a spooled one is copied by the kernel if it can."""
    if result.spooled is None:
        stream.write(result.output)
        return
    with open(result.spooled, "rb") as spool:
        os.unlink(result.spooled)
        try:
            target = stream.fileno()
        except (AttributeError, OSError, ValueError):  # e.g. an in-memory stream
            shutil.copyfileobj(spool, stream)
            return
        stream.flush()
        size, offset = os.fstat(spool.fileno()).st_size, 0
        while offset < size:
            try:
                sent = os.sendfile(target, spool.fileno(), offset, size - offset)
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    raise
                spool.seek(offset)
                shutil.copyfileobj(spool, stream)
                return
            if not sent:
                raise OSError(errno.EIO, "the spooled output file shrank")
            offset += sent


def _run_chunk(chunk: Chunk, settings: Settings) -> ChunkResult:
    lines = chunk.lines
    if chunk.span is not None:
        path, start, end = chunk.span
        with open(path, "rb") as file:
            file.seek(start)
            lines = file.read(end - start).split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # the piece after the last line end
    return convert_chunk(chunk.first_line, lines, settings)


@contextlib.contextmanager
def _spool_directory(wanted: bool) -> Iterator[str | None]:
    """A temporary directory for the workers' output files, removed with what is left in it.

    None (outputs come back through the pipe) when not `wanted` or it cannot be made.
    """
    directory = None
    if wanted:
        with contextlib.suppress(OSError):
            directory = tempfile.mkdtemp(prefix="nemogym-ingest-")
    try:
        yield directory
    finally:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def _ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the main process, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def convert_input(
    source: Input, settings: Settings, workers: int
) -> Generator[tuple[Chunk, ChunkResult], None, None]:
    """Each chunk of `source` with its result, in input order, over `workers` processes.

    A small input (one chunk) is converted in this process. Workers read the lines of a
    plain file themselves; those of stdin or a `.gz` file are sent to them. Stopping the
    iteration early stops the workers.
    """
    in_place = workers > 1 and source.stream is source.raw and source.size is not None
    chunks = read_spans(source) if in_place else read_chunks(source)
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for chunk in itertools.chain(head, chunks):
            yield chunk, _run_chunk(chunk, settings)
        return
    with (
        _spool_directory(settings.serialize) as spool_directory,
        multiprocessing.Pool(workers, initializer=_ignore_interrupts) as pool,
    ):
        settings = dataclasses.replace(settings, spool_directory=spool_directory)
        pending: deque[tuple[Chunk, AsyncResult[ChunkResult]]] = deque()
        try:
            for chunk in itertools.chain(head, chunks):
                task = pool.apply_async(_run_chunk, (chunk, settings))
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
