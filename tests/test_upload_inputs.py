"""What `upload` takes (issue 38): `convert`'s output (AgentRun payloads, sent as they are),
several files and stdin, as `convert` does; and an input with nothing to upload is refused
before any collection is created."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from nemogym_ingest.cli import main
from nemogym_ingest.docent import NewCollection, NothingToUpload, PayloadError, upload
from tests.fake_docent_server import FakeDocentServer
from tests.test_upload import EXAMPLE_FILE, arrived, rollouts_file, run_cli
from tests.test_upload import docent_env as _docent_env
from tests.test_upload import server as _server

server = _server
"""The fake Docent server of test_upload, and its SDK settings for each test."""
docent_env = _docent_env


def converted(tmp_path: Path, *inputs: Path, name: str = "runs.jsonl") -> Path:
    output = tmp_path / name
    assert main(["convert", "-q", *map(str, inputs), "-o", str(output)]) == 0
    return output


def test_convert_s_output_uploads_the_same_runs_as_the_rollouts(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("rollouts", "runs", "runs.gz"):
        server.add_collection(name)
    runs = converted(tmp_path, EXAMPLE_FILE)
    runs_gz = converted(tmp_path, EXAMPLE_FILE, name="runs.jsonl.gz")
    for collection, path in (("rollouts", EXAMPLE_FILE), ("runs", runs), ("runs.gz", runs_gz)):
        status, out, err = run_cli(capsys, str(path), "--collection-id", collection)
        assert (status, err) == (0, "")
        assert out.startswith("uploaded 5 runs (")
    assert arrived(server, "runs") == arrived(server, "rollouts") == arrived(server, "runs.gz")
    assert len(arrived(server, "runs")) == 5


def test_payload_lines_are_sent_as_they_are(server: FakeDocentServer, tmp_path: Path) -> None:
    """A payload is not converted again: a member our converter never writes arrives too."""
    server.add_collection("c1")
    lines = converted(tmp_path, EXAMPLE_FILE).read_text(encoding="utf-8").splitlines()
    payload = json.loads(lines[0])
    payload["metadata"]["reviewer"] = "added by hand"
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    result = upload("c1", edited)
    assert result.uploaded == 1
    assert arrived(server, "c1") == [payload]


def test_a_bad_payload_line_stops_before_anything_is_sent(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = converted(tmp_path, EXAMPLE_FILE).read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["transcripts"][0]["messages"][0]["role"] = "narrator"
    rollout = EXAMPLE_FILE.read_text(encoding="utf-8").splitlines()[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f"{lines[0]}\n{json.dumps(broken)}\n{rollout}\n", encoding="utf-8")
    status, out, err = run_cli(capsys, str(bad), "--new-collection", "x")
    assert (status, out) == (1, "")
    first = err.splitlines()[0]
    assert first.startswith(f"{bad}:2: transcripts[0].messages[0]")
    assert "not a Docent AgentRun" in first
    assert server.collections == {} and server.requests == []
    assert err.splitlines()[1] == (
        "nemogym-ingest: nothing was uploaded (AgentRun payloads are sent as they are: fix or "
        "remove the line)"
    )
    bad.write_text(f"{lines[0]}\n{rollout}\n", encoding="utf-8")
    status, out, err = run_cli(capsys, str(bad), "--new-collection", "x", "-k")
    assert (status, out) == (1, "")
    assert err.startswith(
        f"{bad}:2: not an AgentRun payload (an object with transcripts), in a file whose first "
        "line is one"
    )
    assert server.collections == {} and server.requests == []
    with pytest.raises(PayloadError) as raised:
        upload(NewCollection("x"), bad, keep_going=True)
    assert (raised.value.file, raised.value.line, raised.value.path) == (str(bad), 2, "")


@pytest.mark.parametrize(
    ("content", "args"),
    [
        (b"", []),
        (b"\n  \n", []),
        (b'{"response": {"output": []}}\n', ["-k"]),
        (b'{"_ng_failure_class": "agent_request_failed", "_ng_failure_message": "x"}\n', []),
    ],
    ids=["empty", "blank", "every-line-left-out", "failed-attempts-only"],
)
def test_nothing_to_upload_creates_no_collection(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes,
    args: list[str],
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(content)
    status, out, err = run_cli(capsys, str(empty), "--new-collection", "x", *args)
    assert (status, out) == (1, "")
    assert err.splitlines()[-1] == (
        f"nemogym-ingest: nothing to upload: no run in {empty}; no collection was created or used"
    )
    assert server.requests == []
    with pytest.raises(NothingToUpload):
        upload(NewCollection("x"), empty, keep_going=True)
    assert server.requests == []


def test_several_files_and_stdin_are_uploaded_in_order(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    first = rollouts_file(tmp_path, 3, name="first.jsonl")
    second = converted(tmp_path, rollouts_file(tmp_path, 2, name="second.jsonl"))
    server.add_collection("separately")
    for path in (first, second, EXAMPLE_FILE):
        assert run_cli(capsys, str(path), "--collection-id", "separately")[0] == 0
    stdin = io.TextIOWrapper(io.BytesIO(EXAMPLE_FILE.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, err = run_cli(capsys, str(first), str(second), "-", "--new-collection", "all")
    assert (status, err) == (0, "")
    assert out.startswith("uploaded 10 runs (")
    collection = next(name for name in server.collections if name != "separately")
    assert arrived(server, collection) == arrived(server, "separately")


def test_a_stopped_upload_of_several_files_resumes_with_all_of_them(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = rollouts_file(tmp_path, 3, name="first.jsonl")
    second = rollouts_file(tmp_path, 3, name="second.jsonl")
    server.add_collection("c1")
    server.post_answers = [202, 400]
    args = [str(first), str(second), "--collection-id", "c1", "--chunk-size", "2"]
    status, _, err = run_cli(capsys, *args)
    assert status == 4
    resume = f"nemogym-ingest upload {first} {second} --collection-id c1 --skip 2 --chunk-size 2"
    assert resume in err
    status, _, _ = run_cli(capsys, *args, "--skip", "2")
    assert status == 0
    assert len(arrived(server, "c1")) == 6


def test_a_data_folder_uploads_its_rollouts_and_leaves_out_the_task_inputs(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.test_cli_new_user import TASK_INPUTS, data_folder

    folder = data_folder(tmp_path)
    inputs = sorted(str(path) for path in folder.glob("*.jsonl"))
    status, out, err = run_cli(capsys, *inputs, "--new-collection", "folder")
    assert status == 0
    assert err == (
        f"{folder / 'example.jsonl'}: NeMo Gym task inputs (2 rows with responses_create_params "
        "and no response): nothing to convert\n"
    )
    assert "left out 1 input that holds no rollout" in out
    (collection,) = server.collections
    server.add_collection("rollouts")
    rollouts = [folder / "example_rollouts.jsonl", folder / "example_rollouts_failures.jsonl"]
    assert run_cli(capsys, *map(str, rollouts), "--collection-id", "rollouts")[0] == 0
    assert arrived(server, collection) == arrived(server, "rollouts")
    status, out, err = run_cli(capsys, str(TASK_INPUTS), "--new-collection", "none")
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{TASK_INPUTS}: NeMo Gym task inputs (2 rows with responses_create_params and no "
        "response): nothing to convert",
        f"nemogym-ingest: nothing to upload: no run in {TASK_INPUTS}; no collection was created "
        "or used",
    ]
