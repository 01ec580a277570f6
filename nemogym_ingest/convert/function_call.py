"""Function calls and their outputs: arguments, call ids, output text (R20-R23).

Rules: R20-R23.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import MAX_NESTING, copy_json, parse_json_text, parsed_too_deep, require_text
from ..model import JsonDict, ToolCall, ToolMessage
from ..schema import ABSENT
from .checks import describe, pruned, require_non_empty_string, wrong
from .message import record_string_member
from .turn import TranscriptBuilder


def tool_arguments(raw: Any, loc: Loc, copy: Callable[..., Any], rule: str = "R20") -> JsonDict:
    if isinstance(raw, str):
        too_deep = f"must be a JSON text nested at most {MAX_NESTING} levels deep"
        try:
            parsed = parse_json_text(raw)
        except RecursionError:  # a parser's limit, far above ours
            raise ConversionError(too_deep, loc, rule=rule) from None
        except ValueError as error:
            detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise ConversionError(f"must be valid JSON ({detail})", loc, rule=rule) from None
        if parsed_too_deep(raw, parsed):  # never built (R20)
            raise ConversionError(too_deep, loc, rule=rule)
        if not isinstance(parsed, dict):
            raise ConversionError(
                f"must parse to a JSON object, got {describe(parsed)}", loc, rule=rule
            )
        checked: JsonDict = copy_json(parsed, loc)  # parsed here, never vouched for
        return checked
    elif not isinstance(raw, dict):
        raise ConversionError(wrong("a JSON object or a string holding one", raw), loc, rule=rule)
    arguments: JsonDict = copy(raw, loc)
    return arguments


def function_call_item(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> None:
    arguments_loc = loc + ("arguments",)
    raw = item.get("arguments", ABSENT)
    arguments = tool_arguments(raw, arguments_loc, out.copy)
    call_id = require_non_empty_string(item.get("call_id", ABSENT), loc + ("call_id",), "R21")
    name = require_non_empty_string(item.get("name", ABSENT), loc + ("name",), "R21")
    record_string_member(item, "namespace", loc, detail)
    out.call_names[call_id] = name
    raw_arguments = out.copy(raw, arguments_loc, prune=True)
    detail.update(pruned({"call_id": call_id, "tool_name": name, "raw_arguments": raw_arguments}))
    out.turn.tool_calls.append(ToolCall(id=call_id, function=name, arguments=arguments))
    out.turn.source_items.append(detail)


def function_call_output_item(
    item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder
) -> None:
    out.flush_turn()
    call_id_loc = loc + ("call_id",)
    call_id = require_non_empty_string(item.get("call_id", ABSENT), call_id_loc, "R22")
    function = out.call_names.get(call_id)
    if function is None:
        raise ConversionError(
            f"no earlier function_call of this rollout has call_id {describe(call_id)}",
            call_id_loc,
            rule="R22",
        )
    output_loc = loc + ("output",)
    if "output" not in item:
        raise ConversionError("is missing", output_loc, rule="R22")
    output = output_value_text(item["output"], output_loc, out)
    detail["call_id"] = call_id
    out.emit(ToolMessage(content=output, tool_call_id=call_id, function=function), [detail])


def output_value_text(value: Any, loc: Loc, out: TranscriptBuilder) -> str:
    """A tool output as text (R23): a string as it is, any other value as its JSON text
    with sorted keys and ASCII escapes. Used by function_call_output and every tool item."""
    if isinstance(value, str):
        return require_text(str(value), loc)
    return json.dumps(out.copy(value, loc), ensure_ascii=True, sort_keys=True)
