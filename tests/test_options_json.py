"""`ConversionOptions.from_json`: options given as JSON (a case's `options`, `case add
--options`), checked, every refusal saying where and why."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nemogym_ingest import ConversionOptions


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1], 'case: expected a JSON object such as {"agent_name": "agent"}'),
        ({"b": 1, "a": 2}, "case: unknown a, b; known: agent_name, task_index, rollout_index,"),
        ({"media": "omit"}, 'case: media must be null or "placeholder", got "omit"'),
        ({"rollout_index": "line", "media": "omit"}, "case: no line here"),
    ],
)
def test_options_from_json_say_where_and_why(obj: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ConversionOptions.from_json(obj, "case", refuse_line="no line here")


def test_options_from_json_are_the_options_named() -> None:
    named = {"agent_name": "a", "task_index": "line", "media": "placeholder"}
    assert ConversionOptions.from_json(named) == ConversionOptions(**named)  # type: ignore[arg-type]
    assert ConversionOptions.from_json({}) == ConversionOptions()
