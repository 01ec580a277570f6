"""`scripts/nemogym_ingest_stdio.py`, nemogym-ingest behind the stdin/stdout protocol, passes
every case of the suite: one test per case, through `nemogym_ingest.conformance.pytest_cases`
as another implementation's test suite would use it; and that helper itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nemogym_ingest.conformance import Case, CommandImplementation, PythonImplementation
from nemogym_ingest.conformance.pytest_cases import check_case, suite_params
from nemogym_ingest.conformance.suite import load_suite
from tests import broken_implementations

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "scripts" / "nemogym_ingest_stdio.py"
STDIO = CommandImplementation(
    argv=(sys.executable, str(WRAPPER)), file_argv=(sys.executable, str(WRAPPER)), options=True
)


@pytest.mark.parametrize("case", suite_params())
def test_the_stdio_example_passes(case: Case) -> None:
    """One process per case, as the protocol has it (rules checked too)."""
    check_case(STDIO, case, rules=True)


def test_suite_params_are_every_case_with_its_id_and_options() -> None:
    cases = load_suite(ROOT / "spec")
    params = suite_params(ROOT / "spec", ROOT / "golden")
    assert [param.id for param in params] == [case.id for case in cases]
    assert [param.values for param in params] == [(case,) for case in cases]
    assert any(case.options for case in cases) and any(case.is_file for case in cases)


def test_a_failing_case_fails_with_the_first_differing_path_and_the_diff() -> None:
    glued = PythonImplementation(broken_implementations.glues_assistant_messages, options=True)
    (case,) = [
        param.values[0] for param in suite_params() if param.id == "d2-two-messages-not-glued"
    ]
    with pytest.raises(pytest.fail.Exception) as failed:
        check_case(glued, case)
    message = str(failed.value)
    assert message.startswith("d2-two-messages-not-glued: output differs at `transcripts[0].")
    assert "\n" in message and "+++" in message  # the unified diff follows


def test_a_case_the_implementation_cannot_run_is_skipped_with_the_runner_s_reason() -> None:
    no_files = PythonImplementation(broken_implementations.glues_assistant_messages)
    case = next(param.values[0] for param in suite_params() if param.values[0].is_file)
    with pytest.raises(pytest.skip.Exception, match="a JSONL file case; the implementation has"):
        check_case(no_files, case)
