"""ConversionOptions (spec R70-R78): each option, its limits, its record, its CLI flags."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from docent.data_models import AgentRun as DocentAgentRun
from hypothesis import given

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
)
from nemogym_ingest.cli import main
from nemogym_ingest.convert import convert_row
from nemogym_ingest.options import (
    OPTIONS,
    add_option_arguments,
    options_from_args,
    suggested_flags,
)
from nemogym_ingest.rescue import rescuing_options
from nemogym_ingest.testing.strategies import mutated_rollouts, valid_rollouts
from tests.docent_oracle import validate_on_docent
from tests.test_convert import make_rollout

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "spec" / "cases"
EXAMPLES = ROOT / "tests" / "data" / "docent-0.1.88-examples.json"

ALL_OPTIONS = ConversionOptions(
    agent_name="fallback",
    task_index=7,
    rollout_index=8,
    transitions="final",
    encrypted_reasoning="redact",
    media="placeholder",
)


def without(rollout: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in rollout.items() if key not in keys}


def say(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def convert(rollout: Any, **options: Any) -> dict[str, Any]:
    """Our payload with `options`, checked on Docent's model and for an exact round trip."""
    payload = convert_nemogym_rollout_to_agent_run(
        rollout, options=ConversionOptions(**options)
    ).to_dict()
    assert validate_on_docent(payload) == payload
    assert AgentRun.from_dict(payload).to_dict() == payload
    return payload


def rejection(rollout: Any, **options: Any) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert_nemogym_rollout_to_agent_run(rollout, options=ConversionOptions(**options))
    return caught.value


def assumed(payload: dict[str, Any]) -> Any:
    return payload["metadata"]["nemogym"].get("assumed")


def messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = payload["transcripts"][0]["messages"]
    return result


def spec_cases(*groups: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not groups or data["group"] in groups:
            cases += data["cases"]
    return cases


def _case_outcome(case: dict[str, Any], options: ConversionOptions) -> Any:
    try:
        if "file" in case:
            runs = convert_nemogym_jsonl_file_to_agent_runs(
                CASES_DIR / case["file"], options=options
            )
            return [run.to_dict() for run in runs]
        return convert_nemogym_rollout_to_agent_run(
            copy.deepcopy(case["rollout"]), options=options
        ).to_dict()
    except ConversionError as error:
        return ("error", error.path, error.line, error.reason)


# --- the options themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"agent_name": ""},
        {"agent_name": 3},
        {"agent_name": "judge\udcff"},
        {"task_index": "first"},
        {"task_index": True},
        {"rollout_index": 1.0},
        {"rollout_index": 10**4001},
        {"transitions": "all"},
        {"encrypted_reasoning": "drop"},
        {"media": "omit"},
    ],
)
def test_r70_invalid_option_values_are_a_usage_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))) as caught:
        ConversionOptions(**options)
    assert not isinstance(caught.value, ConversionError)


def test_options_may_be_given_as_a_mapping_read_as_from_json_reads_it(tmp_path: Path) -> None:
    """`options=` takes `ConversionOptions` or a mapping of its fields (as the conformance
    runner passes them): the same runs either way, and a bad mapping is refused as
    `from_json` refuses it."""
    rollout = make_rollout()
    del rollout["agent_ref"]
    mapping = {"agent_name": "fallback", "rollout_index": 4}
    typed = ConversionOptions(agent_name="fallback", rollout_index=4)
    assert convert_nemogym_rollout_to_agent_run(
        rollout, options=mapping
    ) == convert_nemogym_rollout_to_agent_run(rollout, options=typed)
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(rollout) + "\n")
    by_line = {"agent_name": "fallback", "task_index": "line"}
    assert convert_nemogym_jsonl_file_to_agent_runs(path, options=by_line) == list(
        iter_nemogym_jsonl(
            path, options=ConversionOptions(agent_name="fallback", task_index="line")
        )
    )
    with pytest.raises(ValueError, match=r"^options: unknown colour; known: agent_name, "):
        convert_nemogym_rollout_to_agent_run(rollout, options={"colour": "red"})
    media = r'^options: media must be null or "placeholder", got "drop"$'
    with pytest.raises(ValueError, match=media):
        iter_nemogym_jsonl(path, options={"media": "drop"})


@pytest.mark.parametrize("options", [[("agent_name", "a")], "agent_name=a", 0, True])
def test_options_of_another_type_raise_a_type_error_naming_conversion_options(
    options: Any, tmp_path: Path
) -> None:
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(make_rollout()) + "\n")
    for convert in (
        lambda: convert_nemogym_rollout_to_agent_run(make_rollout(), options=options),
        lambda: iter_nemogym_jsonl(path, options=options),
    ):
        with pytest.raises(TypeError, match=r"^options must be ConversionOptions, a mapping"):
            convert()


def test_options_are_keyword_only_frozen_and_picklable() -> None:
    with pytest.raises(TypeError):
        ConversionOptions("agent")  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        ALL_OPTIONS.media = None  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(ALL_OPTIONS)) == ALL_OPTIONS


def _plain_outcome(case: dict[str, Any]) -> Any:
    """The outcome of `case` with no `options` argument at all."""
    try:
        if "file" in case:
            return [run.to_dict() for run in iter_nemogym_jsonl(CASES_DIR / case["file"])]
        return convert_nemogym_rollout_to_agent_run(copy.deepcopy(case["rollout"])).to_dict()
    except ConversionError as error:
        return ("error", error.path, error.line, error.reason)


def test_r70_default_options_change_nothing() -> None:
    """Every spec case (all groups) converts identically with and without ConversionOptions()."""
    cases = [case for case in spec_cases() if "options" not in case]
    assert len(cases) > 50
    for case in cases:
        assert _case_outcome(case, ConversionOptions()) == _plain_outcome(case), case["id"]


def test_r70_options_with_nothing_to_resolve_change_nothing() -> None:
    """Complete, plain rollouts convert exactly as strict with every option set."""
    examples = [example["rollout"] for example in json.loads(EXAMPLES.read_text("utf-8"))]
    accepted = 0
    for rollout in examples:
        try:
            strict = convert_nemogym_rollout_to_agent_run(copy.deepcopy(rollout)).to_dict()
        except ConversionError:
            continue
        accepted += 1
        assert convert_nemogym_rollout_to_agent_run(rollout, options=ALL_OPTIONS).to_dict() == (
            strict
        )
    assert accepted >= 3


_HINT = re.compile(r"pass (\w+)=(\"line\"|\"\w+\"|NAME)")
_HINT_VALUES = {"agent_name": "supplied", "task_index": 5, "rollout_index": 6}


def _option_from_hint(reason: str) -> dict[str, Any]:
    found = _HINT.search(reason)
    assert found is not None, reason
    name, value = found[1], found[2]
    if name in _HINT_VALUES:
        return {name: _HINT_VALUES[name]}
    return {name: value.strip('"')}


def test_r70_every_message_naming_an_option_is_resolved_by_it() -> None:
    """A strict rejection whose message names an option (with its CLI flag) is past that
    point once that option is set: accepted, or rejected later at another path."""
    named = 0
    for case in spec_cases():
        if "file" in case or "options" in case:
            continue
        outcome = _case_outcome(case, ConversionOptions())
        if not isinstance(outcome, tuple) or "pass " not in outcome[3]:
            continue
        named += 1
        option = _option_from_hint(outcome[3])
        flag = "--" + next(iter(option)).replace("_", "-")
        assert flag in outcome[3], outcome
        retried = _case_outcome(case, ConversionOptions(**option))
        assert not isinstance(retried, tuple) or retried[1] != outcome[1], (case["id"], retried)
    assert named >= 6


def test_r70_options_cases_validate_on_docent() -> None:
    """Every AgentRun of the options groups is valid on Docent's model and round-trips."""
    runs = 0
    for case in spec_cases("options", "jsonl-options"):
        outcome = _case_outcome(case, ConversionOptions(**case.get("options", {})))
        if isinstance(outcome, tuple):
            continue
        for payload in outcome if isinstance(outcome, list) else [outcome]:
            assert validate_on_docent(payload) == payload, case["id"]
            assert AgentRun.from_dict(payload).to_dict() == payload
            runs += 1
    assert runs >= 14


def test_r70_input_is_not_modified_and_shares_nothing() -> None:
    rollout = make_rollout(
        [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}],
        [
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAA"},
            say("ok"),
        ],
    )
    del rollout["agent_ref"]
    before = copy.deepcopy(rollout)
    run = convert_nemogym_rollout_to_agent_run(rollout, options=ALL_OPTIONS)
    assert rollout == before
    details = run.transcripts[0].metadata["message_details"]
    details[0]["source_items"][0]["media_parts"][0]["image_url"] = "changed"
    assert rollout == before


# --- R71 agent_name ----------------------------------------------------------------------


def test_r71_agent_name_fills_missing_agent_ref() -> None:
    payload = convert(without(make_rollout(output=[say("4")]), "agent_ref"), agent_name="judge")
    assert payload["name"] == "judge/task/0/rollout/1"
    assert payload["transcripts"][0]["name"] == "judge"
    assert payload["metadata"]["nemogym"] == {
        "task_index": 0,
        "rollout_index": 1,
        "assumed": {"agent_name": "judge"},
    }


def test_r71_null_name_keeps_the_rest_of_agent_ref() -> None:
    rollout = make_rollout(agent_ref={"type": "responses_api_agents", "name": None})
    payload = convert(rollout, agent_name="judge")
    assert payload["metadata"]["nemogym"]["agent_ref"] == {"type": "responses_api_agents"}
    assert assumed(payload) == {"agent_name": "judge"}


@pytest.mark.parametrize(
    ("agent_ref", "path"),
    [
        ("judge", "agent_ref"),
        ([], "agent_ref"),
        ({"name": ""}, "agent_ref.name"),
        ({"name": 3}, "agent_ref.name"),
        ({"name": ["judge"]}, "agent_ref.name"),
    ],
)
def test_r71_present_but_invalid_is_still_rejected(agent_ref: Any, path: str) -> None:
    error = rejection(make_rollout(agent_ref=agent_ref), agent_name="judge")
    assert error.path == path
    assert "agent_name" not in error.reason


@pytest.mark.parametrize(
    ("rollout", "path", "how"),
    [
        (without(make_rollout(), "agent_ref"), "agent_ref", "is missing"),
        (make_rollout(agent_ref=None), "agent_ref", "is null"),
        (make_rollout(agent_ref={}), "agent_ref.name", "is missing"),
        (make_rollout(agent_ref={"name": None}), "agent_ref.name", "is null"),
    ],
)
def test_r71_missing_without_option_names_it(rollout: Any, path: str, how: str) -> None:
    error = rejection(rollout)
    assert error.path == path
    assert error.reason.startswith(how)
    assert "agent_name=" in error.reason and "--agent-name" in error.reason


# --- R72 task_index / rollout_index ------------------------------------------------------


def test_r72_fixed_indices_fill_only_what_is_missing() -> None:
    rollout = without(make_rollout(), "_ng_task_index")
    payload = convert(rollout, task_index=3, rollout_index=9)
    assert payload["name"] == "agent/task/3/rollout/1"
    assert assumed(payload) == {"task_index": "fixed 3"}


def test_r72_line_needs_a_jsonl_line() -> None:
    for option, options in [
        ("task_index", ConversionOptions(task_index="line")),
        ("rollout_index", ConversionOptions(rollout_index="line", task_index=0)),
    ]:
        with pytest.raises(ValueError, match=f'{option}="line"') as caught:
            convert_nemogym_rollout_to_agent_run(make_rollout(), options=options)
        assert not isinstance(caught.value, ConversionError)


def test_r72_line_numbers_from_a_file(tmp_path: Path) -> None:
    bare = without(make_rollout(output=[say("4")]), "_ng_task_index", "_ng_rollout_index")
    lines = [json.dumps(bare), "", "  ", json.dumps({**bare, "_ng_task_index": None})]
    path = tmp_path / "rollouts.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    options = ConversionOptions(task_index="line", rollout_index=0)
    runs = [run.to_dict() for run in iter_nemogym_jsonl(path, options=options)]
    assert [run["name"] for run in runs] == ["agent/task/1/rollout/0", "agent/task/4/rollout/0"]
    assert assumed(runs[1]) == {"task_index": "line 4", "rollout_index": "fixed 0"}
    listed = convert_nemogym_jsonl_file_to_agent_runs(path, options=options)
    assert [run.to_dict() for run in listed] == runs


@pytest.mark.parametrize("value", [True, 1.0, "3", [3]])
def test_r72_present_but_invalid_is_still_rejected(value: Any) -> None:
    error = rejection(make_rollout(_ng_rollout_index=value), rollout_index=0)
    assert (error.path, error.reason.split(";")[0]) == ("_ng_rollout_index", error.reason)


# --- R73 transitions ---------------------------------------------------------------------


def _snapshots() -> list[list[dict[str, Any]]]:
    question = {"role": "user", "content": "2+2?"}
    return [[question, say("4")], [question, say("4"), {"role": "user", "content": "3+3?"}]]


def test_r73_final_snapshot_is_the_transcript() -> None:
    rollout = make_rollout(["never converted"], _snapshots())
    payload = convert(rollout, transitions="final")
    assert [message["content"] for message in messages(payload)] == ["2+2?", "4", "3+3?"]
    assert assumed(payload) == {"transitions": "final of 2 snapshots"}
    source = payload["transcripts"][0]["metadata"]["source"]
    assert (source["input_item_count"], source["output_item_count"]) == (1, 3)
    details = payload["transcripts"][0]["metadata"]["message_details"]
    assert {detail["origin"] for detail in details} == {"output"}


def test_r73_without_option_names_it_after_the_input() -> None:
    error = rejection(make_rollout("hi", _snapshots()))
    assert error.path == "response.output[0]"
    assert 'transitions="final"' in error.reason and "--transitions final" in error.reason
    bad_input = rejection(make_rollout([{"role": "tool"}], _snapshots()))
    assert bad_input.path == "responses_create_params.input[0].role"


def test_r73_only_all_array_outputs_are_transitions() -> None:
    mixed = rejection(make_rollout("hi", [[say("a")], say("b")]), transitions="final")
    assert (mixed.path, mixed.reason) == ("response.output[0]", "must be an object, got an array")
    plain = make_rollout("hi", [say("b")])
    assert convert(plain, transitions="final") == convert(plain)


def test_r73_nesting_levels_count_from_the_rollout() -> None:
    """Items of a snapshot sit one level deeper than plain output items (R41)."""

    def call_with_depth(depth: int) -> dict[str, Any]:
        value: Any = 0
        for _ in range(depth):
            value = [value]
        return {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": value}}

    # `arguments` sits at level 5 in plain output, 6 in a snapshot; its member "a" one deeper
    plain_limit = call_with_depth(200 - 5)
    convert(make_rollout("hi", [plain_limit]))
    error = rejection(make_rollout("hi", [[plain_limit]]), transitions="final")
    assert error.path.startswith("response.output[0][0].arguments.a")
    convert(make_rollout("hi", [[call_with_depth(200 - 6)]]), transitions="final")


# --- R74 encrypted reasoning -------------------------------------------------------------


def _encrypted(summary: list[str], ciphertext: Any = "gAAAA-cipher", **extra: Any) -> Any:
    return {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text} for text in summary],
        "encrypted_content": ciphertext,
        **extra,
    }


def test_r74_redacted_block_keeps_summary_and_ciphertext() -> None:
    payload = convert(
        make_rollout("hi", [_encrypted(["Thinking."]), say("Done.")]), encrypted_reasoning="redact"
    )
    assert messages(payload)[1]["content"] == [
        {
            "reasoning": "Thinking.",
            "signature": "gAAAA-cipher",
            "redacted": True,
            "type": "reasoning",
        },
        {"text": "Done.", "type": "text"},
    ]
    assert assumed(payload) == {"encrypted_reasoning": "redacted 1 item"}
    block = DocentAgentRun.model_validate(payload).transcripts[0].messages[1].content[0]
    assert (block.redacted, block.signature, block.display_reasoning) == (
        True,
        "gAAAA-cipher",
        "Thinking.",
    )


def test_r74_empty_summary_still_gives_a_block() -> None:
    payload = convert(make_rollout("hi", [_encrypted([])]), encrypted_reasoning="redact")
    assert messages(payload)[1]["content"] == [
        {"reasoning": "", "signature": "gAAAA-cipher", "redacted": True, "type": "reasoning"}
    ]


def test_r74_reasoning_content_and_summary_as_d1() -> None:
    item = _encrypted(["Short."], content=[{"type": "reasoning_text", "text": "Long chain."}])
    payload = convert(make_rollout("hi", [item]), encrypted_reasoning="redact")
    assert messages(payload)[1]["content"][0] == {
        "reasoning": "Long chain.",
        "summary": "Short.",
        "signature": "gAAAA-cipher",
        "redacted": True,
        "type": "reasoning",
    }


def test_r74_blocks_keep_item_order_in_a_turn() -> None:
    plain = {"type": "reasoning", "summary": [{"type": "summary_text", "text": "p"}]}
    items = [plain, plain, _encrypted(["e"]), plain]
    content = messages(convert(make_rollout("hi", items), encrypted_reasoning="redact"))[1][
        "content"
    ]
    assert [(block["reasoning"], "signature" in block) for block in content] == [
        ("p\n\np", False),
        ("e", True),
        ("p", False),
    ]


@pytest.mark.parametrize("ciphertext", [None, ""])
def test_r74_no_ciphertext_is_plain_reasoning(ciphertext: Any) -> None:
    rollout = make_rollout("hi", [_encrypted(["s"], ciphertext)])
    payload = convert(rollout, encrypted_reasoning="redact")
    assert payload == convert(rollout)
    assert assumed(payload) is None


@pytest.mark.parametrize("ciphertext", [True, 7, ["gAAAA"], {"c": "gAAAA"}])
def test_r74_ciphertext_must_be_a_string(ciphertext: Any) -> None:
    error = rejection(
        make_rollout("hi", [_encrypted([], ciphertext)]), encrypted_reasoning="redact"
    )
    assert error.path == "response.output[0].encrypted_content"
    assert error.reason.startswith("must be a string")


def test_r74_without_option_names_it() -> None:
    error = rejection(make_rollout("hi", [_encrypted(["s"])]))
    assert error.path == "response.output[0].encrypted_content"
    assert 'encrypted_reasoning="redact"' in error.reason
    assert "--encrypted-reasoning redact" in error.reason


# --- R75 media ---------------------------------------------------------------------------


_URL = "https://x.org/a.png"
_MARKERS: list[tuple[dict[str, Any], str]] = [
    ({"type": "input_image", "image_url": _URL}, f"[input_image: {_URL}]"),
    ({"type": "input_image", "file_id": "file-1", "detail": "low"}, "[input_image: file-1]"),
    (
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
        "data:image/png;base64 (3 bytes)",
    ),
    (
        {"type": "input_image", "image_url": "data:image/gif;base64,AA=="},
        "data:image/gif;base64 (1 byte)",
    ),
    (
        {"type": "input_image", "image_url": "data:text/plain,hi%20you"},
        "data:text/plain (8 characters)",
    ),
    ({"type": "input_image", "image_url": {"url": _URL}}, "[input_image]"),
    ({"type": "input_image", "image_url": ""}, "[input_image]"),
    (
        {"type": "input_file", "filename": "a.pdf", "file_data": "JVBERi0x"},
        "a.pdf, base64 (6 bytes)",
    ),
    ({"type": "input_file", "file_url": _URL, "file_id": "f-2"}, f"[input_file: {_URL}, f-2]"),
    (
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        "wav, base64 (4 bytes)",
    ),
    ({"type": "input_audio", "input_audio": "UklGRg=="}, "[input_audio]"),
    ({"type": "input_video", "video_url": _URL}, f"[input_video: {_URL}]"),
]
"""Media parts and their markers (`[TYPE: ` and `]` left out where the line is long)."""


@pytest.mark.parametrize(("part", "marker"), _MARKERS)
def test_r75_markers(part: dict[str, Any], marker: str) -> None:
    rollout = make_rollout(
        [{"role": "user", "content": [{"type": "input_text", "text": "See "}, part]}]
    )
    payload = convert(rollout, media="placeholder")
    if not marker.startswith("["):
        marker = f"[{part['type']}: {marker}]"
    assert messages(payload)[0]["content"] == "See " + marker
    source_item = payload["transcripts"][0]["metadata"]["message_details"][0]["source_items"][0]
    assert source_item["content_part_types"] == ["input_text", part["type"]]
    assert source_item["media_parts"] == [
        {key: value for key, value in part.items() if value not in ("", None)}
    ]
    assert assumed(payload) == {"media": "placeholder for 1 part"}


def test_r75_counts_parts_of_every_message() -> None:
    image = {"type": "input_image", "image_url": "https://x.org/a.png"}
    rollout = make_rollout(
        [{"role": "user", "content": [image, image]}],
        [{"type": "message", "role": "assistant", "content": [image]}],
    )
    payload = convert(rollout, media="placeholder")
    assert assumed(payload) == {"media": "placeholder for 3 parts"}
    assert messages(payload)[1]["content"] == "[input_image: https://x.org/a.png]"


def test_r75_without_option_names_it_and_other_parts_stay_rejected() -> None:
    image = {"type": "input_image", "image_url": "https://x.org/a.png"}
    error = rejection(make_rollout([{"role": "user", "content": [image]}]))
    assert error.path == "responses_create_params.input[0].content[0].type"
    assert 'media="placeholder"' in error.reason and "--media placeholder" in error.reason
    other = {"type": "input_document", "url": "https://x.org/a.pdf"}
    error = rejection(make_rollout([{"role": "user", "content": [other]}]), media="placeholder")
    assert error.path == "responses_create_params.input[0].content[0].type"
    assert "media" not in error.reason


# --- R70 record --------------------------------------------------------------------------


_CHAT_CALL = {
    "request": {"messages": [{"role": "user", "content": "q"}]},
    "response": {"choices": [{"message": {"role": "assistant", "content": "a"}}]},
    "response_metadata": {"dialect": "chat"},
}
"""A model call NeMo Gym recorded in the chat dialect (R88)."""


def test_r70_assumed_lists_every_option_used_in_order(tmp_path: Path) -> None:
    rollout = {
        "responses_create_params": {"input": []},
        "response": {
            "output": [
                [
                    {"role": "user", "content": [{"type": "input_image", "file_id": "f"}]},
                    _encrypted(["s"]),
                    _encrypted([]),
                    {"role": "assistant", "content": "<think>r</think>t"},
                    {"type": "compaction", "encrypted_content": "e"},
                    {"type": "function_call_output", "call_id": "call_87f635b1", "output": ""},
                ]
            ]
        },
        "ng_trajectory": {"model_calls": [_CHAT_CALL]},
    }
    path = tmp_path / "rollouts.jsonl"
    path.write_text("\n" + json.dumps(rollout) + "\n", encoding="utf-8")
    options = ConversionOptions(  # every option, each with something to resolve
        agent_name="a",
        task_index="line",
        rollout_index=0,
        transitions="final",
        encrypted_reasoning="redact",
        media="placeholder",
        think_tags="reasoning",
        empty_rollouts="placeholder",  # nothing to resolve here: the rollout has items
        tool_items="generic",
        trajectory="transcripts",
        orphan_outputs="harbor",
        record_source=True,  # assumes nothing: recorded in metadata.source instead (R91)
    )
    (run,) = convert_nemogym_jsonl_file_to_agent_runs(path, options=options)
    payload = run.to_dict()
    assert validate_on_docent(payload) == payload
    assert list(assumed(payload).items()) == [
        ("agent_name", "a"),
        ("task_index", "line 2"),
        ("rollout_index", "fixed 0"),
        ("transitions", "final of 1 snapshot"),
        ("encrypted_reasoning", "redacted 2 items"),
        ("media", "placeholder for 1 part"),
        ("think_tags", "split 1 message"),
        ("tool_items", "generic for 1 item"),
        ("trajectory", "1 transcript added"),
        ("orphan_outputs", "harbor for 1 output"),
    ]
    # the table's order (empty_rollouts, for rollouts without items: tests/test_rollout_shapes.py)
    recorded_elsewhere = {"empty_rollouts", "record_source"}
    assert list(assumed(payload)) == [name for name in OPTIONS if name not in recorded_elsewhere]
    assert (payload["metadata"]["source"]["file"], payload["metadata"]["source"]["line"]) == (
        str(path),
        2,
    )
    for name, recorded in assumed(payload).items():
        assert _recorded_pattern(OPTIONS[name].recorded).fullmatch(recorded), name


def _recorded_pattern(template: str) -> re.Pattern[str]:
    """A table's `recorded` text as a pattern: capitals stand for anything, plurals optional,
    "A or B" for either."""
    alternatives = []
    for alternative in template.split(" or "):
        words = [
            ".+" if word.isupper() else re.escape(word.removesuffix("s")) + "s?"
            for word in alternative.split()
        ]
        alternatives.append(" ".join(words))
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives))


# --- the one table of options ------------------------------------------------------------


def test_the_table_covers_every_option_and_rule() -> None:
    assert list(OPTIONS) == [field.name for field in dataclasses.fields(ConversionOptions)]
    spec = (ROOT / "spec" / "README.md").read_text(encoding="utf-8")
    for name, option in OPTIONS.items():
        section = spec[spec.index(f"- **{option.rule}**") :].split("\n- **", 1)[0]
        assert name in section, (name, option.rule)


def test_the_case_schema_lists_the_table() -> None:
    """spec/case.schema.json's `options` are the table's, in its order, each accepting
    what the option accepts."""
    by_metavar = {
        "NAME": {"type": "string"},
        "line|N": {"$ref": "#/$defs/index_source"},
        "": {"type": "boolean"},  # a switch (R91)
    }
    expected = {
        name: {"const": option.choices[0]} if option.choices else by_metavar[option.metavar]
        for name, option in OPTIONS.items()
    }
    schema = json.loads((ROOT / "spec" / "case.schema.json").read_text(encoding="utf-8"))
    properties = schema["$defs"]["options"]["properties"]
    assert list(properties.items()) == list(expected.items())
    assert all(len(option.choices) <= 1 for option in OPTIONS.values())


def test_the_readme_lists_the_table() -> None:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [
        "| Python | Command line | Rule | What it does | Recorded in `assumed` |",
        "|---|---|---|---|---|",
    ] + [
        f"| `{cell(option.library)}` | `{cell(option.usage)}` | {option.rule} "
        f"| {cell(option.help)} | `{cell(option.recorded)}` |"
        for option in OPTIONS.values()
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n".join(rows) + "\n\n" in readme


@pytest.mark.parametrize("command", ["convert", "check", "upload"])
def test_every_command_takes_every_option_flag(command: str) -> None:
    from nemogym_ingest.cli import build_parser

    actions = build_parser()._actions
    commands = next(a for a in actions if isinstance(a, argparse._SubParsersAction))
    usage = commands.choices[command].format_usage()
    for option in OPTIONS.values():
        assert option.flag in usage, (command, option.flag)


def test_the_hint_text_names_the_flag_and_the_library_argument() -> None:
    media = OPTIONS["media"]
    assert media.text() == (
        'pass media="placeholder" (Python) or --media placeholder (command line) to ' + media.effect
    )
    assert OPTIONS["task_index"].probe_flag == "--task-index line"
    assert OPTIONS["agent_name"].probe_flag == "--agent-name NAME"


# --- CLI flags ---------------------------------------------------------------------------


def _parse(*argv: str) -> ConversionOptions:
    parser = argparse.ArgumentParser()
    add_option_arguments(parser)
    return options_from_args(parser.parse_args(argv))


def test_cli_flags_build_options() -> None:
    assert _parse() == ConversionOptions()
    assert _parse(
        "--agent-name", "a", "--task-index", "line", "--rollout-index", "-2",
        "--transitions", "final", "--encrypted-reasoning", "redact", "--media", "placeholder",
    ) == ConversionOptions(
        agent_name="a", task_index="line", rollout_index=-2, transitions="final",
        encrypted_reasoning="redact", media="placeholder",
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ["--agent-name", ""],
        ["--agent-name", "judge\udcff"],  # byte 0xFF, undecodable, from sys.argv
        ["--task-index", "first"],
        ["--rollout-index", "1.5"],
        ["--transitions", "all"],
        ["--encrypted-reasoning", "drop"],
        ["--media", "omit"],
    ],
)
def test_cli_flags_reject_bad_values(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        _parse(*argv)
    assert caught.value.code == 2
    assert argv[0] in capsys.readouterr().err


# --- which options would rescue a rejected line (`check`) --------------------------------


@pytest.mark.parametrize(
    ("rollout", "options", "rescuing"),
    [
        (without(make_rollout(), "agent_ref"), ConversionOptions(), ["agent_name"]),
        (
            without(make_rollout(), "agent_ref", "_ng_task_index", "_ng_rollout_index"),
            ConversionOptions(),
            ["agent_name", "task_index", "rollout_index"],
        ),
        (
            without(make_rollout("hi", [_encrypted(["s"])]), "_ng_rollout_index"),
            ConversionOptions(rollout_index=0),
            ["encrypted_reasoning"],
        ),
        (make_rollout("hi", _snapshots()), ConversionOptions(), ["transitions"]),
        (
            make_rollout([{"role": "user", "content": [{"type": "input_video"}]}]),
            ConversionOptions(),
            ["media"],
        ),
        (make_rollout("hi", [say("a"), {"type": "web_search_call"}]), ConversionOptions(), []),
        (without(make_rollout("hi", [{"type": "x"}]), "agent_ref"), ConversionOptions(), []),
    ],
)
def test_rescuing_options_lists_just_the_options_needed(
    rollout: Any, options: ConversionOptions, rescuing: list[str]
) -> None:
    with pytest.raises(ConversionError) as caught:
        convert_row(rollout, options, 3)
    assert rescuing_options(rollout, options, 3, caught.value) == rescuing
    if rescuing:
        probes: dict[str, Any] = {name: OPTIONS[name].probe for name in rescuing}
        combined = ConversionOptions(**probes)
        assert convert_row(rollout, dataclasses.replace(combined, **_set(options)), 3)


def _set(options: ConversionOptions) -> dict[str, Any]:
    return {
        field.name: getattr(options, field.name)
        for field in dataclasses.fields(options)
        if getattr(options, field.name) is not None
    }


# --- the command line: convert and check -------------------------------------------------


def _options_file(tmp_path: Path) -> Path:
    """Line 1: complete; 2: no agent_ref; 3: blank; 4: no agent_ref nor _ng_task_index;
    5: encrypted reasoning; 6: an unknown item type; 7: invalid JSON (no option helps)."""
    complete = make_rollout(output=[say("4")])
    rows = [
        complete,
        without(complete, "agent_ref"),
        None,
        without(complete, "agent_ref", "_ng_task_index"),
        make_rollout("hi", [_encrypted(["s"]), say("ok")]),
        make_rollout("hi", [{"type": "web_search_call"}]),
    ]
    path = tmp_path / "rollouts.jsonl"
    lines = ["\n" if row is None else json.dumps(row) + "\n" for row in rows]
    path.write_text("".join(lines) + "{null}\n", encoding="utf-8")
    return path


def test_cli_convert_applies_the_option_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _options_file(tmp_path)
    flags = ["--agent-name", "judge", "--task-index", "line", "--encrypted-reasoning", "redact"]
    assert main(["convert", "-q", "-k", str(path), *flags]) == 1
    written = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    options = ConversionOptions(agent_name="judge", task_index="line", encrypted_reasoning="redact")
    expected: list[dict[str, Any]] = []
    with pytest.raises(ConversionError) as caught:
        expected.extend(run.to_dict() for run in iter_nemogym_jsonl(path, options=options))
    assert caught.value.line == 6
    assert written == expected
    assert [run["name"] for run in written] == [
        "agent/task/0/rollout/1",
        "judge/task/0/rollout/1",
        "judge/task/4/rollout/1",
        "agent/task/0/rollout/1",
    ]


def test_cli_check_reports_which_options_would_convert_each_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _options_file(tmp_path)
    assert main(["check", "-q", "--format", "json", str(path)]) == 1
    groups = {
        group["path"]: group["would_convert_with"]
        for group in json.loads(capsys.readouterr().out)["rejected_by_reason"]
    }
    assert groups == {
        "agent_ref": [
            {"options": ["--agent-name NAME"], "count": 1},
            {"options": ["--agent-name NAME", "--task-index line"], "count": 1},
        ],
        "response.output[*].encrypted_content": [
            {"options": ["--encrypted-reasoning redact"], "count": 1}
        ],
        "response.output[*].type": [],
        "": [],
    }
    assert main(["check", "-q", str(path), "--agent-name", "x"]) == 1
    summary = capsys.readouterr().out.split("rejected by reason:\n", 1)[1].splitlines()
    task_index = next(index for index, line in enumerate(summary) if "_ng_task_index" in line)
    assert summary[task_index + 1].split() == [
        "1",
        "would",
        "convert",
        "with",
        "--task-index",
        "line",
    ]


# --- properties over generated rollouts --------------------------------------------------


@given(valid_rollouts())
def test_r70_valid_rollouts_convert_the_same_with_every_option(rollout: Any) -> None:
    strict = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    assert convert_nemogym_rollout_to_agent_run(rollout, options=ALL_OPTIONS).to_dict() == strict


@given(mutated_rollouts())
def test_r70_any_value_gives_a_run_or_a_conversion_error_with_every_option(rollout: Any) -> None:
    try:
        payload = convert_nemogym_rollout_to_agent_run(rollout, options=ALL_OPTIONS).to_dict()
    except ConversionError:
        return
    assert validate_on_docent(payload) == payload


@given(valid_rollouts())
def test_r71_r72_identity_options_change_only_name_and_record(rollout: Any) -> None:
    strict: dict[str, Any] = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    bare = without(rollout, "agent_ref", "_ng_task_index", "_ng_rollout_index")
    options = ConversionOptions(agent_name="supplied", task_index=-1, rollout_index=2)
    payload: dict[str, Any] = convert_nemogym_rollout_to_agent_run(bare, options=options).to_dict()
    assert payload["name"] == "supplied/task/-1/rollout/2"
    assert messages(payload) == messages(strict)
    assert assumed(payload) == {
        "agent_name": "supplied",
        "task_index": "fixed -1",
        "rollout_index": "fixed 2",
    }
    failure = strict["metadata"]["nemogym"].get("failure")  # a failure row's record (R84)
    assert payload["metadata"] == strict["metadata"] | {
        "nemogym": {
            "task_index": -1,
            "rollout_index": 2,
            **({"failure": failure} if failure else {}),
            "assumed": assumed(payload),
        }
    }


def test_check_suggests_a_fixed_rollout_index_beside_a_task_index_by_line() -> None:
    """Both by line would name runs `task/3/rollout/3`; one task a line needs rollout 0.
    Alone, the rollout index is the line: several rollouts of one task stay distinct."""
    assert suggested_flags(["task_index", "rollout_index"]) == [
        "--task-index line",
        "--rollout-index 0",
    ]
    assert suggested_flags(["rollout_index"]) == ["--rollout-index line"]
    assert suggested_flags(["agent_name", "media"]) == ["--agent-name NAME", "--media placeholder"]
