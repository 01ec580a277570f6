"""Properties of rejection: malformed rollouts, arbitrary JSON and mutated rollouts."""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl_results,
)
from nemogym_ingest.errors import render_path
from nemogym_ingest.testing.strategies import (
    failed_attempts,
    json_values,
    malformed_episode_rows,
    malformed_rollouts,
    mutated_rollouts,
    nemo_gym_rows,
    valid_episode_rows,
    valid_rollouts,
)
from nemogym_ingest.testing.strategies._episodes import ROW_KINDS
from nemogym_ingest.testing.strategies._failures import (
    FAILED_ATTEMPT_CLASSES,
    FAILURE_ROW_CLASSES,
)
from tests.docent_oracle import DocentConversionError, docent_convert, docent_error_path
from tests.test_spec_cases import rule_blocks

REJECTION_RULES = {rule for rule in rule_blocks() if rule.startswith("R")}
OPTION_NAMES = set(ConversionOptions.__dataclass_fields__)


def assert_rejection_is_data(error: ConversionError) -> None:
    """A rule defined in spec/README.md, a location of keys and indices rendered as the
    error's path (R50), and an option that is a ConversionOptions field, if any."""
    assert error.rule in REJECTION_RULES
    assert isinstance(error.loc, tuple)
    assert all(type(segment) in (str, int) for segment in error.loc)
    assert render_path(error.loc) == error.path
    assert error.option is None or error.option in OPTION_NAMES


def rejection(rollout: Any) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert_nemogym_rollout_to_agent_run(rollout)
    assert_rejection_is_data(caught.value)
    return caught.value


def path_kind(path: str) -> str:
    """The path with runs of indices blurred, to report which rules were covered."""
    return re.sub(r"(\[\d+\])+", "[i]", path)


@given(malformed_rollouts())
def test_malformed_rollouts_are_rejected_at_the_injected_violation(case: tuple[Any, str]) -> None:
    """R1-R22, R41: every rejection rule; R50: the error names the violation's path; R51:
    it is the first violation in check order; R47: the rollout is left unchanged."""
    rollout, expected_path = case
    event(f"path: {path_kind(expected_path)}")
    before = copy.deepcopy(rollout)
    assert rejection(rollout).path == expected_path
    assert rollout == before


@given(malformed_episode_rows())
def test_malformed_episode_rows_are_rejected_at_the_injected_violation(
    case: tuple[Any, str],
) -> None:
    """R81: the invocations, their sequence and role; R2-R22, R41 at paths under
    `invocations[i]`; R85: the environment server; R51: the first violation in check
    order; R47: the row is left unchanged."""
    row, expected_path = case
    event(f"path: {path_kind(expected_path)}")
    before = copy.deepcopy(row)
    assert rejection(row).path == expected_path
    assert row == before


@given(malformed_rollouts(include_divergences=False))
def test_docent_rejects_the_same_malformed_rollouts_at_the_same_path(
    case: tuple[Any, str],
) -> None:
    """Baseline: where no divergence applies (D1, D4, D5 violations left out), Docent 0.1.88
    rejects too, and its message names the same path (R50)."""
    rollout, expected_path = case
    assert rejection(rollout).path == expected_path
    with pytest.raises(DocentConversionError) as caught:
        docent_convert(rollout)
    assert docent_error_path(caught.value) == expected_path


def converts_or_rejects(rollout: Any) -> None:
    try:
        run = convert_nemogym_rollout_to_agent_run(rollout)
    except ConversionError as error:
        assert_rejection_is_data(error)
        event(f"rejected: {error.rule}")
    else:
        assert isinstance(run, AgentRun)
        event("converted")


ROLLOUT_MEMBERS = ("responses_create_params", "response", "agent_ref", "reward")


@given(
    json_values(non_finite=True)
    | st.fixed_dictionaries(
        {},
        optional={
            **{key: json_values(non_finite=True) for key in ROLLOUT_MEMBERS},
            "_ng_task_index": st.integers() | json_values(),
            "_ng_rollout_index": st.integers() | json_values(),
        },
    )
)
def test_arbitrary_json_gives_an_agent_run_or_a_conversion_error(value: Any) -> None:
    """R52, D3: any JSON value, however deep or odd (NaN and huge integers included), as
    the rollout or as any of its members, gives an AgentRun or a ConversionError."""
    converts_or_rejects(value)


@given(mutated_rollouts())
def test_mutated_rollouts_give_an_agent_run_or_a_conversion_error(rollout: Any) -> None:
    """R52: valid rollouts with arbitrary parts replaced, removed or added give an AgentRun
    or a ConversionError, never another exception."""
    converts_or_rejects(rollout)


# --- NeMo Gym 0.7.0 rows: failed attempts and the row kinds ---------------------------------


@given(failed_attempts(), valid_rollouts(failures=False))
def test_failed_attempts_give_no_run_alone_or_in_a_file(attempt: Any, rollout: Any) -> None:
    """R83: a failed attempt of any class, given alone, is rejected by R83 at
    `_ng_failure_class` (never R2 or R3); in a JSONL file it is neither a run nor a
    rejection, keeps its class and message, and the reading goes on to the next line."""
    event(f"class: {attempt['_ng_failure_class']}")
    error = rejection(attempt)
    assert (error.rule, error.path) == ("R83", "_ng_failure_class")
    lines = [json.dumps(row).encode() for row in (attempt, rollout)]
    first, second = iter_nemogym_jsonl_results(io.BytesIO(b"\n".join(lines)))
    assert (first.kind, first.run, first.error) == ("failed_attempt", None, None)
    assert first.failure is not None
    assert first.failure.failure_class == attempt["_ng_failure_class"]
    assert first.failure.message == attempt.get("_ng_failure_message")
    assert second.error is None and second.run is not None


def _drawn(strategy: st.SearchStrategy[Any], examples: int, read: Callable[[Any], Any]) -> set[Any]:
    """What `read` gives of `examples` draws of `strategy`, derandomized (the same draws on
    every run: a coverage claim that cannot flake)."""
    seen: set[Any] = set()

    @settings(max_examples=examples, derandomize=True, database=None, phases=[Phase.generate])
    @given(strategy)
    def collect(value: Any) -> None:
        seen.add(read(value))

    collect()
    return seen


def _failure_class(row: Any) -> Any:
    return row.get("_ng_failure_class")


def test_the_strategies_draw_every_row_kind_and_failure_class() -> None:
    """Differential fuzzing with these strategies reaches R80-R85: `nemo_gym_rows()` draws
    every kind R80 tells apart; `valid_rollouts()` and `valid_episode_rows()` draw failure
    rows of each class R84 reads (and rows without a failure); `failed_attempts()` attempts
    of each class of R83."""
    assert _drawn(nemo_gym_rows(), 60, lambda drawn: drawn[0]) == set(ROW_KINDS)
    expected = {None, *FAILURE_ROW_CLASSES}
    assert _drawn(valid_rollouts(), 60, _failure_class) == expected
    assert _drawn(valid_episode_rows(), 40, _failure_class) == expected
    assert _drawn(failed_attempts(), 40, _failure_class) >= set(FAILED_ATTEMPT_CLASSES)


@given(nemo_gym_rows())
def test_each_row_kind_is_read_as_r80_says(drawn: tuple[str, Any]) -> None:
    """R80: a rollout and an episode row convert (one transcript per invocation); a failed
    attempt is rejected alone by R83 at `_ng_failure_class`; a task input by R3 at
    `response`; a foreign object by R2 at `responses_create_params`."""
    kind, row = drawn
    event(f"kind: {kind}")
    if kind in ("rollout", "episode"):
        run = convert_nemogym_rollout_to_agent_run(row)
        count = len(row["invocations"]) if kind == "episode" else 1
        assert len(run.transcripts) == count
        return
    error = rejection(row)
    expected = {
        "failed_attempt": ("R83", "_ng_failure_class"),
        "task_input": ("R3", "response"),
        "foreign": ("R2", "responses_create_params"),
    }
    assert (error.rule, error.path) == expected[kind]
