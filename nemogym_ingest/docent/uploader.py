"""`upload`: runs streamed into a Docent collection with the real SDK client, in chunks, so
memory stays bounded for any file size, each chunk confirmed processed before the next; and
what it tells as it goes (`UploadProgress`), when done (`UploadResult`) and when it stops
(`UploadError`: exactly where to resume). `Uploader` is one upload, holding its settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from ..errors import ConversionError
from ..model import AgentRun, wire_payload
from ..options import ConversionOptions
from ..source import STDIN, Chunk, Source
from ..wire import JsonDict
from ._sdk import MAX_AGENT_RUN_PAYLOAD_BYTES, Docent
from .client import (
    ChunkFailed,
    await_jobs,
    create_collection,
    default_client,
    find_collection,
    request_timeout,
    submit,
)
from .runs import FileChanged, RunTooLarge, checked_payloads, chunks, iter_results
from .settings import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    STDIN_REFUSED,
    NewCollection,
    UploadSettings,
)


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
    lines left out (only with `keep_going`); `failed_attempts` the failure rows without a
    rollout, which hold nothing to send (R83).
    """

    collection_id: str
    uploaded: int = 0
    skipped: int = 0
    chunks: int = 0
    bytes: int = 0
    rejected: list[ConversionError] = field(default_factory=list)
    failed_attempts: int = 0

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


class Uploader:
    """One upload into `collection` (an existing collection's id, or a `NewCollection`)
    with `settings`, telling `on_progress` where it stands and `on_rejected` of each bad
    line left out; `upload` says what `run` does."""

    def __init__(
        self,
        collection: str | NewCollection,
        settings: UploadSettings,
        *,
        on_progress: Callable[[UploadProgress], None] | None = None,
        on_rejected: Callable[[ConversionError], None] | None = None,
    ) -> None:
        settings.check(collection)
        self.collection = collection
        self.settings = settings
        self.on_progress = on_progress
        self.on_rejected = on_rejected
        self.rejected: list[ConversionError] = []
        self.failed_attempts = 0
        self.total: int | None = None
        """The good runs of a checked file (None for a run iterable)."""
        self._good = self._read = 0  # the validation pass so far: good runs, bytes read
        self._prepared: Iterable[JsonDict] = ()
        self._prepared_for: object = None
        """The payloads of the file `check` checked, and that file."""

    def run(
        self,
        runs_or_path: str | os.PathLike[str] | Iterable[AgentRun],
        client: Docent | None = None,
    ) -> UploadResult:
        """Upload the runs (`client`: by default `default_client()`), a file's once it is
        checked (`check`, if not called before): a bad file fails before logging in."""
        payloads = (
            self._prepared if self._prepared_for is runs_or_path else self._payloads(runs_or_path)
        )
        if client is None:
            client = default_client(self.settings.timeout)
        with request_timeout(client._session, self.settings.timeout):
            if isinstance(self.collection, str):
                find_collection(client, self.collection)
            collection_id = (
                create_collection(client, self.collection)
                if isinstance(self.collection, NewCollection)
                else self.collection
            )
            result = UploadResult(
                collection_id, rejected=self.rejected, failed_attempts=self.failed_attempts
            )
            try:
                self._send(client, payloads, result)
            except FileChanged as error:
                reason = f"the file changed during the upload: {error}"
                raise self._failure(result, reason, 1) from None
            except ConversionError as error:  # from a run iterable (a file was checked first)
                reason = f"the runs given stopped with an error: {error}"
                raise self._failure(result, reason, 1) from None
            except RunTooLarge as error:
                raise self._failure(result, str(error), 1) from None
            return result

    def check(self, path: str | os.PathLike[str]) -> None:
        """The validation pass over file `path` on its own, before `run(path, …)` logs in:
        raises what `run` would for the file (its first bad line's `ConversionError` unless
        `keep_going`, `InputError`, `ValueError` for a `skip` beyond its runs)."""
        self._prepared, self._prepared_for = self._payloads(path), path

    def _payloads(
        self, runs_or_path: str | os.PathLike[str] | Iterable[AgentRun]
    ) -> Iterable[JsonDict]:
        """The wire payloads to send: a file's good runs' once the validation pass found
        them, as the driver built them; the given runs', made as each is sent."""
        if not isinstance(runs_or_path, str | os.PathLike):
            return map(wire_payload, runs_or_path)
        if os.fspath(runs_or_path) == STDIN:
            raise ValueError(f"{STDIN_REFUSED} ('{STDIN}')")
        total, rejected_lines = self._check_file(runs_or_path)
        skip = self.settings.skip
        if skip > total:
            raise ValueError(f"skip={skip} is more than the {total} runs in {runs_or_path}")
        self.total = total
        return checked_payloads(runs_or_path, self.settings.options, total, rejected_lines)

    def _check_file(self, path: str | os.PathLike[str]) -> tuple[int, set[int]]:
        """The validation pass: the number of good runs and the lines rejected.

        The first bad line raises its `ConversionError` unless `keep_going`.
        """
        rejected: set[int] = set()
        for result in iter_results(path, self.settings.options, self._checked):
            if result.converted is not None:
                self._good += 1
            elif result.error is None:  # a failed attempt: no rollout to send (R83)
                self.failed_attempts += 1
            elif self.settings.keep_going:
                rejected.add(result.line)
                self.rejected.append(result.error)
                if self.on_rejected is not None:
                    self.on_rejected(result.error)
            else:
                raise result.error
        return self._good, rejected

    def _checked(self, source: Source, chunk: Chunk) -> None:
        """A chunk of the file went through the validation pass."""
        self._read += chunk.nbytes
        if self.on_progress is not None:
            progress = UploadProgress(
                "checking", self._good, self._read, chunk.position, source.size
            )
            self.on_progress(progress)

    def _send(self, client: Docent, payloads: Iterable[JsonDict], result: UploadResult) -> None:
        """Skip `skip` runs, then send the rest chunk by chunk, each confirmed processed."""
        settings = self.settings
        remaining = iter(payloads)
        result.skipped = sum(1 for _ in islice(remaining, settings.skip))
        if result.skipped < settings.skip:
            raise ValueError(f"skip={settings.skip} is more than the {result.skipped} runs given")
        self._uploaded(result)
        limit = settings.max_request_bytes
        if limit is None:
            limit = MAX_AGENT_RUN_PAYLOAD_BYTES
        for chunk, size in chunks(remaining, settings.chunk_size, settings.chunk_bytes, limit):
            try:
                job_ids = submit(client, result.collection_id, chunk, settings.timeout)
                await_jobs(
                    client, result.collection_id, job_ids, settings.timeout, settings.poll_interval
                )
            except ChunkFailed as error:
                raise self._failure(result, error.reason, len(chunk), error.uncertain) from None
            result.chunks += 1
            result.uploaded += len(chunk)
            result.bytes += size
            self._uploaded(result)

    def _uploaded(self, result: UploadResult) -> None:
        """Tell `on_progress` how many runs are in."""
        if self.on_progress is not None:
            accepted = result.accepted
            progress = UploadProgress(
                "uploading", accepted, result.bytes, accepted, self.total, result.collection_id
            )
            self.on_progress(progress)

    def _failure(
        self, result: UploadResult, reason: str, size: int, uncertain: bool = False
    ) -> UploadError:
        """The error for the chunk of `size` runs after the `result.accepted` ones."""
        return UploadError(
            reason,
            collection_id=result.collection_id,
            chunk=result.chunks + 1,
            first_run=result.accepted + 1,
            last_run=result.accepted + size,
            accepted=result.accepted,
            uncertain=uncertain,
        )


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
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_request_bytes: int = MAX_AGENT_RUN_PAYLOAD_BYTES,
) -> UploadResult:
    """Upload runs into a Docent collection, chunk by chunk, each chunk confirmed processed.

    `collection` is an existing collection's id (checked once the runs are) or a
    `NewCollection`. `runs_or_path` is a rollouts JSONL file (plain or .gz), converted with
    `options` (default: strict) and read twice: a validation pass, in which the first bad
    line raises its `ConversionError` before logging in or sending anything (with
    `keep_going`, bad lines are passed to `on_rejected`, listed in the result, and left
    out), then the upload pass, one chunk in memory at a time. Or it is an iterable of
    AgentRuns, uploaded as they come (a `ConversionError` it raises, e.g. from
    `iter_nemogym_jsonl`, becomes an `UploadError` after the runs before it). `client`
    defaults to `default_client()`, configured like the SDK itself. The first `skip` runs
    are not sent (to resume an upload).

    A chunk holds at most `chunk_size` runs and `chunk_bytes` of JSON (a bigger run goes
    alone, up to `max_request_bytes`, Docent's limit). Each chunk is one
    `client.add_agent_runs(wait=False)` call: one gzip request, retried by the SDK on a 5xx
    (3 times, backing off 1, 2, 4 s); then its ingestion job is polled every
    `poll_interval` seconds until it is completed. Every request waits `timeout` seconds at
    most for its answer, and each chunk's job `timeout` seconds at most to finish.
    `on_progress` hears of every ~1 MB of the file checked and every chunk accepted. The
    client logs and draws its progress bars as the SDK does (`nemogym-ingest upload`
    quiets them).

    Raises `UploadError` (how many runs are in, where to resume) when a chunk is not
    confirmed: Docent refuses it, fails its job, does not answer or finish in time, or
    answers in a way the SDK cannot read, or the file changes or becomes unreadable during
    the upload. A chunk that may have been ingested all the same is `uncertain`. Before
    anything is sent: SDK errors (`ValueError` for missing credentials,
    `requests.RequestException`), `LookupError` (no such collection), `DocentAnswerError`,
    `ConversionError` (a bad line), `InputError` (the file cannot be read).
    """
    settings = UploadSettings(
        chunk_size=chunk_size,
        keep_going=keep_going,
        skip=skip,
        options=ConversionOptions() if options is None else options,
        poll_interval=poll_interval,
        timeout=timeout,
        chunk_bytes=chunk_bytes,
        max_request_bytes=max_request_bytes,
    )
    uploader = Uploader(collection, settings, on_progress=on_progress, on_rejected=on_rejected)
    return uploader.run(runs_or_path, client)
