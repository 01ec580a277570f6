"""NeMo Gym rollout -> Docent AgentRun: a package of rule-owning modules.

`rows` tells the kind of a row and hands it to `episode` (one transcript per invocation)
or `rollout`. `rollout` converts a request and its response and calls `items`, which
dispatches each item to `message`, `reasoning`, `function_call` or `tool_items`; they read
content parts, arguments and output text with `content`, add to the transcript being
built in `turn`, and check with `checks`. Each module's docstring lists the rules it owns,
and raises no other.
"""

from __future__ import annotations

from .message import split_think_tags
from .rows import (
    NOT_ROLLOUT_KINDS,
    FailedAttempt,
    RowKind,
    convert_nemogym_rollout_to_agent_run,
    convert_row,
    read_failed_attempt,
    row_kind,
)
from .tool_items import TOOL_ITEM_SHAPES
from .trajectory_record import trace_census

__all__ = [
    "NOT_ROLLOUT_KINDS",
    "TOOL_ITEM_SHAPES",
    "FailedAttempt",
    "RowKind",
    "convert_nemogym_rollout_to_agent_run",
    "convert_row",
    "read_failed_attempt",
    "row_kind",
    "split_think_tags",
    "trace_census",
]
