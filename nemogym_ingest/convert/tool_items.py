"""Hosted and custom tool items, converted with `tool_items="generic"` (R24-R27, R78): one
table of item shapes says how each type becomes a tool call, a tool message or a note.

Rules: R24-R27, R78.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, cast

from ..errors import ConversionError, Loc
from ..jsonvalue import require_text
from ..members import ABSENT
from ..options import OPTIONS
from ..wire import JsonDict, system_message, tool_call, tool_message
from ..wording import plural
from .checks import (
    describe,
    pruned,
    require_array,
    require_choice,
    require_non_empty_string,
    require_object,
    require_string,
)
from .content import marker, message_content, output_value_text, tool_arguments
from .turn import TranscriptBuilder

_OutputText = Callable[[JsonDict, list[str], Loc, TranscriptBuilder, JsonDict], str]
_NoteText = Callable[[JsonDict, JsonDict, Loc, TranscriptBuilder], str]


def _members_text(
    item: JsonDict, fields: list[str], loc: Loc, out: TranscriptBuilder, detail: JsonDict
) -> str:
    """The text of an item's output members `fields`: one member's value, or an object of
    them all (R23, R27)."""
    if len(fields) == 1:
        return output_value_text(item[fields[0]], loc + (fields[0],), out)
    return output_value_text({name: item[name] for name in fields}, loc, out)


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
    output_text: _OutputText = _members_text
    """The tool message text of the output members present (R27); it may add facts to the
    tool message's source item (the `media_parts` of content parts)."""
    note_text: _NoteText | None = None
    """A note: the system message text of the item (R26)."""


class _ToolItem(NamedTuple):
    """A hosted or custom tool item being converted: its type and shape, the item, its
    source item and where it is."""

    item_type: str
    shape: _ToolItemShape
    item: JsonDict
    detail: JsonDict
    loc: Loc


def _present(item: JsonDict, names: tuple[str, ...]) -> list[str]:
    """The members of `names` that `item` holds with a value other than null."""
    return [name for name in names if item.get(name) is not None]


def _call_id(item: JsonDict, loc: Loc, rule: str) -> tuple[str, Loc]:
    """A generic call's id, or the call an output item answers: its `call_id`, or its
    `id` when `call_id` is absent or null (R24, R25)."""
    key = "call_id" if item.get("call_id") is not None else "id"
    value = item.get(key, ABSENT)
    if value is ABSENT and key == "id":
        raise ConversionError("is missing (and so is id)", loc + ("call_id",), rule=rule)
    return require_non_empty_string(value, loc + (key,), rule), loc + (key,)


def _media_output_marker(
    kind: str, sources: list[tuple[str, Any]], loc: Loc, out: TranscriptBuilder
) -> str:
    """A marker for a media output (R27), as R75 writes a media part's; needs `media`.
    Each source that is a string is checked by R41 at `loc` + its name (non-strings are
    skipped, R75)."""
    _require_media(kind, loc, out)
    for name, value in sources:
        if isinstance(value, str):
            require_text(str(value), loc + (name,))
    return marker(kind, sources)


def _require_media(kind: str, loc: Loc, out: TranscriptBuilder) -> None:
    """A media output needs `media` (R27); counts one more part it applied to."""
    if out.options.media != "placeholder":
        raise OPTIONS["media"].rejection(
            f"a {kind} output cannot be converted: Docent stores only text",
            loc,
            rule="R27",
        )
    out.use("media")


def _custom_output_text(
    item: JsonDict, fields: list[str], loc: Loc, out: TranscriptBuilder, detail: JsonDict
) -> str:
    """A custom tool's output: content parts as a message's text, its media parts recorded
    as a message's are (R75), else as any output (R27)."""
    if isinstance(item["output"], list):
        text, facts = message_content(item["output"], loc + ("output",), out)
        if "media_parts" in facts:
            detail["media_parts"] = facts["media_parts"]
        return text
    return _members_text(item, fields, loc, out, detail)


def _screenshot_text(
    item: JsonDict, fields: list[str], loc: Loc, out: TranscriptBuilder, detail: JsonDict
) -> str:
    """A computer call's output, a screenshot: its media marker (R27)."""
    screenshot = require_object(item["output"], loc + ("output",), "R27")
    sources = [(name, screenshot.get(name)) for name in ("image_url", "file_id")]
    return _media_output_marker("computer_screenshot", sources, loc + ("output",), out)


def _image_generation_text(
    item: JsonDict, fields: list[str], loc: Loc, out: TranscriptBuilder, detail: JsonDict
) -> str:
    """A generated image: its media marker, then the error's text if any (R27)."""
    if "result" not in fields:
        return _members_text(item, fields, loc, out, detail)
    result_loc = loc + ("result",)
    result = require_string(item["result"], result_loc, "R27")
    _require_media("image_generation_call", result_loc, out)
    text = marker("image_generation_call", [("data", result)])
    if "error" not in fields:
        return text
    return text + "\n" + output_value_text(item["error"], loc + ("error",), out)


def _code_interpreter_text(
    item: JsonDict, fields: list[str], loc: Loc, out: TranscriptBuilder, detail: JsonDict
) -> str:
    """A code interpreter call's `outputs` (R27)."""
    return _code_interpreter_outputs(item["outputs"], loc + ("outputs",), out)


def _code_interpreter_outputs(raw: Any, loc: Loc, out: TranscriptBuilder) -> str:
    """Code interpreter `outputs`: logs as they are, images as media markers (R27)."""
    texts: list[str] = []
    for index, raw_output in enumerate(require_array(raw, loc, "R27")):
        output_loc = loc + (index,)
        output = require_object(raw_output, output_loc, "R27")
        kind = require_choice(
            output.get("type", ABSENT), ("logs", "image"), output_loc + ("type",), "R27"
        )
        if kind == "logs":
            texts.append(require_string(output.get("logs", ABSENT), output_loc + ("logs",), "R27"))
        else:
            texts.append(
                _media_output_marker("image", [("url", output.get("url"))], output_loc, out)
            )
    return "\n".join(texts)


def _generic_call(tool: _ToolItem, out: TranscriptBuilder) -> None:
    """A hosted or custom tool call: an assistant tool call, and the tool message of the
    output it carries, if any (R24, R26)."""
    item_type, shape, item, detail, loc = tool
    if shape.parsed_arguments:
        arguments = tool_arguments(
            item.get("arguments", ABSENT), loc + ("arguments",), out.copy, "R24"
        )
    else:
        arguments = {
            name: out.copy(item[name], loc + (name,)) for name in _present(item, shape.arguments)
        }
    call_id, _ = _call_id(item, loc, "R24")
    function = item_type
    if shape.named:
        function = require_non_empty_string(item.get("name", ABSENT), loc + ("name",), "R24")
    out.tool_calls[(item_type, call_id)] = function
    server = out.copy(item.get("server_label"), loc + ("server_label",), prune=True)
    detail.update(pruned({"call_id": call_id, "tool_name": function, "server_label": server}))
    turn = out.turn
    turn.tool_calls.append(tool_call(call_id, function, arguments))
    turn.source_items.append(detail)
    fields = _present(item, shape.outputs)
    if fields:
        output_detail = {**detail, "output_members": fields}
        text = shape.output_text(item, fields, loc, out, output_detail)
        out.flush_turn()
        out.emit(tool_message(text, call_id, function), [output_detail])


def _generic_output(tool: _ToolItem, out: TranscriptBuilder) -> None:
    """The output item of a hosted or custom tool call: a tool message answering it (R25)."""
    _, shape, item, detail, loc = tool
    out.flush_turn()
    if shape.reference == "call_id":
        call_id, reference_loc = _call_id(item, loc, "R25")
    else:
        reference_loc = loc + (shape.reference,)
        call_id = require_non_empty_string(item.get(shape.reference, ABSENT), reference_loc, "R25")
    function = out.tool_calls.get((shape.answers, call_id))
    if function is None:
        raise ConversionError(
            f"no earlier {shape.answers} of this rollout has id {describe(call_id)}",
            reference_loc,
            rule="R25",
        )
    fields = _present(item, shape.outputs)
    detail["call_id"] = call_id
    text = shape.output_text(item, fields, loc, out, detail) if fields else ""
    out.emit(tool_message(text, call_id, function), [detail])


def _compaction_note(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> str:
    """`compaction`: what was compacted, which cannot be read (R26)."""
    content = require_string(
        item.get("encrypted_content", ABSENT), loc + ("encrypted_content",), "R26"
    )
    return (
        "[compaction: the conversation before this point was compacted into encrypted "
        f"content ({plural(len(content), 'character')}) that cannot be read]"
    )


def _mcp_list_tools_note(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> str:
    """`mcp_list_tools`: the server and the names of the tools it lists (R26)."""
    server = require_string(item.get("server_label", ABSENT), loc + ("server_label",), "R26")
    tools_loc = loc + ("tools",)
    names = []
    for index, raw_tool in enumerate(require_array(item.get("tools", ABSENT), tools_loc, "R26")):
        tool = require_object(raw_tool, tools_loc + (index,), "R26")
        names.append(require_string(tool.get("name", ABSENT), tools_loc + (index, "name"), "R26"))
    text = f"[mcp_list_tools: server {server} lists {plural(len(names), 'tool')}"
    text += f": {', '.join(names)}]" if names else "]"
    error = item.get("error")
    if error is not None:
        text += " error: " + output_value_text(error, loc + ("error",), out)
    detail.update(pruned({"server_label": server}))  # "" is pruned, as everywhere (R40, R43)
    return text


def _generic_note(tool: _ToolItem, out: TranscriptBuilder) -> None:
    """`compaction` and `mcp_list_tools`: a system note of what the item says (R26)."""
    _, shape, item, detail, loc = tool
    out.flush_turn()
    note_text = cast(_NoteText, shape.note_text)  # every note's row has one
    out.emit(system_message(note_text(item, detail, loc, out)), [detail])


TOOL_ITEM_SHAPES: dict[str, _ToolItemShape] = {
    "custom_tool_call": _ToolItemShape("call", arguments=("input",), named=True),
    "custom_tool_call_output": _ToolItemShape(
        "output",
        outputs=("output",),
        answers="custom_tool_call",
        output_text=_custom_output_text,
    ),
    "web_search_call": _ToolItemShape("call", arguments=("action",)),
    "file_search_call": _ToolItemShape("call", arguments=("queries",), outputs=("results",)),
    "code_interpreter_call": _ToolItemShape(
        "call",
        arguments=("code", "container_id"),
        outputs=("outputs",),
        output_text=_code_interpreter_text,
    ),
    "image_generation_call": _ToolItemShape(
        "call",
        arguments=("action", "revised_prompt", "size", "quality", "background", "output_format"),
        outputs=("result", "error"),
        output_text=_image_generation_text,
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
    "computer_call_output": _ToolItemShape(
        "output", outputs=("output",), answers="computer_call", output_text=_screenshot_text
    ),
    "mcp_call": _ToolItemShape(
        "call", parsed_arguments=True, named=True, outputs=("output", "error")
    ),
    "mcp_list_tools": _ToolItemShape("note", note_text=_mcp_list_tools_note),
    "mcp_approval_request": _ToolItemShape("call", parsed_arguments=True, named=True),
    "mcp_approval_response": _ToolItemShape(
        "output",
        outputs=("approve", "reason"),
        answers="mcp_approval_request",
        reference="approval_request_id",
    ),
    "tool_search_call": _ToolItemShape("call", parsed_arguments=True),
    "tool_search_output": _ToolItemShape("output", outputs=("tools",), answers="tool_search_call"),
    "compaction": _ToolItemShape("note", note_text=_compaction_note),
}
"""Every item type `tool_items="generic"` converts, and how (R24-R27)."""


_GENERIC_KINDS = {"call": _generic_call, "output": _generic_output, "note": _generic_note}
"""The converter of each kind of tool item shape."""


def generic_item(
    item_type: str, item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder
) -> None:
    """A hosted or custom tool item, as its row of `TOOL_ITEM_SHAPES` says (R24-R27)."""
    shape = TOOL_ITEM_SHAPES[item_type]
    out.use("tool_items")
    _GENERIC_KINDS[shape.kind](_ToolItem(item_type, shape, item, detail, loc), out)
