"""The command line: convert and check, exit statuses, messages, workers, gz, stdin, progress."""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from dataclasses_json import DataClassJsonMixin

from nemogym_ingest import ConversionError, iter_nemogym_jsonl
from nemogym_ingest import pool as pool_module
from nemogym_ingest import source as source_module
from nemogym_ingest.cli import main
from nemogym_ingest.commands.check import rejection_group
from nemogym_ingest.model import wire_payload
from nemogym_ingest.progress import Progress
from tests.test_model import sample_run

EXAMPLES = Path(__file__).parent.parent / "examples" / "rollouts.jsonl"


def _rollout(task: int = 0) -> dict[str, Any]:
    return {
        "responses_create_params": {"input": f"task {task}"},
        "response": {
            "output": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": f"answer {task}"}],
                }
            ]
        },
        "reward": 1.0,
        "agent_ref": {"name": "agent"},
        "_ng_task_index": task,
        "_ng_rollout_index": 0,
    }


def _bad_call_id(task: int) -> dict[str, Any]:
    rollout = _rollout(task)
    rollout["response"]["output"].append(
        {"type": "function_call_output", "call_id": f"nowhere-{task}", "output": "x"}
    )
    return rollout


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _expected_lines(path: Path) -> str:
    """What the library makes of a good file, one `to_dict()` payload per line, written as
    the spec's output text says (UTF-8, no whitespace)."""
    return "".join(
        json.dumps(run.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        for run in iter_nemogym_jsonl(path)
    )


def _library_error(path: Path) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        list(iter_nemogym_jsonl(path))
    return caught.value


def _entries(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# --- convert -----------------------------------------------------------------------------


def test_convert_writes_one_payload_per_line_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(EXAMPLES), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == _expected_lines(EXAMPLES)
    assert captured.err == "nemogym-ingest: wrote 5 runs to stdout\n"
    assert main(["convert", str(EXAMPLES), "-o", "-", "-q"]) == 0
    assert capsys.readouterr() == (_expected_lines(EXAMPLES), "")


def test_convert_to_a_file_renames_a_finished_file_into_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "runs.jsonl"
    target.write_text("old contents\n")
    assert main(["convert", str(EXAMPLES), "-o", str(target)]) == 0
    assert target.read_text() == _expected_lines(EXAMPLES)
    assert _entries(tmp_path) == ["runs.jsonl"]
    assert capsys.readouterr() == ("", f"nemogym-ingest: wrote 5 runs to {target}\n")


def test_first_bad_line_stops_with_its_location_and_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_jsonl(
        tmp_path / "in.jsonl", [_rollout(0), _bad_call_id(1), _rollout(2), _bad_call_id(3)]
    )
    out = tmp_path / "out"
    out.mkdir()
    target = out / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(target)]) == 1
    message = f"{source}:2: response.output[1].call_id: {_library_error(source).reason}\n"
    assert str(_library_error(source)) + "\n" == message
    assert capsys.readouterr() == ("", message)
    assert _entries(out) == []


def test_failure_keeps_an_existing_output_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_jsonl(tmp_path / "in.jsonl", [_rollout(0), "not a rollout"])
    target = tmp_path / "runs.jsonl"
    target.write_text("previous run\n")
    assert main(["convert", str(source), "-o", str(target)]) == 1
    assert target.read_text() == "previous run\n"
    assert _entries(tmp_path) == ["in.jsonl", "runs.jsonl"]
    assert capsys.readouterr().err == f"{source}:2: must be an object, got 'not a rollout'\n"


def test_keep_going_converts_every_good_line_and_reports_every_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [_rollout(0), _bad_call_id(1), _rollout(2), _bad_call_id(3), _rollout(4)]
    source = _write_jsonl(tmp_path / "in.jsonl", rows)
    good = _write_jsonl(tmp_path / "good.jsonl", [rows[0], rows[2], rows[4]])
    target = tmp_path / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(target), "--keep-going"]) == 1
    assert target.read_text() == _expected_lines(good)
    reason = _library_error(source).reason
    assert capsys.readouterr().err == (
        f"{source}:2: response.output[1].call_id: {reason}\n"
        f"{source}:4: response.output[1].call_id: {reason.replace('nowhere-1', 'nowhere-3')}\n"
        f"nemogym-ingest: wrote 3 runs to {target}; 2 of 5 rollout lines rejected\n"
    )


def test_the_command_prints_no_traceback_and_exits_1_on_a_bad_line(tmp_path: Path) -> None:
    source = _write_jsonl(tmp_path / "in.jsonl", [_rollout(0), [1, 2]])
    completed = subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "convert", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr == f"{source}:2: must be an object, got an array\n"
    assert completed.stdout == _expected_lines(_write_jsonl(tmp_path / "one", [_rollout(0)]))


def test_stdin_is_read_with_a_dash(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "convert", "-", "--workers", "2"],
        input=EXAMPLES.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode() == _expected_lines(EXAMPLES)
    bad = subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", "convert", "-"],
        input=b'{"response": {}}\n',  # `{}` alone is not a rollout at all (test_rollout_shapes)
        capture_output=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.decode() == ("<stdin>:1: responses_create_params: is missing\n")


def test_gz_input_is_read_transparently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # named without .gz on purpose: the magic bytes decide
    compressed = tmp_path / "rollouts.data"
    compressed.write_bytes(gzip.compress(EXAMPLES.read_bytes()))
    assert main(["convert", str(compressed)]) == 0
    assert capsys.readouterr().out == _expected_lines(EXAMPLES)


def test_truncated_gz_is_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compressed = tmp_path / "rollouts.jsonl.gz"
    compressed.write_bytes(gzip.compress(EXAMPLES.read_bytes())[:-30])
    target = tmp_path / "runs.jsonl"
    assert main(["convert", str(compressed), "-o", str(target)]) == 2
    error = capsys.readouterr().err
    expected = f"nemogym-ingest: {compressed}:1: cannot read file: Compressed file ended"
    assert error.startswith(expected)
    assert _entries(tmp_path) == ["rollouts.jsonl.gz"]


@pytest.mark.parametrize("command", ["convert", "check"])
def test_missing_file_and_directory_are_reported_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main([command, str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nemogym-ingest: {missing}: cannot read file: No such file or dir")
    assert main([command, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nemogym-ingest: {tmp_path}: cannot read file: is a directory\n")


def test_output_that_cannot_be_written_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-directory" / "runs.jsonl"
    assert main(["convert", str(EXAMPLES), "-o", str(target)]) == 2
    assert capsys.readouterr() == (
        "",
        f"nemogym-ingest: {target}: cannot write: No such file or directory\n",
    )
    assert main(["convert", str(EXAMPLES), "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"nemogym-ingest: {tmp_path}: cannot write: is a directory\n"


def test_special_output_files_are_written_directly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(EXAMPLES), "-o", os.devnull]) == 0
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)
    assert capsys.readouterr() == ("", f"nemogym-ingest: wrote 5 runs to {os.devnull}\n")


# --- workers -------------------------------------------------------------------------------


def _many_rows(count: int, bad: set[int]) -> list[Any]:
    template = json.loads(EXAMPLES.read_text().splitlines()[0])
    rows: list[Any] = []
    for index in range(count):
        row = copy.deepcopy(template)
        row["_ng_task_index"] = index
        if index in bad:
            row["response"]["output"][2]["call_id"] = f"unknown-{index}"
        rows.append(row)
    return rows


_STOP_EARLY_LOOP = """
import contextlib, io, sys
from nemogym_ingest import pool
from nemogym_ingest.cli import main

pool.CHUNK_BYTES = 3000  # many chunks in flight when line 18 is rejected
for _ in range(int(sys.argv[2])):
    with contextlib.redirect_stderr(io.StringIO()):  # quicker stops: the race shows sooner
        assert main(["convert", sys.argv[1], "--workers", "3", "-o", sys.argv[3]]) == 1
"""


def test_stopping_early_never_hangs_the_workers(tmp_path: Path) -> None:
    """Regression: a rejected line used to stop the pool with Pool.terminate(), which can kill
    a worker holding the result queue's lock; `convert` then hung for good (about one run
    in a hundred). Three hundred early stops in a row must all finish (the old code hung
    within them in each of three tries)."""
    source = _write_jsonl(tmp_path / "in.jsonl", _many_rows(60, bad={17}))
    command = [sys.executable, "-c", _STOP_EARLY_LOOP, str(source), "300", str(tmp_path / "o")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("keep_going", [False, True])
def test_workers_keep_order_and_line_numbers(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    keep_going: bool,
) -> None:
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 3000)  # about three lines a chunk
    source = _write_jsonl(tmp_path / "in.jsonl", _many_rows(60, bad={17, 41}))
    flags = ["--keep-going"] if keep_going else []
    outcomes = []
    for workers in ("1", "2", "3"):
        status = main(["convert", str(source), "--workers", workers, *flags])
        outcomes.append((status, capsys.readouterr()))
    assert outcomes[1] == outcomes[0] and outcomes[2] == outcomes[0]
    status, captured = outcomes[0]
    assert status == 1
    bad_lines = [18, 42] if keep_going else [18]
    assert [line.split(": ")[0] for line in captured.err.splitlines()[: len(bad_lines)]] == [
        f"{source}:{line}" for line in bad_lines
    ]
    names = [json.loads(line)["name"] for line in captured.out.splitlines()]
    converted = [index for index in range(60) if index not in {17, 41}]
    expected = converted if keep_going else list(range(17))
    assert names == [f"weather_agent/task/{index}/rollout/0" for index in expected]


def test_parallel_output_is_the_library_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 2000)
    source = _write_jsonl(tmp_path / "in.jsonl", _many_rows(25, bad=set()))
    assert main(["convert", str(source), "--workers", "2"]) == 0
    assert capsys.readouterr().out == _expected_lines(source)


# --- check ---------------------------------------------------------------------------------


def _check_inputs(tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / "a.jsonl"
    first.write_text(
        "\n".join(
            [
                json.dumps(_rollout(0)),
                "",
                json.dumps(_bad_call_id(1)),
                "{not json",
                json.dumps(_bad_call_id(2)),
            ]
        )
        + "\n"
    )
    second = _write_jsonl(tmp_path / "b.jsonl", [_rollout(3), _bad_call_id(4)])
    return first, second


def test_check_reports_every_bad_line_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _check_inputs(tmp_path)
    assert main(["check", str(first), str(second), "--workers", "1"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    reason = "no earlier function_call of this rollout has call_id"
    assert captured.out.splitlines() == [
        f"{first}:3: response.output[1].call_id: {reason} 'nowhere-1'",
        f"{first}:4: invalid JSON: Expecting property name enclosed in double quotes at column 2",
        f"{first}:5: response.output[1].call_id: {reason} 'nowhere-2'",
        f"{second}:2: response.output[1].call_id: {reason} 'nowhere-4'",
        "checked 2 files: 7 lines, 2 converted, 4 rejected, 1 blank",
        "rejected by reason:",
        f"         3  R22 response.output[*].call_id: {reason} 'nowhere-1'  (first: {first}:3)",
        "         1  R64 (rollout): invalid JSON: Expecting property name enclosed in double quotes"
        f" at column 2  (first: {first}:4)",
    ]


def test_check_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _check_inputs(tmp_path)
    missing = tmp_path / "missing.jsonl"
    assert main(["check", str(first), str(missing), str(second), "--format", "json"]) == 2
    captured = capsys.readouterr()
    unreadable = f"{missing}: cannot read file: No such file or directory"
    assert captured.err == f"nemogym-ingest: {unreadable}\n"
    report = json.loads(captured.out)
    assert [(entry["file"], entry["lines"], entry["unreadable"]) for entry in report["files"]] == [
        (str(first), 5, None),
        (str(missing), 0, f"{missing}: cannot read file: No such file or directory"),
        (str(second), 2, None),
    ]
    assert (report["lines"], report["converted"], report["rejected"], report["blank"]) == (
        7,
        2,
        4,
        1,
    )
    assert [
        (group["rule"], group["path"], group["option"], group["count"], group["first"])
        for group in report["rejected_by_reason"]
    ] == [
        ("R22", "response.output[*].call_id", None, 3, {"file": str(first), "line": 3}),
        ("R64", "", None, 1, {"file": str(first), "line": 4}),
    ]
    assert [
        (error["file"], error["line"], error["rule"], error["path"], error["option"])
        for error in report["errors"]
    ] == [
        (str(first), 3, "R22", "response.output[1].call_id", None),
        (str(first), 4, "R64", "", None),
        (str(first), 5, "R22", "response.output[1].call_id", None),
        (str(second), 2, "R22", "response.output[1].call_id", None),
    ]
    assert report["errors"][0]["reason"] == _library_error(first).reason


def test_check_of_good_files_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compressed = tmp_path / "rollouts.jsonl.gz"
    compressed.write_bytes(gzip.compress(EXAMPLES.read_bytes()))
    assert main(["check", str(EXAMPLES), str(compressed)]) == 0
    lines = sum(1 for _ in iter_nemogym_jsonl(EXAMPLES))
    assert capsys.readouterr().out == (
        f"checked 2 files: {2 * lines} lines, {2 * lines} converted, 0 rejected, 0 blank\n"
    )


def test_rejection_groups_are_rule_and_path_pattern() -> None:
    def group(reason: str, loc: tuple[str | int, ...], rule: str) -> tuple[str, str, str]:
        return rejection_group(ConversionError(reason, loc, rule=rule))

    texts = ("must be a string, got 'x'", "must be a string, got null", "is missing")
    groups = {
        group(text, ("input", index, "content", 12, "text"), "R13")
        for index, text in enumerate(texts)
    }
    assert groups == {("R13", "input[*].content[*].text", "")}
    assert group("bad", ("a",), "R13") != group("bad", ("a",), "R12")
    assert group("invalid UTF-8 at byte 17: invalid start byte", (), "R63") == (
        "R63",
        "",
        "invalid UTF-8 at byte N: invalid start byte",
    )


# --- help, progress, payload ---------------------------------------------------------------


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "convert" in text and "check" in text and "exit status" in text


def test_help_lists_the_commands_alike_whether_their_modules_are_imported_or_not() -> None:
    """`main` registers only the command that runs; the others, listed by their summary
    alone, read the same in `--help` and in a usage error."""
    from nemogym_ingest.cli import COMMANDS, build_parser

    every = build_parser()
    for full in ((), *([name] for name in COMMANDS)):
        parser = build_parser(full=full)
        assert parser.format_help() == every.format_help()
        assert parser.format_usage() == every.format_usage()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    terminal = _Terminal()
    with Progress("convert", 1000, stream=terminal) as progress:
        progress.advance(3, 250_000, position=250)
        drawn = terminal.getvalue()
        assert drawn.startswith("\r\x1b[Kconvert: 3 rollouts  0.2 MB  ")
        assert "MB/s  25%  ETA 0:" in drawn
    assert terminal.getvalue().endswith("\r\x1b[K")
    pipe = io.StringIO()
    with Progress("convert", 1000, stream=pipe) as progress:
        progress.advance(3, 250_000)
    assert pipe.getvalue() == ""
    quiet = _Terminal()
    with Progress("convert", stream=quiet, enabled=False) as progress:
        progress.advance(1, 1)
    assert quiet.getvalue() == ""


def test_wire_payload_is_exactly_dataclasses_json_to_dict() -> None:
    runs = [sample_run(), *iter_nemogym_jsonl(EXAMPLES)]
    for run in runs:
        payload = wire_payload(run)
        assert payload == DataClassJsonMixin.to_dict(run)
        assert json.dumps(payload) == json.dumps(DataClassJsonMixin.to_dict(run))


def test_workers_get_absolute_line_numbers_for_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 500)
    rows = [_rollout(index) for index in range(40)]
    for row in rows:
        del row["_ng_task_index"]
    source = _write_jsonl(tmp_path / "in.jsonl", rows)
    argv = ["convert", str(source), "--task-index", "line"]
    assert main([*argv, "--workers", "2"]) == 0
    parallel_output = capsys.readouterr().out
    names = [json.loads(line)["name"] for line in parallel_output.splitlines()]
    assert names == [f"agent/task/{line}/rollout/0" for line in range(1, 41)]
    assert main([*argv, "--workers", "1"]) == 0
    assert capsys.readouterr().out == parallel_output


@pytest.mark.parametrize("compress", [False, True])
def test_workers_read_crlf_bom_blank_and_unterminated_lines_alike(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    compress: bool,
) -> None:
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 700)
    lines = [json.dumps(_rollout(index)).encode() for index in range(30)]
    lines[7] = b'{"broken": '
    lines[12] = b"   \t"
    data = b"\xef\xbb\xbf" + b"\r\n".join(lines)  # a BOM, CRLF ends, no final line end
    source = tmp_path / "in.jsonl"
    source.write_bytes(gzip.compress(data) if compress else data)
    outcomes = []
    for workers in ("1", "2"):
        status = main(["check", str(source), "--workers", workers, "--format", "json"])
        outcomes.append((status, json.loads(capsys.readouterr().out)))
    assert outcomes[0] == outcomes[1]
    status, report = outcomes[0]
    assert status == 1
    assert (report["lines"], report["blank"], report["converted"], report["rejected"]) == (
        30,
        1,
        28,
        1,
    )
    assert [error["line"] for error in report["errors"]] == [8]


def test_unreadable_file_is_reported_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write_jsonl(tmp_path / "secret.jsonl", [_rollout(0)])

    def refuse(path: str, mode: str) -> Any:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(source_module, "open", refuse, raising=False)  # root reads anything
    assert main(["convert", str(source)]) == 2
    assert capsys.readouterr() == (
        "",
        f"nemogym-ingest: {source}: cannot read file: Permission denied\n",
    )


def test_parallel_output_reaches_files_and_pipes_and_leaves_no_spool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_root = tmp_path / "tmp"
    spool_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_root))
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 3000)
    source = _write_jsonl(tmp_path / "in.jsonl", _many_rows(60, bad=set()))
    target = tmp_path / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(target), "--workers", "2"]) == 0
    assert target.read_text() == _expected_lines(source)
    capsys.readouterr()
    bad = _write_jsonl(tmp_path / "bad.jsonl", _many_rows(60, bad={45}))
    assert main(["convert", str(bad), "-o", str(target), "--workers", "2"]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:46: ")
    assert os.listdir(spool_root) == []
    script = (
        "import sys; import nemogym_ingest.pool as p; p.CHUNK_BYTES = 3000; "
        "from nemogym_ingest.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    piped = subprocess.run(
        [sys.executable, "-c", script, "convert", str(source), "--workers", "2"],
        capture_output=True,
        check=False,
    )
    assert (piped.returncode, piped.stderr) == (0, b"nemogym-ingest: wrote 60 runs to stdout\n")
    assert piped.stdout.decode() == _expected_lines(source)


def test_convert_stopping_where_an_option_helps_points_at_check_which_lists_them_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file needing three options: convert names the first and says `check FILE` lists
    every one; check does, and its advice followed gives distinct, readable run names."""
    rows = [_rollout(task) for task in range(3)]
    for row in rows:
        for key in ("agent_ref", "_ng_task_index", "_ng_rollout_index"):
            del row[key]
    source = _write_jsonl(tmp_path / "needs options.jsonl", rows)
    assert main(["convert", str(source), "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{source}:1: agent_ref: is missing; pass agent_name=NAME")
    assert err[1:] == [
        "nemogym-ingest: convert stops at the first rejected line; "
        f"nemogym-ingest check '{source}' lists every option the file needs"
    ]
    assert main(["check", str(source), "-q"]) == 1
    advice = capsys.readouterr().out.splitlines()[-1].split("would convert with ")[1].split()
    assert advice == ["--agent-name", "NAME", "--task-index", "line", "--rollout-index", "0"]
    flags = ["myagent" if word == "NAME" else word for word in advice]
    assert main(["convert", str(source), "-q", *flags]) == 0
    names = [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()]
    assert names == [f"myagent/task/{line}/rollout/0" for line in (1, 2, 3)]
    assert main(["convert", str(_write_jsonl(tmp_path / "bad.jsonl", [[1]])), "-q"]) == 1
    assert "check" not in capsys.readouterr().err  # no option would help


def test_stdout_redirected_into_an_input_is_refused_and_the_input_untouched(
    tmp_path: Path,
) -> None:
    """`convert FILE >> FILE` (as `cat` refuses "input file is output file"): exit 2."""
    source = tmp_path / "rollouts.jsonl"
    source.write_bytes(EXAMPLES.read_bytes())
    with source.open("ab") as appended:
        done = subprocess.run(
            [sys.executable, "-m", "nemogym_ingest", "convert", str(source)],
            stdout=appended,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == (
        f"nemogym-ingest: stdout: the output is the input {source}; "
        "nothing written (convert never changes an input)\n"
    )
    assert source.read_bytes() == EXAMPLES.read_bytes()
    elsewhere = tmp_path / "runs.jsonl"
    with elsewhere.open("ab") as appended:
        status = subprocess.run(
            [sys.executable, "-m", "nemogym_ingest", "convert", str(source)],
            stdout=appended,
            check=False,
        ).returncode
    assert status == 0
    assert len(elsewhere.read_text().splitlines()) == len(EXAMPLES.read_text().splitlines())
