"""NeMo Gym 0.7.0 rollouts carrying a trajectory (`ng_trajectory`, R79, R86-R89), valid
and malformed, for converting with `trajectory="transcripts"`."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.testing.strategies._items import _SMALL_JSON
from nemogym_ingest.testing.strategies._json import Item, Rollout
from nemogym_ingest.testing.strategies._malformed import _NOT_ARRAYS, _NOT_OBJECTS
from nemogym_ingest.testing.strategies._rollouts import valid_rollouts

_INVOCATION_STATUSES = st.sampled_from(["completed", "failed", "incomplete", "unknown"])
_TOOL_STATUSES = st.sampled_from(["completed", "failed", "timeout", "cancelled", "unknown"])
_GAP_CODES = st.sampled_from(
    ["turns_unavailable", "conversation_unavailable", "model_calls_unavailable"]
)
_NOT_STRINGS = st.none() | st.integers() | st.booleans() | st.lists(st.integers(), max_size=1)


def conversation_of(rollout: Rollout) -> list[Any]:
    """A valid rollout's items as one conversation: its input (a string as a user message),
    then its output."""
    given = rollout["responses_create_params"]["input"]
    items = (
        [{"role": "user", "content": given, "type": "message"}] if isinstance(given, str) else given
    )
    return [*items, *rollout["response"]["output"]]


def _call_ids(conversation: list[Any]) -> list[str]:
    return [
        item["call_id"]
        for item in conversation
        if isinstance(item, dict) and item.get("type") == "function_call"
    ]


@st.composite
def _invocation(draw: st.DrawFn, index: int, ids: list[str], parents: list[list[Any]]) -> Item:
    """Invocation `index`: a valid rollout's items as its conversation (or none), a parent
    among the earlier invocations, one the trajectory does not observe, or none."""
    conversation = conversation_of(draw(valid_rollouts())) if draw(st.integers(0, 5)) else []
    parent = draw(st.sampled_from([None, "not-observed", *ids[:index]]))
    invocation: Item = {"kind": "agent_invocation", "invocation_id": ids[index]}
    if parent is not None:
        invocation["parent_invocation_id"] = parent
        spawning = _call_ids(parents[ids.index(parent)]) if parent in ids else []
        if spawning:
            invocation["spawned_by_tool_call_id"] = draw(st.sampled_from(spawning))
    invocation["status"] = draw(_INVOCATION_STATUSES)
    if draw(st.booleans()):
        invocation["duration_ms"] = draw(st.floats(0.0, 1e6))
    invocation["model_calls"] = [{"model_call_id": f"mc-{index}"}] if draw(st.booleans()) else []
    invocation["conversation"] = conversation
    return invocation


@st.composite
def _tool_calls(draw: st.DrawFn, invocations: list[Item]) -> list[Item]:
    calls = []
    for invocation in invocations:
        for call_id in _call_ids(invocation["conversation"])[:2]:
            calls.append(
                {
                    "kind": "tool_call",
                    "invocation_id": invocation["invocation_id"],
                    "tool_call_id": call_id,
                    "started_at": 1.0,
                    "completed_at": 1.5,
                    "duration_ms": 500.0,
                    "status": draw(_TOOL_STATUSES),
                    "output": draw(_SMALL_JSON),
                }
            )
    return calls


@st.composite
def valid_trajectory_rows(draw: st.DrawFn, *, openai_shaped: bool | None = None) -> Rollout:
    """Rollouts carrying an `ng_trajectory` every conforming converter must accept with
    `trajectory="transcripts"` (R79, R86-R89): zero to three invocations with unique ids in
    a tree (a parent earlier in the array, one not observed, or none; a subagent spawned
    by one of its parent's calls), each with a valid rollout's items as its conversation
    or none, model call references joined by `model_call_id`, tool calls with timings
    and outputs, gaps. Without the option, they convert as `valid_rollouts()` do."""
    rollout = draw(valid_rollouts(openai_shaped=openai_shaped))
    count = draw(st.integers(0, 3))
    ids = draw(
        st.lists(st.text(min_size=1, max_size=8), min_size=count, max_size=count, unique=True)
    )
    ids = [f"ses-{i}-{text}" for i, text in enumerate(ids)]  # never "not-observed"
    invocations: list[Item] = []
    for index in range(count):
        conversations = [invocation["conversation"] for invocation in invocations]
        invocations.append(draw(_invocation(index, ids, conversations)))
    model_calls = [
        {
            "model_call_id": f"mc-{index}",
            "token_stats": {"prompt_tokens": draw(st.integers(0, 10**4))},
        }
        for index in range(count)
    ]
    gaps = [
        {"code": draw(_GAP_CODES), "invocation_id": draw(st.sampled_from([None, *ids]))}
        for _ in range(draw(st.integers(0, 2)))
    ]
    rollout["ng_trajectory"] = {
        "schema_version": "1.0",
        "task_id": str(rollout["_ng_task_index"]),
        "rollout_id": "0-0",
        "invocations": invocations,
        "turns": [],
        "model_calls": model_calls,
        "tool_calls": draw(_tool_calls(invocations)),
        "gaps": gaps,
    }
    return rollout


def _with_invocation(row: Rollout) -> list[Item]:
    invocations: list[Item] = row["ng_trajectory"]["invocations"]
    if not invocations:
        invocations.append({"invocation_id": "only", "conversation": []})
    return invocations


@st.composite
def malformed_trajectory_rows(draw: st.DrawFn) -> tuple[Any, str]:
    """`(row, expected_path)`: a valid trajectory row (`valid_trajectory_rows()`) with
    exactly one violation, the first in check order (R51) with `trajectory="transcripts"`:
    a trajectory, array or invocation of the wrong kind, an unknown member, another
    `schema_version`, an `invocation_id` that is no string or repeats an earlier one, an
    unknown `status`, a cycle of parents (R86), or an item the item rules reject in a
    conversation (R11, at its path under `ng_trajectory`)."""
    row = draw(valid_trajectory_rows())
    trajectory = row["ng_trajectory"]
    kind = draw(
        st.sampled_from(
            [
                "record",
                "member",
                "schema",
                "array",
                "invocation",
                "id",
                "repeat",
                "status",
                "cycle",
                "item",
            ]
        )
    )
    if kind == "record":
        row["ng_trajectory"] = draw(_NOT_OBJECTS.filter(lambda value: value is not None))
        return row, "ng_trajectory"
    if kind == "member":
        trajectory["producer"] = draw(_SMALL_JSON)
        return row, "ng_trajectory.producer"
    if kind == "schema":
        trajectory["schema_version"] = draw(st.sampled_from(["2.0", "1", "", 1.0]) | st.none())
        return row, "ng_trajectory.schema_version"
    if kind == "array":
        trajectory["tool_calls"] = draw(_NOT_ARRAYS)
        return row, "ng_trajectory.tool_calls"
    invocations = _with_invocation(row)
    index = draw(st.integers(0, len(invocations) - 1))
    return draw(_bad_invocation(kind, row, invocations, index))


@st.composite
def _bad_invocation(
    draw: st.DrawFn, kind: str, row: Rollout, invocations: list[Item], index: int
) -> tuple[Any, str]:
    at = f"ng_trajectory.invocations[{index}]"
    if kind == "repeat" and index == 0:
        kind = "status"  # the first invocation repeats no earlier one
    if kind == "invocation":
        invocations[index] = draw(_NOT_OBJECTS)
        return row, at
    if kind == "id":
        invocations[index]["invocation_id"] = draw(_NOT_STRINGS)
        return row, f"{at}.invocation_id"
    if kind == "repeat":
        invocations[index]["invocation_id"] = invocations[0]["invocation_id"]
        return row, f"{at}.invocation_id"
    if kind == "status":
        invocations[index]["status"] = draw(st.sampled_from(["done", "ok", ""]) | st.none())
        return row, f"{at}.status"
    if kind == "cycle":
        first = invocations[0]
        other = invocations[1] if len(invocations) > 1 else first
        first["parent_invocation_id"], other["parent_invocation_id"] = (
            other["invocation_id"],
            first["invocation_id"],
        )
        return row, "ng_trajectory.invocations[0].parent_invocation_id"
    conversation = invocations[index]["conversation"]
    position = draw(st.integers(0, len(conversation)))
    conversation.insert(position, {"type": draw(st.sampled_from(["bogus", "tool", ""]))})
    # An earlier invocation's items are checked first: the first one's is rejected.
    return row, f"{at}.conversation[{position}].type"
