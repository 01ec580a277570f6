"""Rollouts inputs: opening a path (plain or gzip, told by its magic bytes), stdin or a
binary file object, reading its raw lines, and the errors of an input that cannot be read
(R68), each naming the input and, past the start, the line being read.

Rules: R68.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .errors import ConversionError

STDIN = "-"
"""The path that stands for standard input on the command line."""

_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error)

RolloutsSource = str | os.PathLike[str] | BinaryIO
"""A rollouts input: a path (a `.gz` file is read decompressed) or a binary file object."""


class InputError(ConversionError):
    """An input that cannot be read (missing, a directory, unreadable, a corrupt `.gz`):
    rule R68, path `""`, naming the file and, when reading stopped partway, the line."""

    def __init__(self, reason: str, *, file: str | None, line: int | None = None) -> None:
        super().__init__(f"cannot read file: {reason}", rule="R68", file=file, line=line)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_input_error, (self.reason, self.file, self.line))


def _rebuild_input_error(reason: str, file: str | None, line: int | None) -> InputError:
    error = InputError("", file=file, line=line)
    error.reason = reason
    error.args = (error._render(),)
    return error


def _why(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


@dataclass
class Source:
    """An open rollouts input, decompressed if it is gzip.

    `name` is what errors call it (the path, `<stdin>`, a file object's name, or None);
    `size` the size on disk of a file opened by path (else None), and `position()` how far reading
    has got in it, both in on-disk (compressed) bytes.
    """

    name: str | None
    stream: BinaryIO
    raw: BinaryIO
    size: int | None
    closes_raw: bool
    """Whether closing the source closes `raw` (not stdin, not a caller's file object)."""

    def position(self) -> int:
        """Bytes of the on-disk input consumed so far (0 when unknown)."""
        try:
            return self.raw.tell()
        except (OSError, ValueError, AttributeError):
            return 0

    def close(self) -> None:
        """Close what opening the source opened."""
        if self.stream is not self.raw:
            self.stream.close()
        if self.closes_raw:
            self.raw.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_source(source: RolloutsSource) -> Source:
    """Open `source`: a path (`-` is stdin), or a binary file object (left open).

    Raises `InputError` when it cannot be opened, `TypeError` for a text-mode file object.
    """
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if path == STDIN:
            return _wrap("<stdin>", sys.stdin.buffer, closes_raw=False)
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(21, "is a directory")
            raw = open(path, "rb")  # noqa: SIM115 - closed by Source.close()
        except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
            raise InputError(_why(error), file=path) from None
        return _wrap(path, raw, closes_raw=True)
    if isinstance(source, io.TextIOBase):
        raise TypeError("rollouts are read from a binary file object: open the file with 'rb'")
    name = getattr(source, "name", None)
    return _wrap(name if isinstance(name, str) else None, source, closes_raw=False)


def _wrap(name: str | None, raw: BinaryIO, *, closes_raw: bool) -> Source:
    try:
        size = (os.fstat(raw.fileno()).st_size or None) if closes_raw else None
        magic = _peek_magic(raw)
    except _READ_ERRORS as error:
        if closes_raw:
            raw.close()
        raise InputError(_why(error), file=name) from None
    stream: BinaryIO = raw
    if magic == _GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    return Source(name, stream, raw, size, closes_raw)


def _peek_magic(raw: BinaryIO) -> bytes:
    """The first two bytes, left unread (b"" when they cannot be looked at without losing
    them: such a stream is read as plain JSONL)."""
    if hasattr(raw, "peek"):
        return bytes(raw.peek(2)[:2])
    if raw.seekable():
        start = raw.tell()
        magic = raw.read(2)
        raw.seek(start)
        return magic
    return b""


def iter_raw_lines(source: Source) -> Iterator[bytes]:
    """The input's raw lines, one at a time; a read error raises `InputError` with its line."""
    readline = source.stream.readline
    line = 0
    while True:
        try:
            raw = readline()
        except _READ_ERRORS as error:
            raise InputError(_why(error), file=source.name, line=line + 1) from None
        if not raw:
            return
        line += 1
        yield raw


@dataclass
class Chunk:
    """Consecutive raw lines of input `file`, the first being line `first_line`.

    `position` is where reading got to in the on-disk input after them. A chunk from
    `read_spans` leaves its lines in the file: `lines` is empty and `span` says where.
    """

    file: str | None
    first_line: int
    lines: list[bytes]
    nbytes: int
    position: int
    span: tuple[str, int, int] | None = None
    """(path, start offset, end offset) of the lines when they are left in the file."""

    def read_lines(self) -> list[bytes]:
        """The chunk's lines, read from the file for a span (in a worker)."""
        if self.span is None:
            return self.lines
        path, start, end = self.span
        try:
            with open(path, "rb") as file:
                file.seek(start)
                lines = file.read(end - start).split(b"\n")
        except OSError as error:
            raise InputError(_why(error), file=self.file, line=self.first_line) from None
        if lines[-1] == b"":
            lines.pop()  # the piece after the last line end
        return lines


def read_chunks(source: Source, chunk_bytes: int) -> Iterator[Chunk]:
    """The input's lines in chunks of about `chunk_bytes`; a read error raises `InputError`
    naming the line it failed on."""
    next_line = 1
    while True:
        try:
            lines = source.stream.readlines(chunk_bytes)
        except _READ_ERRORS as error:
            raise InputError(_why(error), file=source.name, line=next_line) from None
        if not lines:
            return
        yield Chunk(source.name, next_line, lines, sum(map(len, lines)), source.position())
        next_line += len(lines)


def read_spans(source: Source, chunk_bytes: int) -> Iterator[Chunk]:
    """Like `read_chunks` for a plain file, but each chunk only says where its lines are.

    The lines are read here only to count them; a worker reads its chunk's lines itself,
    which spares sending them through a pipe.
    """
    if source.name is None:
        raise ValueError("a source read in spans needs its path")
    next_line, start = 1, source.position()
    while True:
        try:
            block = source.raw.read(chunk_bytes)
            if block and not block.endswith(b"\n"):
                block += source.raw.readline()
        except OSError as error:
            raise InputError(_why(error), file=source.name, line=next_line) from None
        if not block:
            return
        end = start + len(block)
        span = (source.name, start, end)
        yield Chunk(source.name, next_line, [], len(block), end, span=span)
        next_line += block.count(b"\n") + (not block.endswith(b"\n"))
        start = end
