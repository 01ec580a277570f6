"""The wire payload conversion builds (`wire`) is exactly what the library's AgentRun gives:
the run made from it (`run_from_payload`) writes it back member for member, in order, and
is the run dataclasses-json reads from it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dataclasses_json import DataClassJsonMixin
from hypothesis import given

from nemogym_ingest import AgentRun, ConversionError, ConversionOptions
from nemogym_ingest.convert import convert_row
from nemogym_ingest.model import run_from_payload, wire_payload
from nemogym_ingest.testing.strategies import valid_episode_rows, valid_rollouts
from tests.test_spec_cases import CASES, fresh_rollout


def _assert_the_run_is_the_payload(payload: dict[str, Any]) -> None:
    run = run_from_payload(payload)
    written = DataClassJsonMixin.to_dict(run)
    assert json.dumps(written) == json.dumps(payload)  # the same members, in the same order
    assert wire_payload(run) == payload
    assert run.to_dict() == payload
    assert AgentRun.from_dict(payload) == run


_ROW_CASES = [case for case in CASES if "rollout" in case]


@pytest.mark.parametrize("case", _ROW_CASES, ids=[case["id"] for case in _ROW_CASES])
def test_every_accepted_case_payload_is_its_run(case: dict[str, Any]) -> None:
    options = ConversionOptions(**case.get("options", {}))
    try:
        converted = convert_row(fresh_rollout(case), options, None)
    except ConversionError:
        return  # a rejecting case has no payload
    _assert_the_run_is_the_payload(converted.payload)


@given(valid_rollouts())
def test_a_valid_rollout_payload_is_its_run(rollout: Any) -> None:
    _assert_the_run_is_the_payload(convert_row(rollout, ConversionOptions(), None).payload)


@given(valid_episode_rows())
def test_an_episode_payload_is_its_run(row: Any) -> None:
    _assert_the_run_is_the_payload(convert_row(row, ConversionOptions(), None).payload)


def test_the_accepted_cases_cover_every_kind_of_message_and_block() -> None:
    """So that the parametrized test above reads every constructor of `wire`."""
    seen: set[str] = set()
    for case in _ROW_CASES:
        try:
            payload = convert_row(
                fresh_rollout(case), ConversionOptions(**case.get("options", {})), None
            ).payload
        except ConversionError:
            continue
        for transcript in payload["transcripts"]:
            for message in transcript["messages"]:
                seen.add(message["role"])
                seen.update(f"call:{call['type']}" for call in message.get("tool_calls", []))
                if isinstance(message["content"], list):
                    for block in message["content"]:
                        seen.add(block["type"] + (":redacted" if block.get("redacted") else ""))
                        if "summary" in block:
                            seen.add("summary")
    assert seen >= {
        "system",
        "user",
        "assistant",
        "tool",
        "call:function",
        "text",
        "reasoning",
        "reasoning:redacted",
        "summary",
    }
