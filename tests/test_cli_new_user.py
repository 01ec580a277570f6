"""What a new user tripped over (issue 38), each re-run as written: a NeMo Gym data folder
converted whole, `convert`'s closing line and gzip output, `check --summary` and its counts,
`InputError` exported, a lone CR read as such."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nemogym_ingest
from nemogym_ingest import InputError, iter_nemogym_jsonl
from nemogym_ingest.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "rollouts.jsonl"
CASES = ROOT / "spec" / "cases" / "jsonl"
TASK_INPUTS = CASES / "jsonl-task-inputs.jsonl"
SIDECAR = CASES / "jsonl-failures-sidecar.jsonl"


def _payload_lines(path: Path) -> list[str]:
    return [
        json.dumps(run.to_dict(), ensure_ascii=False, separators=(",", ":"))
        for run in iter_nemogym_jsonl(path)
    ]


def data_folder(tmp_path: Path) -> Path:
    """A NeMo Gym data folder as the 0.7.0 wheel ships them: the task inputs beside the
    rollouts collected from them (and here a failures sidecar too)."""
    folder = tmp_path / "resources_servers" / "weather" / "data"
    folder.mkdir(parents=True)
    shutil.copy(TASK_INPUTS, folder / "example.jsonl")
    shutil.copy(EXAMPLES, folder / "example_rollouts.jsonl")
    shutil.copy(SIDECAR, folder / "example_rollouts_failures.jsonl")
    return folder


# --- item 1: files that hold no rollout are skipped ------------------------------------------


def test_a_data_folder_converts_its_rollouts_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = data_folder(tmp_path)
    inputs = sorted(str(path) for path in folder.glob("*.jsonl"))
    output = tmp_path / "out.jsonl"
    assert main(["convert", *inputs, "-o", str(output)]) == 0
    expected = _payload_lines(folder / "example_rollouts.jsonl")
    expected += _payload_lines(folder / "example_rollouts_failures.jsonl")
    assert output.read_text(encoding="utf-8").splitlines() == expected
    err = capsys.readouterr().err.splitlines()
    tasks, sidecar = folder / "example.jsonl", folder / "example_rollouts_failures.jsonl"
    assert err[0] == (
        f"{tasks}: NeMo Gym task inputs (2 rows with responses_create_params and no "
        "response): nothing to convert"
    )
    assert err[1].startswith(f"{sidecar}: 2 failed attempts without a rollout")
    assert err[2:] == [
        f"nemogym-ingest: wrote {len(expected)} runs to {output}; skipped 1 of 3 inputs, "
        "which holds no rollout"
    ]
    # Every input is named once, for what it is; the rollouts file needs no line.
    assert sum(str(tasks) in line for line in err) == 1


def test_keep_going_over_a_data_folder_exits_0_when_no_line_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = data_folder(tmp_path)
    inputs = [str(folder / "example.jsonl"), str(folder / "example_rollouts.jsonl")]
    assert main(["convert", "-k", *inputs, "-o", str(tmp_path / "out.jsonl")]) == 0
    assert main(["check", *inputs]) == 0
    out = capsys.readouterr().out
    assert "checked 2 files: 7 lines, 5 converted, 0 rejected, 2 in files not rollouts" in out


def test_a_rejected_rollout_line_still_fails_beside_a_skipped_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = data_folder(tmp_path)
    broken = folder / "broken_rollouts.jsonl"
    broken.write_text(EXAMPLES.read_text(encoding="utf-8") + "[]\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main(["convert", str(folder / "example.jsonl"), str(broken), "-o", str(output)]) == 1
    assert not output.exists()
    assert (
        main(["convert", "-k", str(folder / "example.jsonl"), str(broken), "-o", str(output)]) == 1
    )
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"nemogym-ingest: wrote 5 runs to {output}; skipped 1 of 2 inputs, which holds no "
        "rollout; 1 of 6 rollout lines rejected"
    )


def test_no_input_holding_a_rollout_writes_nothing_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.jsonl"
    for inputs, said in (
        ([TASK_INPUTS], "the input holds no rollout"),
        ([TASK_INPUTS, TASK_INPUTS], "none of the 2 inputs holds a rollout"),
    ):
        assert main(["convert", *map(str, inputs), "-o", str(output)]) == 1
        assert (
            capsys.readouterr().err.splitlines()[-1] == f"nemogym-ingest: {said}: nothing written"
        )
        assert not output.exists()
        assert main(["check", *map(str, inputs)]) == 1
        capsys.readouterr()


# --- item 8: the small things ----------------------------------------------------------------


def test_a_gz_output_is_written_gzip_compressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.jsonl.gz"
    assert main(["convert", str(EXAMPLES), "-o", str(output), "-j", "1"]) == 0
    plain = tmp_path / "out.jsonl"
    assert main(["convert", str(EXAMPLES), "-o", str(plain)]) == 0
    assert output.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(output.read_bytes()) == plain.read_bytes()
    again = tmp_path / "again.jsonl.gz"
    assert main(["convert", str(EXAMPLES), "-o", str(again)]) == 0
    assert again.read_bytes() == output.read_bytes()  # no time or name in the header


def test_a_gz_output_of_several_worker_chunks_is_compressed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers spool their chunks to files, which are copied to a plain output by the
    kernel: to a .gz output they go through the compressor."""
    from nemogym_ingest import pool

    monkeypatch.setattr(pool, "CHUNK_BYTES", 600)
    output = tmp_path / "out.jsonl.gz"
    assert main(["convert", str(EXAMPLES), "-o", str(output), "-j", "2", "-q"]) == 0
    assert gzip.decompress(output.read_bytes()).decode().splitlines() == _payload_lines(EXAMPLES)


def test_convert_says_what_it_wrote_and_quiet_keeps_stderr_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(EXAMPLES), "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == _payload_lines(EXAMPLES)
    assert err == "nemogym-ingest: wrote 5 runs to stdout\n"
    one = tmp_path / "one.jsonl"
    one.write_text(EXAMPLES.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert main(["convert", str(one), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert capsys.readouterr().err == f"nemogym-ingest: wrote 1 run to {tmp_path / 'o.jsonl'}\n"
    assert main(["convert", "-q", str(one), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert capsys.readouterr() == ("", "")


def test_check_summary_alone_and_counts_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text("[]\n", encoding="utf-8")
    assert main(["check", str(one)]) == 1
    full = capsys.readouterr().out.splitlines()
    assert full[0] == f"{one}:1: must be an object, got an array"
    assert full[1] == "checked 1 file: 1 line, 0 converted, 1 rejected, 0 blank"
    assert main(["check", "--summary", str(one), str(TASK_INPUTS)]) == 1
    summary = capsys.readouterr().out.splitlines()
    assert summary[0] == (
        "checked 2 files: 3 lines, 0 converted, 1 rejected, 2 in files not rollouts, 0 blank"
    )
    assert not any(
        line.startswith(str(one)) or str(TASK_INPUTS) in line.split("(first")[0] for line in summary
    )
    assert main(["check", "-s", "--format", "json", str(one)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert "errors" not in report and report["rejected"] == 1


def test_input_error_is_exported_and_raised_for_a_missing_file(tmp_path: Path) -> None:
    assert "InputError" in nemogym_ingest.__all__
    with pytest.raises(InputError) as raised:
        iter_nemogym_jsonl(tmp_path / "missing.jsonl")
    assert isinstance(raised.value, nemogym_ingest.ConversionError)
    assert raised.value.rule == "R68"
    assert "InputError" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_lone_cr_is_named_and_grouped_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    mac = tmp_path / "mac.jsonl"
    mac.write_bytes(("\r".join(lines[:2]) + "\n" + '{"a": "cut' + "\n").encode())
    assert main(["check", "--summary", str(mac)]) == 1
    column = len(lines[0]) + 1
    out = capsys.readouterr().out
    assert (
        f"R64 (rollout): invalid JSON: a lone CR at column {column} ends no line (lines end "
        f"with LF), so a second JSON value follows the first at column {column + 1}"
    ) in out
    assert "1  R64 (rollout): invalid JSON: Unterminated string starting at column 7" in out


# --- item 3: provenance -------------------------------------------------------------------


def test_record_source_names_file_and_line_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    relative = "resources_servers/weather/data/example_rollouts.jsonl"
    assert main(["convert", "--record-source", relative, "-o", "out.jsonl"]) == 0
    runs = [json.loads(line) for line in Path("out.jsonl").read_text().splitlines()]
    sources = [run["metadata"]["source"] for run in runs]
    assert [(source["file"], source["line"]) for source in sources] == [
        (relative, line) for line in range(1, 6)
    ]
    assert [list(source)[:3] for source in sources] == [["schema", "file", "line"]] * 5
    assert all("record_source" not in run["metadata"]["nemogym"].get("assumed", {}) for run in runs)
    # without the option, the runs are those of before, byte for byte
    assert main(["convert", relative, "-o", "plain.jsonl"]) == 0
    for run, line in zip(runs, Path("plain.jsonl").read_text().splitlines(), strict=True):
        del run["metadata"]["source"]["file"], run["metadata"]["source"]["line"]
        assert run == json.loads(line)
    # stdin is named as errors name it
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXAMPLES.read_bytes())))
    assert main(["convert", "--record-source", "-"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (first["metadata"]["source"]["file"], first["metadata"]["source"]["line"]) == (
        "<stdin>",
        1,
    )
    assert folder.is_dir()


def test_record_source_is_refused_for_a_lone_rollout() -> None:
    rollout = json.loads(EXAMPLES.read_text(encoding="utf-8").splitlines()[0])
    with pytest.raises(ValueError, match="record_source=True records the JSONL file and line"):
        nemogym_ingest.convert_nemogym_rollout_to_agent_run(
            rollout, options={"record_source": True}
        )
    off = nemogym_ingest.ConversionOptions(record_source=False)
    assert off == nemogym_ingest.ConversionOptions()
    with pytest.raises(ValueError, match="record_source must be null, true or false"):
        nemogym_ingest.ConversionOptions.from_json({"record_source": "yes"})


def test_agent_name_templates_follow_nemo_gym_s_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nemogym_ingest.layout import agent_name_for, path_fields

    tasks = tmp_path / "environments" / "calc" / "data" / "example_rollouts.jsonl.gz"
    assert path_fields(str(tasks)) == {
        "parent": "data",
        "stem": "example_rollouts",
        "group": "environments",
        "server": "calc",
    }
    assert (
        agent_name_for("{group}:{server}/{stem}", str(tasks))
        == "environments:calc/example_rollouts"
    )
    assert agent_name_for("{{literal}}", None) == "{literal}"
    nested = tmp_path / "resources_servers" / "arena" / "data" / "lmarena_v2" / "x.jsonl"
    assert agent_name_for("{server}", str(nested)) == "arena"
    # convert and check fill the name per file; an input the template cannot name is a usage
    # error before anything is written
    unnamed = tmp_path / "unnamed.jsonl"
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        del row["agent_ref"]
    folder = tmp_path / "resources_servers" / "weather" / "data"
    folder.mkdir(parents=True)
    (folder / "example_rollouts.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    unnamed.write_text((folder / "example_rollouts.jsonl").read_text())
    output = tmp_path / "out.jsonl"
    args = ["--agent-name", "{server}", "-o", str(output)]
    assert main(["convert", str(folder / "example_rollouts.jsonl"), *args]) == 0
    names = [json.loads(line)["name"] for line in output.read_text().splitlines()]
    assert names[0].startswith("weather/task/")
    capsys.readouterr()
    assert main(["convert", str(folder / "example_rollouts.jsonl"), str(unnamed), *args]) == 2
    assert capsys.readouterr().err.startswith(
        f"nemogym-ingest: {unnamed}: no {{server}} for the agent name '{{server}}': the path "
        "has no NeMo Gym component directory (resources_servers/, "
    )
    assert output.read_text().splitlines()[0].startswith('{"name":"weather/')  # untouched
    with pytest.raises(SystemExit) as exited:
        main(["check", str(unnamed), "--agent-name", "{server!r}"])
    assert exited.value.code == 2
    assert "unknown field {server!r}; known: {server}, {group}, {parent}, {stem}" in (
        capsys.readouterr().err
    )
    assert main(["check", "-s", str(unnamed), "--agent-name", "{parent}-{stem}"]) == 0


def test_the_runner_compares_a_recorded_file_as_the_case_names_it() -> None:
    """R91's case passes an implementation recording the path the runner gave, and fails
    one recording anything else (here the file's name alone)."""
    from nemogym_ingest.conformance import PythonImplementation, default_spec_dir, load_suite
    from nemogym_ingest.conformance.adapters import nemogym_ingest_file
    from nemogym_ingest.conformance.runner import run_case

    spec = default_spec_dir()
    assert spec is not None
    (case,) = [case for case in load_suite(spec) if case.id == "jsonl-record-source"]

    def base_name_only(path: str, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        runs = [run.to_dict() for run in nemogym_ingest_file(path, options)]
        for run in runs:
            run["metadata"]["source"]["file"] = Path(path).name
        return runs

    def implementation(file_function: Callable[..., Any]) -> PythonImplementation:
        return PythonImplementation(lambda rollout: rollout, file_function, options=True)

    assert run_case(implementation(nemogym_ingest_file), case).status == "pass"
    failed = run_case(implementation(base_name_only), case)
    assert failed.status == "fail"
    assert "metadata.source.file" in failed.summary


def test_a_file_name_that_is_not_unicode_text_cannot_be_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """R91: a name holding bytes that are not UTF-8 (a lone surrogate once decoded) would
    put a value that is not JSON into the run: refused before anything is read."""
    name = os.fsdecode(bytes(tmp_path / "caf") + b"\xe9.jsonl")
    try:
        Path(name).write_bytes(EXAMPLES.read_bytes())
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    with pytest.raises(ValueError, match="record_source cannot record"):
        iter_nemogym_jsonl(name, options={"record_source": True})
    assert len(list(iter_nemogym_jsonl(name))) == 5
    output = tmp_path / "out.jsonl"
    assert main(["convert", "--record-source", name, "-o", str(output)]) == 2
    assert "cannot record it (--record-source)" in capsys.readouterr().err
    assert not output.exists()
