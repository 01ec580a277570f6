"""The conformance runner (`nemogym-ingest conformance`): its comparison, its protocols, its
verdicts on our implementation, on deliberately broken ones and on Docent 0.1.88.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from docent.sdk.integrations import convert_nemogym_jsonl_file_to_agent_runs as docent_file
from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run as docent_convert
from jsonschema import Draft202012Validator

from nemogym_ingest import convert_nemogym_rollout_to_agent_run, iter_nemogym_jsonl
from nemogym_ingest.cli import build_parser, main
from nemogym_ingest.conformance import (
    Case,
    ErrorPathPatterns,
    ExpectedError,
    PythonImplementation,
    default_spec_dir,
    describe_difference,
    first_difference,
    load_suite,
    nemogym_ingest_rollout,
    normalize_payload,
    run_suite,
)
from nemogym_ingest.conformance import suite as conformance_suite
from tests import broken_implementations

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "scripts" / "nemogym_ingest_stdio.py"
DOCENT_REPORT = ROOT / "spec" / "reports" / "docent-0.1.88.md"
DOCENT_ALLOW = "spec/reports/docent-0.1.88.allow"

# How Docent 0.1.88's messages name the path (and, from its file reader, the line).
DOCENT_ERROR_PATHS = (
    r"^Nemogym rollout(?:\.(?P<path>\S+))? ",
    r": line (?P<line>\d+): Nemogym rollout(?:\.(?P<path>\S+))? ",
    r": invalid JSON on line (?P<line>\d+) \(",
    r": line (?P<line>\d+) must be a JSON object rollout$",
)
DOCENT_ARGS = [
    "conformance",
    "--name",
    "docent 0.1.88",
    "--python",
    "docent.sdk.integrations:convert_nemogym_rollout_to_agent_run",
    "--python-file",
    "docent.sdk.integrations:convert_nemogym_jsonl_file_to_agent_runs",
    *(argument for pattern in DOCENT_ERROR_PATHS for argument in ("--error-path-from", pattern)),
    "--allow",
    DOCENT_ALLOW,
]
DOCENT_REGENERATE = shlex.join(
    ["uv", "run", "nemogym-ingest", *DOCENT_ARGS, "--report", "spec/reports/docent-0.1.88.md"]
)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(args)
    return status, capsys.readouterr().out


def tally_line(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


# --- a small suite of our own, built in tmp_path -------------------------------------------

ASSISTANT_HELLO = {
    "type": "message",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello"}],
}
ASSISTANT_WORLD = {"type": "message", "role": "assistant", "content": "World"}


def rollout(output: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "responses_create_params": {"input": "Hi"},
        "response": {"id": "resp_1", "output": output},
        "agent_ref": {"name": "agent"},
        "_ng_task_index": 0,
        "_ng_rollout_index": 1,
        **extra,
    }


MINI_CASES: list[dict[str, Any]] = [
    {
        "id": "two-messages",
        "description": "two-messages",
        "rules": ["R32"],
        "rollout": rollout([ASSISTANT_HELLO, ASSISTANT_WORLD]),
        "expect": "agent_run",
    },
    {
        "id": "bool-index",
        "description": "bool-index",
        "rules": ["R10"],
        "rollout": rollout([ASSISTANT_HELLO], _ng_task_index=True),
        "expect": {"error": {"rule": "R10", "path": "_ng_task_index"}},
    },
    {
        "id": "unknown-call-id",
        "description": "unknown-call-id",
        "rules": ["R22"],
        "rollout": rollout(
            [ASSISTANT_HELLO, {"type": "function_call_output", "call_id": "c9", "output": "x"}]
        ),
        "expect": {"error": {"rule": "R22", "path": "response.output[1].call_id"}},
    },
    {
        "id": "not-an-object",
        "description": "not-an-object",
        "rules": ["R1"],
        "rollout": [],
        "expect": {"error": {"rule": "R1", "path": ""}},
    },
    {
        "id": "file-two-runs",
        "description": "file-two-runs",
        "rules": ["R60"],
        "file": "jsonl/two.jsonl",
        "expect": "agent_runs",
    },
    {
        "id": "file-bad-line",
        "description": "file-bad-line",
        "rules": ["R64"],
        "file": "jsonl/bad.jsonl",
        "expect": {"error": {"rule": "R64", "line": 2, "path": ""}},
    },
    {
        "id": "agent-name-option",
        "description": "agent-name-option",
        "rules": ["R71"],
        "options": {"agent_name": "fallback"},
        "rollout": {
            key: value for key, value in rollout([ASSISTANT_HELLO]).items() if key != "agent_ref"
        },
        "expect": "agent_run",
    },
]
GOOD_LINE = json.dumps(rollout([ASSISTANT_HELLO])).encode()
MINI_FILES = {
    "two.jsonl": GOOD_LINE + b"\n\n" + GOOD_LINE + b"\n",
    "bad.jsonl": GOOD_LINE + b"\n{oops\n",
}


def write_suite(root: Path, cases: list[dict[str, Any]] = MINI_CASES) -> Path:
    """A spec/ + golden/ pair in `root`, the golden values made by our converter."""
    spec = root / "spec"
    (spec / "cases" / "jsonl").mkdir(parents=True)
    golden = root / "golden"
    golden.mkdir()
    for name, data in MINI_FILES.items():
        (spec / "cases" / "jsonl" / name).write_bytes(data)
    for case in cases:
        if case["expect"] == "agent_run":
            value: Any = nemogym_ingest_rollout(case["rollout"], case.get("options")).to_dict()
        elif case["expect"] == "agent_runs":
            value = [run.to_dict() for run in iter_nemogym_jsonl(spec / "cases" / case["file"])]
        else:
            continue
        (golden / f"{case['id']}.json").write_text(
            json.dumps(value, indent=2, sort_keys=True) + "\n"
        )
    document = {"group": "mini", "description": "runner tests", "cases": cases}
    (spec / "cases" / "mini.json").write_text(json.dumps(document, indent=2))
    return spec


@pytest.fixture
def mini_spec(tmp_path: Path) -> Path:
    return write_suite(tmp_path)


# --- normalization and comparison ------------------------------------------------------------


def test_normalize_payload_turns_docents_dump_into_our_payload() -> None:
    source = rollout(
        [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]},
            ASSISTANT_HELLO,
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": {"a": None}},
            {"type": "function_call_output", "call_id": "c1", "output": "done"},
        ]
    )
    dump = docent_convert(source).model_dump(mode="json")
    assert dump["id"] and dump["transcript_groups"] == [] and dump["description"] is None
    normalized = normalize_payload(dump)
    assert normalized == convert_nemogym_rollout_to_agent_run(source).to_dict()
    # nulls inside a tool call's arguments are data, not model defaults
    assert normalized["transcripts"][0]["messages"][1]["tool_calls"][0]["arguments"] == {"a": None}
    assert dump["id"] and "id" in dump["transcripts"][0]  # the input is not modified


def test_normalize_payload_keeps_redacted_true_and_nonsense_as_is() -> None:
    block = {"type": "reasoning", "reasoning": "", "redacted": True, "signature": "x"}
    payload = {
        "name": "n",
        "transcripts": [{"messages": [{"role": "assistant", "content": [block]}]}],
    }
    assert normalize_payload(payload) == payload
    assert normalize_payload([1, None]) == [1, None]
    assert normalize_payload({"transcripts": "oops", "id": 1}) == {"transcripts": "oops"}


@pytest.mark.parametrize(
    ("expected", "actual", "difference"),
    [
        ({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}, None),
        ({"a": 1}, {"a": 1.0}, None),
        ({"a": 1}, {"a": True}, "a"),
        ({"a": False}, {"a": 0}, "a"),
        ({"a": [1, 2]}, {"a": [1]}, "a[1]"),
        ({"a": [1]}, {"a": [1, 2]}, "a[1]"),
        ({"a": 1, "b": 2}, {"b": 2}, "a"),
        ({"x.y": {"z": "1"}}, {"x.y": {"z": "2"}}, '["x.y"].z'),
        ({"a": {"b": []}}, {"a": {"b": {}}}, "a.b"),
        ([{"a": 1}], {"a": 1}, ""),
        ({"a": None}, {"a": "null"}, "a"),
        ({"a": {"1": 1}}, {"a": {1: 1}}, "a"),
    ],
)
def test_first_difference(expected: Any, actual: Any, difference: str | None) -> None:
    assert first_difference(expected, actual) == difference


def test_describe_difference_shows_anything_an_implementation_returns() -> None:
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    text = describe_difference({"a": [1], "b": 2}, {"a": {3, 4}, "b": deep})
    assert text.startswith('first difference at `a`:\n  expected: [1]\n  actual:   "{3, 4}"\n')
    assert "(cannot be shown as JSON: RecursionError)" in text


# --- running a suite -----------------------------------------------------------------------


def test_our_implementation_passes_the_mini_suite(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(["conformance", "--spec", str(mini_spec), "-v"], capsys)
    assert status == 0, output
    assert tally_line(output) == "7 passed, 0 failed, 0 skipped"
    assert "PASS two-messages" in output


def test_without_file_entry_point_or_options_such_cases_are_skipped(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--python",
            "nemogym_ingest:convert_nemogym_rollout_to_agent_run",
        ],
        capsys,
    )
    assert status == 0, output
    assert tally_line(output) == "4 passed, 0 failed, 3 skipped"
    assert (
        "SKIP file-two-runs: a JSONL file case; the implementation has no file entry point"
        in output
    )
    assert 'SKIP agent-name-option: needs options {"agent_name": "fallback"}' in output


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (broken_implementations.glues_assistant_messages, "two-messages"),
        (broken_implementations.accepts_bool_index, "bool-index"),
        (broken_implementations.one_based_error_paths, "unknown-call-id"),
    ],
)
def test_broken_implementation_fails_with_a_diff(
    broken: Callable[..., Any], caught_by: str, mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--python",
            f"tests.broken_implementations:{broken.__name__}",
            "--takes-options",
        ],
        capsys,
    )
    assert status == 1
    assert tally_line(output) == "4 passed, 1 failed, 2 skipped"
    assert re.search(rf"^FAIL {caught_by}: ", output, re.MULTILINE), output


def test_a_failure_shows_the_first_differing_path_and_both_values(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--python",
            "tests.broken_implementations:glues_assistant_messages",
        ],
        capsys,
    )
    assert "FAIL two-messages: output differs at `transcripts[0].messages[1].content`" in output
    assert '    expected: "Hello"' in output
    assert '    actual:   "HelloWorld"' in output
    assert "    --- expected" in output and '    -          "content": "World",' in output


def test_wrong_error_path_and_wrong_verdicts_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_suite(tmp_path)
    _, output = run_cli(
        [
            "conformance",
            "--spec",
            str(spec),
            "--python",
            "tests.broken_implementations:one_based_error_paths",
        ],
        capsys,
    )
    assert (
        "FAIL unknown-call-id: rejected at `response.output[2].call_id` (ConversionError: "
        "response.output[2].call_id: "
    ) in output
    assert "); expected `response.output[1].call_id`\n" in output
    _, output = run_cli(
        [
            "conformance",
            "--spec",
            str(spec),
            "--python",
            "tests.broken_implementations:accepts_bool_index",
        ],
        capsys,
    )
    assert "FAIL bool-index: accepted; expected a rejection at `_ng_task_index`" in output


def test_an_implementation_that_modifies_its_input_gives_no_answer(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--python",
            "tests.broken_implementations:pops_input_from_the_rollout",
        ],
        capsys,
    )
    assert status == 1
    assert (
        "FAIL two-messages: no answer (modified its input at `responses_create_params.input` "
        "(R47)); expected output"
    ) in output
    assert tally_line(output) == "3 passed, 1 failed, 3 skipped"  # rejections pop nothing
    assert MINI_CASES[0]["rollout"]["responses_create_params"]["input"] == "Hi"


def test_allow_file_turns_listed_failures_into_exit_0(
    mini_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    glue = [
        "conformance",
        "--spec",
        str(mini_spec),
        "--python",
        "tests.broken_implementations:glues_assistant_messages",
    ]
    allow = tmp_path / "allow.txt"
    allow.write_text(
        "# known failures\n\ntwo-messages  # glues messages on purpose\n"
        "bool-index stale entry\nno-such-case\t# renamed\n"
    )
    status, output = run_cli([*glue, "--allow", str(allow)], capsys)
    assert status == 0, output
    assert "FAIL two-messages (allowed: glues messages on purpose): output differs" in output
    assert "warning: allowed case bool-index passes now; remove it from the allow file" in output
    assert "warning: allowed case no-such-case is not in the suite (or not selected)" in output
    assert tally_line(output) == "3 passed, 1 failed (1 allowed), 3 skipped"
    allow.write_text("bool-index the wrong one\n")
    status, output = run_cli([*glue, "--allow", str(allow)], capsys)
    assert status == 1
    assert tally_line(output) == "3 passed, 1 failed, 3 skipped"


def test_markdown_report_lists_failures_with_reasons_and_skips(
    mini_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.md"
    run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--python",
            "tests.broken_implementations:glues_assistant_messages",
            "--name",
            "glue 1.0",
            "--report",
            str(report),
        ],
        capsys,
    )
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Conformance report: glue 1.0\n")
    assert "**3 passed, 1 failed, 3 skipped.**" in text
    assert "in unmarked cases: 1." in text
    assert (
        "| `two-messages` | R32 | — | output differs at `transcripts[0].messages[1].content` "
        "| (not in the allow file) |"
    ) in text
    assert (
        '```\nfirst difference at `transcripts[0].messages[1].content`:\n  expected: "Hello"'
        in text
    )
    assert (
        "| `file-two-runs` | a JSONL file case; the implementation has no file entry point "
        "(give one with --python-file or --command-file) |"
    ) in text
    assert str(tmp_path) not in text.replace(str(mini_spec), "")


def test_case_selection_and_json_format(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--case",
            "file-*",
            "--case",
            "bool-index",
            "--format",
            "json",
        ],
        capsys,
    )
    assert status == 0
    document = json.loads(output)
    assert [result["id"] for result in document["results"]] == [
        "bool-index",
        "file-two-runs",
        "file-bad-line",
    ]
    assert (document["passed"], document["failed"], document["skipped"]) == (3, 0, 0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda spec: (spec.parent / "golden" / "two-messages.json").unlink(), "golden payload"),
        (lambda spec: (spec / "cases" / "mini.json").write_text("{"), "cannot read JSON"),
        (
            lambda spec: (spec / "cases" / "mini.json").write_text('{"cases": [{"id": "x"}]}'),
            "not a case file as case.schema.json describes",
        ),
        (lambda spec: (spec / "cases" / "jsonl" / "two.jsonl").unlink(), "two.jsonl is missing"),
        (
            lambda spec: (spec / "cases" / "dup.json").write_bytes(
                (spec / "cases" / "mini.json").read_bytes()
            ),
            "duplicate case id",
        ),
    ],
)
def test_an_unusable_suite_exits_2(
    mutate: Callable[[Path], object],
    message: str,
    mini_spec: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mutate(mini_spec)
    assert main(["conformance", "--spec", str(mini_spec)]) == 2
    assert message in capsys.readouterr().err


def test_without_an_installed_suite_or_a_checkout_spec_must_be_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(conformance_suite, "_PACKAGE_DIR", tmp_path / "site" / "nemogym_ingest")
    assert main(["conformance"]) == 2
    assert "no spec/ found (installed or in a checkout): pass --spec DIR" in capsys.readouterr().err


def test_the_installed_suite_comes_before_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "nemogym_ingest"
    for spec in (package / "_suite" / "spec", tmp_path / "spec"):
        (spec / "cases").mkdir(parents=True)
    monkeypatch.setattr(conformance_suite, "_PACKAGE_DIR", package)
    assert default_spec_dir() == package / "_suite" / "spec"
    shutil.rmtree(package / "_suite")
    assert default_spec_dir() == tmp_path / "spec"


def test_the_mini_suite_is_a_valid_suite(mini_spec: Path) -> None:
    """The runner tests use cases of the real format (spec/case.schema.json)."""
    schema = json.loads((ROOT / "spec" / "case.schema.json").read_text(encoding="utf-8"))
    document = json.loads((mini_spec / "cases" / "mini.json").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(document)) == []


def test_a_case_glob_matching_nothing_exits_2(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["conformance", "--spec", str(mini_spec), "--case", "bool-*", "--case", "nope*"]
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert "--case 'nope*' matches no case" in captured.err
    assert captured.out == ""


def test_a_command_that_cannot_start_stops_the_run_once(
    mini_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-program"
    arguments = [
        "conformance",
        "--spec",
        str(mini_spec),
        "--command",
        str(missing),
        "--workers",
        "2",
    ]
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.err.count("cannot run") == 1, captured.err
    assert f"nemogym-ingest conformance: cannot run {missing}: " in captured.err
    assert captured.out == ""


def test_strict_allow_fails_on_entries_that_no_longer_fail(
    mini_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    glue = ["conformance", "--spec", str(mini_spec), "--python"]
    glue += ["tests.broken_implementations:glues_assistant_messages", "--takes-options"]
    allow = tmp_path / "allow.txt"
    allow.write_text("two-messages # glues messages on purpose\n")
    assert run_cli([*glue, "--allow", str(allow), "--strict-allow"], capsys)[0] == 0
    for stale in ("bool-index passes\n", "gone-case renamed\n"):
        allow.write_text("two-messages # glues messages on purpose\n" + stale)
        assert run_cli([*glue, "--allow", str(allow)], capsys)[0] == 0
        status, output = run_cli([*glue, "--allow", str(allow), "--strict-allow"], capsys)
        assert status == 1, output
        assert "warning: allowed case" in output
    # an entry for a case --case leaves out is not stale
    allow.write_text("two-messages # glues messages on purpose\nbool-index passes\n")
    selected = [*glue, "--allow", str(allow), "--strict-allow", "--case", "two-*"]
    assert run_cli(selected, capsys)[0] == 0


@pytest.mark.parametrize(
    ("allow", "message"),
    [
        ("two-messages\n", "allow.txt:1: two-messages needs a reason after the case id"),
        ("# c\na # x\nb # y\na # z\n", "allow.txt:4: a is listed twice"),
    ],
)
def test_an_unusable_allow_file_exits_2(
    allow: str, message: str, mini_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "allow.txt").write_text(allow)
    assert (
        main(["conformance", "--spec", str(mini_spec), "--allow", str(tmp_path / "allow.txt")]) == 2
    )
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        ["--python", "no_such_module:convert"],
        ["--python", "nemogym_ingest"],
        ["--python", "nemogym_ingest:no_such_function"],
        ["--python-file", "nemogym_ingest:iter_nemogym_jsonl"],
        ["--error-path-from", "(unclosed"],
    ],
)
def test_unusable_arguments_exit_2(arguments: list[str], mini_spec: Path) -> None:
    assert main(["conformance", "--spec", str(mini_spec), *arguments]) == 2


def test_error_path_from_reads_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_suite(
        tmp_path, [case for case in MINI_CASES if "rollout" in case and "options" not in case]
    )
    (tmp_path / "message_only.py").write_text(
        "from nemogym_ingest import ConversionError, convert_nemogym_rollout_to_agent_run\n"
        "def convert(rollout):\n"
        "    try:\n"
        "        return convert_nemogym_rollout_to_agent_run(rollout)\n"
        "    except ConversionError as error:\n"
        "        raise ValueError(f'bad rollout at <{error.path}>: {error.reason}') from None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plain = ["conformance", "--spec", str(spec), "--python", "message_only:convert"]
    status = main(plain)  # no rejection names a path: one usage error (issue 38)
    output, error = capsys.readouterr()
    assert status == 2 and output == ""
    assert (
        "raised ValueError without one; first: ValueError: bad rollout at <_ng_task_index>: "
    ) in error
    status, output = run_cli([*plain, "--error-path-from", "no match"], capsys)
    assert status == 1
    assert ("FAIL bool-index: crashed (ValueError: bad rollout at <_ng_task_index>: ") in output
    status, output = run_cli(
        [*plain, "--error-path-from", "no match", "--error-path-from", r"at <(?P<path>[^>]*)>"],
        capsys,
    )
    assert status == 0, output
    assert tally_line(output) == "4 passed, 0 failed, 0 skipped"


# --- the command protocol ----------------------------------------------------------------------

PROTOCOL_IMPLEMENTATION = """
import json, sys, time
mode = sys.argv[1]
if mode == "sleep":
    time.sleep(30)
if mode == "garbage":
    print("hello")
    sys.exit(0)
if mode == "crash":
    raise RuntimeError("boom")
if mode == "deep":
    print("[" * 100000 + "]" * 100000)
    sys.exit(0)
from nemogym_ingest import ConversionError, convert_nemogym_rollout_to_agent_run
try:
    run = convert_nemogym_rollout_to_agent_run(json.load(sys.stdin))
except ConversionError as error:
    if mode == "stderr":
        print(f"error at <{error.path}>: {error.reason}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(error.path) if mode == "quoted" else error.path)
    sys.exit(3 if mode == "status3" else 2 if mode == "usage" else 1)
print(json.dumps(run.to_dict(), indent=1))
"""


@pytest.fixture
def protocol_spec(tmp_path: Path) -> tuple[Path, str]:
    spec = write_suite(
        tmp_path, [case for case in MINI_CASES if "rollout" in case and "options" not in case]
    )
    script = tmp_path / "impl.py"
    script.write_text(PROTOCOL_IMPLEMENTATION)
    return spec, f"{sys.executable} {script}"


@pytest.mark.parametrize(
    ("mode", "tally"),
    [("bare", "3 passed, 1 failed, 0 skipped"), ("quoted", "4 passed, 0 failed, 0 skipped")],
)
def test_command_may_print_the_bare_path(
    mode: str, tally: str, protocol_spec: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, command = protocol_spec
    _, output = run_cli(
        ["conformance", "--spec", str(spec), "--command", f"{command} {mode}"], capsys
    )
    assert tally_line(output) == tally
    if mode == "bare":  # the empty path cannot be written bare: an empty stdout is no answer
        assert (
            "FAIL not-an-object: no answer (exit status 1; no error path on stdout (nothing); "
            "--error-path-from REGEX reads one from the output); "
            'expected a rejection at `""` (the rollout)'
        ) in output


@pytest.mark.parametrize(
    ("mode", "status", "meaning"),
    [("status3", 3, "neither 0 nor 1"), ("usage", 2, "a usage error")],
)
def test_a_rejection_must_exit_1(
    mode: str,
    status: int,
    meaning: str,
    protocol_spec: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The error on stdout counts only with exit status 1: 2 is a usage error, others no answer."""
    spec, command = protocol_spec
    _, output = run_cli(
        ["conformance", "--spec", str(spec), "--command", f"{command} {mode}"], capsys
    )
    assert tally_line(output) == "1 passed, 3 failed, 0 skipped"
    assert f"FAIL bool-index: no answer (exit status {status} ({meaning}" in output


def test_error_path_from_reads_a_commands_stderr(
    protocol_spec: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, command = protocol_spec
    plain = ["conformance", "--spec", str(spec), "--command", f"{command} stderr"]
    _, output = run_cli(plain, capsys)
    assert tally_line(output) == "1 passed, 3 failed, 0 skipped"
    assert "FAIL bool-index: no answer (exit status 1: error at <_ng_task_index>: " in output
    _, output = run_cli([*plain, "--error-path-from", r"at <(?P<path>[^>]*)>"], capsys)
    assert tally_line(output) == "4 passed, 0 failed, 0 skipped"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("crash", "FAIL not-an-object: no answer (exit status 1: RuntimeError: boom; no error"),
        ("garbage", "FAIL two-messages: no answer (exit status 0 but stdout is not JSON: "),
        ("sleep", "FAIL two-messages: no answer (no answer within 0.5 s); expected output"),
        ("deep", "FAIL two-messages: no answer (exit status 0 but stdout is not JSON: maximum"),
    ],
)
def test_a_command_that_does_not_answer_fails_every_case(
    mode: str, message: str, protocol_spec: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, command = protocol_spec
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(spec),
            "--command",
            f"{command} {mode}",
            "--timeout",
            "0.5" if mode == "sleep" else "60",
            "--workers",
            "4",
        ],
        capsys,
    )
    assert status == 1
    assert tally_line(output) == "0 passed, 4 failed, 0 skipped"
    assert message in output


def test_wrapper_script_passes_the_mini_suite_with_files_and_options(
    mini_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = f"{sys.executable} {WRAPPER}"
    status, output = run_cli(
        [
            "conformance",
            "--spec",
            str(mini_spec),
            "--command",
            command,
            "--command-file",
            command,
            "--takes-options",
            "--workers",
            "2",
        ],
        capsys,
    )
    assert status == 0, output
    assert tally_line(output) == "7 passed, 0 failed, 0 skipped"


# --- the real suite ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def suite() -> list[Case]:
    return load_suite(ROOT / "spec")


@pytest.mark.parametrize("takes_options", [False, True])
def test_public_api_through_python_passes_the_suite(
    suite: list[Case], capsys: pytest.CaptureFixture[str], takes_options: bool
) -> None:
    """The public functions, plugged in as any Python implementation is: without
    --takes-options the cases with options are skipped; with it the runner gives them
    `options=` as a dict, which they take."""
    status, output = run_cli(
        [
            "conformance",
            *(["--takes-options"] if takes_options else []),
            "--python",
            "nemogym_ingest:convert_nemogym_rollout_to_agent_run",
            "--python-file",
            "nemogym_ingest:convert_nemogym_jsonl_file_to_agent_runs",
        ],
        capsys,
    )
    assert status == 0, output
    skipped = 0 if takes_options else sum(case.options is not None for case in suite)
    assert tally_line(output) == f"{len(suite) - skipped} passed, 0 failed, {skipped} skipped"
    if takes_options:
        assert output == tally_line(output) + "\n"  # nothing but the tally


def test_python_m_runs_the_runner_on_our_implementation(suite: list[Case]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "conformance"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"{len(suite)} passed, 0 failed, 0 skipped"


def _failing_cases(function: Callable[..., Any], suite: list[Case]) -> list[Case]:
    rollouts = [case for case in suite if not case.is_file]
    results = run_suite(PythonImplementation(function, options=True), rollouts)
    return [result.case for result in results if result.status == "fail"]


def _rejects_at_an_index(case: Case) -> bool:
    return (
        isinstance(case.expected, ExpectedError)
        and re.search(r"\[\d+\]", case.expected.path) is not None
    )


@pytest.mark.parametrize(
    ("broken", "catching"),
    [
        (broken_implementations.glues_assistant_messages, lambda case: "R32" in case.rules),
        (broken_implementations.accepts_bool_index, lambda case: case.id == "task-index-boolean"),
        (broken_implementations.one_based_error_paths, _rejects_at_an_index),
        (broken_implementations.drops_reasoning_content, lambda case: "R18" in case.rules),
        (broken_implementations.pops_input_from_the_rollout, lambda case: "R47" in case.rules),
    ],
)
def test_the_suite_catches_each_broken_implementation(
    broken: Callable[..., Any], catching: Callable[[Case], bool], suite: list[Case]
) -> None:
    failing = _failing_cases(broken, suite)
    assert any(catching(case) for case in failing), [case.id for case in failing]


def test_rules_flag_also_compares_the_rule(
    suite: list[Case], capsys: pytest.CaptureFixture[str]
) -> None:
    """By default only paths are compared; with --check-rules a right path under another rule
    (or no rule at all) fails."""
    rejecting = [case for case in suite if isinstance(case.expected, ExpectedError)]
    rollouts = [case for case in rejecting if not case.is_file]
    for function, reported in (
        (broken_implementations.misnames_rules, "rule R0"),
        (broken_implementations.reports_no_rule, "no rule"),
    ):
        implementation = PythonImplementation(function, options=True)
        assert {result.status for result in run_suite(implementation, rollouts)} == {"pass"}
        results = run_suite(implementation, rollouts, rules=True)
        assert {result.status for result in results} == {"fail"}
        assert f"with {reported}" in results[0].summary
        assert results[0].summary.endswith(f"expected rule {rejecting[0].expected.rule}")
    ours = PythonImplementation(nemogym_ingest_rollout, options=True)
    assert {result.status for result in run_suite(ours, rollouts, rules=True)} == {"pass"}
    status, output = run_cli(
        ["conformance", "--check-rules", "--python", "tests.broken_implementations:misnames_rules"],
        capsys,
    )
    assert status == 1 and "with rule R0" in output and "expected rule R" in output


def test_one_based_error_paths_fail_exactly_the_indexed_rejections(suite: list[Case]) -> None:
    failing = {
        case.id for case in _failing_cases(broken_implementations.one_based_error_paths, suite)
    }
    expected = {case.id for case in suite if not case.is_file and _rejects_at_an_index(case)}
    assert failing == expected


# --- Docent 0.1.88 -----------------------------------------------------------------------------


def test_docent_report_is_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    report = tmp_path / "report.md"
    status, output = run_cli([*DOCENT_ARGS, "--report", str(report)], capsys)
    assert status == 0, f"Docent fails a case the allow file does not explain:\n{output}"
    assert "warning:" not in output, output
    committed = DOCENT_REPORT.read_text(encoding="utf-8") if DOCENT_REPORT.exists() else ""
    assert report.read_text(encoding="utf-8") == committed, (
        "spec/reports/docent-0.1.88.md is out of date; review the change, then regenerate "
        f"with:\n{DOCENT_REGENERATE}"
    )


def test_docent_fails_exactly_the_divergences_and_error_path_differences(
    suite: list[Case],
) -> None:
    implementation = PythonImplementation(
        docent_convert,
        docent_file,
        ErrorPathPatterns(tuple(re.compile(pattern) for pattern in DOCENT_ERROR_PATHS)),
    )
    results = run_suite(implementation, suite)
    divergent = {case.id for case in suite if case.divergence and case.options is None}
    failing = {result.case.id for result in results if result.status == "fail"}
    assert divergent <= failing, f"divergences Docent does not show: {divergent - failing}"
    for result in results:
        if result.status == "fail" and result.case.id not in divergent:
            assert re.match(r"rejected at .*; expected `", result.summary), result


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--options"], "--options is --takes-options here"),
        (["--options", '{"agent_name": "a"}'], "--options is --takes-options here"),
        (["--rules"], "--rules is --check-rules here"),
        (["--rules", "R13"], "--rules is --check-rules here"),
    ],
)
def test_conformance_refuses_the_old_switch_names_with_the_new_ones(
    given: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--options JSON` and `--rules R1,R2` take values in `case add`; here the switches are
    `--takes-options` and `--check-rules`, and the old spellings say so (exit 2, nothing run)."""
    with pytest.raises(SystemExit) as stopped:
        main(["conformance", *given])
    captured = capsys.readouterr()
    assert stopped.value.code == 2
    assert said in captured.err
    assert captured.out == ""


def test_every_flag_name_has_one_meaning_across_the_commands() -> None:
    """A flag spelled the same in two subcommands takes the same kind of value in both."""
    meanings: dict[str, set[tuple[Any, ...]]] = {}
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            kind = (action.nargs, type(action).__name__, action.choices is not None)
            for flag in action.option_strings:
                meanings.setdefault(flag, set()).add(kind)
    assert {flag: kinds for flag, kinds in meanings.items() if len(kinds) > 1} == {}
    assert len(meanings) > 30  # every subcommand was read


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """`parser` and its subcommands' parsers, at any depth."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)
