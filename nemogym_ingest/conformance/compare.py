"""The comparison of payloads: the first differing path and a readable diff (of payloads
normalized by `wire.normalize_payload`, the one normalization the runner, the tests and
the fake Docent server share).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from typing import Any

from ..errors import render_path
from ..members import ABSENT

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
