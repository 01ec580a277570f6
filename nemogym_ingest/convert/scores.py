"""A row's `reward_components` (NeMo Gym's per-objective rewards) as scores beside the reward,
nested at each `.` of their names so that Docent's metadata paths name them.

Rules: R92.
"""

from __future__ import annotations

from typing import Any

from ..wire import JsonDict

REWARD_COMPONENTS = "reward_components"


def _segments(key: Any) -> tuple[str, ...] | None:
    """A component's name split at each `.`, or None when a segment is empty."""
    if not isinstance(key, str):
        return None
    segments = tuple(key.split("."))
    return segments if all(segments) else None


def scored_components(row: JsonDict) -> bool:
    """Whether the row's `reward_components` can be scores (R92): a non-empty object of
    numbers (not booleans) whose names nest without a clash and never under `reward`."""
    components = row.get(REWARD_COMPONENTS)
    if not isinstance(components, dict) or not components:
        return False
    if any(
        isinstance(value, bool) or not isinstance(value, int | float)
        for value in components.values()
    ):
        return False
    paths = [_segments(key) for key in components]
    if any(path is None or path[0] == "reward" for path in paths):
        return False
    leaves = {path for path in paths if path is not None}
    return not any(path[:length] in leaves for path in leaves for length in range(1, len(path)))


def nested_scores(components: JsonDict) -> JsonDict:
    """The components (copied and checked, R41) nested at each `.` of their names, in
    document order: `{"quality.helpfulness": 0.8}` gives `{"quality": {"helpfulness": 0.8}}`."""
    scores: JsonDict = {}
    for key, value in components.items():
        *parents, leaf = key.split(".")
        level = scores
        for parent in parents:
            level = level.setdefault(parent, {})
        level[leaf] = value
    return scores
