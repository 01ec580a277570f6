"""NeMo Gym rollout -> Docent AgentRun. Each rule of spec/README.md lives in one place here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConversionError, index_path, key_path
from .jsonvalue import copy_json
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
    return str(value)


def _require_non_empty_string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConversionError(f"must be a non-empty string, got {_describe(value)}", path)
    return str(value)


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
class _AssistantTurn:
    """Assistant-side items waiting to become one AssistantMessage, in item order."""

    reasoning: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    text: str = ""
    has_message: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    source_items: list[JsonDict] = field(default_factory=list)

    def to_message(self) -> AssistantMessage:
        reasoning = "\n\n".join(part for part in self.reasoning if part)
        content: str | list[Content] = self.text
        if reasoning:
            summary = "\n\n".join(part for part in self.summaries if part) or None
            content = [ContentReasoning(reasoning=reasoning, summary=summary)]
            if self.text:
                content.append(ContentText(text=self.text))
        return AssistantMessage(content=content, tool_calls=self.tool_calls or None)


@dataclass
class _Transcript:
    """Messages and their `message_details`, built item by item."""

    messages: list[ChatMessage] = field(default_factory=list)
    details: list[JsonDict] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)
    turn: _AssistantTurn = field(default_factory=_AssistantTurn)

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


def _message_content(content: Any, path: str) -> tuple[str, JsonDict]:
    """The text of a message's `content` and the facts about its parts (R13-R15)."""
    if isinstance(content, str):
        return str(content), {}
    if not isinstance(content, list):
        raise ConversionError(
            f"must be a string or an array of content parts, got {_describe(content)}", path
        )
    texts: list[str] = []
    part_types: list[str] = []
    has_refusal = has_annotations = has_logprobs = False
    for index, raw_part in enumerate(content):
        part_path = index_path(path, index)
        part = _require_object(raw_part, part_path)
        part_type = _require_string(part.get("type"), key_path(part_path, "type"))
        part_types.append(part_type)
        if part_type in TEXT_PART_TYPES:
            texts.append(_require_string(part.get("text"), key_path(part_path, "text")))
            has_annotations = has_annotations or bool(part.get("annotations"))
            has_logprobs = has_logprobs or bool(part.get("logprobs"))
        elif part_type == "refusal":
            has_refusal = True
            texts.append(_require_string(part.get("refusal"), key_path(part_path, "refusal")))
        else:
            raise ConversionError(
                f"must be {_one_of((*TEXT_PART_TYPES, 'refusal'))}, got {_describe(part_type)}",
                key_path(part_path, "type"),
            )
    facts = {
        "content_part_types": part_types,
        "contains_refusal_part": has_refusal,
        "contains_annotations": has_annotations,
        "contains_logprobs": has_logprobs,
    }
    return "".join(texts), _pruned(facts)


def _message_item(item: JsonDict, detail: JsonDict, path: str, out: _Transcript) -> None:
    original_role = _require_choice(item.get("role"), MESSAGE_ROLES, key_path(path, "role"))
    text, facts = _message_content(item.get("content"), key_path(path, "content"))
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
    if item.get("encrypted_content"):
        raise ConversionError(
            "encrypted reasoning cannot be converted: Docent stores only readable reasoning",
            key_path(path, "encrypted_content"),
        )
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
        turn.reasoning.append("\n".join(content_texts))
        turn.summaries.append(summary)
    else:
        turn.reasoning.append(summary)
    turn.source_items.append(detail)


def _tool_arguments(raw: Any, path: str) -> JsonDict:
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise ConversionError(f"must be valid JSON ({reason})", path) from None
        if not isinstance(parsed, dict):
            raise ConversionError(f"must parse to a JSON object, got {_describe(parsed)}", path)
        raw = parsed
    elif not isinstance(raw, dict):
        raise ConversionError(
            f"must be a JSON object or a string holding one, got {_describe(raw)}", path
        )
    arguments: JsonDict = copy_json(raw, path, _ITEM_FIELD_LEVEL)
    return arguments


def _function_call_item(item: JsonDict, detail: JsonDict, path: str, out: _Transcript) -> None:
    arguments_path = key_path(path, "arguments")
    if "arguments" not in item:
        raise ConversionError("is required", arguments_path)
    arguments = _tool_arguments(item["arguments"], arguments_path)
    call_id = _require_non_empty_string(item.get("call_id"), key_path(path, "call_id"))
    name = _require_non_empty_string(item.get("name"), key_path(path, "name"))
    out.call_names[call_id] = name
    raw_arguments = copy_json(item["arguments"], arguments_path, _ITEM_FIELD_LEVEL, prune=True)
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
    if not isinstance(output, str):
        output = json.dumps(
            copy_json(output, output_path, _ITEM_FIELD_LEVEL), ensure_ascii=True, sort_keys=True
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


def _item_detail(item: JsonDict, item_type: str, origin: str, path: str) -> JsonDict:
    level = _ITEM_FIELD_LEVEL
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
        converter(item, _item_detail(item, str(item_type), origin, path), path, out)
    out.flush_turn()  # a turn never spans the input and the output


# --- the rollout (rules R1-R9, R40-R45) -------------------------------------------------


def _input_items(raw_input: Any) -> list[Any]:
    if isinstance(raw_input, str):
        return [{"role": "user", "content": raw_input, "type": "message"}]
    return _require_array(raw_input, "responses_create_params.input")


def convert_nemogym_rollout_to_agent_run(rollout: Any) -> AgentRun:
    """Convert one parsed NeMo Gym rollout into an AgentRun.

    Raises `ConversionError` (with the offending field's `path`) for anything that cannot
    be converted exactly. The rollout is never modified and shares nothing with the result.
    """
    row = _require_object(rollout, "")
    request = _require_object(row.get("responses_create_params"), "responses_create_params")
    response = _require_object(row.get("response"), "response")
    if "input" not in request:
        raise ConversionError("is required", "responses_create_params.input")
    if "output" not in response:
        raise ConversionError("is required", "response.output")
    input_items = _input_items(request["input"])
    output_items = _require_array(response["output"], "response.output")

    out = _Transcript()
    _convert_items(input_items, "input", "responses_create_params.input", out)
    _convert_items(output_items, "output", "response.output", out)
    if not out.messages:
        raise ConversionError("must produce at least one transcript message", "")

    agent_ref = _require_object(row.get("agent_ref"), "agent_ref")
    agent_name = _require_non_empty_string(agent_ref.get("name"), "agent_ref.name")
    task_index = _require_index(row.get("_ng_task_index"), "_ng_task_index")
    rollout_index = _require_index(row.get("_ng_rollout_index"), "_ng_rollout_index")

    return AgentRun(
        name=f"{agent_name}/task/{task_index}/rollout/{rollout_index}",
        transcripts=[
            Transcript(
                name=agent_name,
                messages=out.messages,
                metadata=_transcript_metadata(response, input_items, output_items, out.details),
            )
        ],
        metadata=_agent_run_metadata(row, request, response, agent_ref, task_index, rollout_index),
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
    agent_ref: JsonDict,
    task_index: int,
    rollout_index: int,
) -> JsonDict:
    def copy_without(mapping: JsonDict, path: str, excluded: str) -> JsonDict:
        rest = {key: value for key, value in mapping.items() if key != excluded}
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
        "nemogym": {
            "task_index": task_index,
            "rollout_index": rollout_index,
            "agent_ref": copy_json(agent_ref, "agent_ref", _TOP_LEVEL, prune=True),
        },
        "source": _pruned({"schema": SCHEMA, "rollout_non_trace": non_trace}),
    }
    return _pruned(metadata)
