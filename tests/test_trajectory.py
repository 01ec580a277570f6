"""The `trajectory` option (R79, R86-R89) on rows made by NeMo Gym 0.7.0's own opencode,
Claude Code and simple_agent code (tests/data/trajectory/, made with the wheel's agents,
their CLIs and servers faked) and on generated trajectories; the Docent bridge's group ids;
what `check` says about traces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from nemogym_ingest import ConversionError, ConversionOptions, convert_nemogym_rollout_to_agent_run
from nemogym_ingest.convert import convert_row
from nemogym_ingest.docent import convert_nemogym_jsonl_file_to_agent_runs, to_docent
from nemogym_ingest.testing.strategies import (
    conversation_of,
    malformed_trajectory_rows,
    valid_trajectory_rows,
)
from nemogym_ingest.wire import normalize_payload
from tests.docent_oracle import validate_on_docent

DATA = Path(__file__).parent / "data" / "trajectory"
TRANSCRIPTS = ConversionOptions(trajectory="transcripts")
STRICT = ConversionOptions()
SUBAGENTS = sum(
    invocation.get("parent_invocation_id") is not None
    for path in sorted(DATA.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    for invocation in json.loads(line)["ng_trajectory"]["invocations"]
)
ROWS = {
    f"{path.stem}:{number}": json.loads(line)
    for path in sorted(DATA.glob("*.jsonl"))
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
}


def payload_of(row: Any, options: ConversionOptions = TRANSCRIPTS) -> dict[str, Any]:
    return convert_row(row, options, None).payload


def compact_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def transcript_of_group(payload: dict[str, Any], group_id: str) -> dict[str, Any]:
    (found,) = [t for t in payload["transcripts"] if t.get("transcript_group_id") == group_id]
    return dict(found)


def texts(transcript: dict[str, Any]) -> str:
    return json.dumps([message["content"] for message in transcript["messages"]])


# --- rows made by NeMo Gym 0.7.0's agent code -------------------------------------------------


@pytest.mark.parametrize("row_id", sorted(ROWS))
def test_r87_a_transcript_per_invocation_in_its_group(row_id: str) -> None:
    row = ROWS[row_id]
    payload = payload_of(row)
    strict = payload_of(row, STRICT)
    assert payload["transcripts"][0] == strict["transcripts"][0]  # first and unchanged
    invocations = row["ng_trajectory"]["invocations"]
    groups = payload.get("transcript_groups", [])
    assert [group["metadata"]["invocation_id"] for group in groups] == [
        invocation["invocation_id"] for invocation in invocations
    ]
    ids = {invocation["invocation_id"]: index for index, invocation in enumerate(invocations)}
    for index, (group, invocation) in enumerate(zip(groups, invocations, strict=True)):
        assert group["id"] == f"ng_trajectory.invocations[{index}]"
        parent = invocation["parent_invocation_id"]
        expected = None if parent not in ids else f"ng_trajectory.invocations[{ids[parent]}]"
        assert group.get("parent_transcript_group_id") == expected
        if parent is not None and parent not in ids:  # a partial tree
            assert group["metadata"]["parent_observed"] is False
        assert group["metadata"]["status"] == invocation["status"]
        if invocation["conversation"]:
            assert transcript_of_group(payload, group["id"])["messages"]
    assert validate_on_docent(payload) == normalize_payload(payload)
    assert compact_bytes(payload) <= 1.15 * compact_bytes(row)


@pytest.mark.parametrize("row_id", ["opencode:1", "claude_code:1"])
def test_r87_the_subagents_prompt_reasoning_and_answer_are_its_own(row_id: str) -> None:
    row = ROWS[row_id]
    payload = payload_of(row)
    (sub_index, sub), *_ = [
        (index, invocation)
        for index, invocation in enumerate(row["ng_trajectory"]["invocations"])
        if invocation["parent_invocation_id"] is not None
    ]
    group = payload["transcript_groups"][sub_index]
    transcript = transcript_of_group(payload, group["id"])
    prompt = next(item for item in sub["conversation"] if item.get("role") == "user")
    assert transcript["messages"][0] == {"content": prompt["content"], "role": "user"}
    reasoning = [
        block
        for message in transcript["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "reasoning"
    ]
    assert reasoning
    root = transcript_of_group(payload, group["parent_transcript_group_id"])
    assert reasoning[0]["reasoning"] not in texts(root)  # not spliced into the root's turns
    facts = group["metadata"]
    assert facts["spawned_by_tool_call_id"] == sub["spawned_by_tool_call_id"]
    assert facts["spawned_by_tool_name"] in ("task", "Task")
    spawning = [
        call["id"]
        for message in root["messages"]
        for call in message.get("tool_calls", ())
        if call["function"] == facts["spawned_by_tool_name"]
    ]
    assert facts["spawned_by_tool_call_id"] in spawning
    timings = [call for g in payload["transcript_groups"] for call in g["metadata"]["tool_calls"]]
    assert timings and all("duration_ms" in call and "status" in call for call in timings)


def test_r89_compaction_visible_where_it_happened() -> None:
    opencode = payload_of(ROWS["opencode:1"])
    claude = payload_of(ROWS["claude_code:1"])
    for payload in (opencode, claude):
        markers = [
            message
            for transcript in payload["transcripts"][1:]
            for message in transcript["messages"]
            if message["role"] == "system" and message["content"].startswith("[context compaction")
        ]
        assert len(markers) == 1
    claude_root = next(t for t in claude["transcripts"][1:] if t["name"].startswith("agent "))
    roles = [message["role"] for message in claude_root["messages"]]
    marker = next(
        i for i, m in enumerate(claude_root["messages"]) if m["content"] == _marker(claude_root)
    )
    assert roles[marker + 1] == "user"
    assert claude_root["messages"][marker + 1]["content"].startswith(
        "This session is being continued"
    )
    assert "tokens before" in claude_root["messages"][marker]["content"]


def _marker(transcript: dict[str, Any]) -> str:
    return str(
        next(
            m["content"]
            for m in transcript["messages"]
            if m["role"] == "system" and m["content"].startswith("[context compaction")
        )
    )


def test_r89_the_metadata_no_longer_repeats_the_conversations() -> None:
    for row in ROWS.values():
        payload = payload_of(row)
        fields = payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"]
        assert "invocations" not in fields["ng_trajectory"]
        for record in fields.get("ng_agent_observations", {}).get("records", []):
            assert "conversation" not in record


def test_r79_without_the_option_the_payload_is_unchanged() -> None:
    for row in ROWS.values():
        payload = payload_of(row, STRICT)
        assert "transcript_groups" not in payload and len(payload["transcripts"]) == 1
        fields = payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"]
        assert fields["ng_trajectory"]["rollout_id"] == row["ng_trajectory"]["rollout_id"]


# --- the Docent bridge ----------------------------------------------------------------------


def test_r87_docent_group_ids_resolve_and_are_fresh_on_every_conversion(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS.values()), encoding="utf-8")
    first = convert_nemogym_jsonl_file_to_agent_runs(path, options=TRANSCRIPTS)
    second = convert_nemogym_jsonl_file_to_agent_runs(path, options=TRANSCRIPTS)
    seen: set[str] = set()
    for run in first:
        groups = {group.id for group in run.transcript_groups}
        assert not groups & seen
        seen |= groups
        for transcript in run.transcripts:
            assert transcript.transcript_group_id in groups | {None}
        for group in run.transcript_groups:
            assert group.parent_transcript_group_id in groups | {None}
    assert len(seen) >= 5
    assert not seen & {group.id for run in second for group in run.transcript_groups}
    for ours, theirs in zip(first, second, strict=True):
        assert normalize_payload(ours.model_dump(mode="json")) == normalize_payload(
            theirs.model_dump(mode="json")
        )


def test_a_run_without_groups_goes_to_docent_as_it_is() -> None:
    for options in (STRICT, TRANSCRIPTS):
        run = convert_nemogym_rollout_to_agent_run(ROWS["opencode:1"], options=options)
        docent = to_docent(run)
        assert "id" not in {*docent.model_fields_set} | {
            name for group in docent.transcript_groups for name in group.model_fields_set
        }
        assert normalize_payload(docent.model_dump(mode="json")) == normalize_payload(run.to_dict())


# --- generated trajectories -----------------------------------------------------------------


@given(valid_trajectory_rows())
def test_r87_each_invocations_transcript_is_its_conversation_converted_as_an_output(
    row: dict[str, Any],
) -> None:
    payload = payload_of(row)
    assert payload == payload_of(row)  # R46
    invocations = row["ng_trajectory"]["invocations"]
    assert len(payload.get("transcript_groups", [])) == len(invocations)
    for index, invocation in enumerate(invocations):
        if not invocation["conversation"]:
            continue
        alone = {
            "responses_create_params": {"input": []},
            "response": {"output": invocation["conversation"]},
            "agent_ref": {"name": "a"},
            "_ng_task_index": 0,
            "_ng_rollout_index": 0,
        }
        (expected,) = payload_of(alone, STRICT)["transcripts"]
        got = transcript_of_group(payload, f"ng_trajectory.invocations[{index}]")
        assert got["messages"] == expected["messages"]
        assert got["metadata"]["message_details"] == expected["metadata"]["message_details"]
    assert validate_on_docent(payload) == normalize_payload(payload)


@given(valid_trajectory_rows())
def test_r79_a_conversation_is_its_rollouts_items(row: dict[str, Any]) -> None:
    """`conversation_of` gives every item of a valid rollout, so the property above covers
    the item rules."""
    for invocation in row["ng_trajectory"]["invocations"]:
        assert isinstance(invocation["conversation"], list)
    assert conversation_of(
        {"responses_create_params": {"input": "q"}, "response": {"output": []}}
    ) == [{"role": "user", "content": "q", "type": "message"}]


@given(malformed_trajectory_rows())
def test_r86_a_malformed_trajectory_is_rejected_at_its_path(case: tuple[Any, str]) -> None:
    row, path = case
    with pytest.raises(ConversionError) as raised:
        payload_of(row)
    assert raised.value.path == path
    payload_of(row, STRICT)  # without the option, never a new rejection


# --- check ---------------------------------------------------------------------------------


def _check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "check", *arguments, "-j", "1", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_tells_of_traces_and_names_the_option() -> None:
    files = [str(path) for path in sorted(DATA.glob("*.jsonl"))]
    text = _check(*files)
    assert text.returncode == 0, text.stderr
    assert (
        f"traces: {len(ROWS)} rows carry ng_trajectory ({SUBAGENTS} subagent invocations); "
        "--trajectory transcripts shows each invocation as a transcript"
    ) in text.stdout
    report = json.loads(_check(*files, "--format", "json", "--trajectory", "transcripts").stdout)
    assert report["traces"] == {
        "rows": len(ROWS),
        "subagent_invocations": SUBAGENTS,
        "option": "--trajectory transcripts",
        "applied": True,
    }
    plain = json.loads(_check(str(Path("examples/rollouts.jsonl")), "--format", "json").stdout)
    assert "traces" not in plain


def test_r88_the_deepagents_system_prompt_is_readable() -> None:
    """The wheel's deepagents row (case trajectory-from-nemo-gym-070-deepagents-model-call):
    the system prompt and question the model received, in a model-call transcript."""
    cases = json.loads(
        (
            Path(__file__).parent.parent / "spec" / "cases" / "trajectory-from-nemo-gym-070.json"
        ).read_text(encoding="utf-8")
    )["cases"]
    (row,) = [c["rollout"] for c in cases if c["id"].endswith("deepagents-model-call")]
    (call,) = row["ng_trajectory"]["model_calls"]
    payload = payload_of(row)
    first, shown = payload["transcripts"]
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    system, question, answer = shown["messages"]
    prompt = "".join(part["text"] for part in call["request"]["messages"][0]["content"])
    assert system == {"content": prompt, "role": "system"}
    assert question["content"] == call["request"]["messages"][1]["content"]
    assert answer["content"] == call["response"]["choices"][0]["message"]["content"]
    kept = shown["metadata"]["model_calls"][0]["request"]
    assert [tool["function"]["name"] for tool in kept["tools"]] == ["write_todos", "ls"]
    assert "messages" not in kept
