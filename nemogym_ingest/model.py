"""Docent's AgentRun data model as plain dataclasses (dataclasses-json for the JSON side).

`to_dict()` gives Docent's wire payload: unset optional fields are omitted and there are
no ids (Docent assigns them). `from_dict()` reads such a payload back exactly, and raises
`PayloadError` naming the field for a message role, content block or tool call type it
does not know. `run_from_payload` builds a run from a payload conversion made (`wire`,
which owns its layout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from dataclasses_json import DataClassJsonMixin, config

from .wire import JsonDict

_Model = TypeVar("_Model", bound=DataClassJsonMixin)


class PayloadError(ValueError):
    """A payload `AgentRun.from_dict` cannot read; `path` names the field in it
    (`transcripts[0].messages[2].role`)."""

    def __init__(self, reason: str, path: str) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}")

    def under(self, parent: str) -> PayloadError:
        """The same error with `parent` (the path of the object holding it) prefixed."""
        return PayloadError(self.reason, f"{parent}.{self.path}")


def _object_at(raw: Any, path: str) -> JsonDict:
    if not isinstance(raw, dict):
        raise PayloadError(f"must be an object, got {type(raw).__name__}", path)
    return raw


def _read(cls: type[_Model], raw: Any, path: str) -> _Model:
    """`cls.from_dict(raw)`, its errors named by path under `path`."""
    payload = _object_at(raw, path)
    try:
        return cls.from_dict(payload)
    except PayloadError as error:
        raise error.under(path) from None
    except KeyError as error:  # dataclasses-json's missing required field
        raise PayloadError("is missing", f"{path}.{error.args[0]}") from None


def _read_each(
    raw: list[Any], name: str, key: str, classes: dict[str, type[_Model]]
) -> list[_Model]:
    """Each element of the array `name`, read as the class its member `key` names."""
    read: list[_Model] = []
    for index, element in enumerate(raw):
        path = f"{name}[{index}]"
        kind = _known(_object_at(element, path), key, tuple(classes), path)
        read.append(_read(classes[kind], element, path))
    return read


def _known(raw: JsonDict, key: str, known: tuple[str, ...], path: str) -> str:
    """`raw[key]`, one of `known`; else a `PayloadError` at `path.key` listing them."""
    value = raw.get(key)
    if value in known:
        return str(value)
    names = [repr(name) for name in known]
    expected = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    found = "is missing" if key not in raw else f"unknown {key} {value!r}"
    raise PayloadError(f"{found}; expected {expected}", f"{path}.{key}")


class _WireModel(DataClassJsonMixin):
    """dataclasses-json's mixin, with `to_dict()` built from the wire payload (`_payload`)."""

    def to_dict(self, encode_json: bool = False) -> dict[str, Any]:
        """Docent's wire payload of this object, sharing nothing with it (a deep copy):
        exactly dataclasses-json's `to_dict`, which runs itself where a value is not plain
        JSON (a tuple, a set, a subclass, in a run built by hand)."""
        if not encode_json:
            try:
                payload: JsonDict = _copied_object(_payload(self))
            except _NotPlainJson:
                pass
            else:
                return payload
        return super().to_dict(encode_json=encode_json)


def _omit_when_none() -> Any:
    return field(default=None, metadata=config(exclude=lambda value: value is None))


@dataclass
class ContentText(_WireModel):
    """A text block of an assistant message."""

    text: str
    type: Literal["text"] = "text"


@dataclass
class ContentReasoning(_WireModel):
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


_CONTENT_CLASSES: dict[str, type[Content]] = {"text": ContentText, "reasoning": ContentReasoning}


def _decode_content(raw: str | list[Any]) -> str | list[Content]:
    if isinstance(raw, str):
        return raw
    return _read_each(raw, "content", "type", _CONTENT_CLASSES)


def _content_field() -> Any:
    return field(metadata=config(decoder=_decode_content))


@dataclass
class ToolCall(_WireModel):
    """A function call made by the assistant; `id` is the rollout's `call_id`."""

    id: str
    function: str
    arguments: JsonDict
    type: Literal["function"] = "function"


def _decode_tool_calls(raw: list[Any]) -> list[ToolCall]:  # a null stays None without a call
    calls: list[ToolCall] = []
    for index, call in enumerate(raw):
        path = f"tool_calls[{index}]"
        _known(_object_at(call, path), "type", ("function",), path)
        calls.append(_read(ToolCall, call, path))
    return calls


@dataclass
class SystemMessage(_WireModel):
    """A system (or developer) prompt."""

    content: str = _content_field()
    role: Literal["system"] = "system"


@dataclass
class UserMessage(_WireModel):
    """A user turn."""

    content: str = _content_field()
    role: Literal["user"] = "user"


@dataclass
class AssistantMessage(_WireModel):
    """One assistant turn: reasoning, then text, then tool calls."""

    content: str | list[Content] = _content_field()
    tool_calls: list[ToolCall] | None = field(
        default=None,
        metadata=config(exclude=lambda value: value is None, decoder=_decode_tool_calls),
    )
    role: Literal["assistant"] = "assistant"


@dataclass
class ToolMessage(_WireModel):
    """A tool's output, answering the tool call `tool_call_id` (`function` is None for an
    output no call made, R90)."""

    content: str
    tool_call_id: str
    function: str | None = _omit_when_none()
    role: Literal["tool"] = "tool"


ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage

_MESSAGE_CLASSES: dict[str, type[ChatMessage]] = {
    "system": SystemMessage,
    "user": UserMessage,
    "assistant": AssistantMessage,
    "tool": ToolMessage,
}


def _decode_messages(raw: list[Any]) -> list[ChatMessage]:
    return _read_each(raw, "messages", "role", _MESSAGE_CLASSES)


@dataclass
class Transcript(_WireModel):
    """The rollout's messages, named after the agent; `transcript_group_id` (the local id
    of its group, R87) only for a transcript of a trajectory's invocation."""

    name: str
    messages: list[ChatMessage] = field(metadata=config(decoder=_decode_messages))
    metadata: JsonDict = field(default_factory=dict)
    transcript_group_id: str | None = _omit_when_none()


@dataclass
class TranscriptGroup(_WireModel):
    """An agent invocation of a trajectory (R87): its local id, name, facts and parent's id."""

    id: str
    name: str
    metadata: JsonDict = field(default_factory=dict)
    parent_transcript_group_id: str | None = _omit_when_none()


def _decode_groups(raw: list[Any]) -> list[TranscriptGroup]:
    return [
        _read(TranscriptGroup, group, f"transcript_groups[{index}]")
        for index, group in enumerate(raw)
    ]


def _decode_transcripts(raw: list[Any]) -> list[Transcript]:
    return [
        _read(Transcript, transcript, f"transcripts[{index}]")
        for index, transcript in enumerate(raw)
    ]


@dataclass
class AgentRun(_WireModel):
    """One rollout as Docent stores it."""

    name: str
    transcripts: list[Transcript] = field(metadata=config(decoder=_decode_transcripts))
    metadata: JsonDict = field(default_factory=dict)
    transcript_groups: list[TranscriptGroup] = field(
        default_factory=list,
        metadata=config(exclude=lambda value: not value, decoder=_decode_groups),
    )


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
        TranscriptGroup,
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


class _NotPlainJson(Exception):
    """A value `to_dict` leaves to dataclasses-json, which turns it into JSON its own way."""


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _copied_object(value: JsonDict) -> JsonDict:
    copied: JsonDict = {}
    for key, child in value.items():
        kind = type(child)
        if kind is dict:
            copied[key] = _copied_object(child)
        elif kind is list:
            copied[key] = _copied_array(child)
        elif kind in _JSON_SCALARS:
            copied[key] = child
        else:
            raise _NotPlainJson
    return copied


def _copied_array(value: list[Any]) -> list[Any]:
    copied: list[Any] = []
    for item in value:
        kind = type(item)
        if kind is dict:
            copied.append(_copied_object(item))
        elif kind is list:
            copied.append(_copied_array(item))
        elif kind in _JSON_SCALARS:
            copied.append(item)
        else:
            raise _NotPlainJson
    return copied


def wire_payload(run: AgentRun) -> JsonDict:
    """Exactly `run.to_dict()`, built directly and many times faster, for serializing at once.

    Unlike `to_dict()`, the payload shares its metadata and tool-call arguments with `run`:
    serialize it, do not modify it.
    """
    payload: JsonDict = _payload(run)
    return payload


# --- the library's view of a converted payload --------------------------------------


def _content(raw: str | list[JsonDict]) -> str | list[Content]:
    if isinstance(raw, str):
        return raw
    return [
        ContentText(text=block["text"])
        if block["type"] == "text"
        else ContentReasoning(
            reasoning=block["reasoning"],
            summary=block.get("summary"),
            signature=block.get("signature"),
            redacted=block.get("redacted", False),
        )
        for block in raw
    ]


def _message(raw: JsonDict) -> ChatMessage:
    role = raw["role"]
    if role == "assistant":
        calls = raw.get("tool_calls")
        return AssistantMessage(
            content=_content(raw["content"]),
            tool_calls=None
            if calls is None
            else [
                ToolCall(id=c["id"], function=c["function"], arguments=c["arguments"])
                for c in calls
            ],
        )
    if role == "tool":
        return ToolMessage(
            content=raw["content"], tool_call_id=raw["tool_call_id"], function=raw.get("function")
        )
    return (
        UserMessage(content=raw["content"])
        if role == "user"
        else SystemMessage(content=raw["content"])
    )


def run_from_payload(payload: JsonDict) -> AgentRun:
    """The AgentRun of a wire payload built by conversion (`wire`), sharing its metadata and
    arguments; `wire_payload` of it is equal to `payload`."""
    return AgentRun(
        name=payload["name"],
        transcripts=[
            Transcript(
                name=transcript["name"],
                messages=[_message(message) for message in transcript["messages"]],
                metadata=transcript["metadata"],
                transcript_group_id=transcript.get("transcript_group_id"),
            )
            for transcript in payload["transcripts"]
        ],
        metadata=payload["metadata"],
        transcript_groups=[
            TranscriptGroup(
                id=group["id"],
                name=group["name"],
                metadata=group["metadata"],
                parent_transcript_group_id=group.get("parent_transcript_group_id"),
            )
            for group in payload.get("transcript_groups", ())
        ],
    )
