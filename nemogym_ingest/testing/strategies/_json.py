"""Arbitrary JSON, deep nesting included, for fuzzing (R52)."""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.jsonvalue import MAX_INTEGER_DIGITS, MAX_NESTING

Rollout = dict[str, Any]
Item = dict[str, Any]
Segments = tuple[str | int, ...]


_FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _fresh(*values: Any) -> st.SearchStrategy[Any]:
    """One of `values`, deep-copied at each draw: no two draws share a mutable object."""
    return st.sampled_from(values).map(copy.deepcopy)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    _FINITE_FLOATS,
    st.text(max_size=16),
)
_NON_JSON_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    10**MAX_INTEGER_DIGITS,
    -(10**MAX_INTEGER_DIGITS),
)
_LONE_SURROGATE_STRINGS = ("\ud800", "half a pair \udfff here", "\udbff")
_NON_JSON_SCALARS = (*_NON_JSON_NUMBERS, *_LONE_SURROGATE_STRINGS)  # R41 rejects them copied
_DEPTH_BOUNDARIES = (MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, 1000, 5000)


@st.composite
def _nested_chains(draw: st.DrawFn, leaves: st.SearchStrategy[Any]) -> Any:
    """A leaf wrapped in up to 5,000 single-member arrays and/or objects."""
    depth = draw(st.integers(min_value=1, max_value=3000) | st.sampled_from(_DEPTH_BOUNDARIES))
    shape = draw(st.sampled_from(["array", "object", "alternating"]))
    key = draw(st.text(max_size=4))
    value = draw(leaves)
    for level in range(depth):
        as_array = shape == "array" or (shape == "alternating" and level % 2 == 0)
        value = [value] if as_array else {key: value}
    return value


def json_values(
    *, max_leaves: int = 16, deep: bool = True, non_finite: bool = False
) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values.

    With `deep` (default), also values nested up to 5,000 levels (R52, D3). With
    `non_finite`, also what Python's `json` module reads but JSON forbids: NaN, ±Infinity
    and integers of more than 4,000 digits (R41, D5).
    """
    scalars = _SCALARS | st.sampled_from(_NON_JSON_NUMBERS) if non_finite else _SCALARS
    shallow = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )
    return shallow | _nested_chains(shallow) if deep else shallow
