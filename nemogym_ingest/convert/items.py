"""The item dispatch (R11): each item's type picks its converter from one table; the
hosted and custom tool items go to `tool_items`, and the output of a transition rollout
is its last snapshot (R73). Every item gets its source item here (R43, from `turn`; the
kinds add their own fields to it).

Rules: R11, R73.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConversionError, Loc
from ..members import ABSENT
from ..options import OPTIONS
from ..wire import JsonDict
from .checks import describe, one_of, require_object, wrong
from .function_call import function_call_item, function_call_output_item
from .message import message_item
from .reasoning import reasoning_item
from .tool_items import TOOL_ITEM_SHAPES, generic_item
from .turn import TranscriptBuilder

ITEM_TYPES = ("message", "reasoning", "function_call", "function_call_output")

_ItemConverter = Callable[[JsonDict, JsonDict, Loc, TranscriptBuilder], None]

_ITEM_CONVERTERS: dict[str, _ItemConverter] = {
    "message": message_item,
    "reasoning": reasoning_item,
    "function_call": function_call_item,
    "function_call_output": function_call_output_item,
}


def is_transitions(output_items: list[Any]) -> bool:
    """Whether `response.output` holds transition snapshots: a non-empty array of arrays (R73)."""
    return bool(output_items) and all(isinstance(item, list) for item in output_items)


def convert_output_items(output_items: list[Any], loc: Loc, out: TranscriptBuilder) -> list[Any]:
    """Convert the output items at `loc`, or the last snapshot of a transition rollout,
    which is rejected at its first snapshot without `transitions` (R73, R11). Returns the
    items converted."""
    if not is_transitions(output_items):
        convert_items(output_items, "output", loc, out)
        return output_items
    if out.options.transitions != "final":
        raise OPTIONS["transitions"].rejection(
            "must be an object, got an array; response.output holds transition snapshots"
            " (arrays of items):",
            loc + (0,),
            rule="R11",
        )
    final = len(output_items) - 1
    out.uses["transitions"] = out.uses.get("transitions", 0) + len(output_items)
    convert_items(output_items[final], "output", loc + (final,), out)
    last_snapshot: list[Any] = output_items[final]
    return last_snapshot


def convert_items(
    items: list[Any], origin: str, prefix: Loc, out: TranscriptBuilder, *, start: int = 0
) -> None:
    """Convert `items` (at `prefix`, the first at index `start`) into `out`, then emit the
    pending turn (R30)."""
    for index, raw_item in enumerate(items, start):
        loc = prefix + (index,)
        item = require_object(raw_item, loc, "R11")
        item_type = item.get("type", ABSENT)
        if (item_type is None or item_type is ABSENT) and "role" in item:
            item_type = "message"
        converter = _ITEM_CONVERTERS.get(item_type) if isinstance(item_type, str) else None
        if converter is None:
            if not isinstance(item_type, str) or item_type not in TOOL_ITEM_SHAPES:
                raise ConversionError(
                    wrong(one_of(ITEM_TYPES), item_type), loc + ("type",), rule="R11"
                )
            if out.options.tool_items != "generic":
                raise OPTIONS["tool_items"].rejection(
                    f"must be {one_of(ITEM_TYPES)}, got {describe(item_type)}",
                    loc + ("type",),
                    rule="R11",
                )
            detail = out.source_item(item, item_type, origin, loc)
            generic_item(item_type, item, detail, loc, out)
            continue
        detail = out.source_item(item, str(item_type), origin, loc)
        converter(item, detail, loc, out)
    out.flush_turn()  # a turn never spans the input and the output
