"""One input layer: every way in reads the same rollouts alike (source.py, jsonl.py, pool.py),
`iter_nemogym_jsonl_results`, and the command-line items of issue 13."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import pickle
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import nemogym_ingest
from nemogym_ingest import (
    ConversionError,
    ConversionOptions,
    LineResult,
    convert_nemogym_jsonl_file_to_agent_runs,
    iter_nemogym_jsonl,
    iter_nemogym_jsonl_results,
    pool,
)
from nemogym_ingest.cli import main
from nemogym_ingest.docent.runs import iter_results
from nemogym_ingest.model import wire_payload
from nemogym_ingest.output import write_output
from nemogym_ingest.source import InputError, open_source
from tests.test_cli import _rollout

Outcome = tuple[list[str], list[tuple[str | None, int | None, str, str, str]]]
"""Payload lines (JSON, ASCII) and errors as (file, line, path, rule, reason)."""


def _mixed_bytes() -> bytes:
    """Line 1 good (after a BOM), 2 blank, 3 invalid JSON, 4 good, 5 rejected (no
    agent_ref), 6 not UTF-8, 7 whitespace, 8 good with CRLF, 9 a truncated last line."""
    no_agent = _rollout(5)
    del no_agent["agent_ref"]
    lines = [
        b"\xef\xbb\xbf" + json.dumps(_rollout(1)).encode(),
        b"",
        b'{"responses_create_params": ',
        json.dumps(_rollout(4)).encode(),
        json.dumps(no_agent).encode(),
        b'{"x": "\xff"}',
        b" \t ",
        json.dumps(_rollout(8)).encode() + b"\r",
        b'{"response": {',
    ]
    return b"\n".join(lines)


def _error(error: ConversionError) -> tuple[str | None, int | None, str, str, str]:
    return error.file, error.line, error.path, error.rule, error.reason


def _payload(run: Any) -> str:
    return json.dumps(wire_payload(run), ensure_ascii=False, separators=(",", ":"))


def _from_results(results: Any) -> Outcome:
    payloads: list[str] = []
    errors = []
    for result in results:
        if result.run is not None:
            payloads.append(_payload(result.run))
        else:
            errors.append(_error(result.error))
    return payloads, errors


def _from_pool(path: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.setattr(pool, "CHUNK_BYTES", 300)  # several chunks, so several workers busy
    settings = pool.ChunkSettings(keep_going=True)
    payloads: list[str] = []
    errors = []
    with open_source(path) as source:
        for _, result in pool.convert_input(source, settings, workers):
            output = io.BytesIO()
            write_output(result.output, result.spooled, output)
            payloads += output.getvalue().decode().splitlines()
            errors += [_error(error) for error in result.errors]
    return payloads, errors


def _from_cli_stdin(data: bytes) -> Outcome:
    """`convert -` for the payloads, `check - --format json` for the errors, on stdin."""
    command = [sys.executable, "-m", "nemogym_ingest"]
    converted = subprocess.run(
        [*command, "convert", "-", "--keep-going", "-j", "1", "-q"],
        input=data,
        capture_output=True,
        check=False,
    )
    assert converted.returncode == 1, converted.stderr
    checked = subprocess.run(
        [*command, "check", "-", "--format", "json", "-q"],
        input=data,
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    errors = [
        (error["file"], error["line"], error["path"], error["rule"], error["reason"])
        for error in report["errors"]
    ]
    return converted.stdout.decode().splitlines(), errors


def _renamed(outcome: Outcome, file: str | None) -> Outcome:
    payloads, errors = outcome
    return payloads, [(file, *error[1:]) for error in errors]


def test_every_way_in_reads_the_same_rollouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _mixed_bytes()
    plain = tmp_path / "rollouts.jsonl"
    plain.write_bytes(data)
    packed = tmp_path / "rollouts.jsonl.gz"
    packed.write_bytes(gzip.compress(data))

    reference = _from_results(iter_nemogym_jsonl_results(plain))
    payloads, errors = reference
    assert len(payloads) == 3
    assert [(line, path, rule) for _, line, path, rule, _ in errors] == [
        (3, "", "R64"),
        (5, "agent_ref", "R10"),
        (6, "", "R63"),
        (9, "", "R64"),
    ]
    assert {file for file, *_ in errors} == {str(plain)}

    ways: dict[str, tuple[Outcome, str | None]] = {
        "gzip path": (_from_results(iter_nemogym_jsonl_results(packed)), str(packed)),
        "upload reader": (
            _from_results(iter_results(plain, ConversionOptions())),
            str(plain),
        ),
        "pool, 1 worker": (_from_pool(plain, 1, monkeypatch), str(plain)),
        "pool, 2 workers": (_from_pool(plain, 2, monkeypatch), str(plain)),
        "pool, 2 workers, gzip": (_from_pool(packed, 2, monkeypatch), str(packed)),
        "CLI stdin": (_from_cli_stdin(data), "<stdin>"),
    }
    with plain.open("rb") as stream:
        ways["file object"] = (_from_results(iter_nemogym_jsonl_results(stream)), str(plain))
    ways["gzip in memory"] = (
        _from_results(iter_nemogym_jsonl_results(io.BytesIO(gzip.compress(data)))),
        None,
    )
    for way, (outcome, file) in ways.items():
        assert outcome == _renamed(reference, file), way


def test_results_give_each_non_blank_line_once_and_never_stop(tmp_path: Path) -> None:
    path = tmp_path / "rollouts.jsonl"
    path.write_bytes(_mixed_bytes())
    results = list(iter_nemogym_jsonl_results(path))
    assert [result.line for result in results] == [1, 3, 4, 5, 6, 8, 9]
    assert all((result.run is None) != (result.error is None) for result in results)
    assert [result.line for result in results if result.run is not None] == [1, 4, 8]
    names = [result.run.name for result in results if result.run is not None]
    assert names == [f"agent/task/{task}/rollout/0" for task in (1, 4, 8)]
    rejected = {result.line: result.error for result in results if result.error is not None}
    assert {line: (error.file, error.line) for line, error in rejected.items()} == {
        line: (str(path), line) for line in (3, 5, 6, 9)
    }
    assert rejected[5].option == "agent_name"
    assert isinstance(results[0], LineResult)
    assert results[0].rescuing == ()


def test_results_apply_the_options(tmp_path: Path) -> None:
    path = tmp_path / "rollouts.jsonl"
    path.write_bytes(_mixed_bytes())
    options = ConversionOptions(agent_name="named")
    results = list(iter_nemogym_jsonl_results(path, options=options))
    assert [result.line for result in results if result.run is not None] == [1, 4, 5, 8]


def test_an_unreadable_source_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        iter_nemogym_jsonl_results(tmp_path / "missing.jsonl")
    assert (caught.value.rule, caught.value.path, caught.value.line) == ("R68", "", None)
    assert isinstance(caught.value, ConversionError)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(json.dumps(_rollout()).encode() * 50)[:-20])
    with pytest.raises(InputError) as caught:
        list(iter_nemogym_jsonl_results(broken))
    assert (caught.value.file, caught.value.line, caught.value.rule) == (str(broken), 1, "R68")


def test_an_unreadable_input_error_crosses_processes_intact() -> None:
    error = InputError("Permission denied", file="secret.jsonl", line=4)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InputError
    assert (str(copy), copy.reason, copy.rule, copy.file, copy.line) == (
        "secret.jsonl:4: cannot read file: Permission denied",
        "cannot read file: Permission denied",
        "R68",
        "secret.jsonl",
        4,
    )


def test_library_reads_gzip_and_file_objects(tmp_path: Path) -> None:
    plain = tmp_path / "good.jsonl"
    plain.write_text("".join(json.dumps(_rollout(task)) + "\n" for task in range(3)))
    packed = tmp_path / "good.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    expected = [run.to_dict() for run in iter_nemogym_jsonl(plain)]
    assert len(expected) == 3
    assert [run.to_dict() for run in convert_nemogym_jsonl_file_to_agent_runs(packed)] == expected
    with packed.open("rb") as file:
        assert [run.to_dict() for run in iter_nemogym_jsonl(file)] == expected
        assert not file.closed  # the caller's file stays the caller's
    with plain.open() as text, pytest.raises(TypeError, match="'rb'"):
        iter_nemogym_jsonl(text)  # type: ignore[arg-type]


# --- the command line ------------------------------------------------------------------------


def _write(path: Path, tasks: range, bad: int | None = None) -> Path:
    rows = [_rollout(task) for task in tasks]
    if bad is not None:
        del rows[bad]["agent_ref"]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _names(text: str) -> list[str]:
    return [json.loads(line)["name"] for line in text.splitlines()]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_convert_takes_several_inputs_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    first = _write(tmp_path / "a.jsonl", range(0, 3))
    second = tmp_path / "b.jsonl.gz"
    second.write_bytes(gzip.compress(_write(tmp_path / "b.jsonl", range(3, 5)).read_bytes()))
    target = tmp_path / "runs.jsonl"
    assert main(["convert", str(first), str(second), "-o", str(target), "-j", workers]) == 0
    assert _names(target.read_text()) == [f"agent/task/{task}/rollout/0" for task in range(5)]
    capsys.readouterr()
    bad = _write(tmp_path / "bad.jsonl", range(5, 7), bad=1)
    assert main(["convert", str(first), str(bad), "-k", "-j", workers]) == 1
    captured = capsys.readouterr()
    assert _names(captured.out) == [f"agent/task/{task}/rollout/0" for task in (0, 1, 2, 5)]
    assert captured.err.startswith(f"{bad}:2: agent_ref: ")


def test_convert_stops_at_an_unreadable_input_without_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _write(tmp_path / "a.jsonl", range(2))
    target = tmp_path / "runs.jsonl"
    missing = tmp_path / "missing.jsonl"
    assert main(["convert", str(first), str(missing), "-o", str(target)]) == 2
    assert capsys.readouterr().err.startswith(f"nemogym-ingest: {missing}: cannot read file: ")
    assert not target.exists()


@pytest.mark.parametrize("spelling", ["same", "dot-slash", "symlink", "hard link"])
def test_convert_refuses_to_write_over_an_input(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    source = _write(tmp_path / "x.jsonl", range(2))
    before = source.read_bytes()
    output = {"same": "x.jsonl", "dot-slash": "./x.jsonl"}.get(spelling, "y.jsonl")
    if spelling == "symlink":
        os.symlink("x.jsonl", "y.jsonl")
    elif spelling == "hard link":
        os.link("x.jsonl", "y.jsonl")
    other = _write(tmp_path / "other.jsonl", range(2, 3))
    assert main(["convert", str(other), "x.jsonl", "-o", output]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"nemogym-ingest: {output}: the output is the input x.jsonl; nothing written "
        "(convert never changes an input)\n"
    )
    assert source.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["x.jsonl", "other.jsonl"] + (["y.jsonl"] if output == "y.jsonl" else [])
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    from importlib.metadata import version

    assert nemogym_ingest.__version__ == version("nemogym-ingest")
    assert capsys.readouterr().out == f"nemogym-ingest {nemogym_ingest.__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "x.jsonl"],
        ["check", "x.jsonl"],
        ["upload", "x.jsonl", "--collection-id", "c"],
        ["conformance", "--python", "m:f"],
    ],
)
def test_a_usage_error_shows_the_subcommands_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    command = argv[0]
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--no-such-flag"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: nemogym-ingest {command} ")
    assert err.endswith(f"{command}: error: unrecognized arguments: --no-such-flag\n")


def test_parallelism_is_workers_everywhere() -> None:
    from nemogym_ingest.cli import build_parser

    parser = build_parser()
    for command in ("convert", "check"):
        assert parser.parse_args([command, "x", "-j", "3"]).workers == 3
        assert parser.parse_args([command, "x", "--workers", "4"]).workers == 4
    assert parser.parse_args(["conformance", "--python", "m:f", "-j", "3"]).jobs == 3
    assert parser.parse_args(["conformance", "--python", "m:f", "--workers", "4"]).jobs == 4
    assert parser.parse_args(["conformance", "--python", "m:f", "--jobs", "5"]).jobs == 5
    assert parser.parse_args(["conformance", "--python", "m:f"]).jobs == (os.cpu_count() or 1)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    help_text = commands.choices["conformance"].format_help()
    assert "-j N, --workers N" in help_text
    assert "--jobs" not in help_text


def test_strategies_without_hypothesis_name_the_testing_extra() -> None:
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n"
        "    import nemogym_ingest.testing.strategies\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    (hint,) = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())[
        "project"
    ]["optional-dependencies"]["testing"]
    assert f"pip install '{hint}' (the testing extra" in completed.stdout
