"""Unit tests of the converter, rule by rule (spec/README.md), against Docent 0.1.88."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from nemogym_ingest import AgentRun, ConversionError, convert_nemogym_rollout_to_agent_run
from tests.docent_oracle import (
    DocentConversionError,
    docent_convert_payload,
    docent_error_path,
    validate_on_docent,
)


def make_rollout(input_: Any = "hi", output: Any = None, **top: Any) -> dict[str, Any]:
    """A minimal valid rollout; keyword arguments replace or add top-level members."""
    rollout: dict[str, Any] = {
        "responses_create_params": {"input": input_},
        "response": {"output": [] if output is None else output},
        "agent_ref": {"name": "agent"},
        "_ng_task_index": 0,
        "_ng_rollout_index": 1,
    }
    rollout.update(top)
    return rollout


def convert(rollout: Any) -> dict[str, Any]:
    """Our payload, checked on Docent's model and for an exact round trip."""
    payload = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    assert validate_on_docent(payload) == payload
    assert AgentRun.from_dict(payload).to_dict() == payload
    return payload


def assert_same_as_docent(rollout: Any) -> dict[str, Any]:
    """Ours equals Docent's converter output (ids removed); returns our payload."""
    payload = convert(rollout)
    assert payload == docent_convert_payload(rollout)
    return payload


def rejection(rollout: Any) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert_nemogym_rollout_to_agent_run(rollout)
    return caught.value


def assert_both_reject(rollout: Any, path: str) -> ConversionError:
    """Both converters reject `rollout`, naming `path`."""
    error = rejection(rollout)
    assert error.path == path
    with pytest.raises(DocentConversionError) as docent_caught:
        docent_convert_payload(rollout)
    assert docent_error_path(docent_caught.value) == path
    return error


def messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = payload["transcripts"][0]["messages"]
    return result


def details(payload: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = payload["transcripts"][0]["metadata"]["message_details"]
    return result


def text(content: str, role: str = "assistant", **extra: Any) -> dict[str, Any]:
    part_type = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part_type, "text": content}]} | (
        extra
    )


def reasoning(*summary: str, content: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": part} for part in summary],
    }
    if content is not None:
        item["content"] = [{"type": "reasoning_text", "text": part} for part in content]
    return item | extra


def call(call_id: str, name: str = "tool", arguments: Any = "{}") -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def result(call_id: str, output: Any = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


# --- R1-R10: required fields and check order ---------------------------------------


@pytest.mark.parametrize("value", [None, [], "x", 1, True])
def test_r1_rollout_must_be_an_object(value: Any) -> None:
    assert_both_reject(value, "")


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda r: r.pop("responses_create_params"), "responses_create_params"),
        (lambda r: r.update(responses_create_params=[]), "responses_create_params"),
        (lambda r: r.pop("response"), "response"),
        (lambda r: r.update(response="x"), "response"),
        (lambda r: r["responses_create_params"].pop("input"), "responses_create_params.input"),
        (lambda r: r["response"].pop("output"), "response.output"),
        (lambda r: r["responses_create_params"].update(input=3), "responses_create_params.input"),
        (
            lambda r: r["responses_create_params"].update(input=None),
            "responses_create_params.input",
        ),
        (lambda r: r["response"].update(output={}), "response.output"),
        (lambda r: r.pop("agent_ref"), "agent_ref"),
        (lambda r: r.update(agent_ref="a"), "agent_ref"),
        (lambda r: r.update(agent_ref={}), "agent_ref.name"),
        (lambda r: r.update(agent_ref={"name": 3}), "agent_ref.name"),
        (lambda r: r.pop("_ng_task_index"), "_ng_task_index"),
        (lambda r: r.update(_ng_task_index=True), "_ng_task_index"),
        (lambda r: r.update(_ng_task_index=1.0), "_ng_task_index"),
        (lambda r: r.update(_ng_task_index="1"), "_ng_task_index"),
        (lambda r: r.update(_ng_rollout_index=False), "_ng_rollout_index"),
        (lambda r: r.pop("_ng_rollout_index"), "_ng_rollout_index"),
    ],
)
def test_r2_to_r10_required_fields(mutate: Any, path: str) -> None:
    rollout = make_rollout()
    mutate(rollout)
    assert_both_reject(rollout, path)


def test_r51_check_order_items_before_identity() -> None:
    rollout = make_rollout(output=[{"type": "bogus"}], agent_ref=None, _ng_task_index="x")
    assert_both_reject(rollout, "response.output[0].type")


def test_r51_check_order_input_before_output() -> None:
    rollout = make_rollout(input_=[{"type": "bogus"}], output=[{"type": "bogus"}])
    assert_both_reject(rollout, "responses_create_params.input[0].type")


def test_r51_check_order_request_before_response() -> None:
    assert_both_reject({"responses_create_params": 1, "response": 2}, "responses_create_params")


def test_r9_no_message_rejects_at_the_rollout() -> None:
    assert_both_reject(make_rollout(input_=[], output=[]), "")


def test_r6_string_input_is_one_user_message() -> None:
    payload = assert_same_as_docent(make_rollout(input_="What is 2+2?"))
    assert messages(payload) == [{"role": "user", "content": "What is 2+2?"}]
    assert details(payload)[0]["source_items"] == [
        {"origin": "input", "source_item_type": "message"}
    ]
    assert payload["transcripts"][0]["metadata"]["source"]["input_item_count"] == 1


def test_r6_empty_string_input_is_an_empty_user_message() -> None:
    assert messages(assert_same_as_docent(make_rollout(input_=""))) == [
        {"role": "user", "content": ""}
    ]


def test_d4_empty_agent_name_is_rejected_where_docent_accepts() -> None:
    rollout = make_rollout(agent_ref={"name": ""})
    assert rejection(rollout).path == "agent_ref.name"
    assert docent_convert_payload(rollout)["name"] == "/task/0/rollout/1"


# --- R11-R15: items and messages ---------------------------------------------------------


@pytest.mark.parametrize("item", [None, "text", 1, [], True])
def test_r11_item_must_be_an_object(item: Any) -> None:
    assert_both_reject(make_rollout(output=[item]), "response.output[0]")


@pytest.mark.parametrize(
    "item", [{}, {"type": "web_search_call"}, {"type": None}, {"type": 1}, {"type": ["message"]}]
)
def test_r11_unknown_item_type(item: Any) -> None:
    assert_both_reject(make_rollout(output=[item]), "response.output[0].type")


def test_r11_role_without_type_is_a_message() -> None:
    payload = assert_same_as_docent(make_rollout(input_=[{"role": "user", "content": "x"}]))
    assert messages(payload) == [{"role": "user", "content": "x"}]


def test_r11_null_type_with_role_is_a_message() -> None:
    rollout = make_rollout(
        input_=[{"type": None, "role": "system", "content": "s"}, text("u", "user")]
    )
    assert messages(assert_same_as_docent(rollout))[0] == {"role": "system", "content": "s"}


def test_r11_training_fields_do_not_reach_the_run() -> None:
    item = text("4") | {
        "prompt_token_ids": list(range(50)),
        "generation_token_ids": [1, 2],
        "generation_log_probs": [-0.1, -0.2],
    }
    payload = assert_same_as_docent(make_rollout(output=[item]))
    assert "token" not in json.dumps(payload)


@pytest.mark.parametrize(
    ("role", "path"),
    [(None, ".role"), ("tool", ".role"), (3, ".role"), ("Assistant", ".role")],
)
def test_r12_role_must_be_known(role: Any, path: str) -> None:
    assert_both_reject(
        make_rollout(output=[{"type": "message", "role": role, "content": "x"}]),
        "response.output[0]" + path,
    )


def test_r12_role_checked_before_content() -> None:
    item = {"type": "message", "role": "tool", "content": 5}
    assert_both_reject(make_rollout(output=[item]), "response.output[0].role")


def test_r12_developer_becomes_system_and_is_recorded() -> None:
    rollout = make_rollout(
        input_=[{"role": "developer", "content": "Be brief."}, text("q", "user")]
    )
    payload = assert_same_as_docent(rollout)
    assert messages(payload)[0] == {"role": "system", "content": "Be brief."}
    assert details(payload)[0]["source_items"][0]["original_role"] == "developer"
    assert "original_role" not in details(payload)[1]["source_items"][0]


def test_r13_parts_join_without_separator_with_refusal() -> None:
    item = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": "I ", "annotations": [{"type": "url_citation"}]},
            {"type": "output_text", "text": "can't", "logprobs": [{"token": "x", "logprob": -1}]},
            {"type": "refusal", "refusal": " do that."},
        ],
    }
    payload = assert_same_as_docent(make_rollout(output=[item]))
    assert messages(payload)[1] == {"role": "assistant", "content": "I can't do that."}
    source = details(payload)[1]["source_items"][0]
    assert source["content_part_types"] == ["output_text", "output_text", "refusal"]
    assert source["contains_refusal_part"] is True
    assert source["contains_annotations"] is True
    assert source["contains_logprobs"] is True


def test_r13_empty_parts_keep_false_flags() -> None:
    payload = assert_same_as_docent(make_rollout(output=[{"role": "assistant", "content": []}]))
    assert messages(payload)[1] == {"role": "assistant", "content": ""}
    assert details(payload)[1]["source_items"][0] == {
        "origin": "output",
        "source_item_type": "message",
        "contains_refusal_part": False,
        "contains_annotations": False,
        "contains_logprobs": False,
    }


@pytest.mark.parametrize(
    ("content", "path"),
    [
        (None, ".content"),
        (5, ".content"),
        ({"type": "input_text"}, ".content"),
        (["x"], ".content[0]"),
        ([{"text": "x"}], ".content[0].type"),
        ([{"type": 5, "text": "x"}], ".content[0].type"),
        ([{"type": "input_image", "image_url": "data:"}], ".content[0].type"),
        ([{"type": "output_text"}], ".content[0].text"),
        ([{"type": "input_text", "text": None}], ".content[0].text"),
        ([{"type": "refusal", "text": "no"}], ".content[0].refusal"),
        ([{"type": "input_text", "text": "a"}, {"type": "input_file"}], ".content[1].type"),
    ],
)
def test_r13_content_rejections(content: Any, path: str) -> None:
    item = {"type": "message", "role": "user", "content": content}
    assert_both_reject(make_rollout(input_=[item]), "responses_create_params.input[0]" + path)


def test_r14_user_message_flushes_the_pending_turn() -> None:
    rollout = make_rollout(
        input_=[text("q", "user"), text("a1"), text("q2", "user")], output=[text("a2")]
    )
    payload = assert_same_as_docent(rollout)
    assert [m["role"] for m in messages(payload)] == ["user", "assistant", "user", "assistant"]
    assert [d["origin"] for d in details(payload)] == ["input", "input", "input", "output"]


# --- R16-R19: reasoning ---------------------------------------------------------------


def test_r17_summary_parts_join_with_newline_and_skip_empty() -> None:
    item = reasoning("first", "", "second") | {"id": "rs_1", "status": "completed"}
    item["summary"].append({"type": "text", "text": "third"})
    payload = assert_same_as_docent(make_rollout(output=[item, text("done")]))
    assert messages(payload)[1]["content"] == [
        {"type": "reasoning", "reasoning": "first\nsecond\nthird"},
        {"type": "text", "text": "done"},
    ]
    assert details(payload)[1]["source_items"][0] == {
        "origin": "output",
        "source_item_type": "reasoning",
        "source_item_id": "rs_1",
        "source_item_status": "completed",
        "summary_item_types": ["summary_text", "summary_text", "summary_text", "text"],
    }


def test_r17_reasoning_only_turn_with_empty_summary_is_an_empty_message() -> None:
    payload = assert_same_as_docent(make_rollout(output=[reasoning()]))
    assert messages(payload)[1] == {"role": "assistant", "content": ""}


def test_r16_null_and_empty_encrypted_content_mean_none() -> None:
    items = [reasoning("a", encrypted_content=None), reasoning("b", encrypted_content="")]
    payload = assert_same_as_docent(make_rollout(output=items))
    assert messages(payload)[1]["content"][0]["reasoning"] == "a\n\nb"


def test_r16_encrypted_reasoning_is_rejected() -> None:
    item = reasoning("a", encrypted_content="gAAAAB...")
    assert_both_reject(make_rollout(output=[item]), "response.output[0].encrypted_content")


@pytest.mark.parametrize(
    ("summary", "path"),
    [
        (None, ".summary"),
        ("text", ".summary"),
        ([1], ".summary[0]"),
        ([{"text": "x"}], ".summary[0].type"),
        ([{"type": "reasoning_text", "text": "x"}], ".summary[0].type"),
        ([{"type": "summary_text"}], ".summary[0].text"),
    ],
)
def test_r17_summary_rejections(summary: Any, path: str) -> None:
    item = {"type": "reasoning", "summary": summary}
    assert_both_reject(make_rollout(output=[item]), "response.output[0]" + path)


def test_r18_null_content_is_accepted_as_docent_does() -> None:
    item = reasoning("s", content=None) | {"content": None}
    assert_same_as_docent(make_rollout(output=[item, text("x")]))


def test_d1_reasoning_content_is_kept_with_summary_beside_it() -> None:
    items = [
        reasoning("short", content=["step 1", "", "step 2"], id="rs_1"),
        reasoning(content=["more thinking"]),
        reasoning("only a summary"),
        text("answer"),
    ]
    rollout = make_rollout(output=items)
    payload = convert(rollout)
    assert messages(payload)[1]["content"] == [
        {
            "type": "reasoning",
            "reasoning": "step 1\nstep 2\n\nmore thinking\n\nonly a summary",
            "summary": "short",
        },
        {"type": "text", "text": "answer"},
    ]
    assert details(payload)[1]["source_items"][0]["content_part_types"] == [
        "reasoning_text",
        "reasoning_text",
        "reasoning_text",
    ]
    docent_reasoning = messages(docent_convert_payload(rollout))[1]["content"][0]["reasoning"]
    assert "step 1" not in docent_reasoning  # Docent drops it: this is divergence D1


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ("raw chain of thought", ".content"),
        ({"type": "reasoning_text"}, ".content"),
        ([None], ".content[0]"),
        ([{"type": "output_text", "text": "x"}], ".content[0].type"),
        ([{"type": "reasoning_text", "text": 1}], ".content[0].text"),
    ],
)
def test_d1_reasoning_content_rejections(content: Any, path: str) -> None:
    item = reasoning("s") | {"content": content}
    error = rejection(make_rollout(output=[item]))
    assert error.path == "response.output[0]" + path


# --- R20-R23: function calls and outputs ------------------------------------------------


def test_r20_string_and_object_arguments() -> None:
    rollout = make_rollout(
        output=[
            call("c1", "search", '{"query": "weather", "k": 3}')
            | {"id": "fc_1", "status": "completed"},
            call("c2", "lookup", {"id": 7, "empty": None}),
            result("c1", "sunny"),
            result("c2", {"b": [1, "é"], "a": None}),
        ]
    )
    payload = assert_same_as_docent(rollout)
    assert messages(payload)[1]["tool_calls"] == [
        {
            "id": "c1",
            "function": "search",
            "arguments": {"query": "weather", "k": 3},
            "type": "function",
        },
        {
            "id": "c2",
            "function": "lookup",
            "arguments": {"id": 7, "empty": None},
            "type": "function",
        },
    ]
    assert messages(payload)[3] == {
        "role": "tool",
        "content": '{"a": null, "b": [1, "\\u00e9"]}',
        "tool_call_id": "c2",
        "function": "lookup",
    }
    sources = details(payload)[1]["source_items"]
    assert sources[0]["raw_arguments"] == '{"query": "weather", "k": 3}'
    assert sources[1]["raw_arguments"] == {"id": 7}  # pruned (R40)


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({"type": "function_call", "call_id": "c", "name": "f"}, ".arguments"),
        (call("c", arguments=None), ".arguments"),
        (call("c", arguments=[1]), ".arguments"),
        (call("c", arguments="[1]"), ".arguments"),
        (call("c", arguments="{not json"), ".arguments"),
        (call("c", arguments=""), ".arguments"),
        (call("", arguments="{}"), ".call_id"),
        (call(None, arguments="{}"), ".call_id"),  # type: ignore[arg-type]
        (call("c", name="", arguments="{}"), ".name"),
        (call("c", name=5, arguments="{}"), ".name"),  # type: ignore[arg-type]
        ({"type": "function_call", "arguments": "{}", "name": ""}, ".call_id"),
    ],
)
def test_r20_r21_function_call_rejections(item: dict[str, Any], path: str) -> None:
    assert_both_reject(make_rollout(output=[item]), "response.output[0]" + path)


def test_r22_tool_output_answers_a_call_declared_in_the_input() -> None:
    rollout = make_rollout(input_=[text("go", "user"), call("c1", "lookup")], output=[result("c1")])
    payload = assert_same_as_docent(rollout)
    assert [d["origin"] for d in details(payload)] == ["input", "input", "output"]


@pytest.mark.parametrize(
    ("output", "path"),
    [
        ([result("nope")], "response.output[0].call_id"),
        ([result("c1"), call("c1")], "response.output[0].call_id"),
        ([result("")], "response.output[0].call_id"),
        ([{"type": "function_call_output", "output": "x"}], "response.output[0].call_id"),
        (
            [call("c1"), {"type": "function_call_output", "call_id": "c1"}],
            "response.output[1].output",
        ),
    ],
)
def test_r22_tool_output_rejections(output: list[Any], path: str) -> None:
    assert_both_reject(make_rollout(output=output), path)


def test_r22_redeclared_call_id_takes_the_latest_name() -> None:
    rollout = make_rollout(output=[call("c", "first"), call("c", "second"), result("c")])
    assert messages(assert_same_as_docent(rollout))[-1]["function"] == "second"


@pytest.mark.parametrize("output", ["", 0, None, False, [], {}, {"z": 1, "a": "ü"}, 1.5])
def test_r23_tool_output_content(output: Any) -> None:
    payload = assert_same_as_docent(make_rollout(output=[call("c"), result("c", output)]))
    expected = (
        output if isinstance(output, str) else json.dumps(output, ensure_ascii=True, sort_keys=True)
    )
    assert messages(payload)[-1]["content"] == expected


# --- R30-R33: assistant turns -------------------------------------------------------------


def test_r31_reasoning_message_and_parallel_calls_form_one_turn() -> None:
    rollout = make_rollout(
        output=[
            reasoning("plan a"),
            reasoning("plan b"),
            text("Calling tools."),
            call("c1", "a"),
            call("c2", "b"),
            result("c1"),
            result("c2"),
            text("Done."),
        ]
    )
    payload = assert_same_as_docent(rollout)
    turn = messages(payload)[1]
    assert turn["content"] == [
        {"type": "reasoning", "reasoning": "plan a\n\nplan b"},
        {"type": "text", "text": "Calling tools."},
    ]
    assert [tool["id"] for tool in turn["tool_calls"]] == ["c1", "c2"]
    assert details(payload)[1]["source_item_types"] == [
        "reasoning",
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert [m["role"] for m in messages(payload)] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]


def test_r30_turn_never_spans_input_and_output() -> None:
    rollout = make_rollout(input_=[text("q", "user"), text("partial")], output=[text("rest")])
    payload = assert_same_as_docent(rollout)
    assert [m["content"] for m in messages(payload)] == ["q", "partial", "rest"]


def test_d2_two_assistant_messages_are_not_glued() -> None:
    rollout = make_rollout(output=[text("Hello"), text("World")])
    payload = convert(rollout)
    assert [m["content"] for m in messages(payload)[1:]] == ["Hello", "World"]
    assert messages(docent_convert_payload(rollout))[1]["content"] == "HelloWorld"


def test_d2_reasoning_after_text_starts_a_new_turn() -> None:
    rollout = make_rollout(output=[text("Hello"), reasoning("second thought"), text("World")])
    payload = convert(rollout)
    assert messages(payload)[1:] == [
        {"role": "assistant", "content": "Hello"},
        {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "reasoning": "second thought"},
                {"type": "text", "text": "World"},
            ],
        },
    ]
    assert sum(d["source_item_count"] for d in details(payload)) == 4


def test_d2_message_or_reasoning_after_a_tool_call_starts_a_new_turn() -> None:
    rollout = make_rollout(output=[call("c1"), text("while waiting"), call("c2"), reasoning("hm")])
    payload = convert(rollout)
    assert messages(payload)[1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "function": "tool", "arguments": {}, "type": "function"}],
        },
        {
            "role": "assistant",
            "content": "while waiting",
            "tool_calls": [{"id": "c2", "function": "tool", "arguments": {}, "type": "function"}],
        },
        {"role": "assistant", "content": [{"type": "reasoning", "reasoning": "hm"}]},
    ]


def test_d2_empty_assistant_message_still_separates() -> None:
    rollout = make_rollout(output=[text(""), text("x")])
    assert [m["content"] for m in messages(convert(rollout))[1:]] == ["", "x"]


# --- R35, R40-R47: naming and metadata -----------------------------------------------------


def test_r35_r44_r45_naming_and_metadata_layout() -> None:
    rollout = make_rollout(
        output=[text("4")],
        reward=0.5,
        agent_ref={"name": "math_agent", "url": "", "type": "responses_api_agents"},
        _ng_task_index=12,
        _ng_rollout_index=3,
        expected_answer="4",
        judge_evaluations=[],
        verifier_metadata={"k": 1, "empty": {}, "none": None, "zero": 0, "no": False},
        skipped=None,
    )
    rollout["responses_create_params"].update(temperature=0.0, instructions=None, tools=[])
    rollout["response"].update(id="resp_1", model="m", created_at=1.5, status="completed", usage={})
    payload = assert_same_as_docent(rollout)
    assert payload["name"] == "math_agent/task/12/rollout/3"
    assert payload["transcripts"][0]["name"] == "math_agent"
    assert payload["metadata"] == {
        "scores": {"reward": 0.5},
        "nemogym": {
            "task_index": 12,
            "rollout_index": 3,
            "agent_ref": {"name": "math_agent", "type": "responses_api_agents"},
        },
        "source": {
            "schema": "nemo_gym_rollout",
            "rollout_non_trace": {
                "request": {"temperature": 0.0},
                "response": {
                    "id": "resp_1",
                    "model": "m",
                    "created_at": 1.5,
                    "status": "completed",
                },
                "benchmark_fields": {
                    "expected_answer": "4",
                    "verifier_metadata": {"k": 1, "zero": 0, "no": False},
                },
            },
        },
    }
    assert payload["transcripts"][0]["metadata"]["source"] == {
        "schema": "nemo_gym_rollout",
        "response_id": "resp_1",
        "response_model": "m",
        "response_created_at": 1.5,
        "response_status": "completed",
        "input_item_count": 1,
        "output_item_count": 1,
    }


@pytest.mark.parametrize("reward", [None, 0, 1, -0.5, True, "pass", {"a": None}, [None]])
def test_r44_reward_placement(reward: Any) -> None:
    payload = assert_same_as_docent(make_rollout(reward=reward))
    if reward is None or reward == {"a": None}:
        assert "scores" not in payload["metadata"]
    else:
        assert payload["metadata"]["scores"] == {"reward": reward}


def test_r40_array_elements_are_kept_but_pruned_inside() -> None:
    payload = assert_same_as_docent(make_rollout(extra=[None, "", {"a": None}, [], 0]))
    fields = payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"]
    assert fields == {"extra": [None, "", {}, [], 0]}


def test_r43_item_ids_and_statuses_of_any_json_kind_are_copied() -> None:
    item = text("x") | {"id": {"provider": "p", "n": None}, "status": ["a"]}
    source = details(assert_same_as_docent(make_rollout(output=[item])))[1]["source_items"][0]
    assert source["source_item_id"] == {"provider": "p"}
    assert source["source_item_status"] == ["a"]


def test_r46_deterministic() -> None:
    rollout = make_rollout(output=[reasoning("r"), call("c", arguments={"a": 1}), result("c")])
    assert convert(rollout) == convert(rollout)
    first = convert_nemogym_rollout_to_agent_run(rollout).to_json()
    assert first == convert_nemogym_rollout_to_agent_run(rollout).to_json()


def _containers(value: Any) -> list[Any]:
    found: list[Any] = []
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            found.append(current)
            stack.extend(current)
    return found


def test_r47_input_untouched_and_nothing_shared() -> None:
    rollout = make_rollout(
        input_=[text("q", "user") | {"id": {"x": [1]}}],
        output=[
            call("c", arguments={"nested": {"list": [1, {"a": None}]}}),
            result("c", {"o": [1]}),
        ],
        reward={"parts": [1]},
        verifier_metadata={"deep": {"er": [[]]}},
    )
    rollout["responses_create_params"]["tools"] = [{"type": "function", "parameters": {"a": {}}}]
    before = copy.deepcopy(rollout)
    run = convert_nemogym_rollout_to_agent_run(rollout)
    assert rollout == before
    inside = {id(container) for container in _containers(rollout)}
    run_objects = _containers(run.metadata) + _containers(run.transcripts[0].metadata)
    for message in run.transcripts[0].messages:
        for tool_call in getattr(message, "tool_calls", None) or []:
            run_objects += _containers(tool_call.arguments)
    assert run_objects and not [obj for obj in run_objects if id(obj) in inside]


# --- R41 (D5) and R52 (D3): only JSON, never another exception ------------------------------


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_r41_nesting_limit_boundary() -> None:
    # The benchmark field's own array sits at level 2; 199 nested arrays reach level 200.
    payload = convert(make_rollout(deep=_nested(199)))
    assert "deep" in payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"]
    error = rejection(make_rollout(deep=_nested(200)))
    assert error.path == "deep" + "[0]" * 199
    assert "200 levels" in error.reason


@pytest.mark.parametrize("depth", [1_000, 20_000])
def test_d3_deep_values_everywhere_give_conversion_errors(depth: int) -> None:
    deep = _nested(depth)
    cases = [
        (make_rollout(deep=deep), "deep"),
        (make_rollout(output=[call("c", arguments={"a": deep})]), "response.output[0].arguments.a"),
        (make_rollout(output=[call("c"), result("c", deep)]), "response.output[1].output"),
        (
            make_rollout(input_=[text("q", "user") | {"id": deep}]),
            "responses_create_params.input[0].id",
        ),
        (make_rollout(reward=deep), "reward"),
    ]
    for rollout, prefix in cases:
        error = rejection(rollout)
        assert error.path.startswith(prefix), error.path
    rollout = make_rollout()
    rollout["responses_create_params"]["metadata"] = {"m": deep}
    assert rejection(rollout).path.startswith("responses_create_params.metadata.m[0]")


def test_d3_deep_string_arguments_are_a_conversion_error() -> None:
    arguments = '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"
    assert rejection(make_rollout(output=[call("c", arguments=arguments)])).path == (
        "response.output[0].arguments"
    )


def test_d3_docent_crashes_where_we_reject() -> None:
    rollout = make_rollout(deep=_nested(5_000))
    with pytest.raises(RecursionError):
        docent_convert_payload(rollout)
    assert rejection(rollout).path.startswith("deep")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (math.nan, "nan is not a JSON number"),
        (math.inf, "inf is not a JSON number"),
        ({1: "a"}, "object key 1 is not a string"),
        ((1, 2), "a tuple is not a JSON value"),
        ({"s"}, "a set is not a JSON value"),
        (10**4001, "integer has more than 4000 digits"),
    ],
)
def test_d5_non_json_values_are_rejected_at_their_path(value: Any, reason: str) -> None:
    error = rejection(make_rollout(verifier_metadata={"scores": [1, value]}))
    assert error.path == "verifier_metadata.scores[1]"
    assert error.reason == reason


def test_d5_nan_reward_and_arguments() -> None:
    assert rejection(make_rollout(reward=math.nan)).path == "reward"
    assert rejection(make_rollout(output=[call("c", arguments='{"x": NaN}')])).path == (
        "response.output[0].arguments.x"
    )


def test_d5_huge_index_is_rejected_not_crashing() -> None:
    assert rejection(make_rollout(_ng_task_index=10**5000)).path == "_ng_task_index"


def test_r50_non_identifier_keys_are_quoted() -> None:
    error = rejection(make_rollout(**{"verifier metadata": {"a.b": [math.nan]}}))
    assert error.path == '["verifier metadata"]["a.b"][0]'


def test_json_subclasses_are_plain_in_the_output() -> None:
    class Text(str):
        pass

    payload = convert(make_rollout(tag=Text("t"), counts={Text("k"): 1}))
    fields = payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"]
    assert type(fields["tag"]) is str and fields == {"tag": "t", "counts": {"k": 1}}
