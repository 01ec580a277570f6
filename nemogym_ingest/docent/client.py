"""Docent's SDK client, as an upload uses it: a timeout on every request (the SDK sets none),
a failed request told in one line, and each call an upload makes (the collection, a chunk
sent, its ingestion jobs awaited), with what the SDK raises turned into what it means.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from ._sdk import Docent, DocentAgentRun, requests, urllib3
from .settings import NewCollection

_UNFINISHED_JOB = frozenset({"pending", "running"})


class DocentAnswerError(RuntimeError):
    """Docent answered a request before the upload (e.g. creating the collection) in a way
    the SDK could not use; nothing was uploaded."""


class ChunkFailed(Exception):
    """A chunk was not confirmed: `reason`; `uncertain` when it may have been ingested."""

    def __init__(self, reason: str, *, uncertain: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain


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
def request_timeout(session: requests.Session, timeout: float | None) -> Iterator[None]:
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
        with request_timeout(self._session, self._request_timeout):
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


def _sdk_failure(error: Exception, timeout: float) -> str:
    if isinstance(error, requests.RequestException):
        return describe_request_error(error, timeout)
    return f"the Docent SDK failed on Docent's answer: {type(error).__name__}: {error}"


def find_collection(client: Docent, collection_id: str) -> None:
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


def create_collection(client: Docent, collection: NewCollection) -> str:
    """The id of the collection created as `collection` says."""
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


def submit(
    client: Docent, collection_id: str, chunk: list[DocentAgentRun], timeout: float
) -> list[str]:
    """POST the chunk (one request, the SDK retrying a 5xx) without the SDK's waiting: its
    ingestion job ids."""
    try:
        answer = client.add_agent_runs(collection_id, chunk, wait=False)
    except Exception as error:  # whatever the SDK raises, e.g. on a `null` answer
        refused = isinstance(error, requests.HTTPError) and error.response is not None
        unsent = isinstance(error, requests.RequestException) and _never_connected(error)
        raise ChunkFailed(_sdk_failure(error, timeout), uncertain=not (refused or unsent)) from None
    job_ids = answer.get("job_ids") if isinstance(answer, Mapping) else None
    if not job_ids:
        raise ChunkFailed(
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
        raise ChunkFailed(reason, uncertain=True) from None


def await_jobs(
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
            raise ChunkFailed(reason + detail, uncertain=False)
        if not waiting:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = (
                f"Docent did not finish processing it within {timeout:g} s "
                f"(ingestion job {', '.join(waiting)})"
            )
            raise ChunkFailed(reason, uncertain=True)
        time.sleep(min(poll_interval, remaining))
