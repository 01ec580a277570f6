"""The dataclass model: wire payload layout (R46), from_dict/to_dict/to_json round trips."""

from __future__ import annotations

import json
from typing import Any

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
)
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
