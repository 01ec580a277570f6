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
from nemogym_ingest.model import wire_payload
from nemogym_ingest.output import orjson_float_form_in, payload_line
from nemogym_ingest.testing.strategies import json_values, malformed_rollouts, valid_rollouts

ROOT = Path(__file__).resolve().parent.parent
JSONL_CASES = sorted((ROOT / "spec" / "cases" / "jsonl").glob("*.jsonl"))
CASE_ROLLOUTS = [
    case["rollout"]
    for group in sorted((ROOT / "spec" / "cases").glob("*.json"))
    for case in json.loads(group.read_text(encoding="utf-8"))["cases"]
    if "rollout" in case
]


def _outcomes(lines: list[bytes], parser: Any) -> list[Any]:
    """What the reader makes of `lines` with `parser` as orjson's loads (None: json only):
    each payload as output text, each failed attempt as it is, each error as (line, rule,
    loc, reason)."""
    saved = jsonl._orjson_loads
    jsonl._orjson_loads = parser
    try:
        results = list(convert_lines(lines, options=ConversionOptions()))
    finally:
        jsonl._orjson_loads = saved
    return [
        payload_line(wire_payload(result.run))
        if result.run is not None
        else result.failure
        if result.failure is not None
        else (result.line, _error_of(result).rule, _error_of(result).loc, _error_of(result).reason)
        for result in results
    ]


def _error_of(result: jsonl.LineResult) -> ConversionError:
    assert result.error is not None
    return result.error


def _assert_same_either_way(lines: list[bytes]) -> None:
    assert _outcomes(lines, orjson.loads) == _outcomes(lines, None)


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


@given(st.lists(_NUMBER_TEXTS, max_size=8), json_values(deep=False, non_finite=True))
def test_numbers_and_any_json_read_the_same_either_way(numbers: list[str], value: Any) -> None:
    """Integers beyond 64 bits, floats at the edges of their range, exponents that
    overflow or underflow, negative zero: the same values (by type and by repr)."""
    line = f'{{"n": [{", ".join(numbers)}], "v": {json.dumps(value)}}}'.encode()
    saved = jsonl._orjson_loads
    try:
        jsonl._orjson_loads = orjson.loads
        fast = _reads(line)
        jsonl._orjson_loads = None
        slow = _reads(line)
    finally:
        jsonl._orjson_loads = saved
    assert repr(fast) == repr(slow)


def _reads(line: bytes) -> Any:
    try:
        return jsonl.parse_jsonl_line(line)[0]
    except ValueError as error:
        return str(error)


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
    those below 1e-4 included) is written as `json` writes it."""
    assert payload_line(value) == _written_by_json(value)


@given(_FLOATS)
def test_every_float_orjson_writes_otherwise_is_caught(number: float) -> None:
    written = orjson.dumps(number)
    if written != _written_by_json(number):
        assert orjson_float_form_in(written)


@pytest.mark.parametrize(
    "number", [1e-05, -1e-05, 1e-07, 9.999e-05, 1.5e-09, 5e-324, 1e-10, 1e-4, 1e16, 1e22, -0.0]
)
def test_the_float_forms_at_the_edges_are_written_as_json_writes_them(number: float) -> None:
    assert payload_line({"x": [number]}) == _written_by_json({"x": [number]})


def test_an_integer_beyond_64_bits_is_written_by_json() -> None:
    value = {"n": [2**64, -(2**63) - 1, 2**64 - 1, -(2**63)]}
    assert payload_line(value) == _written_by_json(value)
