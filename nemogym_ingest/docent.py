"""The bridge to Docent's own models and API (the optional extra `nemogym-ingest[docent]`).

`to_docent` turns our AgentRuns into `docent.data_models.AgentRun`s, exactly: the Docent
model's dump equals our payload, ids aside. `convert_nemogym_rollout_to_agent_run` and
`convert_nemogym_jsonl_file_to_agent_runs` are drop-ins for Docent's own converters: they
return Docent AgentRuns, so Docent's "convert, then `add_agent_runs`" code needs only its
import changed. `upload` streams a rollouts file (or any runs) into a Docent collection
with the real SDK client, in chunks, so memory stays bounded for any file size, and says
exactly where to resume when Docent stops accepting runs, answers in a way the SDK
cannot read, or does not answer within a timeout.

`import nemogym_ingest` never imports Docent; only this module does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal
from urllib.parse import urlsplit

try:
    import requests
    import urllib3
    from docent import Docent
    from docent.data_models import AgentRun as DocentAgentRun
    from docent.sdk._client_util import serialize_agent_run
    from docent.sdk.client import MAX_AGENT_RUN_PAYLOAD_BYTES
except ModuleNotFoundError as error:
    raise ImportError(
        f"nemogym_ingest.docent needs Docent's SDK ({error}): pip install 'nemogym-ingest[docent]'"
    ) from error

from . import convert as core_convert
from . import jsonl as core_jsonl
from .errors import ConversionError
from .jsonl import LineResult, read_lines
from .model import AgentRun, wire_payload
from .options import ConversionOptions
from .pool import CHUNK_BYTES
from .source import (
    STDIN,
    Chunk,
    InputError,
    RolloutsSource,
    Source,
    open_source,
    read_chunks,
)

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "DocentAnswerError",
    "NewCollection",
    "UploadError",
    "UploadProgress",
    "UploadResult",
    "convert_nemogym_jsonl_file_to_agent_runs",
    "convert_nemogym_rollout_to_agent_run",
    "default_client",
    "describe_request_error",
    "to_docent",
    "to_docent_many",
    "upload",
]

DEFAULT_CHUNK_SIZE = 500
"""Runs per `add_agent_runs` call, at most."""

DEFAULT_CHUNK_BYTES = 16_000_000
"""Request body bytes (JSON, before gzip) a chunk stays under, unless one run is bigger: that
run goes alone, up to Docent's 100 MB limit. Memory holds about a few times this."""

DEFAULT_TIMEOUT = 120.0
"""Seconds `upload` waits, at most, for any one request's answer and for any one chunk's
ingestion job to finish."""

_ENVELOPE_BYTES = len(b'{"agent_runs":[]}')
_UNFINISHED_JOB = frozenset({"pending", "running"})


def to_docent(run: AgentRun) -> DocentAgentRun:
    """`run` as Docent's own pydantic AgentRun (Docent assigns fresh ids; no id is set)."""
    return DocentAgentRun.model_validate(run.to_dict())


def to_docent_many(runs: Iterable[AgentRun]) -> list[DocentAgentRun]:
    """`to_docent` of every run, in order."""
    return [to_docent(run) for run in runs]


@dataclass(frozen=True)
class NewCollection:
    """Upload into a collection created for the purpose (after the input checked out)."""

    name: str
    description: str | None = None


@dataclass(frozen=True)
class UploadProgress:
    """Where an upload stands, reported as it goes.

    `phase` `"checking"` (the validation pass over a file): `runs` good runs so far,
    `bytes` of the file read, `position` in the file on disk (compressed bytes for a .gz)
    of `total` (its size). `phase` `"uploading"`: `runs` in `collection_id` so far
    (skipped ones included), `bytes` of request bodies (uncompressed JSON) sent, and
    `position` == `runs` of `total` (None for a run iterable).
    """

    phase: Literal["checking", "uploading"]
    runs: int
    bytes: int
    position: int
    total: int | None
    collection_id: str | None = None


@dataclass
class UploadResult:
    """What `upload` did.

    `uploaded` runs were accepted in `chunks` chunks of `bytes` bytes of JSON in all
    (before gzip); the first `skipped` runs were not sent (`skip`); `rejected` are the bad
    lines left out (only with `keep_going`).
    """

    collection_id: str
    uploaded: int = 0
    skipped: int = 0
    chunks: int = 0
    bytes: int = 0
    rejected: list[ConversionError] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Runs of the input that are now in the collection: the `skip` to resume from."""
        return self.skipped + self.uploaded


class UploadError(Exception):
    """Docent did not accept chunk `chunk` (runs `first_run`-`last_run`, 1-based).

    The `accepted` runs before it are in collection `collection_id`: a re-run with
    `skip=accepted` resumes without losing or repeating a run. When `uncertain`, the chunk
    reached Docent but its processing could not be confirmed: look at the collection
    before resuming (`skip=accepted` may repeat the chunk, `skip=last_run` may lose it).
    """

    def __init__(
        self,
        reason: str,
        *,
        collection_id: str,
        chunk: int,
        first_run: int,
        last_run: int,
        accepted: int,
        uncertain: bool = False,
    ) -> None:
        self.reason = reason
        self.collection_id = collection_id
        self.chunk = chunk
        self.first_run = first_run
        self.last_run = last_run
        self.accepted = accepted
        self.uncertain = uncertain
        super().__init__(self._render())

    @property
    def runs(self) -> str:
        """`runs 4-6` (or `run 4`): the runs of the chunk."""
        if self.first_run == self.last_run:
            return f"run {self.first_run}"
        return f"runs {self.first_run}-{self.last_run}"

    @property
    def failure(self) -> str:
        """What went wrong with the chunk, and why."""
        if self.uncertain:
            return (
                f"chunk {self.chunk} ({self.runs}) was sent but its processing could not be "
                f"confirmed: {self.reason}"
            )
        return f"chunk {self.chunk} ({self.runs}) was not accepted: {self.reason}"

    @property
    def done(self) -> str:
        """What is in the collection."""
        if self.accepted:
            return f"runs 1-{self.accepted} are in collection {self.collection_id}"
        return f"no run of this input is in collection {self.collection_id} yet"

    def _render(self) -> str:
        if self.uncertain:
            return (
                f"{self.failure}; {self.done}; check the collection, then resume with "
                f"skip={self.accepted} (if the chunk is missing) or skip={self.last_run} "
                "(if it is there)"
            )
        return f"{self.failure}; {self.done}; resume with skip={self.accepted}"


class DocentAnswerError(RuntimeError):
    """Docent answered a request before the upload (e.g. creating the collection) in a way
    the SDK could not use; nothing was uploaded."""


def _iter_lines(
    path: str | os.PathLike[str],
    options: ConversionOptions,
    on_chunk: Callable[[Source, Chunk], None] | None = None,
) -> Iterator[LineResult]:
    """Every non-blank line of a rollouts file (plain or .gz): its run or its error, from
    the reader's per-line loop.

    A bad line does not end the iteration; a file that cannot be read does (`InputError`).
    `on_chunk` hears of each chunk of lines once its lines are through.
    """
    with open_source(path) as source:
        for chunk in read_chunks(source, CHUNK_BYTES):
            yield from read_lines(
                chunk.lines, first_line=chunk.first_line, options=options, file=chunk.file
            )
            if on_chunk is not None:
                on_chunk(source, chunk)


class _FileChanged(Exception):
    """The file no longer reads as it did in the validation pass."""


class _RunTooLarge(Exception):
    """A run whose request body alone would exceed the limit."""


def _check_file(
    path: str | os.PathLike[str],
    options: ConversionOptions,
    keep_going: bool,
    on_rejected: Callable[[ConversionError], None],
    on_progress: Callable[[UploadProgress], None] | None,
) -> tuple[int, set[int]]:
    """The validation pass: the number of good runs and the lines rejected.

    The first bad line raises its `ConversionError` unless `keep_going`.
    """
    runs = read = 0
    rejected: set[int] = set()

    def report(source: Source, chunk: Chunk) -> None:
        nonlocal read
        read += chunk.nbytes
        if on_progress is not None:
            on_progress(UploadProgress("checking", runs, read, chunk.position, source.size))

    for result in _iter_lines(path, options, report):
        if result.error is None:
            runs += 1
        elif keep_going:
            rejected.add(result.line)
            on_rejected(result.error)
        else:
            raise result.error
    return runs, rejected


def _checked_runs(
    path: str | os.PathLike[str], options: ConversionOptions, runs: int, rejected: set[int]
) -> Iterator[AgentRun]:
    """The upload pass: exactly the `runs` good runs the validation pass found.

    Raises `_FileChanged` when a line converts differently now or the file cannot be read;
    runs appended since the validation pass are left out.
    """
    if runs == 0:
        return
    count = 0
    try:
        for result in _iter_lines(path, options):
            line = result.line
            if result.run is not None:
                if line in rejected:
                    raise _FileChanged(f"line {line} converts now but did not before")
                count += 1
                yield result.run
                if count == runs:
                    return
            elif line not in rejected and result.error is not None:
                where = result.error.path or "rollout"
                raise _FileChanged(f"{result.error.reason} at line {line}, {where}")
    except InputError as error:
        raise _FileChanged(str(error)) from None
    if count < runs:
        raise _FileChanged(f"it has {count} runs now, {runs} before")


def _chunks(
    runs: Iterable[AgentRun], chunk_size: int, chunk_bytes: int, max_request_bytes: int
) -> Iterator[tuple[list[DocentAgentRun], int]]:
    """Docent runs grouped into chunks of at most `chunk_size` runs and `chunk_bytes` (a
    run bigger than that alone), each with its request body's size.

    Sizes are measured with the SDK's own serializer and envelope, so the SDK sends each
    chunk as exactly one request. A run over `max_request_bytes` raises `_RunTooLarge` once
    the chunk before it has been yielded.
    """
    limit = min(chunk_bytes, max_request_bytes)
    chunk: list[DocentAgentRun] = []
    size = _ENVELOPE_BYTES
    for run in runs:
        # `to_docent`, faster: the payload shares objects with `run`, which is dropped here.
        docent_run = DocentAgentRun.model_validate(wire_payload(run))
        run_bytes = len(serialize_agent_run(docent_run))
        if _ENVELOPE_BYTES + run_bytes > max_request_bytes:
            if chunk:
                yield chunk, size
            raise _RunTooLarge(
                f"the run {run.name!r} is {run_bytes} bytes serialized, over the "
                f"{max_request_bytes} bytes Docent accepts in one request"
            )
        separator = 1 if chunk else 0
        if chunk and size + separator + run_bytes > limit:
            yield chunk, size
            chunk, size, separator = [], _ENVELOPE_BYTES, 0
        chunk.append(docent_run)
        size += separator + run_bytes
        if len(chunk) == chunk_size:
            yield chunk, size
            chunk, size = [], _ENVELOPE_BYTES
    if chunk:
        yield chunk, size


class _TimedAdapter(requests.adapters.BaseAdapter):
    """A session's adapter that gives every request without a timeout `timeout` seconds."""

    def __init__(self, inner: requests.adapters.BaseAdapter, timeout: float) -> None:
        super().__init__()
        self.inner = inner
        self.timeout = timeout

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return self.inner.send(request, *args, **kwargs)

    def close(self) -> None:
        self.inner.close()


@contextmanager
def _request_timeout(session: requests.Session, timeout: float | None) -> Iterator[None]:
    """Within the block, every request of `session` waits `timeout` seconds at most for a
    connection and for each part of an answer (the SDK sets none)."""
    if timeout is None:
        yield
        return
    saved = dict(session.adapters)
    for prefix, adapter in saved.items():
        session.adapters[prefix] = _TimedAdapter(adapter, timeout)
    try:
        yield
    finally:
        session.adapters.clear()
        session.adapters.update(saved)


class _TimedDocent(Docent):  # type: ignore[misc]  # the SDK is untyped to mypy
    """The SDK's client with a timeout on each request, its API-key check included."""

    def __init__(self, timeout: float) -> None:
        self._request_timeout = timeout
        super().__init__()

    def _login(self, api_key: str) -> None:
        with _request_timeout(self._session, self._request_timeout):
            super()._login(api_key)


def default_client(timeout: float | None = None) -> Docent:
    """`Docent()`: the SDK's client configured the SDK's way (`DOCENT_API_KEY`, `DOCENT_DOMAIN`
    or `DOCENT_API_URL` with `DOCENT_FRONTEND_URL`, from the environment or `docent.env`).

    Checks the API key with the server, waiting `timeout` seconds at most for its answer
    (None: as long as it takes): raises `ValueError` when there is no key,
    `requests.RequestException` when it is refused or the server cannot be reached or
    does not answer.
    """
    return Docent() if timeout is None else _TimedDocent(timeout)


def _never_connected(error: requests.RequestException) -> bool:
    """Whether `error` happened before a connection was made (so nothing was sent)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # refused ones too


def describe_request_error(error: requests.RequestException, timeout: float | None = None) -> str:
    """A one-line account of a failed request: the SDK's `HTTP 401: detail` for an error
    status, `cannot connect to URL` when the server cannot be reached, what went unanswered
    (within `timeout` seconds) when it does not answer."""
    request = error.request
    if request is None or not isinstance(error, requests.ConnectionError | requests.Timeout):
        return str(error)
    url = urlsplit(str(request.url))
    origin = f"{url.scheme}://{url.netloc}"
    if _never_connected(error):
        timed_out = isinstance(error, requests.Timeout) and timeout is not None
        return f"cannot connect to {origin}" + (f" within {timeout:g} s" if timed_out else "")
    what = f"{request.method} {url.path}"
    if isinstance(error, requests.Timeout):
        within = f" within {timeout:g} s" if timeout is not None else " in time"
        return f"{origin} did not answer {what}{within}"
    reason = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.ProtocolError):
        return f"{origin} closed the connection without answering {what}"
    return str(error)


class _ChunkFailed(Exception):
    """A chunk was not confirmed: `reason`; `uncertain` when it may have been ingested."""

    def __init__(self, reason: str, *, uncertain: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain


def _sdk_failure(error: Exception, timeout: float) -> str:
    if isinstance(error, requests.RequestException):
        return describe_request_error(error, timeout)
    return f"the Docent SDK failed on Docent's answer: {type(error).__name__}: {error}"


def _submit(
    client: Docent, collection_id: str, chunk: list[DocentAgentRun], timeout: float
) -> list[str]:
    """POST the chunk (one request, the SDK retrying a 5xx) without the SDK's waiting: its
    ingestion job ids."""
    try:
        answer = client.add_agent_runs(collection_id, chunk, wait=False)
    except Exception as error:  # whatever the SDK raises, e.g. on a `null` answer
        refused = isinstance(error, requests.HTTPError) and error.response is not None
        unsent = isinstance(error, requests.RequestException) and _never_connected(error)
        raise _ChunkFailed(
            _sdk_failure(error, timeout), uncertain=not (refused or unsent)
        ) from None
    job_ids = answer.get("job_ids") if isinstance(answer, Mapping) else None
    if not job_ids:
        raise _ChunkFailed(
            "Docent accepted it but named no ingestion job to confirm it by", uncertain=True
        )
    return [str(job_id) for job_id in job_ids]


def _job_states(
    client: Docent, collection_id: str, job_ids: list[str], timeout: float
) -> dict[str, Mapping[str, Any]]:
    """The jobs' status records Docent gives, by job id."""
    try:
        jobs = client.get_agent_run_job_statuses(collection_id, job_ids)
        return {str(job["job_id"]): job for job in jobs if isinstance(job, Mapping)}
    except Exception as error:  # whatever the SDK raises, or an answer of the wrong shape
        reason = f"asking for its ingestion job's status: {_sdk_failure(error, timeout)}"
        raise _ChunkFailed(reason, uncertain=True) from None


def _await_jobs(
    client: Docent, collection_id: str, job_ids: list[str], timeout: float, poll_interval: float
) -> None:
    """Poll the chunk's ingestion jobs until all completed, for `timeout` seconds at most.

    Unlike the SDK, which polls until each job is `completed` or `canceled`, any status but
    `pending` and `running` stops at once: the chunk failed.
    """
    deadline = time.monotonic() + timeout
    while True:
        states = _job_states(client, collection_id, job_ids, timeout)
        waiting: list[str] = []
        for job_id in job_ids:
            state = states.get(job_id, {})
            status = state.get("status", "pending")
            if status == "completed":
                continue
            if status in _UNFINISHED_JOB:
                waiting.append(f"{job_id} is still {status!r}")
                continue
            message = state.get("error_message")
            detail = f": {message}" if message else ""
            reason = f"Docent failed to process it: its ingestion job {job_id} is {status!r}"
            raise _ChunkFailed(reason + detail, uncertain=False)
        if not waiting:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = (
                f"Docent did not finish processing it within {timeout:g} s "
                f"(ingestion job {', '.join(waiting)})"
            )
            raise _ChunkFailed(reason, uncertain=True)
        time.sleep(min(poll_interval, remaining))


def upload(
    collection: str | NewCollection,
    runs_or_path: str | os.PathLike[str] | Iterable[AgentRun],
    *,
    client: Docent | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    keep_going: bool = False,
    skip: int = 0,
    options: ConversionOptions | None = None,
    on_progress: Callable[[UploadProgress], None] | None = None,
    on_rejected: Callable[[ConversionError], None] | None = None,
    poll_interval: float = 1.0,
    timeout: float = DEFAULT_TIMEOUT,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_request_bytes: int = MAX_AGENT_RUN_PAYLOAD_BYTES,
) -> UploadResult:
    """Upload runs into a Docent collection, chunk by chunk, each chunk confirmed processed.

    `collection` is an existing collection's id (checked first) or a `NewCollection`.
    `runs_or_path` is a rollouts JSONL file (plain or .gz), converted with `options`
    (default: strict) and read twice: a validation pass, in which the
    first bad line raises its `ConversionError` before anything is sent (with
    `keep_going`, bad lines are passed to `on_rejected`, listed in the result, and left
    out), then the upload pass, one chunk in memory at a time. Or it is an iterable of
    AgentRuns, uploaded as they come (a `ConversionError` it raises, e.g. from
    `iter_nemogym_jsonl`, becomes an `UploadError` after the runs before it).

    `client` defaults to `default_client()`, configured like the SDK itself.
    The first `skip` runs are not sent (to resume an upload). A chunk holds at most
    `chunk_size` runs and `chunk_bytes` of JSON (a bigger run goes alone, up to
    `max_request_bytes`, Docent's limit), so memory holds one chunk. Each chunk is one
    `client.add_agent_runs(wait=False)` call: one gzip request, retried by the SDK on a 5xx
    (3 times, backing off 1, 2, 4 s); then its ingestion job is polled every
    `poll_interval` seconds until it is completed. Every request waits `timeout` seconds at
    most for its answer, and each chunk's job `timeout` seconds at most to finish.
    `on_progress` hears of every ~1 MB of the file checked and every chunk accepted. The
    client logs and draws its progress bars as the SDK does (`nemogym-ingest upload`
    quiets them).

    Raises `UploadError` (how many runs are in, where to resume) when a chunk is not
    confirmed: Docent refuses it, fails its job, does not answer or finish in time, or
    answers in a way the SDK cannot read (any exception inside the SDK), or the file
    changes or becomes unreadable during the upload. A chunk that may have been ingested
    all the same is `uncertain`. Before anything is sent: SDK errors (`ValueError` for
    missing credentials, `requests.RequestException`), `LookupError` (no such collection),
    `DocentAnswerError` (an answer the SDK cannot use), `ConversionError` (a bad line),
    `nemogym_ingest.source.InputError` (the file cannot be read; a `ConversionError` too).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be at least 1, got {chunk_bytes}")
    if skip < 0:
        raise ValueError(f"skip must be at least 0, got {skip}")
    if skip and isinstance(collection, NewCollection):
        raise ValueError("skip resumes an upload into an existing collection, not a new one")
    if not timeout > 0:
        raise ValueError(f"timeout must be more than 0 seconds, got {timeout}")
    if client is None:
        client = default_client(timeout)
    with _request_timeout(client._session, timeout):
        return _upload(
            collection,
            runs_or_path,
            client=client,
            chunk_size=chunk_size,
            keep_going=keep_going,
            skip=skip,
            options=options,
            on_progress=on_progress,
            on_rejected=on_rejected,
            poll_interval=poll_interval,
            timeout=timeout,
            chunk_bytes=chunk_bytes,
            max_request_bytes=max_request_bytes,
        )


def _find_collection(client: Docent, collection_id: str) -> None:
    """Raises `LookupError` unless Docent has the collection (older servers answer `null`
    for an unknown one, newer ones 404)."""
    try:
        found = client.get_collection(collection_id)
    except requests.HTTPError as error:
        if error.response is None or error.response.status_code != 404:
            raise
        found = None
    if found is None:
        raise LookupError(f"Docent has no collection {collection_id!r} that this API key can see")


def _create_collection(client: Docent, collection: NewCollection) -> str:
    try:
        collection_id = client.create_collection(
            name=collection.name, description=collection.description
        )
    except requests.RequestException:
        raise
    except Exception as error:  # whatever the SDK raises on an answer it cannot read
        raise DocentAnswerError(
            f"creating the collection: the Docent SDK failed on Docent's answer: "
            f"{type(error).__name__}: {error}"
        ) from None
    return str(collection_id)


def _upload(
    collection: str | NewCollection,
    runs_or_path: str | os.PathLike[str] | Iterable[AgentRun],
    *,
    client: Docent,
    chunk_size: int,
    keep_going: bool,
    skip: int,
    options: ConversionOptions | None,
    on_progress: Callable[[UploadProgress], None] | None,
    on_rejected: Callable[[ConversionError], None] | None,
    poll_interval: float,
    timeout: float,
    chunk_bytes: int,
    max_request_bytes: int,
) -> UploadResult:
    """`upload`, its arguments checked and the client's requests timed."""
    if isinstance(collection, str):
        _find_collection(client, collection)

    rejected: list[ConversionError] = []

    def reject(error: ConversionError) -> None:
        rejected.append(error)
        if on_rejected is not None:
            on_rejected(error)

    runs: Iterable[AgentRun]
    total: int | None = None
    if isinstance(runs_or_path, str | os.PathLike):
        if os.fspath(runs_or_path) == STDIN:
            raise ValueError("upload reads its file twice, so it cannot read stdin ('-')")
        options = ConversionOptions() if options is None else options
        total, rejected_lines = _check_file(runs_or_path, options, keep_going, reject, on_progress)
        if skip > total:
            raise ValueError(f"skip={skip} is more than the {total} runs in {runs_or_path}")
        runs = _checked_runs(runs_or_path, options, total, rejected_lines)
    else:
        runs = runs_or_path
    collection_id = (
        _create_collection(client, collection)
        if isinstance(collection, NewCollection)
        else collection
    )
    result = UploadResult(collection_id, rejected=rejected)

    def report_upload() -> None:
        if on_progress is not None:
            progress = UploadProgress(
                "uploading", result.accepted, result.bytes, result.accepted, total, collection_id
            )
            on_progress(progress)

    def failure(reason: str, size: int, *, uncertain: bool = False) -> UploadError:
        return UploadError(
            reason,
            collection_id=collection_id,
            chunk=result.chunks + 1,
            first_run=result.accepted + 1,
            last_run=result.accepted + size,
            accepted=result.accepted,
            uncertain=uncertain,
        )

    try:
        remaining = iter(runs)
        result.skipped = sum(1 for _ in islice(remaining, skip))
        if result.skipped < skip:
            raise ValueError(f"skip={skip} is more than the {result.skipped} runs given")
        report_upload()
        for chunk, size in _chunks(remaining, chunk_size, chunk_bytes, max_request_bytes):
            try:
                job_ids = _submit(client, collection_id, chunk, timeout)
                _await_jobs(client, collection_id, job_ids, timeout, poll_interval)
            except _ChunkFailed as error:
                raise failure(error.reason, len(chunk), uncertain=error.uncertain) from None
            result.chunks += 1
            result.uploaded += len(chunk)
            result.bytes += size
            report_upload()
    except _FileChanged as error:
        raise failure(f"the file changed during the upload: {error}", 1) from None
    except ConversionError as error:  # from a run iterable (a file was checked first)
        raise failure(f"the runs given stopped with an error: {error}", 1) from None
    except _RunTooLarge as error:
        raise failure(str(error), 1) from None
    return result


def convert_nemogym_rollout_to_agent_run(
    rollout: Any, *, options: ConversionOptions | None = None
) -> DocentAgentRun:
    """`nemogym_ingest.convert_nemogym_rollout_to_agent_run` as Docent's own AgentRun: a
    drop-in for `docent.sdk.integrations.convert_nemogym_rollout_to_agent_run`.

    Raises the core's `ConversionError` (a `ValueError` naming the field) for a rollout that
    cannot be converted exactly.
    """
    return to_docent(core_convert.convert_nemogym_rollout_to_agent_run(rollout, options=options))


def convert_nemogym_jsonl_file_to_agent_runs(
    file_path: RolloutsSource, *, options: ConversionOptions | None = None
) -> list[DocentAgentRun]:
    """Every run of a NeMo Gym JSONL file as Docent's own AgentRun: a drop-in for
    `docent.sdk.integrations.convert_nemogym_jsonl_file_to_agent_runs`, ready for
    `client.add_agent_runs`.

    Raises the core's `ConversionError` (with `file` and `line`) at the first bad line.
    """
    return to_docent_many(core_jsonl.iter_nemogym_jsonl(file_path, options=options))
