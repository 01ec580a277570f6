"""The dataclass model: wire payload layout (R46), from_dict/to_dict/to_json round trips,
from_dict refusing what it does not know."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dataclasses_json import DataClassJsonMixin
from hypothesis import given

from nemogym_ingest import (
    AgentRun,
    AssistantMessage,
    ContentReasoning,
    ContentText,
    SystemMessage,
    ToolCall,
    ToolMessage,
    Transcript,
    UserMessage,
    convert_nemogym_rollout_to_agent_run,
)
from nemogym_ingest.model import PayloadError
from nemogym_ingest.testing.strategies import valid_rollouts
from tests.docent_oracle import validate_on_docent


def sample_run() -> AgentRun:
    return AgentRun(
        name="a/task/0/rollout/0",
        transcripts=[
            Transcript(
                name="a",
                messages=[
                    SystemMessage(content="s"),
                    UserMessage(content="u"),
                    AssistantMessage(
                        content=[
                            ContentReasoning(reasoning="r", summary="short"),
                            ContentText(text="t"),
                        ],
                        tool_calls=[ToolCall(id="c", function="f", arguments={"x": [1, None]})],
                    ),
                    ToolMessage(content="out", tool_call_id="c", function="f"),
                    AssistantMessage(content=[ContentReasoning(reasoning="only")]),
                    AssistantMessage(content=""),
                ],
                metadata={"k": {"nested": [1, {"a": False}]}},
            )
        ],
        metadata={"scores": {"reward": 1.0}},
    )


def test_to_dict_is_the_wire_layout_with_unset_optionals_omitted() -> None:
    payload: dict[str, Any] = sample_run().to_dict()
    messages = payload["transcripts"][0]["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": [
            {"type": "reasoning", "reasoning": "r", "summary": "short"},
            {"type": "text", "text": "t"},
        ],
        "tool_calls": [
            {"id": "c", "function": "f", "arguments": {"x": [1, None]}, "type": "function"}
        ],
    }
    assert messages[4] == {
        "role": "assistant",
        "content": [{"type": "reasoning", "reasoning": "only"}],
    }
    assert messages[5] == {"role": "assistant", "content": ""}
    assert messages[3] == {"role": "tool", "content": "out", "tool_call_id": "c", "function": "f"}
    assert "id" not in payload and "id" not in payload["transcripts"][0]
    assert validate_on_docent(payload) == payload


def test_from_dict_round_trip_is_exact_and_typed() -> None:
    payload: dict[str, Any] = sample_run().to_dict()
    run = AgentRun.from_dict(payload)
    assert run == sample_run()
    assert run.to_dict() == payload
    kinds = [type(message) for message in run.transcripts[0].messages]
    assert kinds == [
        SystemMessage,
        UserMessage,
        AssistantMessage,
        ToolMessage,
        AssistantMessage,
        AssistantMessage,
    ]


def test_to_json_matches_to_dict() -> None:
    run = sample_run()
    assert json.loads(run.to_json()) == run.to_dict()
    assert AgentRun.from_json(run.to_json()) == run


def _payload_with(message: dict[str, Any]) -> dict[str, Any]:
    """The sample run's payload with `message` appended to its transcript."""
    payload: dict[str, Any] = sample_run().to_dict()
    payload["transcripts"][0]["messages"].append(message)
    return payload


@pytest.mark.parametrize(
    ("message", "path", "reason"),
    [
        (
            {"role": "assistant", "content": [{"type": "image", "text": "x"}]},
            "transcripts[0].messages[6].content[0].type",
            "unknown type 'image'; expected 'text' or 'reasoning'",
        ),
        (
            {"role": "assistant", "content": [{"text": "x"}]},
            "transcripts[0].messages[6].content[0].type",
            "is missing; expected 'text' or 'reasoning'",
        ),
        (
            {"role": "robot", "content": "x"},
            "transcripts[0].messages[6].role",
            "unknown role 'robot'; expected 'system', 'user', 'assistant' or 'tool'",
        ),
        (
            {"role": "developer", "content": "x"},
            "transcripts[0].messages[6].role",
            "unknown role 'developer'; expected 'system', 'user', 'assistant' or 'tool'",
        ),
        (
            {"content": "x"},
            "transcripts[0].messages[6].role",
            "is missing; expected 'system', 'user', 'assistant' or 'tool'",
        ),
        (
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c", "function": "f", "arguments": {}, "type": "custom"}],
            },
            "transcripts[0].messages[6].tool_calls[0].type",
            "unknown type 'custom'; expected 'function'",
        ),
        (
            {"role": "tool", "content": "out", "function": "f"},
            "transcripts[0].messages[6].tool_call_id",
            "is missing",
        ),
        (
            {"role": "assistant", "content": ["just text"]},
            "transcripts[0].messages[6].content[0]",
            "must be an object, got str",
        ),
    ],
    ids=[
        "unknown-content-type",
        "missing-content-type",
        "unknown-role",
        "input-role-not-a-docent-role",
        "missing-role",
        "unknown-tool-call-type",
        "missing-field",
        "content-block-not-an-object",
    ],
)
def test_from_dict_rejects_what_it_does_not_know_naming_the_field(
    message: dict[str, Any], path: str, reason: str
) -> None:
    """An unknown content block type, message role or tool call type is never read as
    something else: `PayloadError` (a ValueError) names the field and what it expected."""
    with pytest.raises(PayloadError) as caught:
        AgentRun.from_dict(_payload_with(message))
    assert (caught.value.path, caught.value.reason) == (path, reason)
    assert str(caught.value) == f"{path}: {reason}"
    assert isinstance(caught.value, ValueError)


def test_from_dict_names_the_transcript_too() -> None:
    payload: dict[str, Any] = sample_run().to_dict()
    payload["transcripts"].append("not a transcript")
    with pytest.raises(PayloadError, match=r"^transcripts\[1\]: must be an object, got str$"):
        AgentRun.from_dict(payload)


def _containers(value: Any) -> list[Any]:
    """Every dict and list inside `value`, dataclass fields included."""
    if isinstance(value, dict):
        return [value, *(found for child in value.values() for found in _containers(child))]
    if isinstance(value, list):
        return [value, *(found for child in value for found in _containers(child))]
    if hasattr(value, "__dataclass_fields__"):
        return [
            found
            for name in value.__dataclass_fields__
            for found in _containers(getattr(value, name))
        ]
    return []


def _assert_to_dict_is_dataclasses_json(run: Any) -> None:
    """`to_dict()` is dataclasses-json's own (value and member order) and shares nothing."""
    ours, reference = run.to_dict(), DataClassJsonMixin.to_dict(run)
    assert ours == reference
    assert json.dumps(ours) == json.dumps(reference)
    held = {id(container) for container in _containers(run)}
    assert not held & {id(container) for container in _containers(ours)}


def test_to_dict_of_every_model_class_is_dataclasses_json() -> None:
    run = sample_run()
    transcript = run.transcripts[0]
    for value in (run, transcript, *transcript.messages, transcript.messages[2].content[0]):
        _assert_to_dict_is_dataclasses_json(value)


def test_to_dict_of_a_run_built_by_hand_with_other_containers_is_dataclasses_json() -> None:
    """Tuples, sets and subclasses in hand-built metadata: dataclasses-json's own result."""

    class Text(str):
        pass

    run = sample_run()
    run.metadata = {"pair": (1, [2]), "set": {3}, "text": Text("t"), "nested": [{"t": (4,)}]}
    run.transcripts[0].metadata["tuple"] = (5, 6)
    ours, reference = run.to_dict(), DataClassJsonMixin.to_dict(run)
    assert ours == reference
    assert ours["metadata"]["pair"] == [1, [2]]


@given(valid_rollouts())
def test_to_dict_is_dataclasses_json_on_converted_rollouts(rollout: Any) -> None:
    _assert_to_dict_is_dataclasses_json(convert_nemogym_rollout_to_agent_run(rollout))
