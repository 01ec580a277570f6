"""Minimizing rollouts (nemogym_ingest/minimize.py and the outcomes `case add` keeps):
real-shaped rollouts of tens of kB keep their outcome, shrink at least 4x, deterministically."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nemogym_ingest import ConversionOptions
from nemogym_ingest.casebook import outcome_keeper
from nemogym_ingest.errors import render_path
from nemogym_ingest.minimize import ELLIPSIS, json_size, minimize, transcript_shape
from nemogym_ingest.verdict import docent_verdict, outcome_of


def _corpus_rollout() -> Callable[[int], dict[str, Any]]:
    """`rollout(i)` of benchmarks/corpus.py: a deterministic, real-shaped rollout."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus.py"
    spec = importlib.util.spec_from_file_location("benchmark_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[int], dict[str, Any]] = module.rollout
    return function


rollout = _corpus_rollout()
STRICT = ConversionOptions()
# Corpus rollouts of tens of kB (46, 49, 52 and 64 kB).
REAL_SHAPED = [0, 3, 6, 9]


def _docent_view() -> Any:
    from nemogym_ingest.verdict import docent_view

    view = docent_view()
    assert view is not None, "docent is a test dependency"
    return view


@pytest.mark.parametrize("index", REAL_SHAPED)
def test_an_accepted_rollout_keeps_its_transcript_shape_and_shrinks(index: int) -> None:
    original = rollout(index)
    assert 40_000 < json_size(original) < 70_000
    keeps, kept = outcome_keeper(original, STRICT, None)
    result = minimize(original, keeps)
    assert result.size_before == json_size(original)
    assert result.size_after == json_size(result.rollout)
    assert result.size_before >= 4 * result.size_after
    before, after = outcome_of(original, STRICT).run, outcome_of(result.rollout, STRICT).run
    assert before is not None and after is not None
    assert transcript_shape(after) == transcript_shape(before)
    assert kept.startswith("the transcript shape (system, user, assistant")
    assert original == rollout(index)  # the input is left as it was
    assert minimize(original, keeps) == result  # deterministic


def _rejected(index: int) -> dict[str, Any]:
    broken = rollout(index)
    calls = [item for item in broken["response"]["output"] if item["type"] == "function_call"]
    calls[-1]["arguments"] = "{not json"
    return broken


@pytest.mark.parametrize("index", REAL_SHAPED)
def test_a_rejected_rollout_keeps_its_rule_at_its_path_pattern(index: int) -> None:
    original = _rejected(index)
    error = outcome_of(original, STRICT).error
    assert error is not None
    keeps, kept = outcome_keeper(original, STRICT, None)
    result = minimize(original, keeps)
    again = outcome_of(result.rollout, STRICT).error
    assert again is not None
    assert again.rule == error.rule
    assert render_path(again.loc, any_index=True) == render_path(error.loc, any_index=True)
    assert kept == f"{error.rule} at response.output[*].arguments: {error.reason}"
    assert again.reason.startswith(error.reason.split(" at column")[0])
    assert result.size_before >= 4 * result.size_after
    assert minimize(original, keeps) == result


def test_with_docent_an_agreeing_rollout_stays_agreeing() -> None:
    view = _docent_view()
    original = rollout(3)
    keeps, kept = outcome_keeper(original, STRICT, view)
    result = minimize(original, keeps)
    assert kept.endswith(", Docent agreeing")
    assert docent_verdict(result.rollout, outcome_of(result.rollout, STRICT), view).agrees
    assert result.size_before >= 4 * result.size_after


def test_with_docent_a_divergence_is_kept() -> None:
    """Reasoning `content` (D1: Docent drops it) in a real-shaped rollout: the minimized
    rollout still diverges, by D1 alone."""
    view = _docent_view()
    original = rollout(0)
    reasoning = next(item for item in original["response"]["output"] if item["type"] == "reasoning")
    reasoning["content"] = [{"type": "reasoning_text", "text": "thinking it through " * 40}]
    verdict = docent_verdict(original, outcome_of(original, STRICT), view)
    assert (verdict.agrees, verdict.divergence) == (False, ("D1",))
    keeps, kept = outcome_keeper(original, STRICT, view)
    result = minimize(original, keeps)
    assert kept.endswith("Docent diverging (D1)")
    again = docent_verdict(result.rollout, outcome_of(result.rollout, STRICT), view)
    assert (again.agrees, again.divergence) == (False, ("D1",))
    kept_reasoning = [item for item in result.rollout["response"]["output"] if item.get("content")]
    assert kept_reasoning  # the reasoning content is what the divergence needs
    assert result.size_before >= 4 * result.size_after


def test_the_moves() -> None:
    """Members and elements go, long strings become a readable prefix and `…`, a long list
    of numbers goes at once; what the outcome needs stays."""
    value = {
        "keep": "a string much longer than twenty-four characters",
        "ids": list(range(500)),
        "drop": {"deep": [1, 2, 3]},
        "need": ["x", "y", "z"],
    }

    def keeps(candidate: Any) -> bool:
        return "keep" in candidate and "y" in candidate.get("need", [])

    result = minimize(value, keeps)
    assert result.rollout == {"keep": "a string much lo" + ELLIPSIS, "need": ["y"]}
    assert value["ids"] == list(range(500))  # not modified


def test_a_minimal_rollout_stays_as_it_is() -> None:
    minimal = {"keep": ""}
    result = minimize(minimal, lambda candidate: candidate == {"keep": ""})
    assert result.rollout == minimal
    assert (
        result.size_before == result.size_after == len(json.dumps(minimal, separators=(",", ":")))
    )


def test_the_outcome_must_hold_to_begin_with() -> None:
    with pytest.raises(ValueError, match="does not have the outcome"):
        minimize({"a": 1}, lambda candidate: False)


def test_options_are_kept_while_minimizing() -> None:
    """With `agent_name`, a rollout without `agent_ref` converts; its minimization keeps
    converting with the option (and would be rejected without it)."""
    original = copy.deepcopy(rollout(3))
    del original["agent_ref"]
    options = ConversionOptions(agent_name="swe_agent")
    keeps, _ = outcome_keeper(original, options, None)
    result = minimize(original, keeps)
    assert outcome_of(result.rollout, options).run is not None
    assert outcome_of(result.rollout, STRICT).error is not None
