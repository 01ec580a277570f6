"""Properties of rejection: malformed rollouts, arbitrary JSON and mutated rollouts."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_rollout_to_agent_run,
)
from nemogym_ingest.errors import render_path
from nemogym_ingest.testing.strategies import (
    json_values,
    malformed_episode_rows,
    malformed_rollouts,
    mutated_rollouts,
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
