"""Message items: roles, content parts, media markers, think tags, `phase` (R12-R15, R48).

Rules: R12-R15, R48.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import JSON_WHITESPACE, require_text
from ..model import JsonDict, SystemMessage, UserMessage
from ..options import plural
from ..schema import ABSENT
from .checks import (
    describe,
    json_truthy,
    one_of,
    pruned,
    require_choice,
    require_object,
    require_string,
    rescued_by,
    wrong,
)
from .turn import TranscriptBuilder

MESSAGE_ROLES = ("developer", "system", "user", "assistant")
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
        return require_text(str(content), loc), {}
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
            texts.append(require_string(part.get("text", ABSENT), part_loc + ("text",), "R13"))
            has_annotations = (
                json_truthy(part.get("annotations"), part_loc + ("annotations",)) or has_annotations
            )
            has_logprobs = (
                json_truthy(part.get("logprobs"), part_loc + ("logprobs",)) or has_logprobs
            )
        elif part_type == "refusal":
            has_refusal = True
            texts.append(
                require_string(part.get("refusal", ABSENT), part_loc + ("refusal",), "R13")
            )
        elif part_type in MEDIA_PART_TYPES and out.options.media == "placeholder":
            texts.append(_media_marker(part_type, part))
            media_parts.append(out.copy(part, part_loc, prune=True))
            out.use("media")
        else:
            reason = f"must be {one_of(TEXT_PART_TYPES + ('refusal',))}, got {describe(part_type)}"
            option = "media" if part_type in MEDIA_PART_TYPES else None
            raise ConversionError(
                reason + (rescued_by(option) if option else ""),
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
    return "".join(texts), pruned(facts)


def message_item(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> None:
    original_role = require_choice(item.get("role", ABSENT), MESSAGE_ROLES, loc + ("role",), "R12")
    text, facts = message_content(item.get("content", ABSENT), loc + ("content",), out)
    record_string_member(item, "phase", loc, detail)
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
                out.use("think_tags")
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


def record_string_member(item: JsonDict, key: str, loc: Loc, detail: JsonDict) -> None:
    """Record a non-null string `item[key]` (a message's `phase`, a call's `namespace`) in
    the item's `message_details` entry; any other present value is rejected (R48)."""
    value = item.get(key)
    if value is None:
        return
    detail[key] = require_string(value, loc + (key,), "R48")


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
    stripped = head.lstrip(JSON_WHITESPACE)
    opened = stripped.startswith(_THINK_OPEN)
    reasoning = stripped[len(_THINK_OPEN) :] if opened else head
    if _THINK_OPEN in reasoning:  # an opening tag that does not lead the text
        return None
    answer = text[end + len(_THINK_CLOSE) :]
    return reasoning.strip(JSON_WHITESPACE), answer.lstrip(JSON_WHITESPACE)
