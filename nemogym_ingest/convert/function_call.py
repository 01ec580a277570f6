"""Function calls and their outputs: arguments, call ids and the tool message (R20-R22;
the arguments and the output text are read by `content`), and harbor_agent's outputs
without a call (R90).

Rules: R20-R22, R90.
"""

from __future__ import annotations

import re

from ..errors import ConversionError, Loc
from ..members import ABSENT
from ..options import OPTIONS
from ..wire import JsonDict, tool_call, tool_message
from .checks import describe, pruned, require_non_empty_string
from .content import output_value_text, record_string_member, tool_arguments
from .turn import TranscriptBuilder

HARBOR_CALL_ID = re.compile(r"call_[0-9a-f]{8}")
"""The call id harbor_agent gives an observation result no tool call made (`uuid4().hex[:8]`)."""


def function_call_item(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> None:
    arguments_loc = loc + ("arguments",)
    raw = item.get("arguments", ABSENT)
    arguments = tool_arguments(raw, arguments_loc, out.copy, "R20")
    call_id = require_non_empty_string(item.get("call_id", ABSENT), loc + ("call_id",), "R21")
    name = require_non_empty_string(item.get("name", ABSENT), loc + ("name",), "R21")
    record_string_member(item, "namespace", loc, detail)
    out.call_names[call_id] = name
    raw_arguments = out.copy(raw, arguments_loc, prune=True)
    detail.update(pruned({"call_id": call_id, "tool_name": name, "raw_arguments": raw_arguments}))
    out.turn.tool_calls.append(tool_call(call_id, name, arguments))
    out.turn.source_items.append(detail)


def function_call_output_item(
    item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder
) -> None:
    out.flush_turn()
    call_id_loc = loc + ("call_id",)
    call_id = require_non_empty_string(item.get("call_id", ABSENT), call_id_loc, "R22")
    function = out.call_names.get(call_id)
    harbor = function is None and HARBOR_CALL_ID.fullmatch(call_id) is not None
    if function is None and not (harbor and out.options.orphan_outputs):
        reason = f"no earlier function_call of this rollout has call_id {describe(call_id)}"
        if harbor:  # R90 would convert it
            raise OPTIONS["orphan_outputs"].rejection(reason, call_id_loc, rule="R22")
        raise ConversionError(reason, call_id_loc, rule="R22")
    output_loc = loc + ("output",)
    if "output" not in item:
        raise ConversionError("is missing", output_loc, rule="R22")
    output = output_value_text(item["output"], output_loc, out)
    detail["call_id"] = call_id
    if function is None:  # R90: no call made it, none is made up
        detail["without_call"] = True
        out.use("orphan_outputs")
        out.emit(tool_message(output, call_id, None), [detail])
        return
    out.emit(tool_message(output, call_id, function), [detail])
