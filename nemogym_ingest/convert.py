"""NeMo Gym rollout -> Docent AgentRun. Each rule of spec/README.md lives in one place here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConversionError, Loc
from .jsonvalue import (
    MAX_NESTING,
    NotAllJson,
    copy_json,
    json_truthy,
    nested_too_deeply,
    own_json,
    parse_json_text,
    require_text,
)
from .model import (
    AgentRun,
    AssistantMessage,
    ChatMessage,
    Content,
    ContentReasoning,
    ContentText,
    JsonDict,
    SystemMessage,
    ToolCall,
    ToolMessage,
    Transcript,
    UserMessage,
)
from .options import OPTION_HINTS, ConversionOptions, IndexSource

SCHEMA = "nemo_gym_rollout"
RESERVED_TOP_LEVEL_KEYS = frozenset(
    {
        "responses_create_params",
        "response",
        "reward",
        "_ng_task_index",
        "_ng_rollout_index",
        "agent_ref",
    }
)
MESSAGE_ROLES = ("developer", "system", "user", "assistant")
TEXT_PART_TYPES = ("input_text", "output_text")
SUMMARY_PART_TYPES = ("summary_text", "text")
ITEM_TYPES = ("message", "reasoning", "function_call", "function_call_output")
MEDIA_PART_TYPES = ("input_image", "input_file", "input_audio", "input_video")
EMPTY_ROLLOUT_TEXT = "This rollout has no messages: it holds no input or output items."

_STRICT = ConversionOptions()

_ABSENT: Any = object()
"""Stands for an absent member (`mapping.get(key, _ABSENT)`): "is missing", not "got null"."""


def _describe(value: Any) -> str:
    """A short, JSON-flavoured description of `value` for error messages."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _one_of(options: tuple[str, ...]) -> str:
    quoted = [repr(option) for option in options]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _wrong(expected: str, value: Any) -> str:
    """The reason a required `value` is not `expected`: absent, or of another kind."""
    return "is missing" if value is _ABSENT else f"must be {expected}, got {_describe(value)}"


def _require_object(value: Any, loc: Loc, rule: str) -> JsonDict:
    if not isinstance(value, dict):
        raise ConversionError(_wrong("an object", value), loc, rule=rule)
    return value


def _require_array(value: Any, loc: Loc, rule: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConversionError(_wrong("an array", value), loc, rule=rule)
    return value


def _require_string(value: Any, loc: Loc, rule: str) -> str:
    if not isinstance(value, str):
        raise ConversionError(_wrong("a string", value), loc, rule=rule)
    return require_text(str(value), loc)


def _require_non_empty_string(value: Any, loc: Loc, rule: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConversionError(_wrong("a non-empty string", value), loc, rule=rule)
    return require_text(str(value), loc)


def _require_choice(value: Any, options: tuple[str, ...], loc: Loc, rule: str) -> str:
    text = _require_string(value, loc, rule)
    if text not in options:
        raise ConversionError(f"must be {_one_of(options)}, got {_describe(text)}", loc, rule=rule)
    return text


def _require_index(value: Any, loc: Loc) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError(f"must be an integer, got {_describe(value)}", loc, rule="R10")
    return int(copy_json(value, loc))


def _rescued_by(option: str) -> str:
    """The end of a reason naming the option that would resolve it (R70)."""
    return "; " + OPTION_HINTS[option].text()


def _pruned(mapping: JsonDict) -> JsonDict:
    """`mapping` without members whose value is null, `""`, `[]` or `{}` (values already pruned)."""
    return {
        key: value
        for key, value in mapping.items()
        if value or (value is not None and type(value) in _KEPT_FALSY)
    }


_KEPT_FALSY = (bool, int, float)
"""The kinds whose falsy values (`false`, `0`, `0.0`) pruning keeps (R40)."""


# --- the pending assistant turn (rules R30-R33) ---------------------------------------


@dataclass
class _ReasoningBlock:
    """Consecutive readable reasoning items of a turn (R31, R33), or one redacted item (R74)."""

    reasoning: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    signature: str | None = None

    def to_content(self) -> ContentReasoning | None:
        reasoning = "\n\n".join(part for part in self.reasoning if part)
        if not reasoning and self.signature is None:
            return None
        summary = "\n\n".join(part for part in self.summaries if part) or None
        if self.signature is None:
            return ContentReasoning(reasoning=reasoning, summary=summary)
        return ContentReasoning(
            reasoning=reasoning, summary=summary, signature=self.signature, redacted=True
        )


@dataclass
class _AssistantTurn:
    """Assistant-side items waiting to become one AssistantMessage, in item order."""

    reasoning: list[_ReasoningBlock] = field(default_factory=list)
    text: str = ""
    has_message: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    source_items: list[JsonDict] = field(default_factory=list)

    def add_reasoning(self, reasoning: str, summary: str, signature: str | None) -> None:
        """Join readable reasoning to the turn's last readable block; a redacted item
        (with a `signature`) gets a block of its own."""
        if signature is None and self.reasoning and self.reasoning[-1].signature is None:
            block = self.reasoning[-1]
        else:
            block = _ReasoningBlock(signature=signature)
            self.reasoning.append(block)
        block.reasoning.append(reasoning)
        block.summaries.append(summary)

    def to_message(self) -> AssistantMessage:
        blocks = [block.to_content() for block in self.reasoning]
        reasoning: list[Content] = [block for block in blocks if block is not None]
        content: str | list[Content] = self.text
        if reasoning:
            content = reasoning
            if self.text:
                content.append(ContentText(text=self.text))
        return AssistantMessage(content=content, tool_calls=self.tool_calls or None)


@dataclass
class _Transcript:
    """Messages and their `message_details`, built item by item."""

    options: ConversionOptions
    copy: Callable[..., Any]
    """How values are copied into the output: `copy_json`, or `own_json` on the trusted path."""
    messages: list[ChatMessage] = field(default_factory=list)
    details: list[JsonDict] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)
    turn: _AssistantTurn = field(default_factory=_AssistantTurn)
    tool_calls: dict[tuple[str, str], str] = field(default_factory=dict)
    """Generic tool calls declared so far: (item type, id) -> function (R25)."""
    redacted_items: int = 0
    media_parts: int = 0
    think_splits: int = 0
    generic_items: int = 0

    def emit(self, message: ChatMessage, source_items: list[JsonDict]) -> None:
        self.messages.append(message)
        origin = source_items[0]["origin"]
        self.details.append(
            {
                "role": message.role,
                "origin": origin,
                "source_item_count": len(source_items),
                "source_item_types": [item["source_item_type"] for item in source_items],
                "source_items": source_items,
            }
        )

    def flush_turn(self) -> None:
        """Emit the pending assistant turn, if any (R30)."""
        if self.turn.source_items:
            self.emit(self.turn.to_message(), self.turn.source_items)
            self.turn = _AssistantTurn()


# --- items (rules R10-R27) -------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_MEDIA_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "input_image": (("image_url",), ("file_id",)),
    "input_file": (("filename",), ("file_url",), ("file_id",), ("file_data",)),
    "input_audio": (("input_audio", "format"), ("input_audio", "data")),
    "input_video": (("video_url",), ("file_id",)),
}
"""Where each media part type names its source, in the order its marker lists them (R75)."""

_INLINE_DATA_FIELDS = ("file_data", "data")


def _base64_size(data: str) -> int:
    """Bytes encoded by base64 text of this length (trailing `=` padding aside)."""
    return len(data.rstrip("=")) * 3 // 4


def _media_source(field_name: str, value: str) -> str:
    """A media source for a marker: URLs and ids as given, inline data by type and size."""
    if value.startswith("data:") and "," in value:
        header, payload = value.split(",", 1)
        if header.endswith(";base64"):
            return f"{header} ({_plural(_base64_size(payload), 'byte')})"
        return f"{header} ({_plural(len(payload), 'character')})"
    if field_name in _INLINE_DATA_FIELDS:
        return f"base64 ({_plural(_base64_size(value), 'byte')})"
    return value


def _media_marker(part_type: str, part: JsonDict) -> str:
    """The text standing for a media part: `[input_image: https://...]` (R75)."""
    sources: list[tuple[str, Any]] = []
    for field_path in _MEDIA_SOURCES[part_type]:
        value: Any = part
        for name in field_path:
            value = value.get(name) if isinstance(value, dict) else None
        sources.append((field_path[-1], value))
    return _marker(part_type, sources)


def _marker(kind: str, sources: list[tuple[str, Any]]) -> str:
    """`[kind: SOURCES]` of the non-empty string sources (field name, value), or `[kind]`
    (R75, R27)."""
    shown = [
        _media_source(name, value) for name, value in sources if isinstance(value, str) and value
    ]
    return f"[{kind}: {', '.join(shown)}]" if shown else f"[{kind}]"


def _message_content(content: Any, loc: Loc, out: _Transcript) -> tuple[str, JsonDict]:
    """The text of a message's `content` and the facts about its parts (R13-R15, R75)."""
    if isinstance(content, str):
        return require_text(str(content), loc), {}
    if not isinstance(content, list):
        raise ConversionError(
            _wrong("a string or an array of content parts", content), loc, rule="R13"
        )
    texts: list[str] = []
    part_types: list[str] = []
    media_parts: list[Any] = []
    has_refusal = has_annotations = has_logprobs = False
    for index, raw_part in enumerate(content):
        part_loc = loc + (index,)
        part = _require_object(raw_part, part_loc, "R13")
        part_type = _require_string(part.get("type", _ABSENT), part_loc + ("type",), "R13")
        part_types.append(part_type)
        if part_type in TEXT_PART_TYPES:
            texts.append(_require_string(part.get("text", _ABSENT), part_loc + ("text",), "R13"))
            has_annotations = (
                json_truthy(part.get("annotations"), part_loc + ("annotations",)) or has_annotations
            )
            has_logprobs = (
                json_truthy(part.get("logprobs"), part_loc + ("logprobs",)) or has_logprobs
            )
        elif part_type == "refusal":
            has_refusal = True
            texts.append(
                _require_string(part.get("refusal", _ABSENT), part_loc + ("refusal",), "R13")
            )
        elif part_type in MEDIA_PART_TYPES and out.options.media == "placeholder":
            texts.append(_media_marker(part_type, part))
            media_parts.append(out.copy(part, part_loc, prune=True))
            out.media_parts += 1
        else:
            reason = (
                f"must be {_one_of(TEXT_PART_TYPES + ('refusal',))}, got {_describe(part_type)}"
            )
            option = "media" if part_type in MEDIA_PART_TYPES else None
            raise ConversionError(
                reason + (_rescued_by(option) if option else ""),
                part_loc + ("type",),
                rule="R13",
                option=option,
            )
    facts = {
        "content_part_types": part_types,
        "contains_refusal_part": has_refusal,
        "contains_annotations": has_annotations,
        "contains_logprobs": has_logprobs,
        "media_parts": media_parts,
    }
    return "".join(texts), _pruned(facts)


def _message_item(item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript) -> None:
    original_role = _require_choice(
        item.get("role", _ABSENT), MESSAGE_ROLES, loc + ("role",), "R12"
    )
    text, facts = _message_content(item.get("content", _ABSENT), loc + ("content",), out)
    _record_string_member(item, "phase", loc, detail)
    if original_role == "assistant":
        detail.update(facts)
        turn = out.turn
        if turn.has_message or turn.tool_calls:  # D2: a second text never glues on
            out.flush_turn()
            turn = out.turn
        if out.options.think_tags == "reasoning":
            split = split_think_tags(text)
            if split is not None:
                reasoning, text = split
                turn.add_reasoning(reasoning, "", None)
                detail["think_tags_split"] = True
                out.think_splits += 1
        turn.text = text
        turn.has_message = True
        turn.source_items.append(detail)
        return
    out.flush_turn()
    if original_role == "developer":
        detail["original_role"] = original_role
    detail.update(facts)
    message = UserMessage(content=text) if original_role == "user" else SystemMessage(content=text)
    out.emit(message, [detail])


def _record_string_member(item: JsonDict, key: str, loc: Loc, detail: JsonDict) -> None:
    """Record a non-null string `item[key]` (a message's `phase`, a call's `namespace`) in
    the item's `message_details` entry; any other present value is rejected (R48)."""
    value = item.get(key)
    if value is None:
        return
    detail[key] = _require_string(value, loc + (key,), "R48")


_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def split_think_tags(text: str) -> tuple[str, str] | None:
    """`(reasoning, answer)` of assistant text holding its reasoning inline (R76): a leading
    `<think>…</think>` block, or leading text up to a first `</think>` with no opening tag.
    The reasoning is trimmed, the answer loses the whitespace after the tag (JSON whitespace
    only). None when the text holds no such block."""
    end = text.find(_THINK_CLOSE)
    if end < 0:
        return None
    head = text[:end]
    stripped = head.lstrip(_JSON_WHITESPACE)
    opened = stripped.startswith(_THINK_OPEN)
    reasoning = stripped[len(_THINK_OPEN) :] if opened else head
    if _THINK_OPEN in reasoning:  # an opening tag that does not lead the text
        return None
    answer = text[end + len(_THINK_CLOSE) :]
    return reasoning.strip(_JSON_WHITESPACE), answer.lstrip(_JSON_WHITESPACE)


_JSON_WHITESPACE = " \t\n\r"
"""The whitespace R76 trims: JSON's, not Unicode's (a no-break space stays)."""


def _text_parts(
    parts: list[Any], loc: Loc, allowed_types: tuple[str, ...], rule: str
) -> tuple[list[str], list[str]]:
    """The types and the non-empty texts of an array of `{type, text}` parts."""
    types: list[str] = []
    texts: list[str] = []
    for index, raw_part in enumerate(parts):
        part_loc = loc + (index,)
        part = _require_object(raw_part, part_loc, rule)
        types.append(
            _require_choice(part.get("type", _ABSENT), allowed_types, part_loc + ("type",), rule)
        )
        text = _require_string(part.get("text", _ABSENT), part_loc + ("text",), rule)
        if text:
            texts.append(text)
    return types, texts


def _reasoning_item(item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript) -> None:
    encrypted_loc = loc + ("encrypted_content",)
    signature: str | None = None
    if json_truthy(item.get("encrypted_content"), encrypted_loc):
        if out.options.encrypted_reasoning != "redact":
            raise ConversionError(
                "encrypted reasoning cannot be converted: Docent stores only readable reasoning"
                + _rescued_by("encrypted_reasoning"),
                encrypted_loc,
                rule="R16",
                option="encrypted_reasoning",
            )
        signature = _require_string(item["encrypted_content"], encrypted_loc, "R16")
    summary_loc = loc + ("summary",)
    summary_types, summary_texts = _text_parts(
        _require_array(item.get("summary", _ABSENT), summary_loc, "R17"),
        summary_loc,
        SUMMARY_PART_TYPES,
        "R17",
    )
    content_loc = loc + ("content",)
    raw_content = item.get("content")
    if raw_content is not None and not isinstance(raw_content, list):
        raise ConversionError(
            f"must be an array of reasoning_text parts or null, got {_describe(raw_content)}",
            content_loc,
            rule="R18",
        )
    content_types, content_texts = _text_parts(
        raw_content or [], content_loc, ("reasoning_text",), "R18"
    )
    detail.update(
        _pruned({"summary_item_types": summary_types, "content_part_types": content_types})
    )

    turn = out.turn
    if turn.has_message or turn.tool_calls:  # D2: reasoning never moves before earlier text
        out.flush_turn()
        turn = out.turn
    summary = "\n".join(summary_texts)
    if content_texts:  # D1: the chain of thought itself, the summary beside it
        turn.add_reasoning("\n".join(content_texts), summary, signature)
    else:
        turn.add_reasoning(summary, "", signature)
    if signature is not None:
        out.redacted_items += 1
    turn.source_items.append(detail)


def _tool_arguments(raw: Any, loc: Loc, copy: Callable[..., Any], rule: str = "R20") -> JsonDict:
    if isinstance(raw, str):
        too_deep = f"must be a JSON text nested at most {MAX_NESTING} levels deep"
        try:
            parsed = parse_json_text(raw)
        except RecursionError:  # a parser's limit, far above ours
            raise ConversionError(too_deep, loc, rule=rule) from None
        except ValueError as error:
            detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise ConversionError(f"must be valid JSON ({detail})", loc, rule=rule) from None
        if nested_too_deeply(raw.encode("utf-8", "surrogatepass")):  # never built (R20)
            raise ConversionError(too_deep, loc, rule=rule)
        if not isinstance(parsed, dict):
            raise ConversionError(
                f"must parse to a JSON object, got {_describe(parsed)}", loc, rule=rule
            )
        checked: JsonDict = copy_json(parsed, loc)  # parsed here, never vouched for
        return checked
    elif not isinstance(raw, dict):
        raise ConversionError(_wrong("a JSON object or a string holding one", raw), loc, rule=rule)
    arguments: JsonDict = copy(raw, loc)
    return arguments


def _function_call_item(item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript) -> None:
    arguments_loc = loc + ("arguments",)
    raw = item.get("arguments", _ABSENT)
    arguments = _tool_arguments(raw, arguments_loc, out.copy)
    call_id = _require_non_empty_string(item.get("call_id", _ABSENT), loc + ("call_id",), "R21")
    name = _require_non_empty_string(item.get("name", _ABSENT), loc + ("name",), "R21")
    _record_string_member(item, "namespace", loc, detail)
    out.call_names[call_id] = name
    raw_arguments = out.copy(raw, arguments_loc, prune=True)
    detail.update(_pruned({"call_id": call_id, "tool_name": name, "raw_arguments": raw_arguments}))
    out.turn.tool_calls.append(ToolCall(id=call_id, function=name, arguments=arguments))
    out.turn.source_items.append(detail)


def _function_call_output_item(
    item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript
) -> None:
    out.flush_turn()
    call_id_loc = loc + ("call_id",)
    call_id = _require_non_empty_string(item.get("call_id", _ABSENT), call_id_loc, "R22")
    function = out.call_names.get(call_id)
    if function is None:
        raise ConversionError(
            f"no earlier function_call of this rollout has call_id {_describe(call_id)}",
            call_id_loc,
            rule="R22",
        )
    output_loc = loc + ("output",)
    if "output" not in item:
        raise ConversionError("is missing", output_loc, rule="R22")
    output = _output_value_text(item["output"], output_loc, out)
    detail["call_id"] = call_id
    out.emit(ToolMessage(content=output, tool_call_id=call_id, function=function), [detail])


# --- hosted and custom tool items (rules R24-R28, option R78) -------------------------


@dataclass(frozen=True)
class _ToolItemShape:
    """How one hosted or custom tool item type converts with `tool_items="generic"`."""

    kind: Literal["call", "output", "note"]
    arguments: tuple[str, ...] = ()
    """A call's members gathered, when present and not null, into its arguments object."""
    parsed_arguments: bool = False
    """A call whose `arguments` member is the arguments, as a function_call's (R20)."""
    named: bool = False
    """A call whose `name` is the function (else the function is the item type)."""
    outputs: tuple[str, ...] = ()
    """The members holding the output: an output item's, or those a call carries itself."""
    answers: str = ""
    """An output item: the type of the call it answers."""
    reference: str = "call_id"
    """An output item: the member naming the call it answers."""


TOOL_ITEM_SHAPES: dict[str, _ToolItemShape] = {
    "custom_tool_call": _ToolItemShape("call", arguments=("input",), named=True),
    "custom_tool_call_output": _ToolItemShape(
        "output", outputs=("output",), answers="custom_tool_call"
    ),
    "web_search_call": _ToolItemShape("call", arguments=("action",)),
    "file_search_call": _ToolItemShape("call", arguments=("queries",), outputs=("results",)),
    "code_interpreter_call": _ToolItemShape(
        "call", arguments=("code", "container_id"), outputs=("outputs",)
    ),
    "image_generation_call": _ToolItemShape(
        "call",
        arguments=("action", "revised_prompt", "size", "quality", "background", "output_format"),
        outputs=("result", "error"),
    ),
    "local_shell_call": _ToolItemShape("call", arguments=("action",)),
    "local_shell_call_output": _ToolItemShape(
        "output", outputs=("output",), answers="local_shell_call"
    ),
    "shell_call": _ToolItemShape("call", arguments=("action",)),
    "shell_call_output": _ToolItemShape("output", outputs=("output",), answers="shell_call"),
    "apply_patch_call": _ToolItemShape("call", arguments=("operation",)),
    "apply_patch_call_output": _ToolItemShape(
        "output", outputs=("output",), answers="apply_patch_call"
    ),
    "computer_call": _ToolItemShape("call", arguments=("action", "actions")),
    "computer_call_output": _ToolItemShape("output", outputs=("output",), answers="computer_call"),
    "mcp_call": _ToolItemShape(
        "call", parsed_arguments=True, named=True, outputs=("output", "error")
    ),
    "mcp_list_tools": _ToolItemShape("note"),
    "mcp_approval_request": _ToolItemShape("call", parsed_arguments=True, named=True),
    "mcp_approval_response": _ToolItemShape(
        "output",
        outputs=("approve", "reason"),
        answers="mcp_approval_request",
        reference="approval_request_id",
    ),
    "tool_search_call": _ToolItemShape("call", parsed_arguments=True),
    "tool_search_output": _ToolItemShape("output", outputs=("tools",), answers="tool_search_call"),
    "compaction": _ToolItemShape("note"),
}
"""Every item type `tool_items="generic"` converts, and how (R24-R27)."""


def _present(item: JsonDict, names: tuple[str, ...]) -> list[str]:
    """The members of `names` that `item` holds with a value other than null."""
    return [name for name in names if item.get(name) is not None]


def _call_id(item: JsonDict, loc: Loc, rule: str) -> tuple[str, Loc]:
    """A generic call's id, or the call an output item answers: its `call_id`, or its
    `id` when `call_id` is absent or null (R24, R25)."""
    key = "call_id" if item.get("call_id") is not None else "id"
    value = item.get(key, _ABSENT)
    if value is _ABSENT and key == "id":
        raise ConversionError("is missing (and so is id)", loc + ("call_id",), rule=rule)
    return _require_non_empty_string(value, loc + (key,), rule), loc + (key,)


def _media_output_marker(
    kind: str, sources: list[tuple[str, Any]], loc: Loc, out: _Transcript
) -> str:
    """A marker for a media output (R27), as R75 writes a media part's; needs `media`."""
    if out.options.media != "placeholder":
        raise ConversionError(
            f"a {kind} output cannot be converted: Docent stores only text" + _rescued_by("media"),
            loc,
            rule="R27",
            option="media",
        )
    out.media_parts += 1
    return _marker(kind, sources)


def _output_value_text(value: Any, loc: Loc, out: _Transcript) -> str:
    """A tool output as text (R23): a string as it is, any other value as its JSON text
    with sorted keys and ASCII escapes. Used by function_call_output and every tool item."""
    if isinstance(value, str):
        return require_text(str(value), loc)
    return json.dumps(out.copy(value, loc), ensure_ascii=True, sort_keys=True)


def _tool_output_text(
    item_type: str, item: JsonDict, fields: list[str], loc: Loc, out: _Transcript
) -> str:
    """The tool message text of an item's output members `fields` (R27)."""
    if item_type == "custom_tool_call_output" and isinstance(item["output"], list):
        text, _ = _message_content(item["output"], loc + ("output",), out)
        return text
    if item_type == "computer_call_output":
        screenshot = _require_object(item["output"], loc + ("output",), "R27")
        sources = [(name, screenshot.get(name)) for name in ("image_url", "file_id")]
        return _media_output_marker("computer_screenshot", sources, loc + ("output",), out)
    if item_type == "image_generation_call" and "result" in fields:
        result_loc = loc + ("result",)
        marker = _media_output_marker(
            "image_generation_call",
            [("data", _require_string(item["result"], result_loc, "R27"))],
            result_loc,
            out,
        )
        if "error" not in fields:
            return marker
        return marker + "\n" + _output_value_text(item["error"], loc + ("error",), out)
    if item_type == "code_interpreter_call":
        return _code_interpreter_outputs(item["outputs"], loc + ("outputs",), out)
    if len(fields) == 1:
        return _output_value_text(item[fields[0]], loc + (fields[0],), out)
    return _output_value_text({name: item[name] for name in fields}, loc, out)


def _code_interpreter_outputs(raw: Any, loc: Loc, out: _Transcript) -> str:
    """Code interpreter `outputs`: logs as they are, images as media markers (R27)."""
    texts: list[str] = []
    for index, raw_output in enumerate(_require_array(raw, loc, "R27")):
        output_loc = loc + (index,)
        output = _require_object(raw_output, output_loc, "R27")
        kind = _require_choice(
            output.get("type", _ABSENT), ("logs", "image"), output_loc + ("type",), "R27"
        )
        if kind == "logs":
            texts.append(
                _require_string(output.get("logs", _ABSENT), output_loc + ("logs",), "R27")
            )
        else:
            texts.append(
                _media_output_marker("image", [("url", output.get("url"))], output_loc, out)
            )
    return "\n".join(texts)


def _generic_call(
    item_type: str,
    shape: _ToolItemShape,
    item: JsonDict,
    detail: JsonDict,
    loc: Loc,
    out: _Transcript,
) -> None:
    """A hosted or custom tool call: an assistant tool call, and the tool message of the
    output it carries, if any (R24, R26)."""
    if shape.parsed_arguments:
        arguments = _tool_arguments(
            item.get("arguments", _ABSENT), loc + ("arguments",), out.copy, "R24"
        )
    else:
        arguments = {
            name: out.copy(item[name], loc + (name,)) for name in _present(item, shape.arguments)
        }
    call_id, _ = _call_id(item, loc, "R24")
    function = item_type
    if shape.named:
        function = _require_non_empty_string(item.get("name", _ABSENT), loc + ("name",), "R24")
    out.tool_calls[(item_type, call_id)] = function
    server = out.copy(item.get("server_label"), loc + ("server_label",), prune=True)
    detail.update(_pruned({"call_id": call_id, "tool_name": function, "server_label": server}))
    turn = out.turn
    turn.tool_calls.append(ToolCall(id=call_id, function=function, arguments=arguments))
    turn.source_items.append(detail)
    fields = _present(item, shape.outputs)
    if fields:
        text = _tool_output_text(item_type, item, fields, loc, out)
        out.flush_turn()
        output_detail = {**detail, "output_members": fields}
        out.emit(
            ToolMessage(content=text, tool_call_id=call_id, function=function), [output_detail]
        )


def _generic_output(
    item_type: str,
    shape: _ToolItemShape,
    item: JsonDict,
    detail: JsonDict,
    loc: Loc,
    out: _Transcript,
) -> None:
    """The output item of a hosted or custom tool call: a tool message answering it (R25)."""
    out.flush_turn()
    if shape.reference == "call_id":
        call_id, reference_loc = _call_id(item, loc, "R25")
    else:
        reference_loc = loc + (shape.reference,)
        call_id = _require_non_empty_string(
            item.get(shape.reference, _ABSENT), reference_loc, "R25"
        )
    function = out.tool_calls.get((shape.answers, call_id))
    if function is None:
        raise ConversionError(
            f"no earlier {shape.answers} of this rollout has id {_describe(call_id)}",
            reference_loc,
            rule="R25",
        )
    fields = _present(item, shape.outputs)
    text = _tool_output_text(item_type, item, fields, loc, out) if fields else ""
    detail["call_id"] = call_id
    out.emit(ToolMessage(content=text, tool_call_id=call_id, function=function), [detail])


def _generic_note(
    item_type: str, item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript
) -> None:
    """`compaction` and `mcp_list_tools`: a system note of what the item says (R26)."""
    out.flush_turn()
    if item_type == "compaction":
        content = _require_string(
            item.get("encrypted_content", _ABSENT), loc + ("encrypted_content",), "R26"
        )
        text = (
            "[compaction: the conversation before this point was compacted into encrypted "
            f"content ({_plural(len(content), 'character')}) that cannot be read]"
        )
    else:
        server = _require_string(item.get("server_label", _ABSENT), loc + ("server_label",), "R26")
        tools_loc = loc + ("tools",)
        names = []
        for index, raw_tool in enumerate(
            _require_array(item.get("tools", _ABSENT), tools_loc, "R26")
        ):
            tool = _require_object(raw_tool, tools_loc + (index,), "R26")
            names.append(
                _require_string(tool.get("name", _ABSENT), tools_loc + (index, "name"), "R26")
            )
        text = f"[mcp_list_tools: server {server} lists {_plural(len(names), 'tool')}"
        text += f": {', '.join(names)}]" if names else "]"
        error = item.get("error")
        if error is not None:
            text += " error: " + _output_value_text(error, loc + ("error",), out)
        detail["server_label"] = server
    out.emit(SystemMessage(content=text), [detail])


def _generic_item(
    item_type: str, item: JsonDict, detail: JsonDict, loc: Loc, out: _Transcript
) -> None:
    shape = TOOL_ITEM_SHAPES[item_type]
    out.generic_items += 1
    if shape.kind == "call":
        _generic_call(item_type, shape, item, detail, loc, out)
    elif shape.kind == "output":
        _generic_output(item_type, shape, item, detail, loc, out)
    else:
        _generic_note(item_type, item, detail, loc, out)


_ItemConverter = Callable[[JsonDict, JsonDict, Loc, _Transcript], None]

_ITEM_CONVERTERS: dict[str, _ItemConverter] = {
    "message": _message_item,
    "reasoning": _reasoning_item,
    "function_call": _function_call_item,
    "function_call_output": _function_call_output_item,
}


def _item_detail(
    item: JsonDict, item_type: str, origin: str, loc: Loc, copy: Callable[..., Any]
) -> JsonDict:
    return _pruned(
        {
            "origin": origin,
            "source_item_type": item_type,
            "source_item_id": copy(item.get("id"), loc + ("id",), prune=True),
            "source_item_status": copy(item.get("status"), loc + ("status",), prune=True),
        }
    )


def _convert_items(items: list[Any], origin: str, prefix: Loc, out: _Transcript) -> None:
    for index, raw_item in enumerate(items):
        loc = prefix + (index,)
        item = _require_object(raw_item, loc, "R11")
        item_type = item.get("type", _ABSENT)
        if (item_type is None or item_type is _ABSENT) and "role" in item:
            item_type = "message"
        converter = _ITEM_CONVERTERS.get(item_type) if isinstance(item_type, str) else None
        if converter is None:
            if not isinstance(item_type, str) or item_type not in TOOL_ITEM_SHAPES:
                raise ConversionError(
                    _wrong(_one_of(ITEM_TYPES), item_type), loc + ("type",), rule="R11"
                )
            if out.options.tool_items != "generic":
                raise ConversionError(
                    f"must be {_one_of(ITEM_TYPES)}, got {_describe(item_type)}"
                    + _rescued_by("tool_items"),
                    loc + ("type",),
                    rule="R11",
                    option="tool_items",
                )
            detail = _item_detail(item, item_type, origin, loc, out.copy)
            _generic_item(item_type, item, detail, loc, out)
            continue
        detail = _item_detail(item, str(item_type), origin, loc, out.copy)
        converter(item, detail, loc, out)
    out.flush_turn()  # a turn never spans the input and the output


# --- the rollout (rules R1-R9, R40-R45) -------------------------------------------------


_INPUT: Loc = ("responses_create_params", "input")
_OUTPUT: Loc = ("response", "output")


def _input_items(raw_input: Any) -> list[Any]:
    if isinstance(raw_input, str):
        content = require_text(str(raw_input), _INPUT)
        return [{"role": "user", "content": content, "type": "message"}]
    return _require_array(raw_input, _INPUT, "R6")


def _is_transitions(output_items: list[Any]) -> bool:
    """Whether `response.output` holds transition snapshots: a non-empty array of arrays (R73)."""
    return bool(output_items) and all(isinstance(item, list) for item in output_items)


def _absence(mapping: JsonDict, key: str) -> str | None:
    """How `mapping[key]` is missing (absent or null), or None when it is present (R71, R72)."""
    if key not in mapping:
        return "is missing"
    return "is null" if mapping[key] is None else None


def _agent(row: JsonDict, options: ConversionOptions) -> tuple[str, JsonDict | None, bool]:
    """The agent's name, the `agent_ref` object (None when missing), and whether the name
    was supplied by `options.agent_name` (R10, R71)."""
    hint = _rescued_by("agent_name")
    absence = _absence(row, "agent_ref")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(absence + hint, ("agent_ref",), rule="R10", option="agent_name")
        return options.agent_name, None, True
    agent_ref = _require_object(row["agent_ref"], ("agent_ref",), "R10")
    absence = _absence(agent_ref, "name")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(
                absence + hint, ("agent_ref", "name"), rule="R10", option="agent_name"
            )
        return options.agent_name, agent_ref, True
    name = _require_non_empty_string(agent_ref["name"], ("agent_ref", "name"), "R10")
    return name, agent_ref, False


def _index(
    row: JsonDict, key: str, option: str, source: IndexSource | None, line: int | None
) -> tuple[int, str | None]:
    """The index `row[key]`, or the one `source` supplies when it is missing, with how it
    was supplied (`"line 7"`, `"fixed 0"`) (R10, R72)."""
    absence = _absence(row, key)
    if absence is None:
        return _require_index(row[key], (key,)), None
    if source == "line" and line is not None:
        return line, f"line {line}"
    if isinstance(source, int):
        return source, f"fixed {source}"
    raise ConversionError(absence + _rescued_by(option), (key,), rule="R10", option=option)


def convert_nemogym_rollout_to_agent_run(
    rollout: Any, *, options: ConversionOptions | None = None
) -> AgentRun:
    """Convert one parsed NeMo Gym rollout into an AgentRun.

    Raises `ConversionError` (with the offending field's `path`) for anything that cannot
    be converted exactly. The rollout is never modified and shares nothing with the result.
    `options` (default: strict) say what to assume where the rollout is incomplete; a
    `"line"` index option needs a JSONL line, so it raises `ValueError` here.
    """
    options = _STRICT if options is None else options
    for option in ("task_index", "rollout_index"):
        if getattr(options, option) == "line":
            raise ValueError(
                f'{option}="line" needs a JSONL line number: read the file with '
                "iter_nemogym_jsonl, or pass a fixed integer"
            )
    return convert_rollout(rollout, options, line=None)


def convert_rollout(
    rollout: Any, options: ConversionOptions, line: int | None, *, owned: bool = False
) -> AgentRun:
    """Convert one rollout read from JSONL line `line` (None: not from a file) with `options`.

    `owned`: the rollout was just parsed by this package from a line that `all_json_line`
    vouched for, and nothing else holds it; its values are then used without checking or
    copying them (the trusted path). A caller's rollout is never owned (R47).
    """
    if owned:
        try:
            return _convert(rollout, options, line, own_json)
        except NotAllJson:  # a number the line could not vouch for: convert the checked way
            pass
    return _convert(rollout, options, line, copy_json)


def _convert(
    rollout: Any, options: ConversionOptions, line: int | None, copy: Callable[..., Any]
) -> AgentRun:
    row = _require_object(rollout, (), "R1")
    request = _require_object(
        row.get("responses_create_params", _ABSENT), ("responses_create_params",), "R2"
    )
    response = _require_object(row.get("response", _ABSENT), ("response",), "R3")
    if "input" not in request:
        raise ConversionError("is missing", _INPUT, rule="R4")
    if "output" not in response:
        raise ConversionError("is missing", _OUTPUT, rule="R5")
    input_items = _input_items(request["input"])
    output_items = _require_array(response["output"], _OUTPUT, "R7")

    out = _Transcript(options, copy)
    assumed: JsonDict = {}
    transitions = _is_transitions(output_items)
    if transitions and options.transitions == "final":
        final = len(output_items) - 1
        assumed["transitions"] = f"final of {_plural(len(output_items), 'snapshot')}"
        output_items = output_items[final]
        _convert_items(output_items, "output", _OUTPUT + (final,), out)
    else:
        _convert_items(input_items, "input", _INPUT, out)
        if transitions:
            raise ConversionError(
                "must be an object, got an array; response.output holds transition snapshots"
                " (arrays of items): " + OPTION_HINTS["transitions"].text(),
                _OUTPUT + (0,),
                rule="R11",
                option="transitions",
            )
        _convert_items(output_items, "output", _OUTPUT, out)
    if not out.messages:
        if options.empty_rollouts != "placeholder":
            raise ConversionError(
                "must produce at least one transcript message, but the rollout holds no items"
                + _rescued_by("empty_rollouts"),
                (),
                rule="R9",
                option="empty_rollouts",
            )
        out.messages.append(SystemMessage(content=EMPTY_ROLLOUT_TEXT))
        out.details.append({"role": "system", "origin": "placeholder", "source_item_count": 0})
        assumed["empty_rollouts"] = "placeholder message"
    if out.redacted_items:
        assumed["encrypted_reasoning"] = f"redacted {_plural(out.redacted_items, 'item')}"
    if out.media_parts:
        assumed["media"] = f"placeholder for {_plural(out.media_parts, 'part')}"
    if out.think_splits:
        assumed["think_tags"] = f"split {_plural(out.think_splits, 'message')}"
    if out.generic_items:
        assumed["tool_items"] = f"generic for {_plural(out.generic_items, 'item')}"

    agent_name, agent_ref, name_supplied = _agent(row, options)
    task_index, task_source = _index(row, "_ng_task_index", "task_index", options.task_index, line)
    rollout_index, rollout_source = _index(
        row, "_ng_rollout_index", "rollout_index", options.rollout_index, line
    )
    identity = {
        "agent_name": agent_name if name_supplied else None,
        "task_index": task_source,
        "rollout_index": rollout_source,
    }
    assumed = _pruned(identity) | assumed
    assumed = {name: assumed[name] for name in OPTION_HINTS if name in assumed}  # R70's order

    return AgentRun(
        name=f"{agent_name}/task/{task_index}/rollout/{rollout_index}",
        transcripts=[
            Transcript(
                name=agent_name,
                messages=out.messages,
                metadata=_transcript_metadata(
                    response, input_items, output_items, out.details, copy
                ),
            )
        ],
        metadata=_agent_run_metadata(
            row, request, response, agent_ref, task_index, rollout_index, assumed, copy
        ),
    )


def _transcript_metadata(
    response: JsonDict,
    input_items: list[Any],
    output_items: list[Any],
    message_details: list[JsonDict],
    copy: Callable[..., Any],
) -> JsonDict:
    def response_fact(key: str) -> Any:
        return copy(response.get(key), ("response", key), prune=True)

    source = _pruned(
        {
            "schema": SCHEMA,
            "response_id": response_fact("id"),
            "response_model": response_fact("model"),
            "response_created_at": response_fact("created_at"),
            "response_status": response_fact("status"),
            "input_item_count": len(input_items),
            "output_item_count": len(output_items),
        }
    )
    return {"source": source, "message_details": message_details}


def _agent_run_metadata(
    row: JsonDict,
    request: JsonDict,
    response: JsonDict,
    agent_ref: JsonDict | None,
    task_index: int,
    rollout_index: int,
    assumed: JsonDict,
    copy: Callable[..., Any],
) -> JsonDict:
    def copy_without(mapping: JsonDict, loc: Loc, excluded: str) -> JsonDict:
        # A non-string key is never compared (its __eq__ may raise): copy_json rejects it.
        rest = {
            key: value
            for key, value in mapping.items()
            if not (isinstance(key, str) and key == excluded)
        }
        copied: JsonDict = copy(rest, loc, prune=True)
        return copied

    benchmark_fields = {
        key: value
        for key, value in row.items()
        if key not in RESERVED_TOP_LEVEL_KEYS and value is not None
    }
    non_trace = _pruned(
        {
            "request": copy_without(request, ("responses_create_params",), "input"),
            "response": copy_without(response, ("response",), "output"),
            "benchmark_fields": copy(benchmark_fields, (), prune=True),
        }
    )
    metadata = {
        "scores": _pruned({"reward": copy(row.get("reward"), ("reward",), prune=True)}),
        "nemogym": _pruned(
            {
                "task_index": task_index,
                "rollout_index": rollout_index,
                "agent_ref": copy(agent_ref, ("agent_ref",), prune=True),
                "assumed": assumed,
            }
        ),
        "source": _pruned({"schema": SCHEMA, "rollout_non_trace": non_trace}),
    }
    return _pruned(metadata)
