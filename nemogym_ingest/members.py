"""The names the spec gives the members of a NeMo Gym rollout: the top-level members it
reads (all others are benchmark fields, R45), those an episode row's reads (R82), the
stamps of NeMo Gym 0.7.0 (R83-R85), and the one stand-in for a member that is absent (not
null)."""

from __future__ import annotations

from typing import Any

ABSENT: Any = object()
"""Stands for an absent member (`mapping.get(key, ABSENT)`): "is missing", not "got null";
in the strategies, "remove the member"."""

RESERVED_TOP_LEVEL_KEYS = frozenset(
    {
        "responses_create_params",
        "response",
        "reward",
        "_ng_task_index",
        "_ng_rollout_index",
        "agent_ref",
    }
)
"""The top-level members the conversion reads; every other one is a benchmark field (R45)."""

ENVIRONMENT_SERVER = "_ng_environment_server"
"""The environment server stamp, which names the agent of a row without `agent_ref` (R85)."""
FAILURE_CLASS = "_ng_failure_class"
"""The failure class of a failures-sidecar row (R83, R84)."""

EPISODE_RESERVED_KEYS = (RESERVED_TOP_LEVEL_KEYS - {"responses_create_params", "response"}) | {
    "invocations"
}
"""The top-level members an episode row's conversion reads (R82); the others are benchmark
fields."""
