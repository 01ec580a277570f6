"""NeMo Gym rollout -> Docent AgentRun: a package of rule-owning modules.

`rows` holds the table of row kinds (`ROW_KINDS`): the JSONL driver tells a line's kind
once (`kind_of`) and hands the row to that kind's builder, `episode` (one transcript per
invocation) or `rollout`. `rollout` converts a request and its response and calls `items`,
which dispatches each item to `message`, `reasoning`, `function_call` or `tool_items`;
they read content parts, arguments and output text with `content`, add to the transcript
being built in `turn`, and check with `checks`. Each module's docstring lists the rules it
owns, and raises no other.

Adding a kind of row (a new shape NeMo Gym writes):

1. one row in `rows.ROW_KINDS`, placed where it is told apart from the others (the first
   kind that recognises a row is its kind), with its name added to `RowKind`: how it is
   recognised, its builder (or, for a row that records no rollout, its `read_failure`),
   its "nothing to convert" sentence if a file of such rows holds no rollout, and whether
   the pinned Docent (`docent.settings.DOCENT_VERSION`) reads it;
2. one module here with its builder (`RunBuilder`: the row, the options, its line, the
   `JsonCopier`), converting what it shares with a rollout through `rollout` and `items`;
3. the member names it reserves, in `nemogym_ingest.members`;
4. the spec: a rule for it in spec/README.md (from the numbers reserved for the change),
   its cases in spec/cases/ with their golden files, and the manifest's counts.

The driver, `check`'s rescue, the file verdict and Docent's verdict then read it from the
table; nothing else changes.
"""

from __future__ import annotations

from .message import split_think_tags
from .rows import (
    NOT_AN_OBJECT,
    NOT_ROLLOUT_KINDS,
    ROW_KINDS,
    FailedAttempt,
    KindOfRow,
    RowKind,
    RunBuilder,
    convert_nemogym_rollout_to_agent_run,
    convert_row,
    kind_of,
    read_failed_attempt,
    row_kind,
)
from .tool_items import TOOL_ITEM_SHAPES

__all__ = [
    "NOT_AN_OBJECT",
    "NOT_ROLLOUT_KINDS",
    "ROW_KINDS",
    "TOOL_ITEM_SHAPES",
    "FailedAttempt",
    "KindOfRow",
    "RowKind",
    "RunBuilder",
    "convert_nemogym_rollout_to_agent_run",
    "convert_row",
    "kind_of",
    "read_failed_attempt",
    "row_kind",
    "split_think_tags",
]
