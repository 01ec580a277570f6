"""NeMo Gym rollout -> Docent AgentRun. Each rule of spec/README.md lives in one place here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConversionError, index_path, key_path
from .jsonvalue import MAX_NESTING, copy_json, json_truthy, parse_json_text, require_text
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
from .options import ConversionOptions, IndexSource

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

_STRICT = ConversionOptions()

# Nesting levels (rollout = 1) of the values copied into the output (rule R41).
_TOP_LEVEL = 2
_ITEM_FIELD_LEVEL = 5


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


def _require_object(value: Any, path: str) -> JsonDict:
    if not isinstance(value, dict):
        raise ConversionError(f"must be an object, got {_describe(value)}", path)
    return value


def _require_array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConversionError(f"must be an array, got {_describe(value)}", path)
    return value


def _require_string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ConversionError(f"must be a string, got {_describe(value)}", path)
    return require_text(str(value), path)


def _require_non_empty_string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConversionError(f"must be a non-empty string, got {_describe(value)}", path)
    return require_text(str(value), path)


def _require_choice(value: Any, options: tuple[str, ...], path: str) -> str:
    text = _require_string(value, path)
    if text not in options:
        raise ConversionError(f"must be {_one_of(options)}, got {_describe(text)}", path)
    return text


def _require_index(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError(f"must be an integer, got {_describe(value)}", path)
    return int(copy_json(value, path, _TOP_LEVEL))


def _pruned(mapping: JsonDict) -> JsonDict:
    """`mapping` without members whose value is null, `""`, `[]` or `{}` (values already pruned)."""
    return {key: value for key, value in mapping.items() if value not in (None, "", [], {})}


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
    messages: list[ChatMessage] = field(default_factory=list)
    details: list[JsonDict] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)
    turn: _AssistantTurn = field(default_factory=_AssistantTurn)
    item_field_level: int = _ITEM_FIELD_LEVEL
    """Nesting level of the fields of the items being converted (R41)."""
    redacted_items: int = 0
    media_parts: int = 0

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
    sources: list[str] = []
    for field_path in _MEDIA_SOURCES[part_type]:
        value: Any = part
        for name in field_path:
            value = value.get(name) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            sources.append(_media_source(field_path[-1], value))
    return f"[{part_type}: {', '.join(sources)}]" if sources else f"[{part_type}]"


def _message_content(content: Any, path: str, out: _Transcript) -> tuple[str, JsonDict]:
    """The text of a message's `content` and the facts about its parts (R13-R15, R75)."""
    if isinstance(content, str):
        return require_text(str(content), path), {}
    if not isinstance(content, list):
        raise ConversionError(
            f"must be a string or an array of content parts, got {_describe(content)}", path
        )
    texts: list[str] = []
    part_types: list[str] = []
    media_parts: list[Any] = []
    has_refusal = has_annotations = has_logprobs = False
    for index, raw_part in enumerate(content):
        part_path = index_path(path, index)
        part = _require_object(raw_part, part_path)
        part_type = _require_string(part.get("type"), key_path(part_path, "type"))
        part_types.append(part_type)
        if part_type in TEXT_PART_TYPES:
            texts.append(_require_string(part.get("text"), key_path(part_path, "text")))
            has_annotations = (
                json_truthy(part.get("annotations"), key_path(part_path, "annotations"))
                or has_annotations
            )
            has_logprobs = (
                json_truthy(part.get("logprobs"), key_path(part_path, "logprobs")) or has_logprobs
            )
        elif part_type == "refusal":
            has_refusal = True
            texts.append(_require_string(part.get("refusal"), key_path(part_path, "refusal")))
        elif part_type in MEDIA_PART_TYPES and out.options.media == "placeholder":
            texts.append(_media_marker(part_type, part))
            media_parts.append(copy_json(part, part_path, out.item_field_level + 1, prune=True))
            out.media_parts += 1
        else:
            reason = f"must be {_one_of((*TEXT_PART_TYPES, 'refusal'))}, got {_describe(part_type)}"
            if part_type in MEDIA_PART_TYPES:
                reason += (
                    '; pass media="placeholder" / --media placeholder'
                    " to replace media parts with text markers"
                )
            raise ConversionError(reason, key_path(part_path, "type"))
    facts = {
        "content_part_types": part_types,
        "contains_refusal_part": has_refusal,
        "contains_annotations": has_annotations,
        "contains_logprobs": has_logprobs,
        "media_parts": media_parts,
    }
    return "".join(texts), _pruned(facts)


def _message_item(item: JsonDict, detail: JsonDict, path: str, out: _Transcript) -> None:
    original_role = _require_choice(item.get("role"), MESSAGE_ROLES, key_path(path, "role"))
    text, facts = _message_content(item.get("content"), key_path(path, "content"), out)
    if original_role == "assistant":
        detail.update(facts)
        turn = out.turn
        if turn.has_message or turn.tool_calls:  # D2: a second text never glues on
            out.flush_turn()
            turn = out.turn
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


def _text_parts(
    parts: list[Any], path: str, allowed_types: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """The types and the non-empty texts of an array of `{type, text}` parts."""
    types: list[str] = []
    texts: list[str] = []
    for index, raw_part in enumerate(parts):
        part_path = index_path(path, index)
        part = _require_object(raw_part, part_path)
        types.append(_require_choice(part.get("type"), allowed_types, key_path(part_path, "type")))
        text = _require_string(part.get("text"), key_path(part_path, "text"))
        if text:
            texts.append(text)
    return types, texts


def _reasoning_item(item: JsonDict, detail: JsonDict, path: str, out: _Transcript) -> None:
    encrypted_path = key_path(path, "encrypted_content")
    signature: str | None = None
    if json_truthy(item.get("encrypted_content"), encrypted_path):
        if out.options.encrypted_reasoning != "redact":
            raise ConversionError(
                "encrypted reasoning cannot be converted: Docent stores only readable reasoning;"
                ' pass encrypted_reasoning="redact" / --encrypted-reasoning redact'
                " to keep it as redacted reasoning",
                encrypted_path,
            )
        signature = _require_string(item["encrypted_content"], encrypted_path)
    summary_path = key_path(path, "summary")
    summary_types, summary_texts = _text_parts(
        _require_array(item.get("summary"), summary_path), summary_path, SUMMARY_PART_TYPES
    )
    content_path = key_path(path, "content")
    raw_content = item.get("content")
    if raw_content is not None and not isinstance(raw_content, list):
        raise ConversionError(
            f"must be an array of reasoning_text parts or null, got {_describe(raw_content)}",
            content_path,
        )
    content_types, content_texts = _text_parts(raw_content or [], content_path, ("reasoning_text",))
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


def _tool_arguments(raw: Any, path: str, level: int) -> JsonDict:
    if isinstance(raw, str):
        try:
            parsed = parse_json_text(raw)
        except (ValueError, RecursionError) as error:
            if isinstance(error, RecursionError):  # a parser's limit, far above ours (R41)
                reason = f"nested deeper than {MAX_NESTING} levels"
            else:
                detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
                reason = f"must be valid JSON ({detail})"
            raise ConversionError(reason, path) from None
        if not isinstance(parsed, dict):
            raise ConversionError(f"must parse to a JSON object, got {_describe(parsed)}", path)
        raw = parsed
    elif not isinstance(raw, dict):
        raise ConversionError(
            f"must be a JSON object or a string holding one, got {_describe(raw)}", path
        )
    arguments: JsonDict = copy_json(raw, path, level)
    return arguments


def _function_call_item(item: JsonDict, detail: JsonDict, path: str, out: _Transcript) -> None:
    arguments_path = key_path(path, "arguments")
    if "arguments" not in item:
        raise ConversionError("is required", arguments_path)
    arguments = _tool_arguments(item["arguments"], arguments_path, out.item_field_level)
    call_id = _require_non_empty_string(item.get("call_id"), key_path(path, "call_id"))
    name = _require_non_empty_string(item.get("name"), key_path(path, "name"))
    out.call_names[call_id] = name
    raw_arguments = copy_json(item["arguments"], arguments_path, out.item_field_level, prune=True)
    detail.update(_pruned({"call_id": call_id, "tool_name": name, "raw_arguments": raw_arguments}))
    out.turn.tool_calls.append(ToolCall(id=call_id, function=name, arguments=arguments))
    out.turn.source_items.append(detail)


def _function_call_output_item(
    item: JsonDict, detail: JsonDict, path: str, out: _Transcript
) -> None:
    out.flush_turn()
    call_id_path = key_path(path, "call_id")
    call_id = _require_non_empty_string(item.get("call_id"), call_id_path)
    function = out.call_names.get(call_id)
    if function is None:
        raise ConversionError(
            f"no earlier function_call of this rollout has call_id {_describe(call_id)}",
            call_id_path,
        )
    output_path = key_path(path, "output")
    if "output" not in item:
        raise ConversionError("is required", output_path)
    output = item["output"]
    if isinstance(output, str):
        output = require_text(str(output), output_path)
    else:
        output = json.dumps(
            copy_json(output, output_path, out.item_field_level), ensure_ascii=True, sort_keys=True
        )
    detail["call_id"] = call_id
    out.emit(ToolMessage(content=str(output), tool_call_id=call_id, function=function), [detail])


_ItemConverter = Callable[[JsonDict, JsonDict, str, _Transcript], None]

_ITEM_CONVERTERS: dict[str, _ItemConverter] = {
    "message": _message_item,
    "reasoning": _reasoning_item,
    "function_call": _function_call_item,
    "function_call_output": _function_call_output_item,
}


def _item_detail(item: JsonDict, item_type: str, origin: str, path: str, level: int) -> JsonDict:
    return _pruned(
        {
            "origin": origin,
            "source_item_type": item_type,
            "source_item_id": copy_json(item.get("id"), key_path(path, "id"), level, prune=True),
            "source_item_status": copy_json(
                item.get("status"), key_path(path, "status"), level, prune=True
            ),
        }
    )


def _convert_items(items: list[Any], origin: str, prefix: str, out: _Transcript) -> None:
    for index, raw_item in enumerate(items):
        path = index_path(prefix, index)
        item = _require_object(raw_item, path)
        item_type = item.get("type")
        if item_type is None and "role" in item:
            item_type = "message"
        converter = _ITEM_CONVERTERS.get(item_type) if isinstance(item_type, str) else None
        if converter is None:
            raise ConversionError(
                f"must be {_one_of(ITEM_TYPES)}, got {_describe(item_type)}",
                key_path(path, "type"),
            )
        detail = _item_detail(item, str(item_type), origin, path, out.item_field_level)
        converter(item, detail, path, out)
    out.flush_turn()  # a turn never spans the input and the output


# --- the rollout (rules R1-R9, R40-R45) -------------------------------------------------


def _input_items(raw_input: Any) -> list[Any]:
    if isinstance(raw_input, str):
        content = require_text(str(raw_input), "responses_create_params.input")
        return [{"role": "user", "content": content, "type": "message"}]
    return _require_array(raw_input, "responses_create_params.input")


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
    hint = "; pass agent_name=NAME / --agent-name NAME to supply the agent's name"
    absence = _absence(row, "agent_ref")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(absence + hint, "agent_ref")
        return options.agent_name, None, True
    agent_ref = _require_object(row["agent_ref"], "agent_ref")
    absence = _absence(agent_ref, "name")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(absence + hint, "agent_ref.name")
        return options.agent_name, agent_ref, True
    return _require_non_empty_string(agent_ref["name"], "agent_ref.name"), agent_ref, False


def _index(
    row: JsonDict, key: str, option: str, source: IndexSource | None, line: int | None
) -> tuple[int, str | None]:
    """The index `row[key]`, or the one `source` supplies when it is missing, with how it
    was supplied (`"line 7"`, `"fixed 0"`) (R10, R72)."""
    absence = _absence(row, key)
    if absence is None:
        return _require_index(row[key], key), None
    if source == "line" and line is not None:
        return line, f"line {line}"
    if isinstance(source, int):
        return source, f"fixed {source}"
    flag = "--" + option.replace("_", "-")
    raise ConversionError(
        f'{absence}; pass {option}="line" or an integer / {flag} line|N to supply it', key
    )


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


def convert_rollout(rollout: Any, options: ConversionOptions, line: int | None) -> AgentRun:
    """Convert one rollout read from JSONL line `line` (None: not from a file) with `options`."""
    row = _require_object(rollout, "")
    request = _require_object(row.get("responses_create_params"), "responses_create_params")
    response = _require_object(row.get("response"), "response")
    if "input" not in request:
        raise ConversionError("is required", "responses_create_params.input")
    if "output" not in response:
        raise ConversionError("is required", "response.output")
    input_items = _input_items(request["input"])
    output_items = _require_array(response["output"], "response.output")

    out = _Transcript(options)
    assumed: JsonDict = {}
    transitions = _is_transitions(output_items)
    if transitions and options.transitions == "final":
        final = len(output_items) - 1
        assumed["transitions"] = f"final of {_plural(len(output_items), 'snapshot')}"
        output_items = output_items[final]
        out.item_field_level += 1
        _convert_items(output_items, "output", index_path("response.output", final), out)
    else:
        _convert_items(input_items, "input", "responses_create_params.input", out)
        if transitions:
            raise ConversionError(
                "must be an object, got an array; response.output holds transition snapshots"
                ' (arrays of items): pass transitions="final" / --transitions final to convert'
                " the last snapshot",
                "response.output[0]",
            )
        _convert_items(output_items, "output", "response.output", out)
    if not out.messages:
        raise ConversionError("must produce at least one transcript message", "")
    if out.redacted_items:
        assumed["encrypted_reasoning"] = f"redacted {_plural(out.redacted_items, 'item')}"
    if out.media_parts:
        assumed["media"] = f"placeholder for {_plural(out.media_parts, 'part')}"

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

    return AgentRun(
        name=f"{agent_name}/task/{task_index}/rollout/{rollout_index}",
        transcripts=[
            Transcript(
                name=agent_name,
                messages=out.messages,
                metadata=_transcript_metadata(response, input_items, output_items, out.details),
            )
        ],
        metadata=_agent_run_metadata(
            row, request, response, agent_ref, task_index, rollout_index, assumed
        ),
    )


def _transcript_metadata(
    response: JsonDict,
    input_items: list[Any],
    output_items: list[Any],
    message_details: list[JsonDict],
) -> JsonDict:
    def response_fact(key: str) -> Any:
        return copy_json(response.get(key), key_path("response", key), 3, prune=True)

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
) -> JsonDict:
    def copy_without(mapping: JsonDict, path: str, excluded: str) -> JsonDict:
        # A non-string key is never compared (its __eq__ may raise): copy_json rejects it.
        rest = {
            key: value
            for key, value in mapping.items()
            if not (isinstance(key, str) and key == excluded)
        }
        copied: JsonDict = copy_json(rest, path, _TOP_LEVEL, prune=True)
        return copied

    benchmark_fields = {
        key: value
        for key, value in row.items()
        if key not in RESERVED_TOP_LEVEL_KEYS and value is not None
    }
    non_trace = _pruned(
        {
            "request": copy_without(request, "responses_create_params", "input"),
            "response": copy_without(response, "response", "output"),
            "benchmark_fields": copy_json(benchmark_fields, "", 1, prune=True),
        }
    )
    metadata = {
        "scores": _pruned(
            {"reward": copy_json(row.get("reward"), "reward", _TOP_LEVEL, prune=True)}
        ),
        "nemogym": _pruned(
            {
                "task_index": task_index,
                "rollout_index": rollout_index,
                "agent_ref": copy_json(agent_ref, "agent_ref", _TOP_LEVEL, prune=True),
                "assumed": assumed,
            }
        ),
        "source": _pruned({"schema": SCHEMA, "rollout_non_trace": non_trace}),
    }
    return _pruned(metadata)
