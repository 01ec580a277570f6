"""`nemogym-ingest case add` on a temporary copy of spec/ and golden/: the cases it writes
pass the suite and the conformance runner; every way it refuses exits 2 and writes nothing."""

from __future__ import annotations

import copy
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from nemogym_ingest import ConversionOptions, casebook, jsonl, verdict
from nemogym_ingest.cli import main
from tests.golden_snapshot import golden_text
from tests.test_minimize import rollout
from tests.test_spec_cases import ROOT

CASE_IDS = [
    "real-accepted",
    "real-rejected",
    "real-d1",
    "real-d2",
    "real-d4",
    "real-d3",
    "real-d5",
]


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A copy of the suite (spec/, golden/, the tests and CHANGELOG.md); its spec/ dir."""
    for name in ("spec", "golden", "tests"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("CHANGELOG.md", "conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path / "spec"


def _snapshot(spec: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(spec.parent)): path.read_bytes()
        for folder in (spec, spec.parent / "golden")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _lines_file(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "rollouts.jsonl"
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    return path


def _add(capsys: pytest.CaptureFixture[str], spec: Path, *args: str) -> tuple[int, str, str]:
    status = main(["case", "add", *args, "--spec", str(spec)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _rejected() -> dict[str, Any]:
    broken = rollout(0)
    calls = [item for item in broken["response"]["output"] if item["type"] == "function_call"]
    calls[-1]["arguments"] = "{not json"
    return broken


def _with_reasoning_content() -> dict[str, Any]:
    value = rollout(3)
    reasoning = next(item for item in value["response"]["output"] if item["type"] == "reasoning")
    reasoning["content"] = [{"type": "reasoning_text", "text": "let me think"}]
    return value


def _two_messages() -> dict[str, Any]:
    value = rollout(3)
    answer = value["response"]["output"][-1]
    value["response"]["output"].append({**answer, "id": "msg_again"})
    return value


def _empty_agent_name() -> dict[str, Any]:
    value = rollout(3)
    value["agent_ref"] = {"name": ""}
    return value


def _too_deep() -> dict[str, Any]:
    """Tool-call arguments nested deeper than 200 levels inside their JSON string."""
    value = rollout(3)
    call = next(item for item in value["response"]["output"] if item["type"] == "function_call")
    call["arguments"] = '{"a": ' + "[" * 205 + "]" * 205 + "}"
    return value


def _not_a_number() -> dict[str, Any]:
    """Tool-call arguments holding NaN inside their JSON string (valid I-JSON outside)."""
    value = rollout(3)
    call = next(item for item in value["response"]["output"] if item["type"] == "function_call")
    call["arguments"] = '{"a": NaN}'
    return value


def test_added_cases_pass_the_suite_and_the_runner(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rejecting and an accepting line (minimized and not), and lines Docent converts
    otherwise (D1, D2, D3, D4, D5): the cases written pass tests/test_spec_cases.py run on the
    copy (golden files, expectations, Docent baseline, schema, I-JSON, manifest count)
    and `nemogym-ingest conformance`."""
    source = _lines_file(
        tmp_path,
        [
            rollout(3),
            _rejected(),
            _with_reasoning_content(),
            _two_messages(),
            _empty_agent_name(),
            _too_deep(),
            _not_a_number(),
        ],
    )
    manifest = json.loads((suite / "manifest.json").read_text())
    group = "from-exports"
    adds = [
        (1, "real-accepted", ["--rules", "R31,R33", "--minimize"], "accepted (7 messages)"),
        (2, "real-rejected", ["--minimize"], "rejected at response.output[0].arguments (R20)"),
        (3, "real-d1", ["--rules", "R18", "--minimize"], "divergence D1"),
        (4, "real-d2", ["--rules", "R32"], "divergence D2"),
        (5, "real-d4", ["--minimize"], "divergence D4"),
        (6, "real-d3", [], "divergence D3"),
        (7, "real-d5", ["--minimize"], "divergence D5"),
    ]
    for line, case_id, extra, said in adds:
        status, out, err = _add(
            capsys, suite, f"{source}:{line}", "--id", case_id, "--group", group, *extra
        )
        assert (status, err) == (0, ""), err
        assert said in out
        next_step = out.splitlines()[-1]
        assert next_step.startswith("next: review the files written above")  # not under git
        assert ("read the golden file" in next_step) == (": accepted (" in out)
        assert next_step.endswith(f"nemogym-ingest conformance --takes-options --spec {suite}")
    document = json.loads((suite / "cases" / f"{group}.json").read_text())
    cases = {case["id"]: case for case in document["cases"]}
    assert list(cases) == CASE_IDS
    assert cases["real-rejected"]["expect"] == {
        "error": {"rule": "R20", "path": "response.output[0].arguments"}
    }
    assert cases["real-rejected"]["rules"] == ["R20"]
    assert [cases[case_id].get("divergence") for case_id in CASE_IDS] == [
        None,
        None,
        ["D1"],
        ["D2"],
        ["D4"],
        ["D3"],
        ["D5"],
    ]
    manifest_now = json.loads((suite / "manifest.json").read_text())
    assert manifest_now == {**manifest, "cases": manifest["cases"] + len(CASE_IDS)}
    golden = suite.parent / "golden"
    assert not (golden / "real-rejected.json").exists()
    accepted = json.loads((golden / "real-accepted.json").read_text())
    assert (golden / "real-accepted.json").read_text() == golden_text(accepted)

    conformance = main(["conformance", "--spec", str(suite), "--case", "real-*", "--check-rules"])
    assert conformance == 0, capsys.readouterr().out
    assert f"{len(CASE_IDS)} passed, 0 failed" in capsys.readouterr().out

    selected = " or ".join(CASE_IDS) + " or manifest or schema or i_json or golden_files or unique"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", selected,
         "tests/test_spec_cases.py"],
        cwd=suite.parent,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "failed" not in done.stdout


def test_appending_keeps_the_group_file_as_it_was(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A case appended to an existing group file leaves its other cases byte for byte."""
    before = (suite / "cases" / "naming.json").read_text()
    source = _lines_file(tmp_path, [_empty_agent_name()])
    status, _, err = _add(capsys, suite, f"{source}:1", "--id", "naming-x", "--group", "naming")
    assert status == 0, err
    document = json.loads((suite / "cases" / "naming.json").read_text())
    assert document["cases"][-1]["id"] == "naming-x"
    document["cases"].pop()
    assert casebook.case_file_text(document) == before


def test_gzip_input_options_and_description(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.gz` file is read as the other commands read it; options are recorded and Docent,
    which has none, is not compared; the description is the one given."""
    value = rollout(3)
    del value["agent_ref"]
    source = tmp_path / "rollouts.jsonl.gz"
    source.write_bytes(gzip.compress(b"\n" + json.dumps(value).encode() + b"\n"))
    status, out, err = _add(
        capsys, suite, f"{source}:2", "--id", "agent-from-option", "--group", "options",
        "--rules", "R71", "--options", '{"agent_name": "swe_agent"}',
        "--description", "the agent named by the option",
    )  # fmt: skip
    assert status == 0, err
    assert "Docent: not compared (options given)" in out
    case = json.loads((suite / "cases" / "options.json").read_text())["cases"][-1]
    assert case["options"] == {"agent_name": "swe_agent"}
    assert case["description"] == "the agent named by the option"
    assert case["expect"] == "agent_run"
    assert main(["conformance", "--spec", str(suite), "--case", "agent-from-option"]) == 0


def test_without_docent_the_divergence_is_what_the_user_says(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verdict, "docent_view", lambda: None)
    source = _lines_file(tmp_path, [_empty_agent_name()])
    status, out, err = _add(
        capsys, suite, f"{source}:1", "--id", "no-docent", "--group", "g", "--divergence", "D4"
    )  # fmt: skip
    assert status == 0, err
    assert "Docent: not compared (Docent is not installed); marked D4" in out
    case = json.loads((suite / "cases" / "g.json").read_text())["cases"][0]
    assert case["divergence"] == ["D4"]
    assert case["rollout"]["agent_ref"] == {"name": ""}


def test_a_line_that_is_not_i_json_is_refused_unless_minimizing_drops_it(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = rollout(3)
    value["verifier_metadata"]["seed"] = 2**60  # copied into the metadata: accepted
    source = _lines_file(tmp_path, [value])
    args = (f"{source}:1", "--id", "big-seed", "--group", "g", "--rules", "R41")
    before = _snapshot(suite)
    status, _, err = _add(capsys, suite, *args)
    assert status == 2
    assert "verifier_metadata.seed: an integer beyond ±2^53: case files are I-JSON" in err
    assert "--minimize may drop it" in err
    assert _snapshot(suite) == before
    status, _, err = _add(capsys, suite, *args, "--minimize")
    assert status == 0, err
    case = json.loads((suite / "cases" / "g.json").read_text())["cases"][0]
    assert casebook.i_json_problem(case["rollout"]) is None


@pytest.mark.parametrize("parser", ["orjson", "json"])
def test_an_integer_beyond_64_bits_is_refused_whichever_parser_reads_the_line(
    suite: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    parser: str,
) -> None:
    """`case add` reads a line as the driver does: orjson reads the 24 digits as a float,
    which must not be recorded; the integer is refused as I-JSON, and nothing is written."""
    monkeypatch.setattr(jsonl, "_orjson_loads", orjson.loads if parser == "orjson" else None)
    value = rollout(3)
    source = tmp_path / "rollouts.jsonl"
    source.write_text(json.dumps(value)[:-1] + ', "big": 123456789012345678901234}\n')
    args = (f"{source}:1", "--id", "big-integer", "--group", "g", "--rules", "R41")
    before = _snapshot(suite)
    status, out, err = _add(capsys, suite, *args)
    assert (status, out) == (2, "")
    assert "big: an integer beyond ±2^53: case files are I-JSON" in err
    assert _snapshot(suite) == before


_TAKEN_GOLDEN = "metadata-pruning"  # an accepting case of the suite: its golden file exists


@pytest.mark.parametrize(
    ("lines", "args", "message"),
    [
        ([], ["missing.jsonl:1"], "missing.jsonl: cannot read file: No such file"),
        ([{"a": 1}], ["SOURCE:3"], "line 3 is past the end (the file has 1 lines)"),
        (["", {"a": 1}], ["SOURCE:1"], "SOURCE:1: the line is blank"),
        (["[1, 2]"], ["SOURCE:1"], "the line is not a JSON object but an array:"),
        (["null"], ["SOURCE:1"], "the line is not a JSON object but null:"),
        (["{not json"], ["SOURCE:1"], "invalid JSON: Expecting property name"),
        (['{"a": 1, "a": 2}'], ["SOURCE:1"], "duplicate key 'a', which a case file cannot hold"),
        (['{"a": NaN}'], ["SOURCE:1"], "a: nan, not a JSON number: case files are I-JSON"),
        (['{"a": "\\ud800"}'], ["SOURCE:1"], "a: a lone surrogate: case files are I-JSON"),
        ([{"a": 1}], ["SOURCE"], "SOURCE: expected FILE:LINE"),
        ([{"a": 1}], ["SOURCE:0"], "expected FILE:LINE, the line a whole number from 1"),
        ([{"a": 1}], ["SOURCE:1", "--id", "Bad_Id"], "--id 'Bad_Id': expected kebab-case"),
        ([{"a": 1}], ["SOURCE:1", "--group", "a/b"], "--group 'a/b': expected kebab-case"),
        ([{"a": 1}], ["SOURCE:1", "--id", "input-string"], "the id is taken (a case in"),
        ([{"a": 1}], ["SOURCE:1", "--id", "golden-only"], "golden-only.json)"),
        ([{"a": 1}], ["SOURCE:1", "--rules", "R999"], "R999: not defined in"),
        ([{"a": 1}], ["SOURCE:1", "--rules", "13"], "--rules '13': expected names like"),
        ([{"a": 1}], ["SOURCE:1", "--divergence", "R1"], "divergences are D-numbers"),
        ([{"a": 1}], ["SOURCE:1", "--options", "{"], "--options: not JSON"),
        ([{"a": 1}], ["SOURCE:1", "--options", "[1]"], "--options: expected a JSON object"),
        ([{"a": 1}], ["SOURCE:1", "--options", '{"x": 1}'], "--options: unknown x; known:"),
        ([{"a": 1}], ["SOURCE:1", "--options", '{"media": "drop"}'], "--options: media"),
        (
            [{"a": 1}],
            ["SOURCE:1", "--options", '{"task_index": "line"}'],
            'a "line" index needs a JSONL file case',
        ),
        (
            [rollout(3)],
            ["SOURCE:1"],
            "SOURCE:1 is accepted: say which rules it exercises with --rules",
        ),
        (
            [rollout(3)],
            ["SOURCE:1", "--minimize"],
            "SOURCE:1 is accepted: say which rules it exercises with --rules",
        ),
        (
            [rollout(3)],
            ["SOURCE:1", "--rules", "R31", "--divergence", "D2"],
            "--divergence D2: Docent agrees with this case",
        ),
    ],
    ids=[
        "missing-file", "past-the-end", "blank-line", "array-line", "null-line", "invalid-json",
        "duplicate-key", "nan", "lone-surrogate", "no-line", "line-zero", "bad-id", "bad-group",
        "id-taken", "golden-taken", "unknown-rule", "bad-rule-name", "divergence-not-d",
        "options-not-json", "options-not-object", "options-unknown", "options-bad-value",
        "options-line", "accepted-without-rules", "accepted-without-rules-minimize",
        "divergence-but-agrees",
    ],
)  # fmt: skip
def test_refusals_exit_2_and_write_nothing(
    suite: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lines: list[Any],
    args: list[str],
    message: str,
) -> None:
    source = _lines_file(tmp_path, lines) if lines else tmp_path / "missing.jsonl"
    (suite.parent / "golden" / "golden-only.json").write_text("{}\n")
    args = [arg.replace("SOURCE", str(source)) for arg in args]
    if "--id" not in args:
        args += ["--id", "new-case"]
    if "--group" not in args:
        args += ["--group", "new-group"]
    before = _snapshot(suite)
    status, out, err = _add(capsys, suite, *args)
    assert (status, out) == (2, "")
    assert err.startswith("nemogym-ingest case add: ")
    assert message.replace("SOURCE", str(source)) in err
    assert _snapshot(suite) == before


def test_a_spec_dir_without_cases_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _lines_file(tmp_path, [{"a": 1}])
    status, _, err = _add(capsys, tmp_path, f"{source}:1", "--id", "x", "--group", "g")
    assert status == 2
    assert "not a spec directory holding cases/; pass --spec DIR" in err


def test_a_case_the_schema_refuses_is_not_written(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The written document is checked against case.schema.json first (here an existing
    group file broken by hand: the new case is not written into it)."""
    broken = suite / "cases" / "g.json"
    broken.write_text('{"group": "g", "description": "", "cases": []}\n')
    source = _lines_file(tmp_path, [copy.deepcopy(_empty_agent_name())])
    before = _snapshot(suite)
    status, _, err = _add(capsys, suite, f"{source}:1", "--id", "x", "--group", "g")
    assert status == 2
    assert "the case would break case.schema.json" in err
    assert _snapshot(suite) == before


def test_a_divergence_no_d_number_explains_must_be_named(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docent (here a stand-in) converts otherwise and nothing in the rollout tells which
    divergence: the user must name it; named, it is recorded."""
    monkeypatch.setattr(verdict, "docent_view", lambda: lambda rollout: ("run", {"other": 1}))
    source = _lines_file(tmp_path, [rollout(3)])
    args = (f"{source}:1", "--id", "other", "--group", "g", "--rules", "R31")
    before = _snapshot(suite)
    status, _, err = _add(capsys, suite, *args)
    assert status == 2
    assert "Docent 0.1.88 accepts it with another payload, and no divergence D1-D7" in err
    assert "say which with --divergence D…" in err
    assert _snapshot(suite) == before
    status, out, err = _add(capsys, suite, *args, "--divergence", "D2")
    assert status == 0, err
    assert "Docent 0.1.88: differs; divergence D2" in out


def test_minimize_keeps_what_the_options_record(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A transitions case keeps both snapshots (`final of 2 snapshots`): with one it could
    not tell the final snapshot from the first."""
    question = {"type": "message", "role": "user", "content": "2+2?"}
    answer = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "4", "annotations": []}],
    }
    snapshots = [[question, answer], [question, answer, {**question, "content": "3+3?"}]]
    row = {**rollout(0), "response": {**rollout(0)["response"], "output": snapshots}}
    source = _lines_file(tmp_path, [row])
    status, out, err = _add(
        capsys, suite, f"{source}:1", "--id", "snapshots-kept", "--group", "g", "--rules",
        "R73", "--options", '{"transitions": "final"}', "--minimize",
    )  # fmt: skip
    assert (status, err) == (0, ""), err
    assert "transitions: final of 2 snapshots" in out
    (case,) = json.loads((suite / "cases" / "g.json").read_text())["cases"]
    assert len(case["rollout"]["response"]["output"]) == 2


def test_d6_is_attributed_like_the_others(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `phase: "final_answer"` message (NeMo Gym 0.7.0), which Docent drops, and a phase
    that is not a string, which Docent takes: both marked D6 without --divergence."""
    kept = rollout(0)
    message = next(item for item in kept["response"]["output"] if item["type"] == "message")
    message["phase"] = "final_answer"
    refused = copy.deepcopy(kept)
    next(item for item in refused["response"]["output"] if "phase" in item)["phase"] = 7
    source = _lines_file(tmp_path, [kept, refused])
    for line, case_id in ((1, "phase-kept"), (2, "phase-refused")):
        status, out, err = _add(
            capsys, suite, f"{source}:{line}", "--id", case_id, "--group", "g", "--rules",
            "R48", "--minimize",
        )  # fmt: skip
        assert (status, err) == (0, ""), err
        assert "divergence D6" in out and "Docent diverging (D6)" in out
    cases = json.loads((suite / "cases" / "g.json").read_text())["cases"]
    assert [case["divergence"] for case in cases] == [["D6"], ["D6"]]


def test_a_declared_divergence_is_kept_and_shown_as_given() -> None:
    """Docent differs in a way no D-number can be told from: the kept verdict names the
    divergence the user gave, never "unattributed" beside it."""

    def differs(_: Any) -> tuple[str, Any]:
        return ("run", {"differs": True})

    _, kept = casebook.outcome_keeper(rollout(0), ConversionOptions(), differs, ("D2",))
    assert kept.endswith(", Docent diverging (D2, as given)")
    _, kept = casebook.outcome_keeper(rollout(0), ConversionOptions(), differs)
    assert kept.endswith(", Docent diverging (unattributed)")


def test_a_failure_part_way_leaves_the_suite_as_it_was(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group file, the golden file and the manifest are written together or not at all:
    here the last rename fails after the first two were done."""
    source = _lines_file(tmp_path, [rollout(0)])
    before = _snapshot(suite)
    renames: list[str] = []
    real_replace = os.replace

    def failing_third(source_path: Any, target: Any) -> None:
        renames.append(str(target))
        if len(renames) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source_path, target)

    monkeypatch.setattr(os, "replace", failing_third)
    status, out, err = _add(
        capsys, suite, f"{source}:1", "--id", "x-y", "--group", "naming", "--rules", "R13"
    )
    assert (status, out) == (2, "")
    assert "No space left on device; nothing written" in err
    assert len(renames) == 3
    assert _snapshot(suite) == before
    assert not [path for path in suite.parent.rglob(".*") if path.is_file()]  # no temporaries


def _suite_case(case_id: str) -> dict[str, Any]:
    """A case of the suite, by id."""
    for path in sorted((ROOT / "spec" / "cases").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            if case["id"] == case_id:
                return dict(case)
    raise LookupError(case_id)


def test_minimize_keeps_what_makes_a_nemo_gym_070_row_a_reference_case(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real 0.7.0 rows (an episode row of the wheel's nemo_user_sim example, named only by
    its environment server, and a failed attempt): minimizing keeps the
    `_ng_environment_server` that names the agent (25 characters, which it would otherwise
    cut), the `_ng_failure_class` and each invocation's role, and says so."""
    episode = _suite_case("from-nemo-gym-070-usersim-episode-assistant-and-judge")["rollout"]
    attempt = _suite_case("failure-environment-server-failed-attempt")["rollout"]
    assert "agent_ref" not in episode and len(episode["_ng_environment_server"]) > 24
    assert len(attempt["_ng_failure_class"]) > 24
    source = _lines_file(tmp_path, [episode, attempt])
    status, out, err = _add(
        capsys, suite, f"{source}:1", "--id", "episode-kept", "--group", "g", "--rules",
        "R81,R82,R85", "--minimize",
    )  # fmt: skip
    assert (status, err) == (0, ""), err
    assert "; and _ng_environment_server, the invocation roles as they are" in out
    status, out, err = _add(
        capsys, suite, f"{source}:2", "--id", "attempt-kept", "--group", "g", "--minimize"
    )
    assert (status, err) == (0, ""), err
    assert "; and _ng_environment_server, _ng_failure_class as they are" in out
    first, second = json.loads((suite / "cases" / "g.json").read_text())["cases"]
    row = first["rollout"]
    assert row["_ng_environment_server"] == episode["_ng_environment_server"]
    assert [invocation["role"] for invocation in row["invocations"]] == [
        invocation["role"] for invocation in episode["invocations"]
    ]
    assert len(json.dumps(row)) < len(json.dumps(episode)) / 2
    assert second["rollout"]["_ng_failure_class"] == attempt["_ng_failure_class"]
    assert second["expect"] == {"error": {"rule": "R83", "path": "_ng_failure_class"}}
    golden = json.loads((suite.parent / "golden" / "episode-kept.json").read_text())
    assert golden["name"].startswith(episode["_ng_environment_server"] + "/task/")


def test_members_kept_name_only_what_the_row_reads() -> None:
    """The environment server is kept only where it names the agent (not beside an
    `agent_ref.name`), the failure class only when not null, roles only of an episode row."""
    named = {"agent_ref": {"name": "a"}, "_ng_environment_server": "env", "invocations": []}
    assert casebook.members_kept(named) == {}
    unnamed = {"agent_ref": {"name": None}, "_ng_environment_server": "env"}
    assert casebook.members_kept(unnamed) == {("_ng_environment_server",): "env"}
    assert casebook.members_kept({"_ng_failure_class": None, "response": {}}) == {}
    rollout_with_invocations = {"responses_create_params": {}, "invocations": [{"role": "r"}]}
    assert casebook.members_kept(rollout_with_invocations) == {}
    episode = {"invocations": [{"role": "user"}, "broken", {"role": "judge"}]}
    assert casebook.members_kept(episode) == {
        ("invocations", 0, "role"): "user",
        ("invocations", 2, "role"): "judge",
    }


def test_a_group_s_generated_description_names_the_rules_of_the_cases_joining_it(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group `case add` created is described by its cases' rules, refreshed as cases for
    other rules join it; a description someone wrote stays."""
    source = _lines_file(tmp_path, [rollout(0), _rejected(), _two_messages()])
    group_file = suite / "cases" / "g.json"
    for line, case_id, rules, described in (
        (1, "first", ["--rules", "R20,R22"], "R20, R22: cases"),
        (2, "second", [], "R20, R22: cases"),  # a rejection: its rule, R20
        (3, "third", ["--rules", "R32"], "R20, R22, R32: cases"),
    ):
        status, _, err = _add(
            capsys, suite, f"{source}:{line}", "--id", case_id, "--group", "g", *rules
        )
        assert (status, err) == (0, "")
        assert json.loads(group_file.read_text())["description"] == described
    group = json.loads(group_file.read_text())
    group["description"] = "R20, R22, R32: the cases of a weather agent"
    group_file.write_text(json.dumps(group))
    source = _lines_file(tmp_path, [_with_reasoning_content()])
    status, _, err = _add(
        capsys, suite, f"{source}:1", "--id", "fourth", "--group", "g", "--rules", "R18"
    )
    assert (status, err) == (0, "")
    assert json.loads(group_file.read_text())["description"] == group["description"]
