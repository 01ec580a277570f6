"""The conformance runner on other converters (issue 38): comparison levels (`--compare`,
`--ignore`), crashes reported with their traceback, wrong usage stopped up front, and skips
naming the flag that runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemogym_ingest.cli import main
from nemogym_ingest.conformance import (
    Case,
    Comparison,
    ExpectedError,
    PythonImplementation,
    SuiteError,
    load_suite,
    run_suite,
)
from nemogym_ingest.conformance.pytest_cases import check_case
from tests import broken_implementations
from tests.test_conformance import MINI_CASES, run_cli, tally_line, write_suite

ROOT = Path(__file__).resolve().parent.parent
CRASHING = """
def convert(rollout, options=None):
    return lookup(rollout)

def lookup(rollout):
    return {}["missing"]
"""


@pytest.fixture
def mini_spec(tmp_path: Path) -> Path:
    return write_suite(tmp_path)


@pytest.fixture
def crashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "crashing_converter.py").write_text(CRASHING)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "crashing_converter:convert"


def _yields_a_run(case: Case) -> bool:
    return not isinstance(case.expected, ExpectedError) and case.expected != []


def test_a_converter_differing_only_in_metadata_passes_at_the_transcripts_level() -> None:
    """Done when (issue 38): it passes every accepting case at the transcripts level and
    fails every one that yields a run at the exact level; rejections are judged alike."""
    suite = load_suite(ROOT / "spec")
    implementation = PythonImplementation(
        broken_implementations.adds_a_metadata_key,
        file_function=broken_implementations.adds_a_metadata_key_to_each_run,
        options=True,
    )
    exact = run_suite(implementation, suite)
    assert {result.case.id for result in exact if result.status == "fail"} == {
        case.id for case in suite if _yields_a_run(case)
    }
    assert all(
        result.summary.startswith("output differs at `metadata.converter`")
        for result in exact
        if result.status == "fail" and not result.case.is_file
    )
    transcripts = run_suite(implementation, suite, compare="transcripts")
    assert {result.status for result in transcripts} == {"pass"}


def test_the_transcripts_level_still_compares_messages_names_and_order(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = "tests.broken_implementations:glues_assistant_messages"
    args = ["conformance", "--spec", str(mini_spec), "--python", python, "--takes-options"]
    status, output = run_cli([*args, "--compare", "transcripts"], capsys)
    assert status == 1
    assert "FAIL two-messages: output differs at `transcripts[0].messages[1].content`" in output
    comparison = Comparison("transcripts")
    run = {"name": "a/task/0/rollout/1", "metadata": {"x": 1}, "transcripts": []}
    assert comparison.view(run) == {"name": "a/task/0/rollout/1", "transcripts": []}
    message = {"role": "user", "content": "Hi", "metadata": {"m": 1}}
    transcript = {"name": "a", "messages": [message], "metadata": {"t": 1}}
    assert comparison.view({**run, "transcripts": [transcript]})["transcripts"] == [
        {"name": "a", "messages": [{"role": "user", "content": "Hi"}]}
    ]


def test_ignore_leaves_out_named_metadata_paths_at_either_level(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = "tests.broken_implementations:adds_a_metadata_key"
    args = ["conformance", "--spec", str(mini_spec), "--python", python, "--takes-options"]
    status, output = run_cli(args, capsys)
    assert status == 1 and tally_line(output) == "3 passed, 2 failed, 2 skipped"
    assert "output differs at `metadata.converter`" in output
    status, output = run_cli([*args, "--ignore", "metadata.converter"], capsys)
    assert status == 0 and tally_line(output) == "5 passed, 0 failed, 2 skipped", output
    assert output.splitlines()[-2] == (
        "compared with --compare exact --ignore metadata.converter: a pass is not conformance"
    )
    status, output = run_cli([*args, "--ignore", "metadata.nemogym", "--format", "json"], capsys)
    assert status == 1
    assert json.loads(output)["compare"] == {"level": "exact", "ignore": ["metadata.nemogym"]}
    wide = Comparison(ignore=('transcripts[*].metadata["message_details"]',))
    run = {"transcripts": [{"metadata": {"message_details": [1], "k": 2}}, {"messages": []}]}
    assert wide.view(run) == {"transcripts": [{"metadata": {"k": 2}}, {"messages": []}]}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("transcripts[0].messages", "--ignore leaves out metadata only"),
        ("name", "--ignore leaves out metadata only"),
        ("transcripts[*].messages[0].tool_calls[0].arguments.metadata", "metadata only"),
        ("metadata..x", "not a path such as metadata.nemogym.assumed"),
    ],
)
def test_an_ignored_path_outside_metadata_is_a_usage_error(
    path: str, message: str, mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", "--spec", str(mini_spec), "--ignore", path]) == 2
    assert message in capsys.readouterr().err
    implementation = PythonImplementation(broken_implementations.adds_a_metadata_key)
    with pytest.raises(ValueError, match="--ignore"):
        run_suite(implementation, [], ignore=[path])
    with pytest.raises(ValueError, match="--compare 'loose': expected one of exact, transcripts"):
        run_suite(implementation, [], compare="loose")


def test_a_crash_is_reported_with_its_traceback(
    mini_spec: Path, crashing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["conformance", "--spec", str(mini_spec), "--python", crashing, "--takes-options"]
    status, output = run_cli(args, capsys)
    assert status == 1 and tally_line(output) == "0 passed, 5 failed, 2 skipped"
    assert (
        "FAIL two-messages: crashed (KeyError: 'missing'; no error path in it); expected output"
        in output
    )
    assert (
        "FAIL bool-index: crashed (KeyError: 'missing'; no error path in it); expected a "
        "rejection at `_ng_task_index`"
    ) in output
    traceback = (
        "    Traceback (most recent call last):\n"
        '      File "crashing_converter.py", line 3, in convert\n'
        "        return lookup(rollout)\n"
    )
    assert traceback in output and "    KeyError: 'missing'\n" in output
    assert "adapters.py" not in output  # the runner's own frames are left out
    status, output = run_cli([*args, "--format", "json"], capsys)
    results = json.loads(output)["results"]
    assert all(result["traceback"].startswith("Traceback") for result in results[:2])
    assert results[0]["traceback"].endswith("KeyError: 'missing'")


def test_the_pytest_helper_shows_a_crash_with_its_traceback(mini_spec: Path, crashing: str) -> None:
    from nemogym_ingest.conformance.adapters import load_callable

    implementation = PythonImplementation(load_callable(crashing), options=True)
    case = load_suite(mini_spec)[0]
    with pytest.raises(pytest.fail.Exception) as failed:
        check_case(implementation, case)
    message = str(failed.value)
    assert message.startswith("two-messages: crashed (KeyError: 'missing'; no error path in it)")
    assert 'crashing_converter.py", line 6, in lookup' in message, message
    glued = PythonImplementation(broken_implementations.glues_assistant_messages)
    with pytest.raises(pytest.fail.Exception):
        check_case(glued, case, compare="transcripts")
    metadata_only = PythonImplementation(broken_implementations.adds_a_metadata_key)
    check_case(metadata_only, case, compare="transcripts")
    check_case(metadata_only, case, ignore=["metadata.converter"])
    with pytest.raises(pytest.fail.Exception):
        check_case(metadata_only, case)


def test_takes_options_on_a_function_without_options_is_one_usage_error(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = "docent.sdk.integrations:convert_nemogym_rollout_to_agent_run"
    status = main(["conformance", "--spec", str(mini_spec), "--python", python, "--takes-options"])
    output, error = capsys.readouterr()
    assert status == 2 and output == ""
    assert error.count("\n") == 1
    assert "takes no options parameter: leave out --takes-options" in error
    with pytest.raises(SuiteError, match="options=True in Python"):
        PythonImplementation(lambda rollout: rollout, options=True)
    PythonImplementation(lambda rollout, **kwargs: rollout, options=True)  # takes options=


def test_no_readable_error_path_at_all_is_one_usage_error_naming_the_flag(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Docent's own converter without --error-path-from: one usage error up front."""
    python = "docent.sdk.integrations:convert_nemogym_rollout_to_agent_run"
    status = main(["conformance", "--spec", str(mini_spec), "--python", python])
    output, error = capsys.readouterr()
    assert status == 2 and output == ""
    assert error.startswith(
        "nemogym-ingest conformance: no rejection names an error path (the first 3 rejecting "
        "cases raised ConversionError without one; first: ConversionError: Nemogym rollout"
    )
    assert "give the exception a `path` attribute (and `line`), or pass --error-path-from" in error


def test_a_skip_names_the_flag_that_would_run_the_case(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = "nemogym_ingest:convert_nemogym_rollout_to_agent_run"
    _, output = run_cli(["conformance", "--spec", str(mini_spec), "--python", python], capsys)
    assert (
        "SKIP file-two-runs: a JSONL file case; the implementation has no file entry point "
        "(give one with --python-file or --command-file)"
    ) in output
    assert (
        'SKIP agent-name-option: needs options {"agent_name": "fallback"}; the implementation '
        "does not declare --takes-options (pass it to run such cases)"
    ) in output
    assert len(MINI_CASES) == 7
