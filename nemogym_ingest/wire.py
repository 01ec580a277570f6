"""Docent's wire payload, built directly: the objects conversion makes, in the member order
of the model's fields (`model`), with unset optional members left out and no ids.

Conversion builds these and the CLI writes them as they are; `model.run_from_payload`
makes the library's `AgentRun` from one, and `AgentRun.to_dict()` gives it back.

Rules: R46.
"""

from __future__ import annotations

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


def tool_message(content: str, tool_call_id: str, function: str) -> JsonDict:
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
