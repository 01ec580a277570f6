"""`nemogym_ingest.docent.upload` and `nemogym-ingest upload`: the real docent 0.1.88 SDK
client against a local fake of the Docent API (tests/fake_docent_server.py)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docent.sdk._base
import pytest
import requests
from docent import Docent

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
)
from nemogym_ingest.cli import main
from nemogym_ingest.docent import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_TIMEOUT,
    NewCollection,
    UploadError,
    UploadProgress,
    upload,
)
from nemogym_ingest.source import InputError
from nemogym_ingest.wire import normalize_payload
from tests.fake_docent_server import FakeDocentServer, PostAnswer, point_sdk_at, wire_payload
from tests.test_convert import make_rollout

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "examples" / "rollouts.jsonl"
BAD_LINE = b'{"response": {"output": []}}'  # line error at responses_create_params


@pytest.fixture
def server() -> Iterator[FakeDocentServer]:
    fake = FakeDocentServer()
    fake.start()
    yield fake
    fake.stop()
    assert fake.unexpected == [], "the SDK called endpoints the fake does not implement"
    assert fake.errors == [], "the fake server failed"


@pytest.fixture(autouse=True)
def docent_env(
    server: FakeDocentServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """The SDK configured by environment for the fake server, and nothing else: no
    docent.env is found (cwd and HOME are empty), and its logger starts afresh."""
    point_sdk_at(server, monkeypatch, tmp_path)
    logger = logging.getLogger("docent.sdk._base")
    saved = (logger.handlers, logger.level, logger.propagate)
    logger.handlers = []
    logger.propagate = True
    yield
    logger.handlers, level, logger.propagate = saved
    logger.setLevel(level)


def rollouts_file(
    tmp_path: Path, count: int, bad_lines: tuple[int, ...] = (), name: str = "rollouts.jsonl"
) -> Path:
    """`count` good rollouts, numbered from 0, with BAD_LINE at the given (1-based) lines."""
    lines: list[bytes] = []
    good = 0
    while good < count or len(lines) + 1 in bad_lines:
        if len(lines) + 1 in bad_lines:
            lines.append(BAD_LINE)
        else:
            rollout = make_rollout(input_=f"question {good}", _ng_rollout_index=good)
            lines.append(json.dumps(rollout).encode())
            good += 1
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def payloads(path: Path) -> list[dict[str, Any]]:
    """Our payloads of a file's good lines, in order."""
    return [
        convert_nemogym_rollout_to_agent_run(json.loads(raw)).to_dict()
        for raw in path.read_bytes().splitlines()
        if raw != BAD_LINE
    ]


def arrived(server: FakeDocentServer, collection_id: str) -> list[dict[str, Any]]:
    """What the collection holds, as our payloads (ids removed)."""
    return [wire_payload(run) for run in server.collections[collection_id].runs]


def agent_runs_posts(server: FakeDocentServer) -> list[str]:
    return [path for path in server.paths() if path.endswith("/agent_runs")]


# --- the library -----------------------------------------------------------------------------


def test_uploads_every_run_in_order_in_chunks(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    updates: list[UploadProgress] = []
    result = upload("c1", EXAMPLE_FILE, chunk_size=2, on_progress=updates.append)

    expected = [run.to_dict() for run in iter_nemogym_jsonl(EXAMPLE_FILE)]
    assert arrived(server, "c1") == expected
    assert [len(post.runs) for post in server.posts] == [2, 2, 1]
    assert all(post.content_encoding == "gzip" for post in server.posts)
    assert all(post.content_type == "application/json" for post in server.posts)
    assert [wire_payload(run) for post in server.posts for run in post.runs] == expected
    assert (result.collection_id, result.uploaded, result.chunks, result.skipped) == ("c1", 5, 3, 0)
    assert result.bytes == sum(post.body_bytes for post in server.posts)
    assert server.paths() == [
        "GET /rest/api-keys/test",
        "GET /rest/c1/collection_details",
        *[
            request
            for _ in range(3)
            for request in (
                "POST /rest/c1/agent_runs",
                "POST /rest/c1/agent_runs/jobs/batch_status",
            )
        ],
    ]
    uploading = [update for update in updates if update.phase == "uploading"]
    assert [(update.runs, update.total) for update in uploading] == [
        (0, 5),
        (2, 5),
        (4, 5),
        (5, 5),
    ]
    checking = [update for update in updates if update.phase == "checking"]
    assert checking[-1].runs == 5
    assert checking[-1].position == checking[-1].total == EXAMPLE_FILE.stat().st_size


def test_every_run_gets_its_own_docent_ids(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    upload("c1", EXAMPLE_FILE)
    runs = server.collections["c1"].runs
    ids = [run["id"] for run in runs] + [t["id"] for run in runs for t in run["transcripts"]]
    assert len(set(ids)) == len(ids) == 10


TRACE_FILE = Path(__file__).resolve().parent / "data" / "trajectory" / "opencode_nested.jsonl"


def test_transcript_groups_get_fresh_ids_on_every_upload(server: FakeDocentServer) -> None:
    """R87: a payload's group ids are local; two uploads of one file never share one, and
    each transcript's and child group's link resolves within its run."""
    server.add_collection("c1")
    options = ConversionOptions(trajectory="transcripts")
    upload("c1", TRACE_FILE, options=options)
    upload("c1", TRACE_FILE, options=options)
    first, second = server.collections["c1"].runs
    ids = [{group["id"] for group in run["transcript_groups"]} for run in (first, second)]
    assert len(ids[0]) == 3 and not ids[0] & ids[1]
    for run, groups in zip((first, second), ids, strict=True):
        assert {t["transcript_group_id"] for t in run["transcripts"][1:]} == groups
        parents = {g["parent_transcript_group_id"] for g in run["transcript_groups"]}
        assert parents - {None} < groups
    expected = [run.to_dict() for run in iter_nemogym_jsonl(TRACE_FILE, options=options)]
    assert arrived(server, "c1") == [normalize_payload(expected[0])] * 2


def test_new_collection_is_created_after_the_check(server: FakeDocentServer) -> None:
    result = upload(NewCollection("my eval", "from NeMo Gym"), EXAMPLE_FILE)
    collection = server.collections[result.collection_id]
    assert (collection.name, collection.description) == ("my eval", "from NeMo Gym")
    assert arrived(server, result.collection_id) == [
        run.to_dict() for run in iter_nemogym_jsonl(EXAMPLE_FILE)
    ]


def test_chunks_stay_under_the_byte_limit(server: FakeDocentServer, tmp_path: Path) -> None:
    server.add_collection("c1")
    path = tmp_path / "rollouts.jsonl"
    sizes = [1, 1, 1, 1, 30, 1, 1]  # in units of ~1 kB of user text
    rollouts = [
        make_rollout(input_="x" * 1000 * size, _ng_rollout_index=index)
        for index, size in enumerate(sizes)
    ]
    path.write_text("".join(json.dumps(rollout) + "\n" for rollout in rollouts))
    limit = 6_000  # three small runs (~1.7 kB each); the big one (~31 kB) alone
    result = upload("c1", path, chunk_size=100, chunk_bytes=limit)
    assert [post.run_count for post in server.posts] == [3, 1, 1, 2]
    assert [post.body_bytes > limit for post in server.posts] == [False, False, True, False]
    assert result.bytes == sum(post.body_bytes for post in server.posts)
    assert arrived(server, "c1") == payloads(path)


def test_a_run_over_the_request_limit_stops_at_its_chunk(
    server: FakeDocentServer, tmp_path: Path
) -> None:
    server.add_collection("c1")
    path = tmp_path / "rollouts.jsonl"
    small = [make_rollout(_ng_rollout_index=index) for index in range(3)]
    huge = make_rollout(input_="x" * 20_000, _ng_rollout_index=3)
    path.write_text("\n".join(json.dumps(rollout) for rollout in [*small, huge]) + "\n")
    with pytest.raises(UploadError) as caught:
        upload("c1", path, chunk_size=2, max_request_bytes=15_000)
    error = caught.value
    assert (error.chunk, error.first_run, error.last_run, error.accepted) == (3, 4, 4, 3)
    assert "over the 15000 bytes Docent accepts in one request" in error.reason
    assert len(arrived(server, "c1")) == 3


def test_gzip_input(server: FakeDocentServer, tmp_path: Path) -> None:
    server.add_collection("c1")
    path = tmp_path / "rollouts.jsonl.gz"
    path.write_bytes(gzip.compress(EXAMPLE_FILE.read_bytes()))
    assert upload("c1", path).uploaded == 5
    assert arrived(server, "c1") == [run.to_dict() for run in iter_nemogym_jsonl(EXAMPLE_FILE)]


def test_runs_iterable_is_streamed(server: FakeDocentServer, tmp_path: Path) -> None:
    """Memory holds one chunk: when a request arrives, only its runs and those before
    have been taken from the input."""
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 10)
    taken: list[int] = []
    taken_at_posts: list[int] = []
    server.on_post.append(lambda: taken_at_posts.append(len(taken)))

    def runs() -> Iterator[AgentRun]:
        for run in iter_nemogym_jsonl(path):
            taken.append(1)
            yield run

    result = upload("c1", runs(), chunk_size=3)
    assert taken_at_posts == [3, 6, 9, 10]
    assert result.uploaded == 10
    assert arrived(server, "c1") == payloads(path)


def test_an_iterable_that_fails_says_what_is_in(server: FakeDocentServer, tmp_path: Path) -> None:
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 5, bad_lines=(4,))
    with pytest.raises(UploadError) as caught:
        upload("c1", iter_nemogym_jsonl(path), chunk_size=2)
    error = caught.value
    assert (error.chunk, error.accepted) == (2, 2)
    assert error.reason == (
        f"the runs given stopped with an error: {path}:4: responses_create_params: is missing"
    )
    assert arrived(server, "c1") == payloads(path)[:2]


def test_a_bad_line_stops_before_anything_is_sent(server: FakeDocentServer, tmp_path: Path) -> None:
    path = rollouts_file(tmp_path, 4, bad_lines=(3,))
    with pytest.raises(ConversionError) as caught:
        upload(NewCollection("never"), path)
    assert (caught.value.line, caught.value.path) == (3, "responses_create_params")
    assert server.paths() == []  # the file is checked before logging in
    assert server.collections == {}


def test_keep_going_leaves_bad_lines_out(server: FakeDocentServer, tmp_path: Path) -> None:
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 5, bad_lines=(1, 4, 7))
    reported: list[ConversionError] = []
    result = upload("c1", path, chunk_size=2, keep_going=True, on_rejected=reported.append)
    assert [error.line for error in reported] == [1, 4, 7]
    assert [error.line for error in result.rejected] == [1, 4, 7]
    assert all(error.file == str(path) for error in reported)
    assert result.uploaded == 5
    assert arrived(server, "c1") == payloads(path)


def test_a_5xx_is_retried_by_the_sdk(
    server: FakeDocentServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK retries a POST answered 5xx (3 times, after 1, 2, 4 s): nothing is lost or
    sent twice."""
    waits: list[float] = []
    monkeypatch.setattr(docent.sdk._base.time, "sleep", waits.append)
    server.add_collection("c1")
    server.post_answers = [202, 503]  # the second chunk's first attempt fails
    result = upload("c1", EXAMPLE_FILE, chunk_size=2)
    assert [post.status for post in server.posts] == [202, 503, 202, 202]
    assert waits == [1.0]
    assert server.posts[1].runs == server.posts[2].runs
    assert result.uploaded == 5
    assert arrived(server, "c1") == [run.to_dict() for run in iter_nemogym_jsonl(EXAMPLE_FILE)]
    assert "Server error 503 on POST" in caplog.text


def test_a_lasting_5xx_names_the_chunk_and_skip_resumes(
    server: FakeDocentServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(docent.sdk._base.time, "sleep", waits.append)
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 7)
    server.post_answers = [202, 500, 500, 500, 500]
    with pytest.raises(UploadError) as caught:
        upload("c1", path, chunk_size=3)
    error = caught.value
    assert waits == [1.0, 2.0, 4.0]  # the SDK's own backoff, then it gives up
    assert (error.chunk, error.first_run, error.last_run, error.accepted) == (2, 4, 6, 3)
    assert not error.uncertain
    assert str(error) == (
        "chunk 2 (runs 4-6) was not accepted: HTTP 500: injected failure 500; "
        "runs 1-3 are in collection c1; resume with skip=3"
    )
    assert arrived(server, "c1") == payloads(path)[:3]

    result = upload("c1", path, chunk_size=3, skip=error.accepted)
    assert (result.skipped, result.uploaded, result.accepted) == (3, 4, 7)
    assert arrived(server, "c1") == payloads(path)


def test_a_4xx_is_not_retried(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    server.post_answers = [413]
    with pytest.raises(UploadError) as caught:
        upload("c1", EXAMPLE_FILE, chunk_size=2)
    assert [post.status for post in server.posts] == [413]
    assert (caught.value.chunk, caught.value.accepted) == (1, 0)
    assert str(caught.value).startswith(
        "chunk 1 (runs 1-2) was not accepted: HTTP 413: injected failure 413; "
        "no run of this input is in collection c1 yet"
    )


@pytest.mark.parametrize("outcome", ["canceled", "failed", "error", "no-such-status"])
def test_a_job_docent_fails_stops_at_once_and_is_not_counted(
    server: FakeDocentServer, outcome: str
) -> None:
    """The SDK would poll a `failed` job for ever: any status but pending, running and
    completed ends the upload at the first poll that reports it."""
    server.add_collection("c1")
    server.job_outcomes = ["completed", outcome]  # the second job reports it at every poll
    with pytest.raises(UploadError) as caught:
        upload("c1", EXAMPLE_FILE, chunk_size=2, timeout=60)
    assert (caught.value.chunk, caught.value.accepted, caught.value.uncertain) == (2, 2, False)
    assert caught.value.reason == (
        f"Docent failed to process it: its ingestion job job-2 is {outcome!r}"
    )
    assert server.paths().count("POST /rest/c1/agent_runs/jobs/batch_status") == 2
    assert len(arrived(server, "c1")) == 2


def test_a_job_that_never_finishes_stops_at_the_timeout(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    server.running_polls = 10**9
    with pytest.raises(UploadError) as caught:
        upload("c1", EXAMPLE_FILE, timeout=1, poll_interval=0.05)
    error = caught.value
    assert (error.chunk, error.accepted, error.uncertain) == (1, 0, True)
    assert error.reason == (
        "Docent did not finish processing it within 1 s (ingestion job job-1 is still 'running')"
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("null", "the Docent SDK failed on Docent's answer: AttributeError: "),
        ("drop", "closed the connection without answering POST /rest/c1/agent_runs"),
        ("hang", "did not answer POST /rest/c1/agent_runs within 1 s"),
    ],
)
def test_an_answer_that_cannot_be_read_leaves_the_chunk_uncertain(
    server: FakeDocentServer, answer: PostAnswer, reason: str
) -> None:
    """The chunk reached Docent, which may have ingested it (an older Docent answering
    `null` did): an UploadError, never the SDK's own exception or a hang."""
    server.add_collection("c1")
    server.post_answers = [202, answer]
    with pytest.raises(UploadError) as caught:
        upload("c1", EXAMPLE_FILE, chunk_size=2, timeout=1)
    error = caught.value
    assert (error.chunk, error.accepted, error.last_run, error.uncertain) == (2, 2, 4, True)
    assert reason in error.reason
    assert len(arrived(server, "c1")) == (4 if answer == "null" else 2)


def test_a_job_that_cannot_be_confirmed_is_uncertain(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    server.poll_statuses = [400]  # the first chunk's job status request fails
    with pytest.raises(UploadError) as caught:
        upload("c1", EXAMPLE_FILE, chunk_size=2)
    error = caught.value
    assert (error.chunk, error.accepted, error.last_run, error.uncertain) == (1, 0, 2, True)
    assert "was sent but its processing could not be confirmed" in str(error)
    assert "skip=0 (if the chunk is missing) or skip=2 (if it is there)" in str(error)


def test_jobs_are_polled_until_done(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    server.running_polls = 2
    upload("c1", EXAMPLE_FILE, chunk_size=5, poll_interval=0.01)
    assert server.paths().count("POST /rest/c1/agent_runs/jobs/batch_status") == 3
    assert len(arrived(server, "c1")) == 5


def test_auth_failure(server: FakeDocentServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    monkeypatch.setenv("DOCENT_API_KEY", "wrong")
    with pytest.raises(requests.HTTPError, match=r"^HTTP 401: Invalid API key$"):
        upload("c1", EXAMPLE_FILE)
    assert server.paths() == ["GET /rest/api-keys/test"]


def test_unknown_collection(server: FakeDocentServer) -> None:
    with pytest.raises(LookupError, match="Docent has no collection 'c9'"):
        upload("c9", EXAMPLE_FILE)
    assert agent_runs_posts(server) == []


def test_skip_beyond_the_file(server: FakeDocentServer) -> None:
    server.add_collection("c1")
    with pytest.raises(ValueError, match="skip=6 is more than the 5 runs"):
        upload("c1", EXAMPLE_FILE, skip=6)
    assert agent_runs_posts(server) == []


def test_a_file_changed_between_the_passes(server: FakeDocentServer, tmp_path: Path) -> None:
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 6)
    lines = path.read_bytes().splitlines()

    def damage_line_5(update: UploadProgress) -> None:
        if update.phase == "uploading" and update.runs == 0:  # the check is done
            path.write_bytes(b"\n".join([*lines[:4], BAD_LINE, *lines[5:]]) + b"\n")

    with pytest.raises(UploadError) as caught:
        upload("c1", path, chunk_size=2, on_progress=damage_line_5)
    assert (caught.value.chunk, caught.value.accepted) == (3, 4)
    assert caught.value.reason.startswith("the file changed during the upload:")
    assert "at line 5" in caught.value.reason
    assert arrived(server, "c1") == payloads(path)[:4]


def test_an_explicit_client(server: FakeDocentServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCENT_API_KEY")
    server.add_collection("c1")
    client = Docent(api_key=server.api_key, api_url=server.url, frontend_url=server.url)
    assert upload("c1", EXAMPLE_FILE, client=client).uploaded == 5


# --- the command line --------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["upload", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_uploads_and_summarizes(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(capsys, str(EXAMPLE_FILE), "--new-collection", "eval")
    assert status == 0
    assert err == ""  # neither the SDK's log lines nor its tqdm bars
    (collection_id,) = server.collections
    assert out.splitlines()[0].startswith("uploaded 5 runs (")
    assert out.splitlines()[0].endswith(f" in 1 chunk to collection {collection_id}")
    assert out.splitlines()[-1] == f"view it at {server.url}/dashboard/{collection_id}"
    assert arrived(server, collection_id) == [
        run.to_dict() for run in iter_nemogym_jsonl(EXAMPLE_FILE)
    ]


def test_cli_quiet(server: FakeDocentServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.add_collection("c1")
    assert run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1", "-q") == (0, "", "")
    assert len(arrived(server, "c1")) == 5


def test_cli_bad_line_sends_nothing(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 3, bad_lines=(2,))
    status, out, err = run_cli(capsys, str(path), "--collection-id", "c1")
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:2: responses_create_params: is missing",
        "nemogym-ingest: nothing was uploaded (--keep-going uploads the good lines and "
        "leaves the bad ones out)",
    ]
    assert agent_runs_posts(server) == []


def test_cli_keep_going(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 3, bad_lines=(2,))
    status, out, err = run_cli(capsys, str(path), "--collection-id", "c1", "--keep-going")
    assert status == 1
    assert err == f"{path}:2: responses_create_params: is missing (left out)\n"
    assert "left out 1 line that cannot be converted" in out
    assert arrived(server, "c1") == payloads(path)


def test_cli_failure_then_resume(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docent.sdk._base.time, "sleep", lambda seconds: None)
    server.add_collection("c1")
    path = rollouts_file(tmp_path, 5)
    server.post_answers = [202, 502, 502, 502, 502]
    status, out, err = run_cli(capsys, str(path), "--collection-id", "c1", "--chunk-size", "2")
    assert (status, out) == (4, "")
    resume = f"nemogym-ingest upload {path} --collection-id c1 --skip 2 --chunk-size 2"
    assert err.splitlines()[-3:] == [
        "nemogym-ingest: chunk 2 (runs 3-4) was not accepted: HTTP 502: injected failure 502",
        "nemogym-ingest: runs 1-2 are in collection c1; to resume:",
        f"  {resume}",
    ]
    assert err.count("nemogym-ingest: docent: Server error 502 on POST") == 3  # SDK retries
    assert "Traceback" not in err

    status, out, err = run_cli(capsys, *resume.split()[2:])
    assert (status, err) == (0, "")
    assert "uploaded 3 runs" in out and "skipped the first 2 runs (--skip)" in out
    assert arrived(server, "c1") == payloads(path)


def test_cli_auth_failure(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCENT_API_KEY", "wrong")
    status, out, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1")
    assert (status, out) == (3, "")
    assert err == "nemogym-ingest: cannot log in to Docent: HTTP 401: Invalid API key\n"


def test_cli_no_api_key(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCENT_API_KEY")
    status, _, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1")
    assert status == 3
    assert err.startswith("nemogym-ingest: cannot use Docent: api_key is required")
    assert "DOCENT_API_KEY" in err
    assert server.requests == []


def test_cli_checks_the_file_before_asking_for_credentials(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A file of bad lines and no key: the bad line is what the user learns first (exit 1)."""
    monkeypatch.delenv("DOCENT_API_KEY")
    bad = rollouts_file(tmp_path, 2, bad_lines=(2,))
    status, out, err = run_cli(capsys, str(bad), "--collection-id", "c1")
    assert (status, out) == (1, "")
    assert err.startswith(f"{bad}:2: ")
    assert "api_key" not in err and "DOCENT_API_KEY" not in err
    assert server.requests == []


def test_cli_server_unreachable(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = FakeDocentServer()  # bound, never started, then closed: nothing listens there
    dead_url = dead.url
    dead.stop()
    monkeypatch.setenv("DOCENT_API_URL", dead_url)
    monkeypatch.setenv("DOCENT_FRONTEND_URL", dead_url)
    status, _, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1")
    assert status == 3
    assert err == f"nemogym-ingest: cannot log in to Docent: cannot connect to {dead_url}\n"


@pytest.mark.parametrize("answer_404", [False, True], ids=["null", "404"])
def test_cli_unknown_collection(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], answer_404: bool
) -> None:
    server.unknown_collection_404 = answer_404
    status, _, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c9")
    assert status == 3
    assert err == (
        "nemogym-ingest: Docent has no collection 'c9' that this API key can see; "
        "nothing was sent\n"
    )
    assert agent_runs_posts(server) == []


def test_cli_server_that_never_answers_the_login(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listening socket nobody answers: connections are accepted by the kernel, requests
    are never answered."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("DOCENT_API_URL", url)
        monkeypatch.setenv("DOCENT_FRONTEND_URL", url)
        args = (str(EXAMPLE_FILE), "--collection-id", "c1", "--timeout", "1")
        status, _, err = run_cli(capsys, *args)
    assert status == 3
    assert err == (
        f"nemogym-ingest: cannot log in to Docent: {url} did not answer "
        "GET /rest/api-keys/test within 1 s\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--new-collection", "x", "--skip", "2"], "--skip resumes an upload into an existing"),
        (["--collection-id", "c1", "--skip", "-1"], "argument --skip: must be at least 0"),
        (["--collection-id", "c1", "--chunk-size", "0"], "argument --chunk-size: must be at"),
        (["--collection-id", "c1", "--new-collection", "x"], "not allowed with argument"),
        ([], "one of the arguments --collection-id --new-collection is required"),
    ],
)
def test_cli_usage_errors(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["upload", str(EXAMPLE_FILE), *args])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert server.requests == []


def test_cli_stdin_twice_and_missing_file(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["upload", "-", "-", "--collection-id", "c1"])
    assert caught.value.code == 2
    assert "stdin ('-') can be read only once" in capsys.readouterr().err
    status, _, err = run_cli(capsys, str(tmp_path / "missing.jsonl"), "--collection-id", "c1")
    assert status == 2
    assert "missing.jsonl: cannot read file: No such file or directory" in err
    assert server.requests == []


def test_cli_skip_beyond_the_file(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_collection("c1")
    status, _, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1", "--skip", "9")
    assert status == 2
    assert "skip=9 is more than the 5 runs" in err
    assert agent_runs_posts(server) == []


def test_cli_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["upload", "--help"])
    help_text = capsys.readouterr().out
    for status in range(5):
        assert f"\n  {status}  " in help_text
    assert "DOCENT_API_KEY" in help_text
    words = " ".join(help_text.split())
    assert f"(default: {DEFAULT_CHUNK_SIZE};" in words
    assert "--timeout SECONDS the longest wait for Docent's answer to any one request" in words
    assert f"(default: {DEFAULT_TIMEOUT:g})" in words


def test_cli_timeout_must_be_positive(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(SystemExit) as caught:
            main(["upload", str(EXAMPLE_FILE), "--collection-id", "c1", "--timeout", value])
        assert caught.value.code == 2
        assert "argument --timeout: " in capsys.readouterr().err
    assert server.requests == []


def test_cli_unconfirmed_chunk_gives_both_resume_points(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_collection("c1")
    server.poll_statuses = [400]
    status, _, err = run_cli(capsys, str(EXAMPLE_FILE), "--collection-id", "c1")
    assert status == 4
    assert err.splitlines()[1:] == [
        "nemogym-ingest: no run of this input is in collection c1 yet; look at the collection, "
        "then resume with",
        f"  nemogym-ingest upload {EXAMPLE_FILE} --collection-id c1 --skip 0",
        "if runs 1-5 are not there, or with",
        f"  nemogym-ingest upload {EXAMPLE_FILE} --collection-id c1 --skip 5",
        "if they are",
    ]


def test_cli_interrupted_says_where_to_resume(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C as the answer to the second chunk arrives: the server has the chunk, the
    client never learns it. Raised in the main thread itself, where Python delivers SIGINT,
    so that the timing of a real signal on a loaded machine plays no part."""
    server.add_collection("c1")
    posts = 0
    real_send = requests.Session.send

    def interrupt_the_second_post(
        session: requests.Session, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        nonlocal posts
        response = real_send(session, request, **kwargs)
        if request.method == "POST" and str(request.url).endswith("/agent_runs"):
            posts += 1
            if posts == 2:
                raise KeyboardInterrupt
        return response

    monkeypatch.setattr(requests.Session, "send", interrupt_the_second_post)
    status, _, err = run_cli(
        capsys, str(EXAMPLE_FILE), "--collection-id", "c1", "--chunk-size", "2"
    )
    assert status == 4
    assert len(server.posts) == 2
    assert err.splitlines() == [
        "nemogym-ingest: interrupted; runs 1-2 are in collection c1, and the chunk being sent "
        "may or may not be; look at the collection, then resume with",
        f"  nemogym-ingest upload {EXAMPLE_FILE} --collection-id c1 --skip 2 --chunk-size 2",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_progress_on_a_terminal(
    server: FakeDocentServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_collection("c1")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["upload", str(EXAMPLE_FILE), "--collection-id", "c1"]) == 0
    shown = terminal.getvalue()
    assert "\r\x1b[Kcheck: 5 rollouts" in shown
    assert "\r\x1b[Kupload: 0 rollouts" in shown
    assert shown.endswith("\r\x1b[K")  # the line is cleared at the end
    assert "uploaded 5 runs" in capsys.readouterr().out


def test_a_corrupt_gzip_file_sends_nothing(
    server: FakeDocentServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server.add_collection("c1")
    path = tmp_path / "rollouts.jsonl.gz"
    path.write_bytes(gzip.compress(EXAMPLE_FILE.read_bytes())[:-30])
    with pytest.raises(InputError, match="cannot read"):
        upload("c1", path)
    capsys.readouterr()  # the SDK's log lines
    status, out, err = run_cli(capsys, str(path), "--collection-id", "c1")
    assert (status, out) == (2, "")
    assert err.startswith(f"nemogym-ingest: {path}:1: cannot read file: ")
    assert agent_runs_posts(server) == []


def test_cli_assumption_flags_apply_and_are_kept_on_resume(
    server: FakeDocentServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docent.sdk._base.time, "sleep", lambda seconds: None)
    server.add_collection("c1")
    path = tmp_path / "rollouts.jsonl"
    rollouts = [make_rollout(_ng_rollout_index=index) for index in range(3)]
    for rollout in rollouts:
        del rollout["agent_ref"]
    path.write_text("".join(json.dumps(rollout) + "\n" for rollout in rollouts))
    assert run_cli(capsys, str(path), "--collection-id", "c1")[0] == 1  # strict by default

    server.post_answers = [202, 500, 500, 500, 500]
    args = ["--collection-id", "c1", "--chunk-size", "2", "--agent-name", "bot"]
    status, _, err = run_cli(capsys, str(path), *args)
    assert status == 4
    assert err.splitlines()[-1] == (
        f"  nemogym-ingest upload {path} --collection-id c1 --skip 2 --chunk-size 2"
        "  # and the same assumption flags as before"
    )
    assert run_cli(capsys, str(path), *args, "--skip", "2")[0] == 0
    names = [run["name"] for run in arrived(server, "c1")]
    assert names == ["bot/task/0/rollout/0", "bot/task/0/rollout/1", "bot/task/0/rollout/2"]


# --- the real command against a misbehaving Docent -------------------------------------------

# Each fault hits the second chunk (runs 4-6 of 7); the command runs with --timeout 5.
_FAULTS: dict[str, str] = {
    "job failed for ever": "was not accepted: Docent failed to process it: its ingestion job "
    "job-2 is 'failed'",
    "job never finishes": "was sent but its processing could not be confirmed: Docent did not "
    "finish processing it within 5 s (ingestion job job-2 is still 'running')",
    "200 with a null body": "was sent but its processing could not be confirmed: the Docent SDK "
    "failed on Docent's answer: AttributeError: 'NoneType' object has no attribute 'get'",
    "request never answered": "was sent but its processing could not be confirmed: {url} did "
    "not answer POST /rest/c1/agent_runs within 5 s",
    "500 on every POST": "was not accepted: HTTP 500: injected failure 500",
    "connection dropped": "was sent but its processing could not be confirmed: {url} closed the "
    "connection without answering POST /rest/c1/agent_runs",
    "404 unknown collection": "was not accepted: HTTP 404: Collection c1 not found",
}


def _inject(server: FakeDocentServer, fault: str) -> None:
    if fault == "job failed for ever":
        server.job_outcomes = ["completed", "failed"]
    elif fault == "job never finishes":
        server.on_post.append(
            lambda: setattr(server, "running_polls", 10**9 if len(server.posts) == 2 else 0)
        )
    elif fault == "500 on every POST":
        server.post_answer_after = 500
    else:
        answers: dict[str, PostAnswer] = {
            "200 with a null body": "null",
            "request never answered": "hang",
            "connection dropped": "drop",
            "404 unknown collection": 404,
        }
        server.post_answer_after = answers[fault]
    if fault != "job failed for ever":
        server.post_answers = [202]  # the first chunk goes through


@dataclass
class _Scenario:
    """One fault: the command that met it, then the resume it printed, run on a healed server."""

    server: FakeDocentServer
    path: Path
    failed: subprocess.CompletedProcess[str] | None = None
    resumed: subprocess.CompletedProcess[str] | None = None
    problem: str | None = None  # why the resume could not be run


def _command(args: list[str], home: Path, url: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("DOCENT_")
    }
    environment |= {
        "HOME": str(home),
        "DOCENT_API_KEY": "test-key",
        "DOCENT_API_URL": url,
        "DOCENT_FRONTEND_URL": url,
    }
    return subprocess.run(
        [sys.executable, "-m", "nemogym_ingest", *args],
        env=environment,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,  # the limit; --timeout 5 ends each fault much sooner
        check=False,
    )


def _play(scenario: _Scenario, home: Path) -> None:
    """Upload into a failing server; heal it; look at the collection, as the message says
    when it is uncertain, and run the resume command it names."""
    server = scenario.server
    args = ["upload", str(scenario.path), "--collection-id", "c1", "--chunk-size", "3"]
    scenario.failed = _command([*args, "--timeout", "5"], home, server.url)
    server.heal()
    printed = [
        line.strip()
        for line in scenario.failed.stderr.splitlines()
        if line.startswith("  nemogym-ingest upload ")
    ]
    there = len(server.collections["c1"].runs)
    matching = [command for command in printed if f" --skip {there} " in f"{command} "]
    if len(matching) != 1:
        scenario.problem = f"{there} runs are in; no single resume command for that: {printed}"
        return
    scenario.resumed = _command(shlex.split(matching[0])[1:], home, server.url)


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Scenario]]:
    """Every fault played at once, each against its own fake server (they mostly wait)."""
    scenarios: dict[str, _Scenario] = {}
    players: list[threading.Thread] = []
    for index, fault in enumerate(_FAULTS):
        home = tmp_path_factory.mktemp(f"fault{index}")
        server = FakeDocentServer()
        server.add_collection("c1")
        _inject(server, fault)
        server.start()
        scenarios[fault] = _Scenario(server, rollouts_file(home, 7))
        players.append(threading.Thread(target=_play, args=(scenarios[fault], home)))
        players[-1].start()
    for player in players:
        player.join()
    yield scenarios
    for scenario in scenarios.values():
        scenario.server.stop()


@pytest.mark.parametrize("fault", list(_FAULTS))
def test_cli_meets_a_misbehaving_docent_and_resumes(
    faults: dict[str, _Scenario], fault: str
) -> None:
    """The real command ends with one message naming the chunk, what is in, and how to
    resume; no traceback; the resume it names, on a healed server, completes the
    collection with every run once."""
    scenario = faults[fault]
    assert scenario.failed is not None
    failed = scenario.failed
    assert (failed.returncode, failed.stdout) == (4, "")
    assert "Traceback" not in failed.stderr
    lines = [
        line
        for line in failed.stderr.splitlines()
        if not line.startswith("nemogym-ingest: docent: Server error 500 on POST")
    ]
    reason = _FAULTS[fault].format(url=scenario.server.url)
    assert lines[0] == f"nemogym-ingest: chunk 2 (runs 4-6) {reason}"
    resume = f"nemogym-ingest upload {scenario.path} --collection-id c1 --skip {{}} --chunk-size 3"
    resume += " --timeout 5"
    if "was not accepted" in reason:
        assert lines[1:] == [
            "nemogym-ingest: runs 1-3 are in collection c1; to resume:",
            f"  {resume.format(3)}",
        ]
    else:
        assert lines[1:] == [
            "nemogym-ingest: runs 1-3 are in collection c1; look at the collection, then "
            "resume with",
            f"  {resume.format(3)}",
            "if runs 4-6 are not there, or with",
            f"  {resume.format(6)}",
            "if they are",
        ]
    if fault == "500 on every POST":  # the SDK's 3 retries, then it gave up
        assert failed.stderr.count("Server error 500 on POST") == 3
    assert scenario.problem is None
    assert scenario.resumed is not None
    assert (scenario.resumed.returncode, scenario.resumed.stderr) == (0, "")
    assert arrived(scenario.server, "c1") == payloads(scenario.path)
    assert scenario.server.errors == []


def test_failed_attempts_are_left_out_and_counted(server: FakeDocentServer, tmp_path: Path) -> None:
    """A failures-sidecar row without a rollout (R83) is no bad line: the upload goes on
    without it, strict, and counts it."""
    server.add_collection("c1")
    attempt = {"_ng_failure_class": "agent_request_failed", "_ng_failure_message": "timed out"}
    path = rollouts_file(tmp_path, 3)
    lines = path.read_bytes().splitlines()
    lines.insert(1, json.dumps(attempt).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = upload("c1", path)
    assert (result.uploaded, result.failed_attempts, result.rejected) == (3, 1, [])
    good = lines[:1] + lines[2:]
    expected = [convert_nemogym_rollout_to_agent_run(json.loads(raw)).to_dict() for raw in good]
    assert arrived(server, "c1") == expected
