"""The item dispatch (R11): each item's type picks its converter from one table; the
hosted and custom tool items go to `tool_items`. Every item gets its `message_details`
entry here (R43; the kinds add their own fields to it).

Rules: R11, R43.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConversionError, Loc
from ..model import JsonDict
from ..schema import ABSENT
from .checks import describe, one_of, pruned, require_object, rescued_by, wrong
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


def _item_detail(
    item: JsonDict, item_type: str, origin: str, loc: Loc, copy: Callable[..., Any]
) -> JsonDict:
    return pruned(
        {
            "origin": origin,
            "source_item_type": item_type,
            "source_item_id": copy(item.get("id"), loc + ("id",), prune=True),
            "source_item_status": copy(item.get("status"), loc + ("status",), prune=True),
        }
    )


def convert_items(items: list[Any], origin: str, prefix: Loc, out: TranscriptBuilder) -> None:
    for index, raw_item in enumerate(items):
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
                raise ConversionError(
                    f"must be {one_of(ITEM_TYPES)}, got {describe(item_type)}"
                    + rescued_by("tool_items"),
                    loc + ("type",),
                    rule="R11",
                    option="tool_items",
                )
            detail = _item_detail(item, item_type, origin, loc, out.copy)
            generic_item(item_type, item, detail, loc, out)
            continue
        detail = _item_detail(item, str(item_type), origin, loc, out.copy)
        converter(item, detail, loc, out)
    out.flush_turn()  # a turn never spans the input and the output
