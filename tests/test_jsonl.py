"""JSONL reading (R60-R66) and the error's file/line/path rendering (R50)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from docent.sdk.integrations import convert_nemogym_jsonl_file_to_agent_runs as docent_file
from hypothesis import given
from hypothesis import strategies as st

from nemogym_ingest import (
    ConversionError,
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
)
from nemogym_ingest.errors import Loc, render_path
from nemogym_ingest.jsonvalue import MAX_NESTING, parsed_too_deep
from nemogym_ingest.options import OPTIONS
from tests.docent_oracle import docent_payload
from tests.test_convert import make_rollout

GOOD = json.dumps(make_rollout()).encode()
OTHER = json.dumps(make_rollout(input_="second", _ng_rollout_index=2)).encode()


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "rollouts.jsonl"
    path.write_bytes(data)
    return path


def file_error(path: Path) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert_nemogym_jsonl_file_to_agent_runs(path)
    return caught.value


def test_r60_r61_lines_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, b"\n" + GOOD + b"\r\n  \t\r\n" + OTHER)  # no final newline
    runs = convert_nemogym_jsonl_file_to_agent_runs(path)
    assert [run.name for run in runs] == ["agent/task/0/rollout/1", "agent/task/0/rollout/2"]
    assert [run.to_dict() for run in runs] == [
        docent_payload(run) for run in docent_file(write(tmp_path, b"\n" + GOOD + b"\n\n" + OTHER))
    ]


def test_r60_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + b"\n\n\n" + b'{"response": 1}\n')
    error = file_error(path)
    assert (error.file, error.line, error.path) == (str(path), 4, "responses_create_params")
    assert str(error) == f"{path}:4: responses_create_params: is missing"


def test_r62_bom_is_skipped(tmp_path: Path) -> None:
    runs = convert_nemogym_jsonl_file_to_agent_runs(write(tmp_path, b"\xef\xbb\xbf" + GOOD))
    assert len(runs) == 1


def test_r62_bom_elsewhere_is_invalid_json(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, GOOD + b"\n\xef\xbb\xbf" + GOOD))
    assert (error.line, error.path) == (2, "")


def test_r63_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + b"\n" + GOOD.replace(b'"hi"', b'"h\xff"') + b"\n")
    error = file_error(path)
    assert (error.line, error.path) == (2, "")
    assert "invalid UTF-8" in error.reason
    with pytest.raises(UnicodeDecodeError):  # divergence D3: Docent crashes
        docent_file(path)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json}", "invalid JSON"),
        (b'{"a": 1', "invalid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 200 levels"),
        (b"1" * 5000, "must be an object"),
    ],
)
def test_r64_invalid_json(tmp_path: Path, line: bytes, reason: str) -> None:
    error = file_error(write(tmp_path, GOOD + b"\n" + line + b"\n"))
    assert (error.line, error.path) == (2, "")
    assert reason in error.reason


@pytest.mark.parametrize("line", [b"[]", b"null", b'"rollout"', b"3"])
def test_r65_non_object_line(tmp_path: Path, line: bytes) -> None:
    error = file_error(write(tmp_path, line))
    assert (error.line, error.path) == (1, "")


def test_r66_rollout_error_carries_line_and_stops(tmp_path: Path) -> None:
    bad = make_rollout(output=[{"type": "function_call_output", "call_id": "x", "output": ""}])
    path = write(tmp_path, b"\n".join([GOOD, json.dumps(bad).encode(), OTHER]))
    runs = iter_nemogym_jsonl(path)
    assert next(runs).name == "agent/task/0/rollout/1"  # lazy: line 1 comes before line 2 fails
    with pytest.raises(ConversionError) as caught:
        next(runs)
    assert (caught.value.line, caught.value.path) == (2, "response.output[0].call_id")
    assert str(caught.value).startswith(f"{path}:2: response.output[0].call_id: ")


def test_empty_file_gives_no_runs(tmp_path: Path) -> None:
    assert convert_nemogym_jsonl_file_to_agent_runs(write(tmp_path, b"")) == []


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_paths_are_conversion_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nothing.jsonl" if kind == "missing" else tmp_path
    with pytest.raises(ConversionError) as caught:
        iter_nemogym_jsonl(path)
    assert caught.value.file == str(path) and caught.value.line is None
    assert (caught.value.rule, caught.value.loc) == ("R68", ())
    assert str(caught.value).startswith(f"{path}: cannot read file")


def test_file_runs_equal_single_rollout_runs(tmp_path: Path) -> None:
    runs = convert_nemogym_jsonl_file_to_agent_runs(write(tmp_path, GOOD + b"\n" + OTHER + b"\n"))
    assert runs == [
        convert_nemogym_rollout_to_agent_run(json.loads(GOOD)),
        convert_nemogym_rollout_to_agent_run(json.loads(OTHER)),
    ]


@pytest.mark.parametrize(
    ("kwargs", "rendered"),
    [
        ({}, "bad"),
        ({"loc": ("a", "b")}, "a.b: bad"),
        ({"loc": ("a",), "line": 3}, "line 3: a: bad"),
        ({"loc": ("a",), "line": 3, "file": "f.jsonl"}, "f.jsonl:3: a: bad"),
        ({"file": "f.jsonl"}, "f.jsonl: bad"),
        (
            {"loc": ("a", 0, "x.y"), "option": "media"},
            'a[0]["x.y"]: bad; pass media="placeholder" (Python) or --media placeholder'
            " (command line) to replace media parts with text markers",
        ),
    ],
)
def test_r50_error_rendering_and_pickling(kwargs: dict[str, Any], rendered: str) -> None:
    loc = kwargs.get("loc", ())
    if "option" in kwargs:  # the option table adds the hint naming it (R70)
        unlocated = OPTIONS[kwargs["option"]].rejection("bad", loc, rule="R13")
    else:
        unlocated = ConversionError("bad", loc, rule="R13")
    error = unlocated.located(line=kwargs.get("line"), file=kwargs.get("file"))
    assert str(error) == rendered
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    fields = ("reason", "loc", "path", "rule", "option", "line", "file")
    assert [getattr(copy, name) for name in fields] == [getattr(error, name) for name in fields]
    assert (copy.rule, copy.option, copy.loc, str(copy)) == (
        "R13",
        kwargs.get("option"),
        kwargs.get("loc", ()),
        rendered,
    )


@pytest.mark.parametrize(
    ("loc", "path", "pattern"),
    [
        ((), "", ""),
        (("agent_ref", "name"), "agent_ref.name", "agent_ref.name"),
        (
            ("response", "output", 1, "call_id"),
            "response.output[1].call_id",
            "response.output[*].call_id",
        ),
        ((7,), "[7]", "[*]"),
        (("verifier_metadata", "a.b"), 'verifier_metadata["a.b"]', 'verifier_metadata["a.b"]'),
        (("m", "café"), 'm["caf\\u00e9"]', 'm["caf\\u00e9"]'),
        (("m", "_x9"), "m._x9", "m._x9"),
        (("m", "9x"), 'm["9x"]', 'm["9x"]'),
        (("", "k"), '[""].k', '[""].k'),
    ],
)
def test_r50_paths_render_from_locations(loc: Loc, path: str, pattern: str) -> None:
    assert render_path(loc) == path
    assert render_path(loc, any_index=True) == pattern


def _bracket_depth(text: str) -> int:
    """The deepest bracket nesting of JSON `text` outside its strings, read character by
    character: the independent reading R64 and R20 describe."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


_STRING_TEXT = st.text(alphabet=st.sampled_from('ab[]{}"\\\n\u00e9\u2028/'), max_size=12)


@st.composite
def _nested_values(draw: st.DrawFn) -> Any:
    """A JSON value nested about MAX_NESTING levels deep, with brackets in its strings."""
    value = draw(
        st.recursive(
            st.none() | st.integers() | _STRING_TEXT,
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(_STRING_TEXT, children, max_size=3)
            ),
            max_leaves=12,
        )
    )
    for _ in range(draw(st.integers(MAX_NESTING - 8, MAX_NESTING + 3))):
        padding = draw(st.lists(_STRING_TEXT, max_size=2))
        value = [*padding, value] if draw(st.booleans()) else {draw(_STRING_TEXT): value}
    return value


@given(_nested_values(), st.booleans())
def test_the_nesting_check_is_the_bracket_depth_of_the_text(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    deepest = _bracket_depth(text)
    assert parsed_too_deep(text, value) is (deepest > MAX_NESTING)
    assert parsed_too_deep(text.encode(), value) is (deepest > MAX_NESTING)


def test_no_finalizer_runs_at_the_recursion_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line nested 10,000 levels deep is parsed by `json` up to Python's recursion limit;
    a collection there would run an unclosed generator's `finally` with no stack left (an
    unraisable exception, which pytest fails a test on). None runs while it parses."""
    import gc
    import sys

    from nemogym_ingest import jsonl

    monkeypatch.setattr(jsonl, "_orjson_loads", None)
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def suspended() -> Any:
        try:
            yield
        finally:
            json.dumps([1])  # needs a few frames

    thresholds = gc.get_threshold()
    try:
        for threshold in range(700, 1000, 10):  # a collection deep in the recursion
            gc.collect()
            gc.set_threshold(threshold)
            generator = suspended()
            next(generator)
            cycle: list[Any] = [generator]
            cycle.append(cycle)  # only the collector frees it
            del generator, cycle
            with pytest.raises(ConversionError) as caught:
                jsonl.parse_line(b"[" * 10_000 + b"]" * 10_000)
            assert (caught.value.rule, caught.value.reason) == (
                "R64",
                "nested deeper than 200 levels",
            )
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
    assert unraisable == []
