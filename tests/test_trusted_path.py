"""The trusted path: lines this package parsed itself are converted without the checking
copy, with exactly the outcome of the checked path; caller input never takes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

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
from nemogym_ingest.jsonl import parse_jsonl_line
from nemogym_ingest.testing.strategies import mutated_rollouts, valid_rollouts
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
        (b'{"a": 1e400}', True),  # parses to inf: own_json catches it where it is copied
    ],
)
@pytest.mark.parametrize("parser", [None, orjson.loads], ids=["json", "orjson"])
def test_the_reader_vouches_for_a_line(
    line: bytes, vouched: bool, parser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_orjson_loads", parser)
    assert parse_jsonl_line(line)[1] is vouched


def _checked_and_owned(rollout: Any) -> tuple[Any, Any]:
    """The outcome of the checked path on `rollout`, and of the trusted path on its line."""

    def outcome(convert: Any) -> Any:
        try:
            return convert().to_dict()
        except ConversionError as error:
            return (error.rule, error.loc, error.reason)

    try:
        line = json.dumps(rollout).encode()
        parsed, _ = parse_jsonl_line(line)
    except (RecursionError, ConversionError):  # too deep for a line: R64 rejects it unread
        assume(False)
    checked = outcome(lambda: convert_row(rollout, STRICT, 1))
    owned = outcome(lambda: convert_row(parsed, STRICT, 1, owned=parse_jsonl_line(line)[1]))
    return checked, owned


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
    assert parse_jsonl_line(line)[1]
    with pytest.raises(ConversionError) as caught:
        convert_row(parse_jsonl_line(line)[0], STRICT, 1, owned=True)
    assert (caught.value.rule, caught.value.loc) == ("R41", ("score",))


class _CountingOwnJson:
    def __init__(self) -> None:
        self.calls = 0
        self.real = jsonvalue.own_json

    def __call__(self, value: Any, loc: Any, *, prune: bool = False) -> Any:
        self.calls += 1
        return self.real(value, loc, prune=prune)


def test_only_our_own_parsed_lines_take_the_trusted_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public dict API keeps R47 (the caller's rollout is never shared or modified);
    the JSONL reader takes the trusted path."""
    counting = _CountingOwnJson()
    monkeypatch.setattr("nemogym_ingest.convert.rows.own_json", counting)
    rollout = make_rollout()
    before = copy.deepcopy(rollout)
    run = convert_nemogym_rollout_to_agent_run(rollout)
    assert counting.calls == 0
    assert rollout == before
    _assert_shares_nothing(run, rollout)
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(rollout) + "\n", encoding="utf-8")
    assert [run.to_dict() for run in iter_nemogym_jsonl(path)] == [run.to_dict()]
    assert counting.calls > 0


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
