"""Issue 17's rollout shapes: phase and namespace (R48, D6), inline think tags (R76),
rollouts without items (R77), hosted and custom tool items (R24-R27, R78), and inputs that
are not rollouts at all (`check`, `convert`). The items of every case, and those the
strategies draw, are checked against the `openai.types.responses` models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from openai.types.responses import (
    EasyInputMessage,
    ResponseApplyPatchToolCall,
    ResponseApplyPatchToolCallOutput,
    ResponseCodeInterpreterToolCall,
    ResponseCompactionItem,
    ResponseComputerToolCall,
    ResponseComputerToolCallOutputItem,
    ResponseCustomToolCall,
    ResponseCustomToolCallOutput,
    ResponseFileSearchToolCall,
    ResponseFunctionShellToolCall,
    ResponseFunctionShellToolCallOutput,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseOutputMessage,
    ResponseToolSearchCall,
    ResponseToolSearchOutputItem,
    response_input_item,
    response_output_item,
)
from pydantic import BaseModel, ValidationError

from nemogym_ingest import ConversionError, ConversionOptions, convert_nemogym_rollout_to_agent_run
from nemogym_ingest.cli import main
from nemogym_ingest.convert import TOOL_ITEM_SHAPES, convert_row, split_think_tags
from nemogym_ingest.rescue import rescuing_options
from nemogym_ingest.testing.strategies import valid_rollouts
from tests.docent_oracle import validate_on_docent
from tests.test_convert import make_rollout
from tests.test_properties_valid import without_phase_and_namespace

ROOT = Path(__file__).resolve().parent.parent
NEW_GROUPS = ("tool-items", "think-tags", "empty-rollouts", "phase-namespace")

# Each item type's models: the output item's, and the input item's where it differs (an
# output item sent back as input may omit what the API fills in, such as `id`).
OPENAI_MODELS: dict[str, tuple[type[BaseModel], ...]] = {
    "message": (ResponseOutputMessage, EasyInputMessage),
    "function_call": (ResponseFunctionToolCall,),
    "function_call_output": (response_input_item.FunctionCallOutput,),
    "custom_tool_call": (ResponseCustomToolCall,),
    "custom_tool_call_output": (ResponseCustomToolCallOutput,),
    "web_search_call": (ResponseFunctionWebSearch,),
    "file_search_call": (ResponseFileSearchToolCall,),
    "code_interpreter_call": (ResponseCodeInterpreterToolCall,),
    "image_generation_call": (response_output_item.ImageGenerationCall,),
    "local_shell_call": (response_output_item.LocalShellCall,),
    "local_shell_call_output": (response_output_item.LocalShellCallOutput,),
    "shell_call": (ResponseFunctionShellToolCall, response_input_item.ShellCall),
    "shell_call_output": (ResponseFunctionShellToolCallOutput, response_input_item.ShellCallOutput),
    "apply_patch_call": (ResponseApplyPatchToolCall, response_input_item.ApplyPatchCall),
    "apply_patch_call_output": (
        ResponseApplyPatchToolCallOutput,
        response_input_item.ApplyPatchCallOutput,
    ),
    "computer_call": (ResponseComputerToolCall,),
    "computer_call_output": (
        ResponseComputerToolCallOutputItem,
        response_input_item.ComputerCallOutput,
    ),
    "mcp_call": (response_output_item.McpCall,),
    "mcp_list_tools": (response_output_item.McpListTools,),
    "mcp_approval_request": (response_output_item.McpApprovalRequest,),
    "mcp_approval_response": (response_input_item.McpApprovalResponse,),
    "tool_search_call": (ResponseToolSearchCall, response_input_item.ToolSearchCall),
    "tool_search_output": (ResponseToolSearchOutputItem,),
    "compaction": (ResponseCompactionItem,),
}
"""The models that say each item type's shape."""

WITH_NEW_OPTIONS = ConversionOptions(
    think_tags="reasoning", empty_rollouts="placeholder", tool_items="generic", media="placeholder"
)


def _new_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for group in NEW_GROUPS:
        text = (ROOT / "spec" / "cases" / f"{group}.json").read_text(encoding="utf-8")
        cases += json.loads(text)["cases"]
    return cases


CASES = _new_cases()


def _items(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    input_ = rollout["responses_create_params"]["input"]
    output = rollout["response"]["output"]
    snapshots = output if output and all(isinstance(item, list) for item in output) else [output]
    return [
        item for items in [input_ if isinstance(input_, list) else [], *snapshots] for item in items
    ]


def _new_shapes(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of `rollout` that only issue 17 converts: hosted and custom tool items,
    and items carrying a `phase` or a `namespace`."""
    return [
        item
        for item in _items(rollout)
        if item.get("type") in TOOL_ITEM_SHAPES or "phase" in item or "namespace" in item
    ]


def _openai_problem(item: dict[str, Any]) -> str | None:
    """Why `item` fits none of its type's models (None when one accepts it)."""
    item_type = item.get("type") or "message"
    problems = []
    for model in OPENAI_MODELS[item_type]:
        try:
            model.model_validate(item)
        except ValidationError as error:
            problems.append(
                f"{model.__name__}: {error.errors()[0]['loc']} {error.errors()[0]['msg']}"
            )
        else:
            return None
    return f"{item_type}: " + "; ".join(problems)


def test_every_generic_item_type_has_its_openai_model() -> None:
    assert set(TOOL_ITEM_SHAPES) <= set(OPENAI_MODELS)


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if not isinstance(case["expect"], dict)]
    + [case for case in CASES if case["id"].startswith("tool-items-strict-")],
    ids=lambda case: case["id"],
)
def test_case_items_validate_on_the_openai_models(case: dict[str, Any]) -> None:
    """Every new item of an accepted case (and of each strict rejection) has the Responses
    API shape of its type, but for the cases that pin what the spec does with a shape the
    API does not write (exactly the problems listed for them)."""
    items = _new_shapes(case["rollout"])
    problems = [problem for item in items if (problem := _openai_problem(item))]
    assert problems == list(_OFF_MODEL_ON_PURPOSE.get(case["id"], ()))


_OFF_MODEL_ON_PURPOSE: dict[str, tuple[str, ...]] = {
    # R25: an output member that is null is no member (issue 31, item 2).
    "tool-items-output-members-null": (
        "custom_tool_call_output: ResponseCustomToolCallOutput: ('output', 'str') "
        "Input should be a valid string",
    ),
    # R27: an image output without a string url is [image] (issue 31, item 16).
    "tool-items-code-interpreter-image-without-url": (
        "code_interpreter_call: ResponseCodeInterpreterToolCall: ('outputs', 1, 'OutputLogs', "
        "'logs') Field required",
    ),
}
"""Cases whose items are deliberately not the Responses API's shape, with the problems."""


def test_every_generic_item_type_has_an_accepting_and_a_strict_case() -> None:
    accepted = {
        item["type"]
        for case in CASES
        if not isinstance(case["expect"], dict)
        for item in _items(case["rollout"])
        if "type" in item
    }
    strict = {case["id"].removeprefix("tool-items-strict-") for case in CASES}
    for item_type in TOOL_ITEM_SHAPES:
        assert item_type in accepted, item_type
        assert item_type.replace("_", "-") in strict, item_type


def test_the_openai_models_do_reject_a_wrong_shape() -> None:
    assert _openai_problem({"type": "shell_call", "call_id": "c"}) is not None  # no action
    assert _openai_problem({"type": "compaction", "id": "c"}) is not None


# --- think tags (R76) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("<think>\nr\n</think>\n\nanswer", ("r", "answer")),
        ("  <think>r</think>a", ("r", "a")),
        ("r1\nr2\n</think>\n\nanswer", ("r1\nr2", "answer")),
        ("<think></think>a", ("", "a")),
        ("<think>r</think>", ("r", "")),
        ("<think>r</think>a</think>b", ("r", "a</think>b")),
        ("no tags", None),
        ("<think>unclosed", None),
        ("first <think>r</think> a", None),
        ("", None),
    ],
)
def test_split_think_tags(text: str, split: tuple[str, str] | None) -> None:
    assert split_think_tags(text) == split


def test_think_tags_never_change_a_rollout_without_them() -> None:
    rollout = make_rollout("hi", [{"role": "assistant", "content": "plain"}])
    strict = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    options = ConversionOptions(think_tags="reasoning")
    assert convert_nemogym_rollout_to_agent_run(rollout, options=options).to_dict() == strict


# --- rescue hints for the new options --------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "rescuing"),
    [
        ([], ["empty_rollouts"]),
        ([{"type": "shell_call", "call_id": "c", "action": {"commands": ["ls"]}}], ["tool_items"]),
        (
            [
                {"type": "computer_call", "call_id": "c", "action": {"type": "screenshot"}},
                {"type": "computer_call_output", "call_id": "c", "output": {"image_url": "u"}},
            ],
            ["tool_items", "media"],
        ),
        ([{"type": "shell_call", "action": {}}], []),  # no id: no option helps
    ],
)
def test_rescuing_options_name_the_new_options(output: list[Any], rescuing: list[str]) -> None:
    rollout = make_rollout([], output)
    with pytest.raises(ConversionError) as caught:
        convert_row(rollout, ConversionOptions(), 1)
    assert rescuing_options(rollout, ConversionOptions(), 1, caught.value) == rescuing


def test_empty_rollout_keeps_reward_and_is_recorded_after_transitions() -> None:
    rollout = make_rollout([], [[]], reward=0.75, verifier={"tests_passed": 3})
    options = ConversionOptions(transitions="final", empty_rollouts="placeholder")
    payload: dict[str, Any] = convert_nemogym_rollout_to_agent_run(
        rollout, options=options
    ).to_dict()
    assert validate_on_docent(payload) == payload
    assert payload["metadata"]["scores"] == {"reward": 0.75}
    assert payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"] == {
        "verifier": {"tests_passed": 3}
    }
    assert list(payload["metadata"]["nemogym"]["assumed"]) == ["transitions", "empty_rollouts"]
    (message,) = payload["transcripts"][0]["messages"]
    assert message["role"] == "system" and "no messages" in message["content"]


# --- properties -------------------------------------------------------------------------------


@given(valid_rollouts(options=True))
def test_rollouts_needing_the_new_options_convert_with_them(rollout: dict[str, Any]) -> None:
    """With the options every drawn rollout converts to a payload Docent's model accepts;
    without them it converts the same when nothing was assumed, else a rejection names one
    of them (or `media`, which generic media outputs need)."""
    payload: dict[str, Any] = convert_nemogym_rollout_to_agent_run(
        rollout, options=WITH_NEW_OPTIONS
    ).to_dict()
    assert validate_on_docent(payload) == payload
    generic = [item for item in _items(rollout) if item.get("type") in TOOL_ITEM_SHAPES]
    assert [problem for item in generic if (problem := _openai_problem(item))] == []
    assumed = payload["metadata"]["nemogym"].get("assumed", {})
    try:
        strict: dict[str, Any] = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    except ConversionError as error:
        assert error.option in ("think_tags", "empty_rollouts", "tool_items", "media")
        assert error.option in assumed
        return
    if "think_tags" not in assumed:
        assert strict == payload
    else:  # think tags never reject: the strict run keeps the text whole
        assert set(assumed) == {"think_tags"}


@given(valid_rollouts())
def test_d6_phase_and_namespace_are_recorded_and_change_nothing_else(
    rollout: dict[str, Any],
) -> None:
    payload: dict[str, Any] = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    bare: dict[str, Any] = convert_nemogym_rollout_to_agent_run(
        without_phase_and_namespace(rollout)
    ).to_dict()
    recorded = [
        (key, source[key])
        for detail in payload["transcripts"][0]["metadata"]["message_details"]
        for source in detail["source_items"]
        for key in ("phase", "namespace")
        if key in source
    ]
    given_values = sorted(
        (key, item[key])
        for item in _items(rollout)
        for key in ("phase", "namespace")
        if item.get(key) is not None
    )
    assert sorted(recorded) == given_values
    for detail in payload["transcripts"][0]["metadata"]["message_details"]:
        for source in detail["source_items"]:
            source.pop("phase", None)
            source.pop("namespace", None)
    assert payload == bare


# --- inputs that are not rollouts (check, convert) --------------------------------------------

NOT_ROLLOUTS = (
    "not a NeMo Gym rollouts file ({} lines, none with responses_create_params, response or "
    "invocations)"
)


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def metrics_file(tmp_path: Path) -> Path:
    """An aggregate metrics dump and task records, a blank line among them: no rollout."""
    rows: list[Any] = [{"mean_reward": 0.5, "count": 12}, {"task": "2+2?", "expected": "4"}]
    path = _write(tmp_path / "metrics.jsonl", rows)
    with path.open("a", encoding="utf-8") as file:
        file.write('\n{"task": "3+3?"}\n')
    return path


def test_check_says_once_that_a_file_is_not_rollouts(
    metrics_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-q", str(metrics_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{metrics_file}: " + NOT_ROLLOUTS.format(3)
    assert not any(line.startswith(f"{metrics_file}:") for line in out[1:])
    assert main(["check", "-q", "--format", "json", str(metrics_file)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["not_rollouts"] == f"{metrics_file}: " + NOT_ROLLOUTS.format(3)
    assert report["errors"] == [] and report["rejected"] == 0
    assert (report["not_rollout_lines"], report["blank"], report["lines"]) == (3, 1, 4)


@pytest.mark.parametrize("keep_going", [False, True])
def test_convert_says_it_on_its_first_line(
    metrics_file: Path, keep_going: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "out.jsonl"
    args = ["convert", "-q", str(metrics_file), "-o", str(output)] + (["-k"] if keep_going else [])
    assert main(args) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [  # no line is a rejected rollout, and no input holds one (issue 38)
        f"{metrics_file}: " + NOT_ROLLOUTS.format(3),
        "nemogym-ingest: the input holds no rollout: nothing written",
    ]
    assert not output.exists()


@pytest.mark.parametrize("odd_line", ["not json", "[1, 2]"])
def test_a_line_that_is_no_json_object_is_reported_as_usual(
    tmp_path: Path, odd_line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only JSON objects tell a foreign file: invalid JSON or an array is reported itself."""
    path = tmp_path / "odd.jsonl"
    path.write_text('{"task": 1}\n' + odd_line + "\n", encoding="utf-8")
    assert main(["check", "-q", str(path)]) == 1
    out = capsys.readouterr().out
    assert "not a NeMo Gym" not in out
    assert f"{path}:2: " in out


def test_a_file_with_one_rollout_reports_its_lines_as_usual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "mixed.jsonl", [{"task": 1}, {"task": 2}, make_rollout()])
    assert main(["check", "-q", str(path)]) == 1
    out = capsys.readouterr().out
    assert "not a NeMo Gym" not in out
    assert f"{path}:1: responses_create_params: is missing" in out
    assert f"{path}:2: responses_create_params: is missing" in out
    assert main(["convert", "-q", str(path), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:1: responses_create_params: is missing"
    ]


@pytest.mark.parametrize("rollout_last", [False, True])
def test_not_rollouts_is_found_across_chunks_and_workers(
    tmp_path: Path, rollout_last: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file of several chunks (over 1 MiB), converted by two workers: the sentence when no
    line is a rollout; the first line's rejection when the last line is one."""
    rows: list[Any] = [{"task": index, "prompt": "x" * 200} for index in range(6000)]
    if rollout_last:
        rows.append(make_rollout())
    path = _write(tmp_path / "tasks.jsonl", rows)
    assert path.stat().st_size > 1 << 20
    assert main(["convert", "-q", "-j", "2", str(path), "-o", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err.splitlines()
    if rollout_last:
        assert err == [f"{path}:1: responses_create_params: is missing"]
    else:
        assert err == [
            f"{path}: " + NOT_ROLLOUTS.format("6,000"),
            "nemogym-ingest: the input holds no rollout: nothing written",
        ]
    assert not (tmp_path / "o.jsonl").exists()
