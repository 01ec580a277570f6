"""The `trajectory` option: a rollout's `ng_trajectory` (NeMo Gym 0.7.0's trace of every
agent and subagent conversation) as more transcripts. Each invocation's conversation is
converted by the item rules into a transcript of its own, with a context compaction
marked where it happened; the invocation tree becomes transcript groups with local ids,
each holding the invocation's facts; an invocation without a conversation (or a
trajectory without invocations) shows what its model calls received and answered
(`model_calls`). What is rendered leaves the metadata copy of the trajectory.

Rules: R79, R87, R89.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import Loc
from ..jsonvalue import JsonCopier
from ..options import ConversionOptions
from ..wire import JsonDict, system_message, transcript, transcript_group
from .checks import pruned
from .items import convert_items
from .model_calls import CallIndex, render_model_calls
from .trajectory_record import (
    TRAJECTORY,
    TRAJECTORY_MEMBER,
    Invocation,
    TrajectoryRecord,
    read_trajectory,
)
from .turn import TranscriptBuilder

OBSERVATIONS = "ng_agent_observations"
INVOCATION_SCHEMA = "nemo_gym_trajectory_invocation"
_TOKEN_STATS = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "cached_tokens")
_TOKEN_TOTAL = "total_tokens"
_MOVED_TO_GROUP = ("kind", "conversation")
"""Invocation members a group's facts leave out: the constant kind, the rendered conversation."""


@dataclass
class TrajectoryParts:
    """What a trajectory adds to a run: its transcripts and groups, and the rest of the
    record for the run's metadata."""

    transcripts: list[JsonDict] = field(default_factory=list)
    groups: list[JsonDict] = field(default_factory=list)
    rest: JsonDict = field(default_factory=dict)
    """Benchmark fields replaced by what is left of them: `ng_trajectory`, and
    `ng_agent_observations` when it repeats a conversation a transcript shows."""


def group_id(invocation: Invocation) -> str:
    """The local, deterministic id of an invocation's transcript group: its path (R87)."""
    return f"ng_trajectory.invocations[{invocation.index}]"


def trajectory_parts(
    row: JsonDict, options: ConversionOptions, copy: JsonCopier, uses: dict[str, Any]
) -> TrajectoryParts | None:
    """The transcripts, groups and remaining record of the row's `ng_trajectory` with the
    `trajectory` option (R79); None without the option or without a trajectory."""
    if options.trajectory is None or row.get(TRAJECTORY_MEMBER) is None:
        return None
    if not copy.owned:  # R41 first: what follows compares values, all JSON then
        copy.checked(row[TRAJECTORY_MEMBER], TRAJECTORY)
        if OBSERVATIONS in row:
            copy.checked(row[OBSERVATIONS], (OBSERVATIONS,))
    trajectory = read_trajectory(row[TRAJECTORY_MEMBER])
    calls = CallIndex(trajectory.arrays["model_calls"])
    owned = {invocation.index: calls.owned(invocation) for invocation in trajectory.invocations}
    parts = TrajectoryParts()
    rendered_calls: set[int] = set()
    moved_tools: set[int] = set()
    for invocation in trajectory.invocations:
        name = _name(invocation)
        positions = owned[invocation.index]
        made: JsonDict | None = None
        if invocation.conversation:
            made = _conversation_transcript(name, invocation, row, options, copy, uses)
        elif positions:
            rendering = render_model_calls(name, positions, calls, options, copy, uses)
            if rendering is not None:
                made = rendering.transcript
                rendered_calls.update(rendering.rendered)
        if made is not None:
            made["transcript_group_id"] = group_id(invocation)
            parts.transcripts.append(made)
        facts = _facts(invocation, trajectory, calls, positions, copy, moved_tools)
        compactions = _unplaced_compactions(invocation, row, copy)
        parts.groups.append(_group(name, invocation, trajectory, facts | compactions))
    if not trajectory.invocations and calls.calls:
        every_call = list(range(len(calls.calls)))
        rendering = render_model_calls("model calls", every_call, calls, options, copy, uses)
        if rendering is not None:
            parts.transcripts.append(rendering.transcript)
            rendered_calls.update(rendering.rendered)
    parts.rest = {TRAJECTORY_MEMBER: _rest(trajectory, rendered_calls, moved_tools, copy)}
    observations = _observations_rest(row, trajectory, moved_tools, copy)
    if observations is not None:
        parts.rest[OBSERVATIONS] = observations
    if parts.transcripts:
        uses["trajectory"] = uses.get("trajectory", 0) + len(parts.transcripts)
    return parts


def _name(invocation: Invocation) -> str:
    """`agent ID` for a root invocation, `subagent ID` for one with a parent (R87)."""
    role = "agent" if invocation.parent_id is None else "subagent"
    return f"{role} {invocation.invocation_id}"


def _group(
    name: str, invocation: Invocation, trajectory: TrajectoryRecord, facts: JsonDict
) -> JsonDict:
    parent = trajectory.invocation(invocation.parent_id)
    parent_id = None if parent is None else group_id(parent)
    return transcript_group(group_id(invocation), name, facts, parent_id)


# --- the conversation of an invocation ----------------------------------------------------


def _conversation_transcript(
    name: str,
    invocation: Invocation,
    row: JsonDict,
    options: ConversionOptions,
    copy: JsonCopier,
    uses: dict[str, Any],
) -> JsonDict:
    """The invocation's conversation converted as a rollout's output items are (R87), each
    placed compaction marked by a system message before the item it kept first (R89)."""
    out = TranscriptBuilder(options, copy, uses=uses)
    loc = invocation.loc + ("conversation",)
    conversation = invocation.conversation
    start = 0
    for position, marker, source in _placed_compactions(invocation, row, copy):
        convert_items(conversation[start:position], "output", loc, out, start=start)
        out.emit(system_message(marker), [source])
        start = position
    convert_items(conversation[start:], "output", loc, out, start=start)
    source = pruned(
        {
            "schema": INVOCATION_SCHEMA,
            "invocation_id": invocation.invocation_id,
            "conversation_item_count": len(conversation),
        }
    )
    metadata = {"source": source, "message_details": out.details}
    return transcript(name, out.messages, metadata)


# --- compaction (R89) ----------------------------------------------------------------------


def _compaction_records(invocation: Invocation, row: JsonDict) -> Iterator[tuple[Loc, JsonDict]]:
    """The `context_compaction` records of `ng_agent_observations` for this invocation, with
    their locations; a bundle or record of another shape is passed over (it stays a
    benchmark field)."""
    bundle = row.get(OBSERVATIONS)
    records = bundle.get("records") if isinstance(bundle, dict) else None
    if not isinstance(records, list):
        return
    for index, record in enumerate(records):
        if (
            isinstance(record, dict)
            and record.get("kind") == "context_compaction"
            and record.get("invocation_id") == invocation.invocation_id
        ):
            yield (OBSERVATIONS, "records", index), record


def _placement(invocation: Invocation, record: JsonDict) -> tuple[int, bool] | None:
    """Where a compaction goes in the conversation: before the first item whose `id` is its
    `first_kept_item_id`, or, when there is none, before the first user message holding
    its summary (Claude Code's continuation message), with whether that message shows the
    summary; else None."""
    kept, summary = record.get("first_kept_item_id"), record.get("summary")
    items = [item if isinstance(item, dict) else {} for item in invocation.conversation]
    if isinstance(kept, str):
        for position, item in enumerate(items):
            if item.get("id") == kept:
                return position, False
    if isinstance(summary, str) and summary:
        for position, item in enumerate(items):
            if item.get("role") == "user" and item.get("content") == summary:
                return position, True
    return None


def compaction_marker(record: JsonDict, summary_follows: bool) -> str:
    """`[context compaction (TRIGGER): B tokens before, A after]`, then the summary (R89)."""
    trigger = record.get("trigger")
    head = "context compaction" + (f" ({trigger})" if isinstance(trigger, str) else "")
    counts = [
        f"{value} tokens {label}"
        for label, value in (
            ("before", record.get("tokens_before")),
            ("after", record.get("tokens_after")),
        )
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    text = f"[{head}" + (f": {', '.join(counts)}" if counts else "") + "]"
    summary = record.get("summary")
    if summary_follows:
        return text + " The summary the model was given is the next message."
    return text + (f"\n\n{summary}" if isinstance(summary, str) and summary else "")


def _placed_compactions(
    invocation: Invocation, row: JsonDict, copy: JsonCopier
) -> list[tuple[int, str, JsonDict]]:
    """Each compaction placed in the conversation: its position, marker and source item."""
    placed = []
    for loc, record in _compaction_records(invocation, row):
        where = _placement(invocation, record)
        if where is None:
            continue
        for key in ("trigger", "summary"):  # R41: the marker's text
            if isinstance(record.get(key), str):
                copy.text(record[key], loc + (key,))
        source = {
            "origin": OBSERVATIONS,
            "source_item_type": "context_compaction",
            "source_record_index": loc[-1],
        }
        placed.append((where[0], compaction_marker(record, where[1]), source))
    placed.sort(key=lambda entry: entry[0])
    return placed


def _unplaced_compactions(invocation: Invocation, row: JsonDict, copy: JsonCopier) -> JsonDict:
    """`{"compactions": [...]}`: the invocation's compactions that no item places (R89)."""
    unplaced = [
        copy(
            {k: v for k, v in record.items() if k not in ("kind", "invocation_id")}, loc, prune=True
        )
        for loc, record in _compaction_records(invocation, row)
        if _placement(invocation, record) is None
    ]
    return {"compactions": unplaced} if unplaced else {}


# --- the facts of an invocation (R87) -------------------------------------------------------


def _facts(
    invocation: Invocation,
    trajectory: TrajectoryRecord,
    calls: CallIndex,
    positions: list[int],
    copy: JsonCopier,
    moved_tools: set[int],
) -> JsonDict:
    """The group's metadata: the invocation's members (its conversation aside), the spawning
    tool call's name, whether its parent was observed, its token stats, and its tool calls
    and gaps, moved from the trajectory's arrays."""
    record = {k: v for k, v in invocation.record.items() if k not in _MOVED_TO_GROUP}
    facts: JsonDict = copy(record, invocation.loc, prune=True)
    if invocation.parent_id is not None and trajectory.invocation(invocation.parent_id) is None:
        facts["parent_observed"] = False
    tool_name = _spawning_tool(invocation, trajectory)
    if tool_name is not None:
        facts["spawned_by_tool_name"] = tool_name
    stats = calls.token_stats(positions)
    if stats:
        facts["token_stats"] = stats
    tools = _own_tool_calls(invocation, trajectory, copy, moved_tools)
    if tools:
        facts["tool_calls"] = tools
    gaps = [
        copy(
            {k: v for k, v in gap.items() if k != "invocation_id"},
            TRAJECTORY + ("gaps", index),
            prune=True,
        )
        for index, gap in enumerate(trajectory.arrays["gaps"])
        if gap.get("invocation_id") == invocation.invocation_id
    ]
    if gaps:
        facts["gaps"] = gaps
    return facts


def _spawning_tool(invocation: Invocation, trajectory: TrajectoryRecord) -> str | None:
    """The name of the tool call that spawned the invocation: the parent's `function_call`
    of that `call_id`, else the trajectory's tool call of that id."""
    call_id = invocation.record.get("spawned_by_tool_call_id")
    if not isinstance(call_id, str):
        return None
    parent = trajectory.invocation(invocation.parent_id)
    for item in parent.conversation if parent is not None else []:
        if (
            isinstance(item, dict)
            and item.get("type") == "function_call"
            and item.get("call_id") == call_id
        ):
            name = item.get("name")
            if isinstance(name, str) and name:
                return name
    for tool in trajectory.arrays["tool_calls"]:
        if tool.get("tool_call_id") == call_id and isinstance(tool.get("tool_name"), str):
            return str(tool["tool_name"])
    return None


def _own_tool_calls(
    invocation: Invocation, trajectory: TrajectoryRecord, copy: JsonCopier, moved: set[int]
) -> list[JsonDict]:
    """The invocation's tool calls (timing, status), without the invocation id and without
    an `output` its conversation shows (a `function_call_output` of that call id)."""
    shown = {
        item.get("call_id"): item.get("output")
        for item in invocation.conversation
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    }
    tools = []
    for index, tool in enumerate(trajectory.arrays["tool_calls"]):
        if tool.get("invocation_id") != invocation.invocation_id:
            continue
        call_id = tool.get("tool_call_id")
        drop = {"kind", "invocation_id"}
        if "output" in tool and call_id in shown and shown[call_id] == tool["output"]:
            drop.add("output")
        rest = {k: v for k, v in tool.items() if k not in drop}
        tools.append(copy(rest, TRAJECTORY + ("tool_calls", index), prune=True))
        moved.add(index)
    return tools


def _rest(
    trajectory: TrajectoryRecord, rendered_calls: set[int], moved_tools: set[int], copy: JsonCopier
) -> JsonDict:
    """The trajectory's members that no transcript or group holds (R89): all but the
    invocations, the rendered model calls, the moved tool calls and the invocations' gaps."""
    observed = {invocation.invocation_id for invocation in trajectory.invocations}
    kept: dict[str, set[int]] = {
        "model_calls": set(range(len(trajectory.arrays["model_calls"]))) - rendered_calls,
        "tool_calls": set(range(len(trajectory.arrays["tool_calls"]))) - moved_tools,
        "gaps": {
            index
            for index, gap in enumerate(trajectory.arrays["gaps"])
            if gap.get("invocation_id") not in observed or gap.get("invocation_id") is None
        },
    }
    rest: JsonDict = {}
    for key, value in trajectory.record.items():
        if key == "invocations":
            continue
        if key in kept:
            elements = [
                copy(element, TRAJECTORY + (key, index), prune=True)
                for index, element in enumerate(value)
                if index in kept[key]
            ]
            rest[key] = elements
        else:
            rest[key] = copy(value, TRAJECTORY + (key,), prune=True)
    return pruned(rest)


def _observations_rest(
    row: JsonDict, trajectory: TrajectoryRecord, moved_tools: set[int], copy: JsonCopier
) -> Any:
    """`ng_agent_observations` without what the trajectory repeats of it (R89): of each
    `agent_invocation` record of an observed invocation, and of each `tool_call` record a
    group holds, only its kind, ids and the members whose value differs; None when it
    repeats nothing."""
    bundle = row.get(OBSERVATIONS)
    records = bundle.get("records") if isinstance(bundle, dict) else None
    if not isinstance(bundle, dict) or not isinstance(records, list):
        return None
    invocations = {
        invocation.invocation_id: invocation.record for invocation in trajectory.invocations
    }
    tools = {
        (tool.get("invocation_id"), tool.get("tool_call_id")): tool
        for index, tool in enumerate(trajectory.arrays["tool_calls"])
        if index in moved_tools
    }
    kept = [_without_repeated(record, invocations, tools) for record in records]
    if all(new is old for new, old in zip(kept, records, strict=True)):
        return None
    return copy({**bundle, "records": kept}, (OBSERVATIONS,), prune=True)


_RECORD_IDS = {
    "agent_invocation": ("kind", "invocation_id"),
    "tool_call": ("kind", "invocation_id", "tool_call_id"),
}


def _without_repeated(
    record: Any, invocations: dict[str, JsonDict], tools: dict[tuple[Any, Any], JsonDict]
) -> Any:
    """A bundle record without the members its trajectory counterpart repeats (R89)."""
    if not isinstance(record, dict) or record.get("kind") not in _RECORD_IDS:
        return record
    ids = _RECORD_IDS[record["kind"]]
    key = record.get("invocation_id")
    if record["kind"] == "agent_invocation":
        counterpart = invocations.get(key) if isinstance(key, str) else None
    else:
        counterpart = tools.get((key, record.get("tool_call_id")))
    if counterpart is None:
        return record
    rest = {
        name: value
        for name, value in record.items()
        if name in ids or name not in counterpart or counterpart[name] != value
    }
    return record if len(rest) == len(record) else rest
