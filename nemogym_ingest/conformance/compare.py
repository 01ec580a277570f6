"""The comparison of payloads: the first differing path and a readable diff (of payloads
normalized by `wire.normalize_payload`, the one normalization the runner, the tests and
the fake Docent server share).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import render_path
from ..members import ABSENT
from ..wire import JsonDict

_DIFF_LINES = 40
_SHOWN_CHARS = 300


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_scalar(expected: Any, actual: Any) -> bool:
    if _is_number(expected) and _is_number(actual):
        both_nan = isinstance(expected, float) and isinstance(actual, float)
        both_nan = both_nan and math.isnan(expected) and math.isnan(actual)
        return both_nan or bool(expected == actual)
    return type(expected) is type(actual) and bool(expected == actual)


Step = str | int
"""An object member name or an array index: one step of a path."""


def _difference(expected: Any, actual: Any) -> list[Step] | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if not all(isinstance(key, str) for key in actual):
            return []  # not JSON: object keys are strings
        for key in sorted(expected.keys() | actual.keys()):
            if key not in expected or key not in actual:
                return [key]
            below = _difference(expected[key], actual[key])
            if below is not None:
                return [key, *below]
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            below = _difference(left, right)
            if below is not None:
                return [index, *below]
        if len(expected) != len(actual):
            return [min(len(expected), len(actual))]
        return None
    if isinstance(expected, dict | list) or isinstance(actual, dict | list):
        return []
    return None if _same_scalar(expected, actual) else []


def _path(steps: Sequence[Step]) -> str:
    return render_path(tuple(steps))


def first_difference(expected: Any, actual: Any) -> str | None:
    """The JSON path of the first place where `actual` differs from `expected`, or None.

    Objects compare member by member in sorted key order, arrays element by element;
    numbers compare by value (`1` equals `1.0`), but `true`/`false` are not numbers.
    An object with a key that is not a string differs as a whole.
    """
    steps = _difference(expected, actual)
    return None if steps is None else _path(steps)


def _at(value: Any, steps: Sequence[Step]) -> Any:
    """The value `steps` lead to, or `ABSENT`."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return ABSENT
        elif not isinstance(value, dict) or step not in value:
            return ABSENT
        value = value[step]
    return value


def _dumps(value: Any, indent: int | None = None) -> str:
    """`value` as JSON text for display; whatever an implementation returned, never raises."""
    try:
        return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError) as error:
        return f"(cannot be shown as JSON: {type(error).__name__})"


def _shown(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = _dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def abbreviated(path: str, limit: int = 100) -> str:
    """`path` in backquotes, its middle elided when it is very long (deep nesting)."""
    if len(path) > limit:
        path = f"{path[: limit // 2]}…{path[-limit // 4 :]}"
    return f"`{path}`"


def shown_path(path: str) -> str:
    return abbreviated(path) if path else "the top level"


def describe_difference(expected: Any, actual: Any) -> str:
    """A readable diff: the first differing path, both values there, then a unified diff."""
    steps = _difference(expected, actual) or []
    lines = [
        f"first difference at {shown_path(_path(steps))}:",
        f"  expected: {_shown(_at(expected, steps))}",
        f"  actual:   {_shown(_at(actual, steps))}",
    ]
    diff = list(
        difflib.unified_diff(
            _dumps(expected, indent=2).splitlines(),
            _dumps(actual, indent=2).splitlines(),
            "expected",
            "actual",
            n=2,
            lineterm="",
        )
    )
    if len(diff) > _DIFF_LINES:
        diff = [*diff[:_DIFF_LINES], f"... ({len(diff) - _DIFF_LINES} more diff lines)"]
    return "\n".join([*lines, *diff])


# --- comparison levels ---------------------------------------------------------------------

LEVELS = ("exact", "transcripts")
"""What an accepting case's payload is compared on: all of it, or the transcripts alone."""

_PATH_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\*|[0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]')
_METADATA = "metadata"


def _parse_ignored(path: str) -> tuple[Step, ...]:
    """The steps of an `--ignore` path (R50 syntax, `[*]` for any index), which must lead
    into a `metadata` object (the run's, a transcript's or a message's)."""
    steps: list[Step] = []
    position = 0
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None or (position == 0 and path.startswith(".")):
            raise ValueError(f"--ignore {path!r}: not a path such as metadata.nemogym.assumed")
        name, index, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(-1 if index == "*" else int(index))
        else:
            steps.append(json.loads(quoted))
        position = match.end()
    if not _in_metadata(steps):
        raise ValueError(
            f"--ignore {path!r}: not a run's, transcript's or message's metadata; --ignore "
            "leaves out metadata only (--compare transcripts leaves out all of it)"
        )
    return tuple(steps)


def _in_metadata(steps: Sequence[Step]) -> bool:
    """Whether `steps` lead to a run's `metadata`, a transcript's or a message's, or into one."""
    for names in ((), ("transcripts",), ("transcripts", "messages")):
        at = 2 * len(names)  # each name followed by an index
        head = steps[:at]
        if (
            len(steps) > at
            and steps[at] == _METADATA
            and tuple(head[0::2]) == names
            and all(isinstance(step, int) for step in head[1::2])
        ):
            return True
    return False


def _without(value: Any, steps: Sequence[Step]) -> Any:
    """`value` with the member `steps` lead to left out (`-1` stands for every index); a
    path that leads nowhere leaves it as it is. `value` is not modified."""
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    if isinstance(value, list) and isinstance(step, int):
        return [
            _without(item, rest) if step in (-1, index) else item
            for index, item in enumerate(value)
        ]
    if isinstance(value, dict) and isinstance(step, str) and step in value:
        if not rest:
            return {key: item for key, item in value.items() if key != step}
        return {**value, step: _without(value[step], rest)}
    return value


def _transcripts_only(payload: Any) -> Any:
    """What the transcripts level compares: the run's name, and each transcript's name and
    messages (message metadata left out), in order."""
    if not isinstance(payload, dict):
        return payload
    view: JsonDict = {key: payload[key] for key in ("name", "transcripts") if key in payload}
    transcripts = view.get("transcripts")
    if isinstance(transcripts, list):
        view["transcripts"] = [
            {
                key: _without(value, (-1, _METADATA)) if key == "messages" else value
                for key, value in transcript.items()
                if key in ("name", "messages")
            }
            if isinstance(transcript, dict)
            else transcript
            for transcript in transcripts
        ]
    return view


@dataclass(frozen=True)
class Comparison:
    """How an accepting case's normalized payload is compared with the golden one.

    `level` `"exact"` compares all of it (the default); `"transcripts"` only what a
    layout-independent implementation must match: the run's name and each transcript's
    name and messages (roles, content, tool calls, in order), no metadata. `ignore` names
    metadata paths left out at either level (`metadata.nemogym.assumed`,
    `transcripts[*].metadata.message_details`). Bad values raise `ValueError`.
    """

    level: str = "exact"
    ignore: tuple[str, ...] = ()
    _steps: tuple[tuple[Step, ...], ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"--compare {self.level!r}: expected one of {', '.join(LEVELS)}")
        object.__setattr__(self, "_steps", tuple(_parse_ignored(path) for path in self.ignore))

    def view(self, payload: Any) -> Any:
        """What is compared of one normalized payload."""
        for steps in self._steps:
            payload = _without(payload, steps)
        return _transcripts_only(payload) if self.level == "transcripts" else payload

    def describe(self) -> str:
        """The level and ignored paths, as flags: `--compare transcripts --ignore P`."""
        return " ".join([f"--compare {self.level}", *(f"--ignore {path}" for path in self.ignore)])


EXACT = Comparison()
"""Today's comparison: the whole normalized payload."""
