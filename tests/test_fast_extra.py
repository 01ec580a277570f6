"""The `fast` extra (orjson): every value, payload, error and output byte is exactly what
the standard library gives, read or written, and the package works without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemogym_ingest import ConversionError, ConversionOptions, jsonl, output
from nemogym_ingest.jsonl import convert_lines
from nemogym_ingest.jsonvalue import MAY_BE_LONG_INTEGER, TINY_FLOAT, JsonCopier, NotAllJson
from nemogym_ingest.output import payload_line
from nemogym_ingest.testing.strategies import json_values, malformed_rollouts, valid_rollouts
from tests.test_convert import make_rollout

ROOT = Path(__file__).resolve().parent.parent
STRICT = ConversionOptions()
JSONL_CASES = sorted((ROOT / "spec" / "cases" / "jsonl").glob("*.jsonl"))
CASE_ROLLOUTS = [
    case["rollout"]
    for group in sorted((ROOT / "spec" / "cases").glob("*.json"))
    for case in json.loads(group.read_text(encoding="utf-8"))["cases"]
    if "rollout" in case
]


def _outcomes(lines: list[bytes], fast: bool) -> list[Any]:
    """What the reader and the writer make of `lines` with orjson (`fast`) or with `json`
    alone: each payload as output text, each failed attempt as it is, each error as (line,
    rule, loc, reason)."""
    saved = jsonl._orjson_loads, output._orjson_dumps
    jsonl._orjson_loads, output._orjson_dumps = (
        (orjson.loads, orjson.dumps) if fast else (None, None)
    )
    try:
        results = list(convert_lines(lines, options=ConversionOptions()))
        written = [
            None
            if result.converted is None
            else payload_line(result.converted.payload, tiny_float=result.converted.tiny_float)
            for result in results
        ]
    finally:
        jsonl._orjson_loads, output._orjson_dumps = saved
    return [
        text
        if text is not None
        else result.failure
        if result.failure is not None
        else (result.line, _error_of(result).rule, _error_of(result).loc, _error_of(result).reason)
        for result, text in zip(results, written, strict=True)
    ]


def _error_of(result: jsonl.LineResult) -> ConversionError:
    assert result.error is not None
    return result.error


def _assert_same_either_way(lines: list[bytes]) -> None:
    assert _outcomes(lines, fast=True) == _outcomes(lines, fast=False)


def _line(value: Any) -> bytes:
    return json.dumps(value).encode() + b"\n"


def test_every_spec_case_rollout_reads_the_same_either_way() -> None:
    _assert_same_either_way([_line(rollout) for rollout in CASE_ROLLOUTS])


@pytest.mark.parametrize("path", JSONL_CASES, ids=[path.stem for path in JSONL_CASES])
def test_every_jsonl_case_file_reads_the_same_either_way(path: Path) -> None:
    """The hostile files: NaN, huge integers, lone surrogates, duplicate keys, deep lines,
    invalid UTF-8, BOMs, CRs."""
    _assert_same_either_way(path.read_bytes().splitlines(keepends=True))


@given(valid_rollouts())
def test_valid_rollouts_read_the_same_either_way(rollout: Any) -> None:
    _assert_same_either_way([_line(rollout)])


@given(malformed_rollouts())
def test_malformed_rollouts_are_rejected_the_same_either_way(case: tuple[Any, str]) -> None:
    _assert_same_either_way([_line(case[0])])


_NUMBER_TEXTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)


def _rollout_line_with(numbers: str, value: Any, index: str) -> bytes:
    """A rollout holding the number literals `numbers` and `value` where each kind of copy
    and check reads them: a benchmark field (pruned), a tool output (copied whole, then
    written as text), a function call's arguments object, and `_ng_task_index` (checked)."""
    rollout = make_rollout()
    rollout["response"]["output"] = [
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": "ARGUMENTS"}},
        {"type": "function_call_output", "call_id": "c", "output": "OUTPUT"},
    ]
    rollout["_ng_task_index"] = "INDEX"
    rollout["numbers"] = "NUMBERS"
    text = json.dumps(rollout)
    replaced = {
        '"NUMBERS"': f'{{"n": [{numbers}], "v": {json.dumps(value)}}}',
        '"OUTPUT"': f"[{numbers}]",
        '"ARGUMENTS"': f"[{numbers}]",
        '"INDEX"': index,
    }
    for marker, literal in replaced.items():
        text = text.replace(marker, literal)
    return text.encode()


@given(
    st.lists(_NUMBER_TEXTS, max_size=8),
    json_values(deep=False, non_finite=True),
    _NUMBER_TEXTS,
)
def test_numbers_and_any_json_convert_the_same_either_way(
    numbers: list[str], value: Any, index: str
) -> None:
    """Integers beyond 64 bits (which orjson reads as floats), floats at the edges of their
    range, exponents that overflow or underflow, negative zero, wherever a rollout holds
    them: the same output bytes or the same error."""
    line = _rollout_line_with(", ".join(numbers), value, index)
    _assert_same_either_way([line])


@pytest.mark.parametrize(
    "literal", ["12345678901234567890", "-9223372036854775809", "18446744073709551616", "1" * 40]
)
def test_an_integer_orjson_reads_as_a_float_converts_as_json_reads_it(literal: str) -> None:
    line = _rollout_line_with(literal, None, literal)
    (converted,) = [result.converted for result in convert_lines([line], options=STRICT)]
    assert converted is not None
    assert f"/task/{literal}/rollout/" in converted.payload["name"]
    _assert_same_either_way([line])


def test_orjson_reads_integers_of_64_bits_exactly_and_longer_ones_as_large_floats() -> None:
    """What the reader relies on: a float orjson reads from an integer is of magnitude
    MAY_BE_LONG_INTEGER or more, so a smaller float never needs `json` to read it again."""
    for exact in (2**64 - 1, -(2**63), 2**63, 10**18):
        assert orjson.loads(str(exact)) == exact
        assert type(orjson.loads(str(exact))) is int
    for longer in (2**64, -(2**63) - 1, 10**30, -(10**30)):
        read = orjson.loads(str(longer))
        assert type(read) is float
        assert abs(read) >= MAY_BE_LONG_INTEGER
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads("1" + "0" * 400)  # beyond a float's range: refused, read by json


@pytest.mark.parametrize(
    "text", [b"NaN", b"-Infinity", b'"\\ud800"', b"1e400", b"[" * 1025 + b"]" * 1025]
)
def test_orjson_refuses_what_the_reader_leaves_to_json(text: bytes) -> None:
    """NaN, the infinities, lone surrogates, floats that overflow and nesting beyond its
    limit (far deeper than R64's): orjson refuses them, so `json` reads those lines."""
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)


def test_orjson_reads_every_depth_the_nesting_rule_allows() -> None:
    depth = 201  # one level past MAX_NESTING: R64 rejects it after orjson read it
    assert orjson.loads(b"[" * depth + b"]" * depth) is not None


def test_orjson_refuses_to_write_what_the_writer_leaves_to_json() -> None:
    """Integers beyond 64 bits and payloads nested deeper than its limit (254 levels, above
    the deepest payload: 200 levels of a rollout and 4 of metadata around them)."""
    with pytest.raises(TypeError):
        orjson.dumps({"n": 2**64})
    deep: list[Any] = []
    for _ in range(255):
        deep = [deep]
    with pytest.raises(TypeError):
        orjson.dumps(deep)


def _convert_output(paths: list[Path], parser: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "convert", "-q", "-k", "-j", "1"]
        + [str(path) for path in paths],
        capture_output=True,
        check=False,
        env={**os.environ, "NEMOGYM_INGEST_PARSER": parser},
    )


def test_cli_output_bytes_are_identical_either_way() -> None:
    """The example rollouts and every hostile JSONL file, in one `convert --keep-going`."""
    paths = [ROOT / "examples" / "rollouts.jsonl", *JSONL_CASES]
    fast, slow = _convert_output(paths, "orjson"), _convert_output(paths, "json")
    assert fast.stdout.count(b"\n") > 5
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


def test_without_orjson_the_package_imports_and_converts() -> None:
    code = (
        "import sys; sys.modules['orjson'] = None\n"
        "import nemogym_ingest.jsonl as jsonl\n"
        "assert jsonl._orjson_loads is None\n"
        "from nemogym_ingest import convert_nemogym_jsonl_file_to_agent_runs as convert\n"
        f"print(len(convert({str(ROOT / 'examples' / 'rollouts.jsonl')!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == sum(
        1 for line in (ROOT / "examples" / "rollouts.jsonl").read_bytes().splitlines() if line
    )


def test_the_reader_and_the_writer_use_orjson_when_installed() -> None:
    assert jsonl._orjson_loads is orjson.loads
    assert output._orjson_dumps is orjson.dumps


def _written_by_json(value: Any) -> bytes:
    """The spec's output text, written by the standard library alone."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_TEXTS = st.text(st.characters(exclude_categories=["Cs"]))  # no lone surrogate (R41)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_SMALL_FLOATS = st.floats(min_value=-1e-4, max_value=1e-4, allow_nan=False).filter(bool)
_PAYLOAD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _FLOATS | _SMALL_FLOATS | _TEXTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXTS, children, max_size=4),
    max_leaves=20,
)


@given(_PAYLOAD_VALUES)
def test_the_writer_writes_the_same_bytes_with_or_without_orjson(value: Any) -> None:
    """Every JSON value a payload can hold (any text, integers beyond 64 bits, every float,
    those below 1e-4 included) is written as `json` writes it, told by its copy whether it
    holds a tiny float."""
    assert _written(value) == _written_by_json(value)


def _written(value: Any) -> bytes:
    """`value` written as the CLI writes a payload it copied it into."""
    copier = JsonCopier(owned=False)
    copier.checked(value, ())
    return payload_line(value, tiny_float=copier.tiny_float)


@given(_FLOATS | _SMALL_FLOATS)
def test_every_float_orjson_writes_otherwise_is_a_tiny_float(number: float) -> None:
    if orjson.dumps(number) != _written_by_json(number):
        assert 0 < abs(number) < TINY_FLOAT


@given(_PAYLOAD_VALUES, st.booleans())
def test_a_copy_records_a_tiny_float_exactly_when_it_holds_one(value: Any, owned: bool) -> None:
    floats = [number for number in _numbers(value) if type(number) is float]
    copier = JsonCopier(owned=owned)
    if owned and any(abs(number) >= MAY_BE_LONG_INTEGER for number in floats):
        with pytest.raises(NotAllJson):  # the line is read again with json
            copier({"v": value}, (), prune=True)
        return
    copier({"v": value}, (), prune=owned)
    assert copier.tiny_float is any(0 < abs(number) < TINY_FLOAT for number in floats)


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [number for child in value.values() for number in _numbers(child)]
    if isinstance(value, list):
        return [number for child in value for number in _numbers(child)]
    return [value]


def test_a_payload_with_a_tiny_float_in_a_string_only_is_written_by_orjson() -> None:
    """Text that merely looks like orjson's float forms is written by orjson, once."""
    line = _line({**make_rollout(), "note": "0.00001 and 1e-7"})
    (result,) = convert_lines([line], options=STRICT)
    assert result.converted is not None
    assert not result.converted.tiny_float
    assert payload_line(result.converted.payload, tiny_float=False) == orjson.dumps(
        result.converted.payload
    )


@pytest.mark.parametrize(
    "number", [1e-05, -1e-05, 1e-07, 9.999e-05, 1.5e-09, 5e-324, 1e-10, 1e-4, 1e16, 1e22, -0.0]
)
def test_the_float_forms_at_the_edges_are_written_as_json_writes_them(number: float) -> None:
    assert _written({"x": [number]}) == _written_by_json({"x": [number]})


def test_an_integer_beyond_64_bits_is_written_by_json() -> None:
    value = {"n": [2**64, -(2**63) - 1, 2**64 - 1, -(2**63)]}
    assert _written(value) == _written_by_json(value)
