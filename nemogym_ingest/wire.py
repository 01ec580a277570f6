"""Docent's wire payload, built directly: the objects conversion makes, in the member order
of the model's fields (`model`), with unset optional members left out and no ids.

Conversion builds these and the CLI writes them as they are; `model.run_from_payload`
makes the library's `AgentRun` from one, and `AgentRun.to_dict()` gives it back.
`normalize_payload` takes a payload Docent's model wrote back to this layout (the
conformance runner, the Docent oracle and the tests compare with it).

Rules: R46.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunPayload:
    """A converted row: its AgentRun's wire payload, and whether the payload holds a float
    that orjson writes otherwise than `json` (`JsonCopier.tiny_float`; see `output`)."""

    payload: JsonDict
    tiny_float: bool


def system_message(content: str) -> JsonDict:
    return {"content": content, "role": "system"}


def user_message(content: str) -> JsonDict:
    return {"content": content, "role": "user"}


def assistant_message(content: str | list[JsonDict], tool_calls: list[JsonDict]) -> JsonDict:
    """An assistant turn; `tool_calls` is left out when there are none."""
    if tool_calls:
        return {"content": content, "tool_calls": tool_calls, "role": "assistant"}
    return {"content": content, "role": "assistant"}


def tool_message(content: str, tool_call_id: str, function: str | None) -> JsonDict:
    """A tool message; without `function` when no call names one (R90)."""
    if function is None:
        return {"content": content, "tool_call_id": tool_call_id, "role": "tool"}
    return {"content": content, "tool_call_id": tool_call_id, "function": function, "role": "tool"}


def tool_call(call_id: str, function: str, arguments: JsonDict) -> JsonDict:
    return {"id": call_id, "function": function, "arguments": arguments, "type": "function"}


def text_block(text: str) -> JsonDict:
    return {"text": text, "type": "text"}


def reasoning_block(reasoning: str, summary: str | None, signature: str | None) -> JsonDict:
    """A reasoning block; with a `signature` (encrypted reasoning's ciphertext) a redacted one."""
    block: JsonDict = {"reasoning": reasoning}
    if summary is not None:
        block["summary"] = summary
    if signature is not None:
        block["signature"] = signature
        block["redacted"] = True
    block["type"] = "reasoning"
    return block


def transcript(name: str, messages: list[JsonDict], metadata: JsonDict) -> JsonDict:
    return {"name": name, "messages": messages, "metadata": metadata}


def transcript_group(
    group_id: str, name: str, metadata: JsonDict, parent_id: str | None
) -> JsonDict:
    """A transcript group with a local id; `parent_transcript_group_id` only when it has a
    parent (R87)."""
    group: JsonDict = {"id": group_id, "name": name, "metadata": metadata}
    if parent_id is not None:
        group["parent_transcript_group_id"] = parent_id
    return group


def agent_run(name: str, transcripts: list[JsonDict], metadata: JsonDict) -> JsonDict:
    return {"name": name, "transcripts": transcripts, "metadata": metadata}


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
