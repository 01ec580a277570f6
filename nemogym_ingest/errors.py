"""`ConversionError` and the field paths it names (spec rules R50-R52)."""

from __future__ import annotations

import json


def key_path(parent: str, key: str) -> str:
    """Path of object member `key` under `parent`.

    Identifier-like keys read `parent.key`; any other key reads `parent["key"]`
    (JSON-escaped), so every path names exactly one place.
    """
    if key.isascii() and key.isidentifier():  # [A-Za-z_][A-Za-z0-9_]*, without a regex
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key)}]"


def index_path(parent: str, index: int) -> str:
    """Path of array element `index` under `parent`."""
    return f"{parent}[{index}]"


class ConversionError(ValueError):
    """A rollout (or a JSONL line) that cannot be converted exactly.

    `path` names the offending field (`response.output[1].call_id`; `""` is the rollout
    itself), `line` is the 1-based JSONL line and `file` the file it came from, when
    known. `str(error)` reads `FILE:LINE: PATH: reason`, absent parts left out.
    """

    def __init__(
        self, reason: str, path: str = "", *, line: int | None = None, file: str | None = None
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.file = file
        super().__init__(self._render())

    def _render(self) -> str:
        location = self.file or ""
        if self.line is not None:
            location = f"{location}:{self.line}" if location else f"line {self.line}"
        return ": ".join(part for part in (location, self.path, self.reason) if part)

    def located(self, *, file: str | None, line: int | None) -> ConversionError:
        """The same error placed at `line` of `file`."""
        return ConversionError(self.reason, self.path, line=line, file=file)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.reason, self.path, self.line, self.file))


def _rebuild(reason: str, path: str, line: int | None, file: str | None) -> ConversionError:
    return ConversionError(reason, path, line=line, file=file)
