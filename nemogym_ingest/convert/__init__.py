"""NeMo Gym rollout -> Docent AgentRun: a package of rule-owning modules.

`rollout` converts the whole rollout and calls `items`, which dispatches each item to
`message`, `reasoning`, `function_call` or `tool_items`; they add to the transcript being
built in `turn`, and check with `checks`. Each module's docstring lists the rules it owns.
"""

from __future__ import annotations

from .message import split_think_tags
from .rollout import convert_nemogym_rollout_to_agent_run, convert_rollout
from .tool_items import TOOL_ITEM_SHAPES

__all__ = [
    "TOOL_ITEM_SHAPES",
    "convert_nemogym_rollout_to_agent_run",
    "convert_rollout",
    "split_think_tags",
]
