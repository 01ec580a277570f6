"""Message items: roles, where each message goes (R12, R14, R15; its content is read by
`content`) and think tags (R76).

Rules: R12, R14, R15, R76.
"""

from __future__ import annotations

from ..errors import Loc
from ..jsonvalue import JSON_WHITESPACE
from ..members import ABSENT
from ..wire import JsonDict, system_message, user_message
from .checks import require_choice
from .content import message_content, record_string_member
from .turn import TranscriptBuilder

MESSAGE_ROLES = ("developer", "system", "user", "assistant")


def message_item(item: JsonDict, detail: JsonDict, loc: Loc, out: TranscriptBuilder) -> None:
    original_role = require_choice(item.get("role", ABSENT), MESSAGE_ROLES, loc + ("role",), "R12")
    text, facts = message_content(item.get("content", ABSENT), loc + ("content",), out)
    record_string_member(item, "phase", loc, detail)
    if original_role == "assistant":
        detail.update(facts)
        turn = out.open_turn()
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
    message = user_message(text) if original_role == "user" else system_message(text)
    out.emit(message, [detail])


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
