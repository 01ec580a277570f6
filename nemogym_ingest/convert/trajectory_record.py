"""NeMo Gym 0.7.0's trajectory record (`ng_trajectory`, its `TrajectoryRecord` model) read
for the `trajectory` option: checked where NeMo Gym's own pydantic models would refuse it
(a schema other than "1.0", an unknown member, a member of the wrong kind, a repeated
invocation id, a cycle of parents), and its invocations, model calls, tool calls and gaps
handed on as plain records.

Rules: R86.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import require_text
from ..members import ABSENT
from ..wire import JsonDict
from .checks import describe, one_of, require_array, require_object, wrong

TRAJECTORY_MEMBER = "ng_trajectory"
TRAJECTORY: Loc = (TRAJECTORY_MEMBER,)
SCHEMA_VERSION = "1.0"

_MEMBERS: dict[str, tuple[str, ...]] = {
    "record": (
        "schema_version",
        "task_id",
        "rollout_id",
        "invocations",
        "turns",
        "model_calls",
        "tool_calls",
        "gaps",
    ),
    "invocations": (
        "kind",
        "invocation_id",
        "parent_invocation_id",
        "spawned_by_tool_call_id",
        "status",
        "duration_ms",
        "error_type",
        "model_calls",
        "conversation",
    ),
    "turns": (
        "invocation_id",
        "task_id",
        "rollout_id",
        "turn_no",
        "timestamp",
        "question",
        "answer",
        "reasoning_content",
        "resolved",
        "step_count",
        "model_calls",
    ),
    "model_calls": (
        "model_call_id",
        "started_at",
        "completed_at",
        "duration_ms",
        "request",
        "response",
        "response_metadata",
        "token_stats",
    ),
    "tool_calls": (
        "kind",
        "invocation_id",
        "tool_call_id",
        "sandbox_id",
        "tool_name",
        "started_at",
        "completed_at",
        "duration_ms",
        "timing_source",
        "status",
        "error_type",
        "output",
    ),
    "gaps": ("code", "invocation_id", "detail"),
}
"""The members NeMo Gym's models (`extra="forbid"`) allow: of the record, and of each
element of its arrays."""

_INVOCATION_STATUSES = ("completed", "failed", "incomplete", "unknown")


@dataclass
class Invocation:
    """One checked `AgentInvocation`: where it is, its id, its parent and its record."""

    index: int
    loc: Loc
    invocation_id: str
    parent_id: str | None
    record: JsonDict
    conversation: list[Any]
    model_calls: list[Any]


@dataclass
class TrajectoryRecord:
    """A checked `ng_trajectory`: the record, its invocations, and its arrays (each element
    an object) by member name."""

    record: JsonDict
    invocations: list[Invocation]
    arrays: dict[str, list[JsonDict]] = field(default_factory=dict)

    def invocation(self, invocation_id: Any) -> Invocation | None:
        """The invocation of `invocation_id`, if the trajectory observed it."""
        for invocation in self.invocations:
            if invocation.invocation_id == invocation_id:
                return invocation
        return None


def _no_unknown_member(record: JsonDict, kind: str, loc: Loc) -> None:
    for key in record:
        if not isinstance(key, str) or key not in _MEMBERS[kind]:
            name = key if isinstance(key, str) else str(key)
            raise ConversionError(
                f"is not a member of NeMo Gym's trajectory record (known: "
                f"{', '.join(_MEMBERS[kind])})",
                loc + (name,),
                rule="R86",
            )


def _objects(record: JsonDict, kind: str) -> list[JsonDict]:
    """The array member `kind` of the record (absent: empty), each element an object without
    unknown members (R86)."""
    loc = TRAJECTORY + (kind,)
    value = record.get(kind, ABSENT)
    if value is ABSENT:
        return []
    elements = require_array(value, loc, "R86")
    for index, element in enumerate(elements):
        _no_unknown_member(require_object(element, loc + (index,), "R86"), kind, loc + (index,))
    return elements


def _string(record: JsonDict, key: str, loc: Loc, *, optional: bool) -> str | None:
    """`record[key]`: a string (Unicode text), or, when `optional`, absent or null (R86)."""
    value = record.get(key, ABSENT)
    if optional and (value is ABSENT or value is None):
        return None
    expected = "a string or null" if optional else "a string"
    if not isinstance(value, str):
        raise ConversionError(wrong(expected, value), loc + (key,), rule="R86")
    return require_text(value, loc + (key,))


def _array(record: JsonDict, key: str, loc: Loc) -> list[Any]:
    value = record.get(key, ABSENT)
    return [] if value is ABSENT else require_array(value, loc + (key,), "R86")


def _invocation(index: int, record: JsonDict, seen: dict[str, int]) -> Invocation:
    loc = TRAJECTORY + ("invocations", index)
    invocation_id = _string(record, "invocation_id", loc, optional=False)
    assert invocation_id is not None
    if invocation_id in seen:
        raise ConversionError(
            f"must be unique within the trajectory, but invocations[{seen[invocation_id]}] has "
            f"invocation_id {describe(invocation_id)} too",
            loc + ("invocation_id",),
            rule="R86",
        )
    seen[invocation_id] = index
    parent_id = _string(record, "parent_invocation_id", loc, optional=True)
    _string(record, "spawned_by_tool_call_id", loc, optional=True)
    status = record.get("status", ABSENT)
    if status is not ABSENT and status not in _INVOCATION_STATUSES:
        raise ConversionError(
            wrong(one_of(_INVOCATION_STATUSES), status), loc + ("status",), rule="R86"
        )
    conversation = _array(record, "conversation", loc)
    model_calls = _array(record, "model_calls", loc)
    for position, reference in enumerate(model_calls):
        require_object(reference, loc + ("model_calls", position), "R86")
    return Invocation(index, loc, invocation_id, parent_id, record, conversation, model_calls)


def _no_cycle(invocations: list[Invocation]) -> None:
    """No invocation is its own ancestor: rejected at the `parent_invocation_id` of the first
    invocation, in array order, on a cycle (R86). A parent not observed ends a chain."""
    by_id = {invocation.invocation_id: invocation for invocation in invocations}
    for invocation in invocations:
        chain: set[str] = set()
        current: Invocation | None = invocation
        while current is not None and current.parent_id is not None:
            if current.invocation_id in chain:
                raise ConversionError(
                    "forms a cycle of parents: invocation "
                    f"{describe(invocation.invocation_id)} is its own ancestor",
                    invocation.loc + ("parent_invocation_id",),
                    rule="R86",
                )
            chain.add(current.invocation_id)
            current = by_id.get(current.parent_id)


def read_trajectory(value: Any) -> TrajectoryRecord:
    """`ng_trajectory`, checked in this order (R86): an object; its members known; its
    `schema_version` "1.0"; each array's elements objects with known members (invocations,
    turns, model calls, tool calls, gaps); each invocation's id (a string, unique), parent
    and spawning call (strings or null), status, conversation and model calls; no cycle of
    parents; each tool call's and gap's invocation id (a string; null for a gap)."""
    record = require_object(value, TRAJECTORY, "R86")
    _no_unknown_member(record, "record", TRAJECTORY)
    version = record.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or not isinstance(version, str):
        raise ConversionError(
            f"must be {describe(SCHEMA_VERSION)}, the trajectory schema NeMo Gym 0.7.0 writes, "
            f"got {describe(version)}",
            TRAJECTORY + ("schema_version",),
            rule="R86",
        )
    arrays = {kind: _objects(record, kind) for kind in _MEMBERS if kind != "record"}
    seen: dict[str, int] = {}
    invocations = [
        _invocation(index, element, seen) for index, element in enumerate(arrays["invocations"])
    ]
    _no_cycle(invocations)
    for kind in ("tool_calls", "gaps"):
        for index, element in enumerate(arrays[kind]):
            loc = TRAJECTORY + (kind, index)
            _string(element, "invocation_id", loc, optional=kind == "gaps")
    return TrajectoryRecord(record, invocations, arrays)


def trace_census(row: Any) -> tuple[int, int]:
    """`(1, SUBAGENTS)` for a row carrying a trace — an `ng_trajectory` object with
    invocations or model calls — SUBAGENTS its invocations with a parent; else `(0, 0)`.
    Read without checking anything (for `check`, whatever the options)."""
    record = row.get(TRAJECTORY_MEMBER) if isinstance(row, dict) else None
    if not isinstance(record, dict):
        return 0, 0
    invocations = record.get("invocations")
    invocations = invocations if isinstance(invocations, list) else []
    if not invocations and not record.get("model_calls"):
        return 0, 0
    subagents = sum(
        1
        for invocation in invocations
        if isinstance(invocation, dict) and invocation.get("parent_invocation_id") is not None
    )
    return 1, subagents
