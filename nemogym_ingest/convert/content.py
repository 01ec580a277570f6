"""What the item kinds share: a message's content parts and the media markers that stand
for media (R13, R75), a tool call's arguments (as R20 reads them), a tool output's text
(R23) and the string members recorded in an item's source item (R48).

Rules: R13, R23, R48, R75.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import MAX_NESTING, JsonCopier, parse_json_text, parsed_too_deep
from ..members import ABSENT
from ..options import OPTIONS
from ..wire import JsonDict
from ..wording import plural
from .checks import (
    describe,
    json_truthy,
    one_of,
    pruned,
    require_object,
    require_string,
    wrong,
)
from .turn import TranscriptBuilder

TEXT_PART_TYPES = ("input_text", "output_text")
MEDIA_PART_TYPES = ("input_image", "input_file", "input_audio", "input_video")

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
            return f"{header} ({plural(_base64_size(payload), 'byte')})"
        return f"{header} ({plural(len(payload), 'character')})"
    if field_name in _INLINE_DATA_FIELDS:
        return f"base64 ({plural(_base64_size(value), 'byte')})"
    return value


def _media_marker(part_type: str, part: JsonDict) -> str:
    """The text standing for a media part: `[input_image: https://...]` (R75)."""
    sources: list[tuple[str, Any]] = []
    for field_path in _MEDIA_SOURCES[part_type]:
        value: Any = part
        for name in field_path:
            value = value.get(name) if isinstance(value, dict) else None
        sources.append((field_path[-1], value))
    return marker(part_type, sources)


def marker(kind: str, sources: list[tuple[str, Any]]) -> str:
    """`[kind: SOURCES]` of the non-empty string sources (field name, value), or `[kind]`
    (R75, R27)."""
    shown = [
        _media_source(name, value) for name, value in sources if isinstance(value, str) and value
    ]
    return f"[{kind}: {', '.join(shown)}]" if shown else f"[{kind}]"


def message_content(content: Any, loc: Loc, out: TranscriptBuilder) -> tuple[str, JsonDict]:
    """The text of a message's `content` and the facts about its parts (R13-R15, R75)."""
    if isinstance(content, str):
        return out.copy.text(content, loc), {}
    if not isinstance(content, list):
        raise ConversionError(
            wrong("a string or an array of content parts", content), loc, rule="R13"
        )
    texts: list[str] = []
    part_types: list[str] = []
    media_parts: list[Any] = []
    has_refusal = has_annotations = has_logprobs = False
    for index, raw_part in enumerate(content):
        part_loc = loc + (index,)
        part = require_object(raw_part, part_loc, "R13")
        part_type = require_string(part.get("type", ABSENT), part_loc + ("type",), "R13")
        part_types.append(part_type)
        if part_type in TEXT_PART_TYPES:
            text = require_string(part.get("text", ABSENT), part_loc + ("text",), "R13", out.copy)
            texts.append(text)
            has_annotations = (
                json_truthy(part.get("annotations"), part_loc + ("annotations",)) or has_annotations
            )
            has_logprobs = (
                json_truthy(part.get("logprobs"), part_loc + ("logprobs",)) or has_logprobs
            )
        elif part_type == "refusal":
            has_refusal = True
            texts.append(
                require_string(
                    part.get("refusal", ABSENT), part_loc + ("refusal",), "R13", out.copy
                )
            )
        elif part_type in MEDIA_PART_TYPES and out.options.media == "placeholder":
            texts.append(_media_marker(part_type, part))
            media_parts.append(out.copy(part, part_loc, prune=True))
            out.use("media")
        else:
            reason = f"must be {one_of(TEXT_PART_TYPES + ('refusal',))}, got {describe(part_type)}"
            if part_type in MEDIA_PART_TYPES:
                raise OPTIONS["media"].rejection(reason, part_loc + ("type",), rule="R13")
            raise ConversionError(reason, part_loc + ("type",), rule="R13")
    facts = {
        "content_part_types": part_types,
        "contains_refusal_part": has_refusal,
        "contains_annotations": has_annotations,
        "contains_logprobs": has_logprobs,
        "media_parts": media_parts,
    }
    return "".join(texts), pruned(facts)


def record_string_member(item: JsonDict, key: str, loc: Loc, detail: JsonDict) -> None:
    """Record a non-null string `item[key]` (a message's `phase`, a call's `namespace`) in
    the item's `message_details` entry; any other present value is rejected (R48)."""
    value = item.get(key)
    if value is None:
        return
    detail[key] = require_string(value, loc + (key,), "R48")


def tool_arguments(raw: Any, loc: Loc, copy: JsonCopier, rule: str) -> JsonDict:
    """A call's arguments (R20, R24): an object, or a string holding one JSON text nesting
    at most MAX_NESTING levels; rejected at `loc` by `rule`."""
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
        checked: JsonDict = copy.checked(parsed, loc)  # parsed here, never vouched for
        return checked
    elif not isinstance(raw, dict):
        raise ConversionError(wrong("a JSON object or a string holding one", raw), loc, rule=rule)
    arguments: JsonDict = copy(raw, loc)
    return arguments


def output_value_text(value: Any, loc: Loc, out: TranscriptBuilder) -> str:
    """A tool output as text (R23): a string as it is, any other value as its JSON text
    with sorted keys and ASCII escapes. Used by function_call_output and every tool item."""
    if isinstance(value, str):
        return out.copy.text(value, loc)
    return json.dumps(out.copy(value, loc), ensure_ascii=True, sort_keys=True)
