"""The output text of a payload (spec/README.md, "Output text"): one JSON line in UTF-8,
the standard library's `json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`.

With the `fast` extra, orjson writes it whenever orjson writes exactly those bytes: it
writes every string, integer and key the same, and every float but some of magnitude
below 1e-4 (`0.00001`, `0.0000999` for Python's `1e-05`, `9.99e-05`). Conversion records
whether a payload holds such a float (`JsonCopier.tiny_float`); that payload is written by
`json`, as is one orjson refuses (an integer beyond 64 bits).

It also writes a chunk's output where it goes: a worker's into a spool file
(`spool`, in a `spool_directory`), and either into the output stream (`write_output`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from .fast import ORJSON_DUMPS

_orjson_dumps: Callable[[Any], bytes] | None = ORJSON_DUMPS
"""orjson's writer with the `fast` extra, else None (see `fast`)."""

_JSON_ENCODE = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode
"""`json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`; a payload is a tree
(built from parsed JSON), so the check for cycles is left out."""


def payload_line(payload: Any, *, tiny_float: bool) -> bytes:
    """The output text of one payload, without its line end; `tiny_float`: the payload may
    hold a float of magnitude below 1e-4 (but 0), which orjson writes in another form."""
    if _orjson_dumps is not None and not tiny_float:
        try:
            return _orjson_dumps(payload)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
            pass
    return _JSON_ENCODE(payload).encode("utf-8")


def spool(text: bytes, directory: str) -> str | None:
    """`text` left in a new file of `directory` (a worker's chunk output, for the main
    process to copy), its path; None when that fails (the text is then sent back)."""
    try:
        handle, path = tempfile.mkstemp(suffix=".jsonl", dir=directory)
        with os.fdopen(handle, "wb") as spooled:
            spooled.write(text)
    except OSError:
        return None
    return path


def write_output(text: bytes, spooled: str | None, stream: BinaryIO) -> None:
    """Write a chunk's output to `stream`: `text`, or the file `spooled` (`spool`), which is
    removed and copied by the kernel if it can."""
    if spooled is None:
        stream.write(text)
        return
    with open(spooled, "rb") as source:
        os.unlink(spooled)
        try:
            target = stream.fileno()
        except (AttributeError, OSError, ValueError):  # e.g. an in-memory stream
            shutil.copyfileobj(source, stream)
            return
        stream.flush()
        size, offset = os.fstat(source.fileno()).st_size, 0
        while offset < size:
            try:
                sent = os.sendfile(target, source.fileno(), offset, size - offset)
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    raise
                source.seek(offset)
                shutil.copyfileobj(source, stream)
                return
            if not sent:
                raise OSError(errno.EIO, "the spooled output file shrank")
            offset += sent


@contextlib.contextmanager
def spool_directory(wanted: bool) -> Iterator[str | None]:
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
