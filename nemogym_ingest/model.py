"""Docent's AgentRun data model as plain dataclasses (dataclasses-json for the JSON side).

`to_dict()` gives Docent's wire payload: unset optional fields are omitted and there are
no ids (Docent assigns them). `from_dict()` reads such a payload back exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from dataclasses_json import DataClassJsonMixin, config

JsonDict = dict[str, Any]


def _omit_when_none() -> Any:
    return field(default=None, metadata=config(exclude=lambda value: value is None))


@dataclass
class ContentText(DataClassJsonMixin):
    """A text block of an assistant message."""

    text: str
    type: Literal["text"] = "text"


@dataclass
class ContentReasoning(DataClassJsonMixin):
    """A reasoning block; `summary` is set only when the model gave one beside its reasoning.

    A redacted block (`redacted=True`) holds encrypted reasoning: the ciphertext is its
    `signature`, `reasoning` the readable part (possibly `""`).
    """

    reasoning: str
    summary: str | None = _omit_when_none()
    signature: str | None = _omit_when_none()
    redacted: bool = field(default=False, metadata=config(exclude=lambda value: not value))
    type: Literal["reasoning"] = "reasoning"


Content = ContentText | ContentReasoning


def _decode_content(raw: str | list[JsonDict]) -> str | list[Content]:
    if isinstance(raw, str):
        return raw
    blocks: list[Content] = []
    for block in raw:
        kind = block.get("type")
        if kind == "text":
            blocks.append(ContentText.from_dict(block))
        elif kind == "reasoning":
            blocks.append(ContentReasoning.from_dict(block))
        else:
            raise ValueError(f"unknown content block type {kind!r}")
    return blocks


def _content_field() -> Any:
    return field(metadata=config(decoder=_decode_content))


@dataclass
class ToolCall(DataClassJsonMixin):
    """A function call made by the assistant; `id` is the rollout's `call_id`."""

    id: str
    function: str
    arguments: JsonDict
    type: Literal["function"] = "function"


@dataclass
class SystemMessage(DataClassJsonMixin):
    """A system (or developer) prompt."""

    content: str = _content_field()
    role: Literal["system"] = "system"


@dataclass
class UserMessage(DataClassJsonMixin):
    """A user turn."""

    content: str = _content_field()
    role: Literal["user"] = "user"


@dataclass
class AssistantMessage(DataClassJsonMixin):
    """One assistant turn: reasoning, then text, then tool calls."""

    content: str | list[Content] = _content_field()
    tool_calls: list[ToolCall] | None = _omit_when_none()
    role: Literal["assistant"] = "assistant"


@dataclass
class ToolMessage(DataClassJsonMixin):
    """A tool's output, answering the tool call `tool_call_id`."""

    content: str
    tool_call_id: str
    function: str
    role: Literal["tool"] = "tool"


ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage

_MESSAGE_CLASSES: dict[str, type[ChatMessage]] = {
    "system": SystemMessage,
    "user": UserMessage,
    "assistant": AssistantMessage,
    "tool": ToolMessage,
}


def _decode_messages(raw: list[JsonDict]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for message in raw:
        message_class = _MESSAGE_CLASSES.get(message.get("role", ""))
        if message_class is None:
            raise ValueError(f"unknown message role {message.get('role')!r}")
        messages.append(message_class.from_dict(message))
    return messages


@dataclass
class Transcript(DataClassJsonMixin):
    """The rollout's messages, named after the agent."""

    name: str
    messages: list[ChatMessage] = field(metadata=config(decoder=_decode_messages))
    metadata: JsonDict = field(default_factory=dict)


@dataclass
class AgentRun(DataClassJsonMixin):
    """One rollout as Docent stores it."""

    name: str
    transcripts: list[Transcript]
    metadata: JsonDict = field(default_factory=dict)


# --- the hot path: the wire payload built directly ------------------------------------

_FieldSpec = tuple[str, Callable[[Any], bool] | None]


def _field_specs(cls: type) -> list[_FieldSpec]:
    """Each field's name and its dataclasses-json `exclude` predicate, in declaration order."""
    return [
        (item.name, item.metadata.get("dataclasses_json", {}).get("exclude"))
        for item in fields(cls)
    ]


_FIELD_SPECS: dict[type, list[_FieldSpec]] = {
    cls: _field_specs(cls)
    for cls in (
        AgentRun,
        Transcript,
        SystemMessage,
        UserMessage,
        AssistantMessage,
        ToolMessage,
        ToolCall,
        ContentText,
        ContentReasoning,
    )
}


def _payload(value: Any) -> Any:
    specs = _FIELD_SPECS.get(type(value))
    if specs is None:
        if type(value) is list:
            return [_payload(element) for element in value]
        return value  # a string, a number, or JSON metadata (never holds a dataclass)
    payload: JsonDict = {}
    for name, exclude in specs:
        attribute = getattr(value, name)
        if exclude is not None and exclude(attribute):
            continue
        kind = type(attribute)
        payload[name] = attribute if kind is str or kind is dict else _payload(attribute)
    return payload


def wire_payload(run: AgentRun) -> JsonDict:
    """Exactly `run.to_dict()`, built directly and many times faster, for serializing at once.

    Unlike `to_dict()`, the payload shares its metadata and tool-call arguments with `run`:
    serialize it, do not modify it.
    """
    payload: JsonDict = _payload(run)
    return payload
