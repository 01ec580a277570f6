"""`ConversionError`: a rejection as data (its rule, its location, the option that would
rescue it), and the rendering of a location as a field path (R50; the check order, R51,
and totality, R52, are rules of the text that every converter module keeps).

Rules: R50.
"""

from __future__ import annotations

import json
from typing import TypeAlias

Loc: TypeAlias = tuple[str | int, ...]
"""A location in a rollout: object member names and array indices, outermost first."""


def _is_identifier(key: str) -> bool:
    """Whether `key` matches R50's `[A-Za-z_][A-Za-z0-9_]*`."""
    return key.isascii() and key.isidentifier()  # without a regex


def render_path(loc: Loc, *, any_index: bool = False) -> str:
    """The R50 path of `loc`: `response.output[1].call_id`, `verifier_metadata["a.b"]`.

    Identifier-like keys read `.key`; any other key reads `["key"]` (JSON-escaped), array
    indices `[i]` (`[*]` with `any_index`, for grouping errors); the rollout itself is
    `""`. Only called when an error is raised.
    """
    parts: list[str] = []
    for segment in loc:
        if isinstance(segment, int):
            parts.append("[*]" if any_index else f"[{segment}]")
        elif _is_identifier(segment):
            parts.append(f".{segment}" if parts else segment)
        else:
            parts.append(f"[{json.dumps(segment)}]")
    return "".join(parts)


class ConversionError(ValueError):
    """A rollout (or a JSONL line) that cannot be converted exactly.

    - `rule`: the spec rule it breaks (`"R22"`), a stable slug defined in spec/README.md;
    - `loc`: where, as segments (`("response", "output", 1, "call_id")`; `()` is the
      rollout itself), and `path`, the same rendered as R50 asks (`response.output[1].call_id`);
    - `option`: the `ConversionOptions` field that would let it convert, or None; the
      reason then ends with the hint naming it (R70): such an error is made by the option
      table, `OPTIONS[option].rejection(...)`;
    - `line` (1-based) and `file`: where it was read from, when known;
    - `reason`: the human-readable why. `str(error)` reads `FILE:LINE: PATH: reason`.
    """

    def __init__(
        self,
        reason: str,
        loc: Loc = (),
        *,
        rule: str,
        option: str | None = None,
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        self.reason = reason
        self.loc = loc
        self.rule = rule
        self.option = option
        self.line = line
        self.file = file
        self.path = render_path(loc)
        super().__init__(self._render())

    def _render(self) -> str:
        location = self.file or ""
        if self.line is not None:
            location = f"{location}:{self.line}" if location else f"line {self.line}"
        return ": ".join(part for part in (location, self.path, self.reason) if part)

    def located(self, *, file: str | None, line: int | None) -> ConversionError:
        """The same error placed at `line` of `file`."""
        return _rebuild(self.reason, self.loc, self.rule, self.option, line, file)

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild,
            (self.reason, self.loc, self.rule, self.option, self.line, self.file),
        )


def _rebuild(
    reason: str, loc: Loc, rule: str, option: str | None, line: int | None, file: str | None
) -> ConversionError:
    """The error again (unpickled, or placed at a line)."""
    return ConversionError(reason, loc, rule=rule, option=option, line=line, file=file)
