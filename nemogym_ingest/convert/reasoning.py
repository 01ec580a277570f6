"""Reasoning items: summaries, reasoning content and encrypted reasoning, rejected or,
with `encrypted_reasoning`, redacted (R16-R19, R74).

Rules: R16-R19, R74.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError, Loc
from ..members import ABSENT
from ..options import OPTIONS
from ..wire import JsonDict
from .checks import (
    describe,
    json_truthy,
    pruned,
    require_array,
    require_choice,
    require_object,
    require_string,
)
from .turn import TranscriptBuilder

SUMMARY_PART_TYPES = ("summary_text", "text")


def _text_parts(
    parts: list[Any], loc: Loc, allowed_types: tuple[str, ...], rule: str, out: TranscriptBuilder
) -> tuple[list[str], list[str]]:
    """The types and the non-empty texts of an array of `{type, text}` parts."""
    types: list[str] = []
    texts: list[str] = []
    for index, raw_part in enumerate(parts):
        part_loc = loc + (index,)
        part = require_object(raw_part, part_loc, rule)
        types.append(
            require_choice(part.get("type", ABSENT), allowed_types, part_loc + ("type",), rule)
        )
        text = require_string(part.get("text", ABSENT), part_loc + ("text",), rule, out.copy)
        if text:
            texts.append(text)
    return types, texts


def reasoning_item(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> None:
    encrypted_loc = loc + ("encrypted_content",)
    signature: str | None = None
    if json_truthy(item.get("encrypted_content"), encrypted_loc):
        if out.options.encrypted_reasoning != "redact":
            raise OPTIONS["encrypted_reasoning"].rejection(
                "encrypted reasoning cannot be converted: Docent stores only readable reasoning",
                encrypted_loc,
                rule="R16",
            )
        signature = require_string(item["encrypted_content"], encrypted_loc, "R16")
    summary_loc = loc + ("summary",)
    summary_types, summary_texts = _text_parts(
        require_array(item.get("summary", ABSENT), summary_loc, "R17"),
        summary_loc,
        SUMMARY_PART_TYPES,
        "R17",
        out,
    )
    content_loc = loc + ("content",)
    raw_content = item.get("content")
    if raw_content is not None and not isinstance(raw_content, list):
        raise ConversionError(
            f"must be an array of reasoning_text parts or null, got {describe(raw_content)}",
            content_loc,
            rule="R18",
        )
    content_types, content_texts = _text_parts(
        raw_content or [], content_loc, ("reasoning_text",), "R18", out
    )
    detail.update(
        pruned({"summary_item_types": summary_types, "content_part_types": content_types})
    )

    turn = out.open_turn()
    summary = "\n".join(summary_texts)
    if content_texts:  # D1: the chain of thought itself, the summary beside it
        turn.add_reasoning("\n".join(content_texts), summary, signature)
    else:
        turn.add_reasoning(summary, "", signature)
    if signature is not None:
        out.use("encrypted_reasoning")
    turn.source_items.append(detail)
