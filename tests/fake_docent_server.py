"""A local stand-in for the Docent API: exactly the endpoints docent 0.1.88's SDK calls to upload.

`Docent(api_key=…, api_url=server.url, frontend_url=server.url)` talks to it like to the real
service (the SDK appends `/rest`):

- `GET  /rest/api-keys/test` — the API-key check the client makes when it is created;
- `POST /rest/create` — `create_collection`, JSON `{collection_id, name, description}`;
- `GET  /rest/{collection_id}/collection_details` — `get_collection` (JSON `null` if unknown,
  or 404 `{"detail": …}` as newer servers answer, with `unknown_collection_404`);
- `POST /rest/{collection_id}/agent_runs` — `add_agent_runs`: a gzip JSON body
  `{"agent_runs": [...]}` answered 202 `{"job_id": …}` (404 `{"detail": …}` if unknown);
- `POST /rest/{collection_id}/agent_runs/jobs/batch_status` — the job polling,
  `{"job_ids": [...]}` → `{"jobs": [{job_id, status}]}`.

Every request needs `Authorization: Bearer <api_key>` (else 401). Runs enter a collection
when their job completes. Failures are injected by queueing answers to the agent_runs POSTs
(`post_answers`, then `post_answer_after` for all the others): an error status, `"null"`
(200 with a `null` body, the runs ingested at once, as an older Docent does), `"hang"` (the
request is read and never answered), `"drop"` (the connection is closed before any answer);
and by queueing job outcomes (`job_outcomes`: `"canceled"`, or any status, e.g. `"failed"`,
which the job then reports forever) and job-status poll statuses. Any other request is
answered 404 and listed in `unexpected`. The server prints nothing: a client that goes away
is ignored, any other error in a handler is listed in `errors`.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest

from nemogym_ingest.conformance import normalize_payload

PostAnswer = int | Literal["null", "hang", "drop"]
"""How an agent_runs POST is answered: a status (2xx: accepted, with a job), or a fault."""

_Answer = tuple[int, Any] | Literal["hang", "drop"]

_AGENT_RUNS = re.compile(r"/rest/([^/]+)/agent_runs")
_BATCH_STATUS = re.compile(r"/rest/([^/]+)/agent_runs/jobs/batch_status")
_DETAILS = re.compile(r"/rest/([^/]+)/collection_details")


@dataclass
class Post:
    """One `POST …/agent_runs` as it arrived, and the status it was answered with."""

    collection_id: str
    content_type: str | None
    content_encoding: str | None
    body_bytes: int  # the decompressed JSON body's size
    run_count: int
    runs: list[dict[str, Any]]  # the body's `agent_runs`, as sent (empty unless keep_runs)
    status: int  # 0: none ("hang", "drop")


@dataclass
class Job:
    collection_id: str
    runs: list[dict[str, Any]]
    outcome: str  # "completed", "canceled" or any other status, reported for ever
    running_polls: int  # polls answered "running" before the outcome


@dataclass
class Collection:
    name: str | None
    description: str | None
    runs: list[dict[str, Any]] = field(default_factory=list)  # ingested, in order


class FakeDocentServer:
    """The fake API on 127.0.0.1 (ephemeral port), served from a thread while started."""

    def __init__(self, api_key: str = "test-key", *, keep_runs: bool = True) -> None:
        self.api_key = api_key
        self.keep_runs = keep_runs  # False: count the runs only (for measuring big uploads)
        self.collections: dict[str, Collection] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self.unexpected: list[tuple[str, str]] = []
        self.posts: list[Post] = []
        self.jobs: dict[str, Job] = {}
        self.post_answers: list[PostAnswer] = []  # answers to the next agent_runs POSTs
        self.post_answer_after: PostAnswer = 202  # to every agent_runs POST after those
        self.poll_statuses: list[int] = []  # statuses for the next batch_status calls
        self.unknown_collection_404 = False  # collection_details of an unknown id: 404, not null
        self.errors: list[BaseException] = []  # raised in a handler (a bug in the fake or test)
        self.job_outcomes: list[str] = []  # outcomes for the next jobs (default completed)
        self.running_polls = 0  # "running" answers each new job gives before its outcome
        self.on_post: list[Callable[[], None]] = []  # run as each agent_runs POST arrives
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends the requests left unanswered ("hang")
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self), self.errors)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def add_collection(self, collection_id: str, name: str | None = None) -> None:
        self.collections[collection_id] = Collection(name, None)

    def heal(self) -> None:
        """Answer every request normally from now on."""
        with self._lock:
            self.post_answers = []
            self.post_answer_after = 202
            self.poll_statuses = []
            self.job_outcomes = []
            self.running_polls = 0
            self.on_post = []
            for job in self.jobs.values():
                job.outcome = "completed"
                job.running_polls = 0

    def hang(self) -> None:
        """Leave a request unanswered, until the server stops."""
        self._stopping.wait()

    def paths(self) -> list[str]:
        """The request paths received, as `METHOD /path`."""
        return [f"{method} {path}" for method, path in self.requests]

    # The endpoints: each returns (status, JSON body).

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self._lock:
            self.requests.append((method, path))
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return 401, {"detail": "Invalid API key"}
            if method == "GET" and path == "/rest/api-keys/test":
                return 200, {"status": "ok"}
            if method == "POST" and path == "/rest/create":
                return self._create(json.loads(body))
            if method == "GET" and (match := _DETAILS.fullmatch(path)):
                return self._details(match.group(1))
            if method == "POST" and (match := _AGENT_RUNS.fullmatch(path)):
                return self._agent_runs(match.group(1), headers, body)
            if method == "POST" and (match := _BATCH_STATUS.fullmatch(path)):
                return self._batch_status(match.group(1), json.loads(body))
            self.unexpected.append((method, path))
            return 404, {"detail": "Not Found"}

    def _create(self, request: dict[str, Any]) -> tuple[int, Any]:
        collection_id = request.get("collection_id") or f"collection-{len(self.collections) + 1}"
        self.collections[collection_id] = Collection(
            request.get("name"), request.get("description")
        )
        return 200, {"collection_id": collection_id}

    def _details(self, collection_id: str) -> tuple[int, Any]:
        collection = self.collections.get(collection_id)
        if collection is None and self.unknown_collection_404:
            return 404, {"detail": f"Collection {collection_id} not found"}
        if collection is None:
            return 200, None
        return 200, {"id": collection_id, "name": collection.name}

    def _agent_runs(self, collection_id: str, headers: dict[str, str], body: bytes) -> _Answer:
        encoding = headers.get("content-encoding")
        data = gzip.decompress(body) if encoding == "gzip" else body
        payload = json.loads(data)
        if set(payload) != {"agent_runs"}:
            raise AssertionError(f"unexpected agent_runs body keys: {sorted(payload)}")
        received: list[dict[str, Any]] = payload["agent_runs"]
        runs = received if self.keep_runs else []
        status = self.post_answers.pop(0) if self.post_answers else self.post_answer_after
        if collection_id not in self.collections:
            status = 404
        content_type = headers.get("content-type")
        code = status if isinstance(status, int) else 200 if status == "null" else 0
        post = Post(collection_id, content_type, encoding, len(data), len(received), runs, code)
        self.posts.append(post)
        for callback in self.on_post:
            callback()
        if status in ("hang", "drop"):
            return status
        if status == "null":
            self.collections[collection_id].runs.extend(runs)
            return 200, None
        assert isinstance(status, int)
        if status == 404:
            return status, {"detail": f"Collection {collection_id} not found"}
        if status >= 400:
            return status, {"detail": f"injected failure {status}"}
        job_id = f"job-{len(self.jobs) + 1}"
        outcome = self.job_outcomes.pop(0) if self.job_outcomes else "completed"
        self.jobs[job_id] = Job(collection_id, runs, outcome, self.running_polls)
        return 202, {"job_id": job_id}

    def _batch_status(self, collection_id: str, request: dict[str, Any]) -> tuple[int, Any]:
        if self.poll_statuses:
            return self.poll_statuses.pop(0), {"detail": "injected status failure"}
        statuses = []
        for job_id in request["job_ids"]:
            job = self.jobs[job_id]
            assert job.collection_id == collection_id
            if job.running_polls:
                job.running_polls -= 1
                status = "running"
            else:
                status = job.outcome
                if status == "completed" and job.runs:
                    self.collections[collection_id].runs.extend(job.runs)
                    job.runs = []
            statuses.append({"job_id": job_id, "status": status, "type": "agent_runs"})
        return 200, {"jobs": statuses}


class _QuietServer(ThreadingHTTPServer):
    """Lists a handler's errors in `errors` instead of printing them."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        errors: list[BaseException],
    ) -> None:
        super().__init__(address, handler)
        self.errors = errors

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


def _handler_for(server: FakeDocentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError:
                pass  # the client went away (it timed out, or was interrupted): its business
            except BaseException as error:
                server.errors.append(error)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = server.handle(self.command, self.path, headers, body)
            if isinstance(answer, str):  # "hang" or "drop"
                if answer == "hang":
                    server.hang()
                self.close_connection = True
                return
            status, content = answer
            data = json.dumps(content).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on `server.requests` instead."""

    return Handler


def wire_payload(run: dict[str, Any]) -> dict[str, Any]:
    """A run as sent on the wire, as our payload: the conformance runner's normalization
    (the ids Docent assigns and the model's unset defaults removed)."""
    payload: dict[str, Any] = normalize_payload(run)
    return payload


def point_sdk_at(server: FakeDocentServer, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Configure Docent's SDK for `server` by environment alone, in an empty cwd and HOME
    (`home`), so that no docent.env is found."""
    monkeypatch.chdir(home)
    monkeypatch.setenv("HOME", str(home))
    for name in ("DOCENT_DOMAIN", "DOCENT_PROFILE", "DOCENT_COLLECTION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCENT_API_KEY", server.api_key)
    monkeypatch.setenv("DOCENT_API_URL", server.url)
    monkeypatch.setenv("DOCENT_FRONTEND_URL", server.url)
