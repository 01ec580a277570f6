"""The pending assistant turn and the transcript being built: items join the turn until
it is emitted as one AssistantMessage (R30-R33, the D2 split), and every message gets its
`message_details` entry, made of its items' source items (R43), or the placeholder's (R77).

Rules: R30-R33, R43.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Loc
from ..jsonvalue import JsonCopier
from ..options import ConversionOptions
from ..wire import (
    JsonDict,
    assistant_message,
    reasoning_block,
    system_message,
    text_block,
)
from .checks import KEPT_FALSY


@dataclass
class _ReasoningBlock:
    """Consecutive readable reasoning items of a turn (R31, R33), or one redacted item (R74)."""

    reasoning: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    signature: str | None = None

    def to_content(self) -> JsonDict | None:
        reasoning = "\n\n".join(part for part in self.reasoning if part)
        if not reasoning and self.signature is None:
            return None
        summary = "\n\n".join(part for part in self.summaries if part) or None
        return reasoning_block(reasoning, summary, self.signature)


@dataclass
class AssistantTurn:
    """Assistant-side items waiting to become one AssistantMessage, in item order."""

    reasoning: list[_ReasoningBlock] = field(default_factory=list)
    text: str = ""
    has_message: bool = False
    tool_calls: list[JsonDict] = field(default_factory=list)
    source_items: list[JsonDict] = field(default_factory=list)

    def add_reasoning(self, reasoning: str, summary: str, signature: str | None) -> None:
        """Join readable reasoning to the turn's last readable block; a redacted item
        (with a `signature`) gets a block of its own."""
        if signature is None and self.reasoning and self.reasoning[-1].signature is None:
            block = self.reasoning[-1]
        else:
            block = _ReasoningBlock(signature=signature)
            self.reasoning.append(block)
        block.reasoning.append(reasoning)
        block.summaries.append(summary)

    def to_message(self) -> JsonDict:
        blocks = [block.to_content() for block in self.reasoning]
        reasoning = [block for block in blocks if block is not None]
        content: str | list[JsonDict] = self.text
        if reasoning:
            content = reasoning
            if self.text:
                content.append(text_block(self.text))
        return assistant_message(content, self.tool_calls)


_SOURCE_ITEM_FACTS = (("id", "source_item_id"), ("status", "source_item_status"))
"""The item members a source item records, and their names there (R43)."""


@dataclass
class TranscriptBuilder:
    """Messages and their `message_details`, built item by item."""

    options: ConversionOptions
    copy: JsonCopier
    """How the row's values are copied into the output: checked, or on the trusted path."""
    messages: list[JsonDict] = field(default_factory=list)
    """The wire payload's messages (`wire`)."""
    details: list[JsonDict] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)
    turn: AssistantTurn = field(default_factory=AssistantTurn)
    tool_calls: dict[tuple[str, str], str] = field(default_factory=dict)
    """Generic tool calls declared so far: (item type, id) -> function (R25)."""
    uses: dict[str, Any] = field(default_factory=dict)
    """Each option used: how many items (parts, messages) it applied to, or what it
    supplied (a name, an index); `OPTIONS` records them (R70)."""

    def source_item(self, item: JsonDict, item_type: str, origin: str, loc: Loc) -> JsonDict:
        """An item's source item in `message_details`, before its kind's fields (R43)."""
        detail = {"origin": origin, "source_item_type": item_type}
        for key, name in _SOURCE_ITEM_FACTS:
            value = item.get(key)
            if value is not None:  # copied only when there (most items have no status)
                value = self.copy(value, loc + (key,), prune=True)
                if value or type(value) in KEPT_FALSY:
                    detail[name] = value
        return detail

    def emit(self, message: JsonDict, source_items: list[JsonDict]) -> None:
        self.messages.append(message)
        origin = source_items[0]["origin"]
        self.details.append(
            {
                "role": message["role"],
                "origin": origin,
                "source_item_count": len(source_items),
                "source_item_types": [item["source_item_type"] for item in source_items],
                "source_items": source_items,
            }
        )

    def emit_placeholder(self, text: str) -> None:
        """Emit the system message standing for a transcript without items (R77)."""
        self.messages.append(system_message(text))
        self.details.append({"role": "system", "origin": "placeholder", "source_item_count": 0})

    def use(self, option: str) -> None:
        """Count one more item (part, message) that `option` applied to."""
        self.uses[option] = self.uses.get(option, 0) + 1

    def flush_turn(self) -> None:
        """Emit the pending assistant turn, if any (R30)."""
        if self.turn.source_items:
            self.emit(self.turn.to_message(), self.turn.source_items)
            self.turn = AssistantTurn()

    def open_turn(self) -> AssistantTurn:
        """The pending turn, for reasoning or an assistant message to join: a new one when it
        holds a message or a tool call, so that neither glues on nor moves before earlier
        text (D2, R32)."""
        if self.turn.has_message or self.turn.tool_calls:
            self.flush_turn()
        return self.turn
