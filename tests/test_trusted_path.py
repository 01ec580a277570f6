"""The trusted path: lines this package parsed itself are converted without the checking
copy, with exactly the outcome of the checked path; caller input never takes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from hypothesis import assume, given

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
    jsonl,
    jsonvalue,
)
from nemogym_ingest.convert import convert_row
from nemogym_ingest.jsonl import convert_lines, parse_line
from nemogym_ingest.jsonvalue import NotAllJson
from nemogym_ingest.testing.strategies import json_values, mutated_rollouts, valid_rollouts
from tests.test_convert import make_rollout

STRICT = ConversionOptions()


@pytest.mark.parametrize(
    ("line", "vouched"),
    [
        (b'{"a": [1, 2.5, -0.0, "x", null, true]}', True),
        (b'{"a": NaN}', False),
        (b'{"a": -Infinity}', False),
        (b'{"a": "no NaN here"}', True),  # only a literal is a NaN
        (b'{"a": "\\ud83d\\ude00"}', True),  # a pair is one code point
        (b'{"a": "\\ud800"}', False),
        (b'{"a": "\\uDC00x"}', False),
        (b'{"a": "\\ud800\\ud800\\udc00"}', False),  # the first high one is alone
        (b'{"\\udfff": 1}', False),
        (b'{"a": 1e400}', True),  # parses to inf: the trusted copy catches it where copied
    ],
)
@pytest.mark.parametrize("parser", [None, orjson.loads], ids=["json", "orjson"])
def test_the_reader_vouches_for_a_line(
    line: bytes, vouched: bool, parser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_orjson_loads", parser)
    assert parse_line(line).owned is vouched


def _checked_and_owned(rollout: Any) -> tuple[Any, Any]:
    """The outcome of the checked path on `rollout`, and of the trusted path on its line."""

    try:
        line = json.dumps(rollout).encode()
        parse_line(line)
    except (RecursionError, ConversionError):  # too deep for a line: R64 rejects it unread
        assume(False)
    try:
        checked: Any = convert_row(rollout, STRICT, 1).payload
    except ConversionError as error:
        checked = (error.rule, error.loc, error.reason)
    (result,) = convert_lines([line], options=STRICT)
    assume(result.failure is None)  # a failed attempt is the driver's (R83), not a rollout
    if result.error is not None:
        return checked, (result.error.rule, result.error.loc, result.error.reason)
    assert result.converted is not None
    return checked, result.converted.payload


@given(valid_rollouts())
def test_trusted_path_gives_the_checked_payload(rollout: Any) -> None:
    checked, owned = _checked_and_owned(rollout)
    assert owned == checked


@given(mutated_rollouts())
def test_trusted_path_gives_the_checked_outcome_on_mutated_rollouts(rollout: Any) -> None:
    """Payload or error (rule, location, reason): the same either way, NaN, overflowing
    floats and oversized integers included."""
    checked, owned = _checked_and_owned(rollout)
    assert owned == checked


@pytest.mark.parametrize("literal", ["1e400", "-1e999", "9" * 4001, "9" * 5000])
def test_numbers_the_line_cannot_vouch_for_fall_back_to_the_checked_path(literal: str) -> None:
    line = json.dumps(make_rollout()).encode()[:-1] + f', "score": {literal}}}'.encode()
    assert parse_line(line).owned
    with pytest.raises(NotAllJson):
        convert_row(parse_line(line).value, STRICT, 1, owned=True)
    (result,) = convert_lines([line], options=STRICT)
    assert result.error is not None
    assert (result.error.rule, result.error.loc) == ("R41", ("score",))


@pytest.mark.parametrize("parser", [None, orjson.loads], ids=["json", "orjson"])
def test_a_large_float_falls_back_to_the_checked_path(
    parser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A float of magnitude 2**63 or more may be an integer orjson read as a float: the
    trusted copy gives it up, and the line converts the checked way (a float it is)."""
    monkeypatch.setattr(jsonl, "_orjson_loads", parser)
    line = json.dumps({**make_rollout(), "score": 1e19}).encode()
    with pytest.raises(NotAllJson):
        convert_row(parse_line(line).value, STRICT, 1, owned=True)
    (result,) = convert_lines([line], options=STRICT)
    assert result.converted is not None
    assert (
        result.converted.payload["metadata"]["source"]["rollout_non_trace"]["benchmark_fields"][
            "score"
        ]
        == 1e19
    )


class _RecordingCopier(jsonvalue.JsonCopier):
    """A JsonCopier recording whether each row was copied on the trusted path."""

    made: ClassVar[list[bool]] = []

    def __init__(self, *, owned: bool) -> None:
        super().__init__(owned=owned)
        self.made.append(owned)


def test_only_our_own_parsed_lines_take_the_trusted_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public dict API keeps R47 (the caller's rollout is never shared or modified);
    the JSONL reader takes the trusted path."""
    monkeypatch.setattr(_RecordingCopier, "made", [])
    monkeypatch.setattr("nemogym_ingest.convert.rows.JsonCopier", _RecordingCopier)
    rollout = make_rollout()
    before = copy.deepcopy(rollout)
    run = convert_nemogym_rollout_to_agent_run(rollout)
    assert _RecordingCopier.made == [False]
    assert rollout == before
    _assert_shares_nothing(run, rollout)
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(rollout) + "\n", encoding="utf-8")
    assert [run.to_dict() for run in iter_nemogym_jsonl(path)] == [run.to_dict()]
    assert _RecordingCopier.made == [False, True]


def _containers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(found for child in value.values() for found in _containers(child))]
    if isinstance(value, list):
        return [value, *(found for child in value for found in _containers(child))]
    return []


def _assert_shares_nothing(run: AgentRun, rollout: Any) -> None:
    given = {id(container) for container in _containers(rollout)}
    made = [run.metadata, *(transcript.metadata for transcript in run.transcripts)]
    made += [
        call.arguments
        for transcript in run.transcripts
        for message in transcript.messages
        for call in (getattr(message, "tool_calls", None) or [])
    ]
    assert not given & {id(container) for value in made for container in _containers(value)}


@given(json_values(deep=False))
def test_trusted_pruning_is_the_checked_pruning_and_leaves_the_value_as_it_was(value: Any) -> None:
    """R40 on the trusted path: the checked copy's value, sharing only what pruning left
    unchanged, never modifying what it was given."""
    before = copy.deepcopy(value)
    try:
        pruned = jsonvalue.JsonCopier(owned=True)({"v": value}, (), prune=True)
    except NotAllJson:  # a float of 2**63 or more: the line is read again and checked
        return
    assert value == before
    assert pruned == jsonvalue.copy_json({"v": before}, (), prune=True)
