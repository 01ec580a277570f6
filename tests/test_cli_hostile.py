"""The command line under hostile and broken input: exit status, one clear message, no
traceback, no output file left behind, an existing output untouched, the input unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from nemogym_ingest import iter_nemogym_jsonl
from nemogym_ingest.cli import main
from tests.test_hostile import GOOD, nested_literal, rollout_line

CASES_DIR = Path(__file__).resolve().parent.parent / "spec" / "cases" / "jsonl"

# name -> (file content, exit status, the line and path the message names or None)
REJECTED = 1
UNREADABLE = 2
HOSTILE_FILES: dict[str, tuple[bytes, int, str | None]] = {
    "nan": (rollout_line(verifier_metadata="NaN"), REJECTED, ":1: verifier_metadata: nan is"),
    "infinity-reward": (rollout_line(reward="-Infinity"), REJECTED, ":1: reward: -inf is"),
    "overflow": (rollout_line(reward="1e400"), REJECTED, ":1: reward: inf is"),
    "huge-integer": (
        GOOD + b"\n" + rollout_line(_ng_task_index="4" * 100_000),
        REJECTED,
        ":2: _ng_task_index: integer has more than 4000 digits",
    ),
    "deep-10000": (
        rollout_line(verifier_metadata=nested_literal(10_000)),
        REJECTED,
        ":1: nested deeper than 200 levels",
    ),
    "deep-1000000": (
        b"\n" + rollout_line(response__output__2__output=nested_literal(1_000_000)),
        REJECTED,
        ":2: nested deeper than 200 levels",
    ),
    "invalid-utf8-line-3": (
        GOOD + b"\n" + GOOD + b"\n" + GOOD.replace(b"SF?", b"S\xff?") + b"\n",
        REJECTED,
        ":3: invalid UTF-8 at byte",
    ),
    "nul-byte": (GOOD + b"\n\x00\n", REJECTED, ":2: invalid JSON: "),
    "truncated-last-line": (GOOD + b"\n" + GOOD[:-40], REJECTED, ":2: invalid JSON: "),
    "lone-cr": (GOOD + b"\r" + GOOD, REJECTED, ":1: invalid JSON: a lone CR at column "),
    "binary-garbage": (bytes(range(256)) * 4, REJECTED, ":1: invalid JSON: Expecting value"),
    "not-an-object": (b"[" + GOOD + b"]\n", REJECTED, ":1: must be an object, got an array"),
    "empty": (b"", 0, None),
    "blank-lines": (b"\n \n\t\r\n\r\n", 0, None),
    "bom-crlf": (b"\xef\xbb\xbf" + GOOD + b"\r\n" + GOOD + b"\r\n", 0, None),
    "duplicate-keys": (GOOD[:-1] + b', "_ng_task_index": 9}', 0, None),
    "nesting-200-levels": (
        rollout_line(verifier_metadata=nested_literal(199))
        + b"\n"
        + rollout_line(response__output__2__output='{"a": ' + nested_literal(195) + "}"),
        0,
        None,
    ),
    "lone-surrogates": (
        GOOD + b"\n" + rollout_line(verifier_metadata='"ok \\ud800 \\udfff"'),
        REJECTED,
        ":2: verifier_metadata: string holds a lone surrogate U+D800 at index 3, which is not",
    ),
    "surrogate-pair": (rollout_line(verifier_metadata='"\\ud83d\\ude00"'), 0, None),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", HOSTILE_FILES)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_convert_each_hostile_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, workers: str
) -> None:
    data, status, message = HOSTILE_FILES[name]
    source = tmp_path / f"{name}.jsonl"
    source.write_bytes(data)
    before = _digest(source)
    output = tmp_path / "out" / "runs.jsonl"
    output.parent.mkdir()
    assert main(["convert", str(source), "-o", str(output), "-q", "--workers", workers]) == status
    err = capsys.readouterr().err
    assert _digest(source) == before
    if message is None:
        assert err == ""
        assert output.read_bytes().count(b"\n") == data.count(b'"responses_create_params"')
    else:
        assert f"{source}{message}" in err
        assert err.count("\n") == 1, err
        assert os.listdir(output.parent) == []  # no output, no temporary file


@pytest.mark.parametrize("name", [name for name, spec in HOSTILE_FILES.items() if not spec[2]])
def test_accepted_hostile_files_give_the_library_payloads(tmp_path: Path, name: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(HOSTILE_FILES[name][0])
    output = tmp_path / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(output), "-q", "--workers", "2"]) == 0
    expected = [json.dumps(run.to_dict()) for run in iter_nemogym_jsonl(source)]
    assert [json.dumps(json.loads(line)) for line in output.read_text().splitlines()] == expected


@pytest.mark.parametrize("name", [name for name, spec in HOSTILE_FILES.items() if spec[2]])
def test_a_failed_convert_leaves_an_existing_output_untouched(tmp_path: Path, name: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(HOSTILE_FILES[name][0])
    output = tmp_path / "runs.jsonl"
    output.write_bytes(b"previous results\n")
    assert main(["convert", str(source), "-o", str(output), "-q", "--workers", "1"]) == REJECTED
    assert output.read_bytes() == b"previous results\n"
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "runs.jsonl"]


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_check_each_hostile_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    data, status, message = HOSTILE_FILES[name]
    source = tmp_path / f"{name}.jsonl"
    source.write_bytes(data)
    assert main(["check", str(source), "-q", "--workers", "1"]) == status
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "checked 1 file" in text
    if message is not None:
        assert f"{source}{message}" in text
        assert " 0 rejected" not in text


def test_keep_going_over_a_file_of_every_hostile_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad line is reported with its number; the good lines are all written."""
    bad = [
        data.rstrip(b"\n").split(b"\n")[-1]
        for name, (data, status, _) in HOSTILE_FILES.items()
        if status == REJECTED and name != "binary-garbage"  # its bytes hold line ends
    ]
    lines = [GOOD]
    for line in bad:
        lines += [line, GOOD]
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    output = tmp_path / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(output), "-q", "-k", "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert output.read_bytes().count(b"\n") == len(bad) + 1
    for number in range(2, 2 * len(bad) + 1, 2):
        assert f"{source}:{number}: " in err
    assert f"{len(bad)} of {2 * len(bad) + 1} rollout lines rejected" in err


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: tmp / "missing.jsonl", "No such file or directory"),
        (lambda tmp: tmp / ("x" * 5000), "File name too long"),
    ],
    ids=["directory", "missing", "name-too-long"],
)
@pytest.mark.parametrize("command", ["convert", "check"])
def test_unreadable_inputs_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    reason: str,
    command: str,
) -> None:
    source = make(tmp_path)
    output = tmp_path / "runs.jsonl"
    extra = ["-o", str(output)] if command == "convert" else []
    assert main([command, str(source), "-q", *extra]) == UNREADABLE
    err = capsys.readouterr().err
    assert reason in err and str(source) in err
    assert not output.exists()


def test_truncated_gz_input_exits_2_without_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "rollouts.jsonl.gz"
    source.write_bytes(gzip.compress(GOOD + b"\n" + GOOD + b"\n")[:-12])
    output = tmp_path / "runs.jsonl"
    assert main(["convert", str(source), "-o", str(output), "-q"]) == UNREADABLE
    assert str(source) in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["rollouts.jsonl.gz"]


def test_a_gz_name_on_plain_bytes_is_read_as_plain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "rollouts.jsonl.gz"
    source.write_bytes(b"not gzip at all\n")
    assert main(["convert", str(source), "-q"]) == REJECTED
    assert f"{source}:1: invalid JSON: " in capsys.readouterr().err


def test_hostile_gz_content_is_rejected_like_plain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "rollouts.jsonl.gz"
    source.write_bytes(gzip.compress(HOSTILE_FILES["deep-10000"][0]))
    assert main(["convert", str(source), "-q"]) == REJECTED
    assert f"{source}:1: nested deeper than 200 levels" in capsys.readouterr().err


# --- the real process: no traceback, stdin, a FIFO -----------------------------------------


def _run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["deep-1000000", "invalid-utf8-line-3", "huge-integer"])
def test_the_process_exits_1_without_a_traceback(tmp_path: Path, name: str) -> None:
    data, _, message = HOSTILE_FILES[name]
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    result = _run("convert", str(source), "-o", str(tmp_path / "out.jsonl"), "-q")
    assert result.returncode == REJECTED
    assert b"Traceback" not in result.stderr
    assert f"{source}{message}".encode() in result.stderr
    assert os.listdir(tmp_path) == ["in.jsonl"]


def test_hostile_stdin(tmp_path: Path) -> None:
    data = GOOD + b"\n" + rollout_line(verifier_metadata=nested_literal(50_000)) + b"\n"
    result = _run("convert", "-", "-o", str(tmp_path / "out.jsonl"), "-q", stdin=data)
    assert result.returncode == REJECTED
    assert b"Traceback" not in result.stderr
    assert b":2: nested deeper than 200 levels" in result.stderr
    assert os.listdir(tmp_path) == []
    empty = _run("convert", "-", "-q")
    assert (empty.returncode, empty.stdout, empty.stderr) == (0, b"", b"")


def test_a_fifo_input(tmp_path: Path) -> None:
    fifo = tmp_path / "rollouts.fifo"
    os.mkfifo(fifo)

    def produce() -> None:
        with open(fifo, "wb") as writer:
            writer.write(GOOD + b"\n" + GOOD[:-1] + b"\xff}\n")

    producer = threading.Thread(target=produce)
    producer.start()
    result = _run("convert", str(fifo), "-q")
    producer.join(timeout=30)
    assert result.returncode == REJECTED
    assert result.stdout.count(b"\n") <= 1  # stdout may hold line 1's run
    assert f"{fifo}:2: invalid UTF-8 at byte".encode() in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", ["convert", "check"])
def test_a_full_disk_on_stdout_exits_2_without_a_traceback(command: str) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples" / "rollouts.jsonl"
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "nemogym_ingest", command, str(examples), "-q"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    assert result.returncode == UNREADABLE
    assert result.stderr == b"nemogym-ingest: stdout: cannot write: No space left on device\n"
