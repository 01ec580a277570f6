"""Valid rollouts with arbitrary parts replaced, removed or added."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.testing.strategies._json import json_values
from nemogym_ingest.testing.strategies._rollouts import valid_rollouts


def _places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of `value`, depth first."""
    places: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        container = stack.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            places.append((container, key))
            if isinstance(container[key], dict | list):
                stack.append(container[key])
    return places


_MUTATION_VALUES = json_values(max_leaves=8, non_finite=True)


@st.composite
def mutated_rollouts(draw: st.DrawFn, *, max_mutations: int = 3) -> Any:
    """Valid rollouts after up to `max_mutations` arbitrary changes, each replacing,
    removing or adding a member or element anywhere (NaN, ±Infinity and deep values
    included), or replacing the whole rollout (R52)."""
    rollout: Any = draw(valid_rollouts())
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        places = _places(rollout) if isinstance(rollout, dict | list) else []
        if not places or draw(st.integers(min_value=0, max_value=50)) == 0:
            rollout = draw(_MUTATION_VALUES)
            continue
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            container[key] = draw(_MUTATION_VALUES)
        elif action == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=8))] = draw(_MUTATION_VALUES)
        else:
            container.insert(key, draw(_MUTATION_VALUES))
    return rollout
