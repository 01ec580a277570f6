"""The comparison of payloads: Docent's ids and model defaults normalized away, the first
differing path, and a readable diff. The one normalization the runner, the tests and the
fake Docent server share.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from typing import Any

from ..errors import render_path
from ..members import ABSENT
from ..wire import JsonDict

_DIFF_LINES = 40
_SHOWN_CHARS = 300


def _without_nulls(mapping: JsonDict, *, drop: Sequence[str] = ()) -> JsonDict:
    return {key: value for key, value in mapping.items() if value is not None and key not in drop}


def _normalize_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    message = _without_nulls(message, drop=("id",))
    content = message.get("content")
    if isinstance(content, list):
        message["content"] = [
            {
                key: value
                for key, value in _without_nulls(block).items()
                if not (key == "redacted" and value is False)
            }
            if isinstance(block, dict)
            else block
            for block in content
        ]
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        message["tool_calls"] = [
            _without_nulls(call) if isinstance(call, dict) else call for call in tool_calls
        ]
    return message


def _normalize_transcript(transcript: Any) -> Any:
    if not isinstance(transcript, dict):
        return transcript
    transcript = _without_nulls(transcript, drop=("id",))
    messages = transcript.get("messages")
    if isinstance(messages, list):
        transcript["messages"] = [_normalize_message(message) for message in messages]
    return transcript


def _group_labels(groups: Any) -> dict[Any, str]:
    """Each transcript group's id -> `#INDEX`, its position in `transcript_groups`."""
    if not isinstance(groups, list):
        return {}
    return {
        group["id"]: f"#{index}"
        for index, group in enumerate(groups)
        if isinstance(group, dict) and isinstance(group.get("id"), str)
    }


def _relabeled(holder: Any, member: str, labels: dict[Any, str]) -> Any:
    if isinstance(holder, dict) and isinstance(holder.get(member), str):
        return {**holder, member: labels.get(holder[member], holder[member])}
    return holder


def _normalize_groups(run: JsonDict) -> None:
    """Transcript group ids (local in a payload, fresh in Docent's) as their positions."""
    labels = _group_labels(run.get("transcript_groups"))
    if not labels:
        return
    run["transcript_groups"] = [
        _relabeled(
            _relabeled(_without_nulls(group), "parent_transcript_group_id", labels), "id", labels
        )
        if isinstance(group, dict)
        else group
        for group in run["transcript_groups"]
    ]
    if isinstance(run.get("transcripts"), list):
        run["transcripts"] = [
            _relabeled(transcript, "transcript_group_id", labels)
            for transcript in run["transcripts"]
        ]


def normalize_payload(payload: Any) -> Any:
    """An AgentRun payload on our wire layout: Docent's ids and model defaults removed.

    Exactly these, at the levels of Docent's models only (never inside `metadata` or a
    tool call's `arguments`): the `id` of the run, of each transcript and of each message
    is dropped; members whose value is `null` are dropped from the run, each transcript,
    message, content block and tool call; `transcript_groups: []` and a content block's
    `redacted: false` are dropped; each transcript group's `id` (and every reference to
    it: a transcript's `transcript_group_id`, a group's `parent_transcript_group_id`) is
    written `#INDEX`, its position in `transcript_groups`, and its null members dropped.
    Anything that is not shaped like a run is returned as is. The payload is not modified.
    """
    if not isinstance(payload, dict):
        return payload
    run = _without_nulls(payload, drop=("id",))
    if run.get("transcript_groups") == []:
        del run["transcript_groups"]
    transcripts = run.get("transcripts")
    if isinstance(transcripts, list):
        run["transcripts"] = [_normalize_transcript(transcript) for transcript in transcripts]
    _normalize_groups(run)
    return run


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
