"""Hostile and broken input at the library level: only an AgentRun or a ConversionError.

JSON the standard library accepts but JSON forbids (R41, R67), nesting far beyond any limit
(R41, R52, R64), odd files (R60-R66), wrong types in every checked field, and Python values
no JSON text can produce (cycles, tuples, bytes, objects) handed to the converter directly.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fuzz import hypothesis_fuzz
from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
)

# --- a realistic rollout, and where each checked field sits in it --------------------------


def realistic_rollout() -> dict[str, Any]:
    """Every item kind, array and string content, reasoning summary and content, tools."""
    return {
        "responses_create_params": {
            "input": [
                {"role": "developer", "content": "Be brief."},
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Weather in SF?"}],
                },
            ],
            "metadata": {"run": "r1", "tags": ["a", "b"]},
            "temperature": 0.7,
        },
        "response": {
            "id": "resp_1",
            "model": "qwen3",
            "output": [
                {
                    "type": "reasoning",
                    "id": "rs_1",
                    "summary": [{"type": "summary_text", "text": "Need weather."}],
                    "content": [{"type": "reasoning_text", "text": "The user wants SF."}],
                    "encrypted_content": None,
                },
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city": "SF"}',
                    "status": "completed",
                },
                {"type": "function_call_output", "call_id": "call_1", "output": {"temp": 60}},
                {
                    "type": "message",
                    "id": "msg_1",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {"type": "output_text", "text": "60F", "annotations": [], "logprobs": []},
                        {"type": "refusal", "refusal": " (and no more)"},
                    ],
                },
            ],
        },
        "reward": 1.0,
        "agent_ref": {"name": "weather_agent"},
        "_ng_task_index": 3,
        "_ng_rollout_index": 0,
        "verifier_metadata": {"expected": "60"},
    }


INPUT = "responses_create_params.input"
OUTPUT = "response.output"

# Every field whose shape the converter checks or whose value it copies, by path.
CHECKED_FIELDS = [
    "responses_create_params",
    "response",
    INPUT,
    OUTPUT,
    f"{INPUT}[0]",
    f"{INPUT}[0].role",
    f"{INPUT}[0].content",
    f"{INPUT}[1].type",
    f"{INPUT}[1].content[0]",
    f"{INPUT}[1].content[0].type",
    f"{INPUT}[1].content[0].text",
    f"{OUTPUT}[0]",
    f"{OUTPUT}[0].type",
    f"{OUTPUT}[0].id",
    f"{OUTPUT}[0].encrypted_content",
    f"{OUTPUT}[0].summary",
    f"{OUTPUT}[0].summary[0]",
    f"{OUTPUT}[0].summary[0].type",
    f"{OUTPUT}[0].summary[0].text",
    f"{OUTPUT}[0].content",
    f"{OUTPUT}[0].content[0]",
    f"{OUTPUT}[0].content[0].type",
    f"{OUTPUT}[0].content[0].text",
    f"{OUTPUT}[1].arguments",
    f"{OUTPUT}[1].call_id",
    f"{OUTPUT}[1].name",
    f"{OUTPUT}[1].status",
    f"{OUTPUT}[2].call_id",
    f"{OUTPUT}[2].output",
    f"{OUTPUT}[3].role",
    f"{OUTPUT}[3].content",
    f"{OUTPUT}[3].content[0].text",
    f"{OUTPUT}[3].content[0].annotations",
    f"{OUTPUT}[3].content[1].refusal",
    "responses_create_params.metadata",
    "response.model",
    "reward",
    "agent_ref",
    "agent_ref.name",
    "_ng_task_index",
    "_ng_rollout_index",
    "verifier_metadata",
]


# Replacements: one of each JSON kind, then values no JSON text produces.
JSON_KINDS: list[Any] = [None, True, False, 0, 7, 2.5, "s", "", [], [None], {}, {"x": None}]
NON_JSON_TYPES: list[Any] = [(1, 2), {1, 2}, b"bytes", object(), hypothesis_fuzz.Unruly(), 1j]
NON_JSON: list[Any] = [*NON_JSON_TYPES, math.nan]


def _segments(path: str) -> list[str | int]:
    segments: list[str | int] = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        segments.append(int(part) if part.isdigit() else part)
    return segments


def replaced(rollout: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `rollout` with the field at `path` set to `value`."""
    result = copy.deepcopy(rollout)
    *parents, last = _segments(path)
    container: Any = result
    for segment in parents:
        container = container[segment]
    container[last] = value
    return result


def value_at(rollout: Any, path: str) -> Any:
    for segment in _segments(path):
        rollout = rollout[segment]
    return rollout


def outcome(rollout: Any) -> AgentRun | ConversionError:
    """The run, serialised to be sure it is JSON and Unicode text, or the ConversionError;
    nothing else."""
    try:
        run = convert_nemogym_rollout_to_agent_run(rollout)
    except ConversionError as error:
        return error
    json.dumps(run.to_dict(), allow_nan=False, ensure_ascii=False).encode("utf-8")
    return run


def test_the_realistic_rollout_converts() -> None:
    assert isinstance(outcome(realistic_rollout()), AgentRun)


def _kind(value: Any) -> str:
    return "number" if type(value) in (int, float) else type(value).__name__


def _value_id(value: Any) -> str:
    """A stable test id: the repr of a builtin value, the type name of any other object."""
    kind = type(value)
    if kind.__module__ != "builtins" or kind is object:
        return kind.__name__
    return f"{kind.__name__}:{value!r}"[:30]


@pytest.mark.parametrize("field", CHECKED_FIELDS)
@pytest.mark.parametrize("value", JSON_KINDS + NON_JSON, ids=_value_id)
def test_wrong_types_everywhere(field: str, value: Any) -> None:
    """Any value in any checked field: a run, or a rejection at (or under) that field.

    A value of the field's own kind may be rejected elsewhere (a new call_id is then
    undeclared where the tool output names the old one).
    """
    rollout = realistic_rollout()
    original = value_at(rollout, field)
    result = outcome(replaced(rollout, field, value))
    if isinstance(result, ConversionError):
        assert result.reason
        if _kind(value) != _kind(original):
            assert result.path == field or result.path.startswith((f"{field}.", f"{field}[")), (
                result.path,
                result.reason,
            )


@pytest.mark.parametrize("value", NON_JSON_TYPES, ids=_value_id)
@pytest.mark.parametrize(
    "field",
    [
        "verifier_metadata",
        "reward",
        "responses_create_params.metadata",
        f"{OUTPUT}[0].id",
        f"{OUTPUT}[1].status",
        f"{OUTPUT}[2].output",
        f"{OUTPUT}[0].encrypted_content",
        f"{OUTPUT}[3].content[0].annotations",
    ],
)
def test_non_json_values_are_rejected_where_they_are_copied_or_tested(
    field: str, value: Any
) -> None:
    """Fields that are copied or tested for truthiness reject a type no JSON text gives."""
    result = outcome(replaced(realistic_rollout(), field, value))
    assert isinstance(result, ConversionError)
    assert result.path == field, result.reason


@pytest.mark.parametrize(
    "field",
    [
        "verifier_metadata",
        "responses_create_params.metadata",
        "agent_ref",
        f"{OUTPUT}[2].output",
        "reward",
    ],
)
@pytest.mark.parametrize("key", [1, None, (1, 2), 2.5, b"k"], ids=repr)
def test_non_string_keys_are_rejected_at_their_object(field: str, key: Any) -> None:
    value = {"name": "agent", key: "v"}
    result = outcome(replaced(realistic_rollout(), field, value))
    assert isinstance(result, ConversionError)
    assert (result.path, result.reason) == (field, f"object key {key!r} is not a string")


@pytest.mark.parametrize("field", ["", "responses_create_params", "response", "agent_ref"])
def test_keys_that_refuse_comparison_are_rejected_not_raised(field: str) -> None:
    """(Keys crafted to collide with a field name's hash are out of reach: every dict
    lookup would call their `__eq__`.)"""
    rollout = realistic_rollout()
    target: dict[Any, Any] = value_at(rollout, field) if field else rollout
    target[hypothesis_fuzz.Unruly()] = 1
    result = outcome(rollout)
    assert isinstance(result, ConversionError)
    assert result.path == field
    assert result.reason.startswith("object key <")


# Every field holding free text that is copied into the run (R41): not `type`s and roles,
# whose values are a fixed set.
COPIED_TEXT_FIELDS = [
    INPUT,  # the string form of the input
    f"{INPUT}[0].content",
    f"{INPUT}[1].content[0].text",
    "responses_create_params.metadata.tags[1]",
    f"{OUTPUT}[0].id",
    f"{OUTPUT}[0].summary[0].text",
    f"{OUTPUT}[0].content[0].text",
    f"{OUTPUT}[1].call_id",
    f"{OUTPUT}[1].name",
    f"{OUTPUT}[1].status",
    f"{OUTPUT}[2].call_id",
    f"{OUTPUT}[2].output",
    f"{OUTPUT}[3].content[0].text",
    f"{OUTPUT}[3].content[1].refusal",
    "response.model",
    "agent_ref.name",
    "verifier_metadata.expected",
]
LONE_SURROGATES = "ok \ud800 \udfff"
LONE_SURROGATE_REASON = "string holds a lone surrogate U+D800 at index 3, which is not Unicode text"


@pytest.mark.parametrize("field", COPIED_TEXT_FIELDS)
def test_lone_surrogates_are_rejected_where_copied(field: str) -> None:
    result = outcome(replaced(realistic_rollout(), field, LONE_SURROGATES))
    assert isinstance(result, ConversionError)
    assert (result.path, result.reason) == (field, LONE_SURROGATE_REASON)


def test_a_lone_surrogate_in_the_redacted_signature_is_rejected() -> None:
    rollout = replaced(realistic_rollout(), f"{OUTPUT}[0].encrypted_content", LONE_SURROGATES)
    with pytest.raises(ConversionError) as caught:
        convert_nemogym_rollout_to_agent_run(
            rollout, options=ConversionOptions(encrypted_reasoning="redact")
        )
    assert (caught.value.path, caught.value.reason) == (
        f"{OUTPUT}[0].encrypted_content",
        LONE_SURROGATE_REASON,
    )


@pytest.mark.parametrize(
    "field",
    [
        "verifier_metadata",
        "responses_create_params.metadata",
        "agent_ref",
        f"{OUTPUT}[1].arguments",
        f"{OUTPUT}[2].output",
    ],
)
def test_keys_holding_lone_surrogates_are_rejected_at_their_object(field: str) -> None:
    value = {"name": "agent", "k\udc00": "v"}
    result = outcome(replaced(realistic_rollout(), field, value))
    assert isinstance(result, ConversionError)
    assert (result.path, result.reason) == (
        field,
        'object key "k\\udc00" holds a lone surrogate U+DC00 at index 1, which is not Unicode text',
    )


def test_non_string_keys_in_object_arguments() -> None:
    result = outcome(replaced(realistic_rollout(), f"{OUTPUT}[1].arguments", {3: "x"}))
    assert isinstance(result, ConversionError)
    assert result.path == f"{OUTPUT}[1].arguments"


# --- deep and cyclic structures handed over directly ---------------------------------------


def deep_object(depth: int) -> dict[str, Any]:
    """`{"a": {"a": ... {"end": true}}}` with `depth` objects, built without recursion."""
    value: dict[str, Any] = {"end": True}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def deep_array(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


# (field, level of the value placed there): the rollout is level 1.
DEEP_FIELDS = [
    ("verifier_metadata", 2),
    ("reward", 2),
    ("agent_ref.team", 3),
    ("responses_create_params.metadata", 3),
    (f"{OUTPUT}[1].arguments", 5),
    (f"{OUTPUT}[2].output", 5),
    (f"{OUTPUT}[0].id", 5),
]


@pytest.mark.parametrize(("field", "level"), DEEP_FIELDS)
def test_50000_deep_objects_are_rejected_where_they_pass_200_levels(field: str, level: int) -> None:
    result = outcome(replaced(realistic_rollout(), field, deep_object(50_000)))
    assert isinstance(result, ConversionError)
    assert result.path == field + ".a" * (200 - level + 1)
    assert result.reason == "nested deeper than 200 levels"


@pytest.mark.parametrize(("field", "level"), DEEP_FIELDS)
def test_nesting_up_to_200_levels_is_copied(field: str, level: int) -> None:
    run = outcome(replaced(realistic_rollout(), field, deep_object(200 - level + 1)))
    assert isinstance(run, AgentRun)
    assert json.dumps(run.to_dict()).count("{") > 200 - level


def test_50000_deep_arguments_string_is_rejected_at_arguments() -> None:
    arguments = '{"a": ' * 50_000 + "1" + "}" * 50_000
    result = outcome(replaced(realistic_rollout(), f"{OUTPUT}[1].arguments", arguments))
    assert isinstance(result, ConversionError)
    assert (result.path, result.rule, result.reason) == (
        f"{OUTPUT}[1].arguments",
        "R20",
        "must be a JSON text nested at most 200 levels deep",
    )


@pytest.mark.parametrize(("depth", "rule", "suffix"), [(200, "R41", ".a" * 196), (201, "R20", "")])
def test_arguments_string_depth_boundary(depth: int, rule: str, suffix: str) -> None:
    """A string nesting 200 levels is parsed and rejected where it passes level 200; one
    nesting 201 is rejected whole, at the arguments (R20)."""
    arguments = json.dumps(deep_object(depth))
    result = outcome(replaced(realistic_rollout(), f"{OUTPUT}[1].arguments", arguments))
    assert isinstance(result, ConversionError)
    assert (result.path, result.rule) == (f"{OUTPUT}[1].arguments" + suffix, rule)


@pytest.mark.parametrize("field", [INPUT, OUTPUT, f"{INPUT}[1].content", f"{OUTPUT}[0].summary"])
def test_50000_deep_arrays_in_item_lists_fail_at_the_first_element(field: str) -> None:
    result = outcome(replaced(realistic_rollout(), field, deep_array(50_000)))
    assert isinstance(result, ConversionError)
    assert result.path == f"{field}[0]"


def test_50000_deep_rollout_is_just_not_a_rollout() -> None:
    result = outcome(deep_object(50_000))
    assert isinstance(result, ConversionError)
    assert result.path == "responses_create_params"


def test_ignored_members_may_be_deep_when_handed_over_parsed() -> None:
    # Training-only item members are never looked at (R11), however deep.
    rollout = replaced(realistic_rollout(), f"{OUTPUT}[3].generation_log_probs", deep_array(50_000))
    assert isinstance(outcome(rollout), AgentRun)


@pytest.mark.parametrize(
    "field",
    [
        "verifier_metadata",
        "responses_create_params.metadata",
        f"{OUTPUT}[1].arguments",
        f"{OUTPUT}[2].output",
        "agent_ref",
    ],
)
def test_an_object_containing_itself_is_a_conversion_error(field: str) -> None:
    cyclic: dict[str, Any] = {"name": "agent"}
    cyclic["self"] = cyclic
    result = outcome(replaced(realistic_rollout(), field, cyclic))
    assert isinstance(result, ConversionError)
    assert result.path.startswith(f"{field}.self.self")
    assert result.reason == "nested deeper than 200 levels"


def test_cyclic_lists_and_a_rollout_inside_itself() -> None:
    rollout = realistic_rollout()
    items = rollout["responses_create_params"]["input"]
    items.append(items)
    result = outcome(rollout)
    assert isinstance(result, ConversionError) and result.path == f"{INPUT}[2]"

    rollout = realistic_rollout()
    rollout["responses_create_params"]["back"] = rollout
    result = outcome(rollout)
    assert isinstance(result, ConversionError)
    assert result.path.startswith("responses_create_params.back.responses_create_params.back")


def test_hostile_values_leave_the_input_untouched() -> None:
    rollout = replaced(realistic_rollout(), "verifier_metadata", deep_object(300))
    before = copy.deepcopy(rollout)
    assert isinstance(outcome(rollout), ConversionError)
    assert rollout == before


# --- JSON the standard library accepts but JSON forbids, read from JSONL -------------------


def rollout_line(**changes: Any) -> bytes:
    """The realistic rollout as a JSONL line; `changes` maps paths (dots only) to raw JSON."""
    rollout = realistic_rollout()
    markers = {}
    for index, (path, _) in enumerate(changes.items()):
        marker = f"@@{index}@@"
        rollout = replaced(rollout, path.replace("__", "."), marker)
        markers[marker] = changes[path]
    line = json.dumps(rollout)
    for marker, raw in markers.items():
        line = line.replace(json.dumps(marker), raw)
    return line.encode()


class NamedBytes(io.BytesIO):
    """In-memory file contents, named like a file (errors name it)."""

    name = "rollouts.jsonl"


def read_lines(data: bytes) -> list[AgentRun] | ConversionError:
    try:
        return list(iter_nemogym_jsonl(NamedBytes(data)))
    except ConversionError as error:
        return error


def line_error(data: bytes) -> ConversionError:
    result = read_lines(data)
    assert isinstance(result, ConversionError), "accepted"
    assert result.file == "rollouts.jsonl"
    return result


def benchmark_fields(run: AgentRun) -> dict[str, Any]:
    fields: dict[str, Any] = run.metadata["source"]["rollout_non_trace"]["benchmark_fields"]
    return fields


IGNORED = "response__output__3__generation_log_probs"  # a training-only member (R11)


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("NaN", "nan is not a JSON number"),
        ("Infinity", "inf is not a JSON number"),
        ("-Infinity", "-inf is not a JSON number"),
        ("1e400", "inf is not a JSON number"),
        ("[1, -1e999]", "-inf is not a JSON number"),
    ],
)
def test_non_finite_numbers_are_rejected_where_copied(literal: str, reason: str) -> None:
    for field, path in [
        ("verifier_metadata", "verifier_metadata"),
        ("reward", "reward"),
        ("responses_create_params__metadata", "responses_create_params.metadata"),
        ("response__output__2__output", f"{OUTPUT}[2].output"),
        ("response__output__1__status", f"{OUTPUT}[1].status"),
    ]:
        error = line_error(b"\n" + rollout_line(**{field: literal}))
        assert error.line == 2
        assert error.path in (path, f"{path}[1]"), error.path
        assert error.reason == reason


def test_non_finite_numbers_inside_arguments_strings_are_rejected() -> None:
    arguments = json.dumps('{"city": "SF", "limits": [0, NaN]}')
    error = line_error(rollout_line(response__output__1__arguments=arguments))
    assert (error.line, error.path) == (1, f"{OUTPUT}[1].arguments.limits[1]")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000])
def test_non_json_numbers_where_nothing_is_copied_are_accepted(literal: str) -> None:
    result = read_lines(rollout_line(**{IGNORED: f"[0.5, {literal}]"}))
    assert isinstance(result, list) and len(result) == 1
    assert "generation_log_probs" not in json.dumps(result[0].to_dict())


@pytest.mark.parametrize(
    ("digits", "accepted"),
    [(4000, True), (4001, False), (4300, False), (4301, False), (1_000_000, False)],
)
@pytest.mark.parametrize("sign", ["", "-"])
def test_integer_length_limit(digits: int, accepted: bool, sign: str) -> None:
    literal = sign + "9" * digits
    result = read_lines(rollout_line(verifier_metadata=f'{{"big": {literal}}}'))
    if accepted:
        assert isinstance(result, list)
        assert benchmark_fields(result[0])["verifier_metadata"]["big"] == int(literal)
    else:
        assert isinstance(result, ConversionError)
        assert (result.line, result.path) == (1, "verifier_metadata.big")
        assert result.reason == "integer has more than 4000 digits"


@pytest.mark.parametrize("field", ["_ng_task_index", "_ng_rollout_index"])
def test_huge_integer_indexes_are_rejected_at_the_index(field: str) -> None:
    error = line_error(rollout_line(**{field: "1" * 5000}))
    assert (error.path, error.reason) == (field, "integer has more than 4000 digits")


def test_huge_integer_in_arguments_string_is_rejected_at_its_path() -> None:
    arguments = json.dumps('{"n": ' + "7" * 5000 + "}")
    error = line_error(rollout_line(response__output__1__arguments=arguments))
    assert error.path == f"{OUTPUT}[1].arguments.n"


def test_duplicate_keys_last_wins_at_the_first_position() -> None:
    line = rollout_line(
        verifier_metadata='{"a": 1, "b": 2, "a": 3}',
        _ng_task_index="5",
        response__output__1__arguments=json.dumps('{"city": "LA", "city": "SF"}'),
    )
    line = line[:-1] + b', "_ng_task_index": 8, "verifier_metadata": {"z": 0, "z": 9}}'
    result = read_lines(line)
    assert isinstance(result, list)
    run = result[0]
    assert run.name == "weather_agent/task/8/rollout/0"
    fields = benchmark_fields(run)
    assert fields == {"verifier_metadata": {"z": 9}}
    (call,) = getattr(run.transcripts[0].messages[2], "tool_calls", None) or []
    assert call.arguments == {"city": "SF"}
    first_wins_position = read_lines(rollout_line(verifier_metadata='{"a": 1, "b": 2, "a": 3}'))
    assert isinstance(first_wins_position, list)
    assert list(benchmark_fields(first_wins_position[0])["verifier_metadata"].items()) == [
        ("a", 3),
        ("b", 2),
    ]


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            {"responses_create_params__input__0__content": '"half \\ud83d"'},
            f"{INPUT}[0].content",
            "string holds a lone surrogate U+D83D at index 5",
        ),
        (
            {"response__output__2__output": '{"t": "\\udfff"}'},
            f"{OUTPUT}[2].output.t",
            "string holds a lone surrogate U+DFFF at index 0",
        ),
        (
            {"response__output__1__arguments": json.dumps('{"city": "S\\ud800F"}')},
            f"{OUTPUT}[1].arguments.city",
            "string holds a lone surrogate U+D800 at index 1",
        ),
        (
            {"verifier_metadata": '{"\\udc00key": 1}'},
            "verifier_metadata",
            'object key "\\udc00key" holds a lone surrogate U+DC00 at index 0',
        ),
    ],
)
def test_escaped_lone_surrogates_are_rejected_where_copied(
    change: dict[str, str], path: str, reason: str
) -> None:
    error = line_error(b"\n" + rollout_line(**change))
    assert (error.line, error.path) == (2, path)
    assert error.reason == f"{reason}, which is not Unicode text"


def test_surrogate_pairs_are_copied_and_lone_surrogates_in_ignored_members_accepted() -> None:
    result = read_lines(
        rollout_line(
            verifier_metadata='"\\ud83d\\ude00"',
            **{IGNORED: '["\\ud800", {"\\udfff": "\\udc00"}]'},
        )
    )
    assert isinstance(result, list)
    run = result[0]
    assert benchmark_fields(run)["verifier_metadata"] == "\U0001f600"
    text = run.to_json()
    assert text.isascii() and "\\ud83d\\ude00" in text
    assert "generation_log_probs" not in text
    json.dumps(run.to_dict(), ensure_ascii=False).encode("utf-8")


def test_nul_characters() -> None:
    escaped = read_lines(rollout_line(verifier_metadata='"a\\u0000b"'))
    assert isinstance(escaped, list)
    assert benchmark_fields(escaped[0])["verifier_metadata"] == "a\x00b"
    raw = rollout_line(verifier_metadata='"a\x00b"')
    error = line_error(b"\n\n" + raw)
    assert (error.line, error.path) == (3, "")
    assert error.reason.startswith("invalid JSON: Invalid control character at column ")
    assert line_error(b"\x00\n").line == 1


# --- nesting in JSONL lines ---------------------------------------------------------------


def nested_literal(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "field",
    [
        "verifier_metadata",
        "response__output__1__arguments",
        "response__output__2__output",
        "responses_create_params__metadata",
        IGNORED,
    ],
)
@pytest.mark.parametrize("depth", [10_000, 1_000_000])
def test_deep_lines_are_rejected_at_the_line(field: str, depth: int) -> None:
    literal = '{"a": ' + nested_literal(depth) + "}"
    error = line_error(rollout_line() + b"\n" + rollout_line(**{field: literal}) + b"\n")
    assert (error.line, error.path, error.reason) == (2, "", "nested deeper than 200 levels")


def test_nesting_limit_of_a_line_counts_every_member() -> None:
    # The item's ignored member sits at level 5: 196 nested arrays reach level 200.
    accepted = read_lines(rollout_line(**{IGNORED: nested_literal(196)}))
    assert isinstance(accepted, list)
    error = line_error(rollout_line(**{IGNORED: nested_literal(197)}))
    assert (error.line, error.path, error.reason) == (1, "", "nested deeper than 200 levels")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    brackets = json.dumps('\\"[{' * 500 + '"')
    result = read_lines(rollout_line(verifier_metadata=brackets))
    assert isinstance(result, list)
    assert benchmark_fields(result[0])["verifier_metadata"] == '\\"[{' * 500 + '"'


def test_deep_arguments_string_in_a_line_is_rejected_at_arguments() -> None:
    arguments = json.dumps('{"a": ' + nested_literal(10_000) + "}")
    error = line_error(rollout_line(response__output__1__arguments=arguments))
    assert (error.line, error.path) == (1, f"{OUTPUT}[1].arguments")


# --- files --------------------------------------------------------------------------------

GOOD = rollout_line()


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "rollouts.jsonl"
    path.write_bytes(data)
    return path


def file_outcome(path: Path | str) -> list[AgentRun] | ConversionError:
    try:
        return convert_nemogym_jsonl_file_to_agent_runs(path)
    except ConversionError as error:
        return error


@pytest.mark.parametrize(
    ("data", "runs"),
    [
        (b"", 0),
        (b"\n", 0),
        (b"\n\n \n\t\r\n\r\n", 0),
        (b"\xef\xbb\xbf", 0),
        (b"\xef\xbb\xbf\r\n", 0),
        (b"\xef\xbb\xbf" + GOOD + b"\r\n" + GOOD + b"\r\n", 2),
        (GOOD + b"\r\n\r\n" + GOOD, 2),
        (b"  " + GOOD + b" \t\r\n", 1),
        (GOOD.replace(b"Be brief.", b"Be\\u2028brief\xe2\x80\xa8."), 1),
    ],
)
def test_files_that_convert(tmp_path: Path, data: bytes, runs: int) -> None:
    result = file_outcome(write(tmp_path, data))
    assert isinstance(result, list) and len(result) == runs


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (GOOD + b"\n" + GOOD + b"\n" + GOOD.replace(b"SF?", b"S\xffF?"), 3, "invalid UTF-8 at"),
        (GOOD + b"\n" + GOOD.replace(b"SF?", b"S\xed\xa0\x80?"), 2, "invalid UTF-8 at"),
        (GOOD + b"\n" + GOOD.replace(b"SF?", b"S\xc0\xafF?"), 2, "invalid UTF-8 at"),
        (GOOD + b"\n" + GOOD[: len(GOOD) // 2], 2, "invalid JSON: "),
        (GOOD + b"\n" + GOOD[:-1], 2, "invalid JSON: "),
        (GOOD + b"\n\x00", 2, "invalid JSON: "),
        (GOOD + b"\r" + GOOD, 1, "invalid JSON: a lone CR at column "),
        (b"\x0c" + GOOD, 1, "invalid JSON: "),
        (b"\xc2\xa0" + GOOD, 1, "invalid JSON: "),
        (b"\n\xef\xbb\xbf" + GOOD, 2, "invalid JSON: "),
        (b"\xef\xbb\xbf\xef\xbb\xbf" + GOOD, 1, "invalid JSON: "),
        (b"\xff\xfe" + GOOD.decode().encode("utf-16-le"), 1, "invalid UTF-8 at"),
    ],
    ids=[
        "invalid-utf8-line-3",
        "utf8-encoded-surrogate",
        "overlong-utf8",
        "truncated-last-line",
        "missing-closing-brace",
        "nul-byte-line",
        "lone-cr-is-not-a-line-end",
        "form-feed-is-not-json-whitespace",
        "nbsp-is-not-json-whitespace",
        "bom-on-line-2",
        "two-boms",
        "utf16",
    ],
)
def test_broken_files(tmp_path: Path, data: bytes, line: int, reason: str) -> None:
    path = write(tmp_path, data)
    result = file_outcome(path)
    assert isinstance(result, ConversionError)
    assert (result.file, result.line, result.path) == (str(path), line, "")
    assert result.reason.startswith(reason), result.reason


def test_runs_before_a_broken_line_are_yielded_lazily(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + b"\n" + GOOD + b"\n" + GOOD[:100])
    runs: Iterator[AgentRun] = iter_nemogym_jsonl(path)
    assert isinstance(next(runs), AgentRun)
    assert isinstance(next(runs), AgentRun)
    with pytest.raises(ConversionError) as caught:
        next(runs)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "cannot read file: is a directory"),
        (lambda tmp: tmp / "missing.jsonl", "cannot read file: No such file or directory"),
        (lambda tmp: tmp / "missing" / "deeper.jsonl", "cannot read file: No such file"),
        (lambda tmp: tmp / ("x" * 5000), "cannot read file: File name too long"),
    ],
    ids=["directory", "missing", "missing-parent", "name-too-long"],
)
def test_unreadable_paths(tmp_path: Path, make: Callable[[Path], Path], reason: str) -> None:
    path = make(tmp_path)
    result = file_outcome(path)
    assert isinstance(result, ConversionError)
    assert (result.file, result.line, result.path) == (str(path), None, "")
    assert result.reason.startswith(reason)


def test_a_fifo_is_read_as_it_is_written(tmp_path: Path) -> None:
    fifo = tmp_path / "rollouts.fifo"
    os.mkfifo(fifo)

    def produce() -> None:
        with open(fifo, "wb") as writer:
            writer.write(GOOD + b"\n")
            writer.flush()
            writer.write(GOOD + b"\n" + GOOD[:10])

    producer = threading.Thread(target=produce)
    producer.start()
    result = file_outcome(fifo)
    producer.join(timeout=10)
    assert isinstance(result, ConversionError)
    assert (result.line, result.path) == (3, "")


def test_large_line_in_memory_budget(tmp_path: Path) -> None:
    """A 20 MB single line converts; its text is copied by reference, not duplicated."""
    big = "x" * 20_000_000
    result = file_outcome(write(tmp_path, rollout_line(verifier_metadata=json.dumps(big))))
    assert isinstance(result, list)
    assert benchmark_fields(result[0])["verifier_metadata"] == big


# --- bounded fuzzing slices (the long runs: fuzz/README.md) --------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_atheris_slice() -> None:
    """20,000 coverage-guided inputs through the JSONL reader and the converter."""
    pytest.importorskip("atheris")  # a dev dependency on Linux x86_64 only
    result = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "atheris_fuzz.py"), "-runs=20000", "-seed=1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000 runs" in result.stderr


@pytest.mark.parametrize(
    ("target", "count"),
    [("json-values", 200), ("mutated-rollouts", 40), ("jsonl-bytes", 40), ("python-values", 100)],
)
def test_hypothesis_fuzz_slice(target: str, count: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert hypothesis_fuzz.main(["--target", target, "--count", str(count), "--seed", "0"]) == 0
    assert f"{target}: {count:,} inputs in " in capsys.readouterr().out
