"""`upload`: runs streamed into a Docent collection with the real SDK client, in chunks, so
memory stays bounded for any file size, each chunk confirmed processed before the next; and
what it tells as it goes (`UploadProgress`), when done (`UploadResult`) and when it stops
(`UploadError`: exactly where to resume). `Uploader` is one upload, holding its settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from ..errors import ConversionError
from ..file_kind import FileKind
from ..jsonl import LineResult
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
from .runs import (
    FileChanged,
    RejectedLines,
    RunTooLarge,
    StdinCopy,
    UploadInput,
    checked_payloads,
    chunks,
    iter_results,
)
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

    `phase` `"checking"` (the validation pass over the input files): `runs` good runs so
    far, `bytes` of the inputs read, `position` on disk (compressed bytes for a .gz) in the
    inputs one after the other, `total` the size of the one being read. `phase`
    `"uploading"`: `runs` in `collection_id` so far (skipped ones included), `bytes` of
    request bodies (uncompressed JSON) sent, and `position` == `runs` of `total` (None for
    a run iterable).
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
    rollout, which hold nothing to send (R83); `not_rollouts` a sentence per input left
    out as holding no rollout (task inputs, other JSON objects: R80).
    """

    collection_id: str
    uploaded: int = 0
    skipped: int = 0
    chunks: int = 0
    bytes: int = 0
    rejected: list[ConversionError] = field(default_factory=list)
    failed_attempts: int = 0
    not_rollouts: list[str] = field(default_factory=list)

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


class NothingToUpload(ValueError):
    """The inputs hold no run to upload (empty, failed attempts only, or every line
    rejected): refused before any collection is created or any request is made."""


Runs = UploadInput | Sequence[UploadInput] | Iterable[AgentRun]
"""What an upload sends: an input file (rollouts or AgentRun payloads), several of them in
order, or AgentRuns."""


def _paths(runs: Runs) -> list[UploadInput] | None:
    """The input files `runs` names (one path or a non-empty sequence of paths), or None for
    runs given as AgentRuns."""
    if isinstance(runs, str | os.PathLike):
        return [runs]
    if (
        isinstance(runs, list | tuple)
        and runs
        and all(isinstance(path, str | os.PathLike) for path in runs)
    ):
        return list(runs)
    return None


def _size(path: UploadInput) -> int:
    """The size of an input on disk (0 when unknown)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _shown(path: UploadInput) -> str:
    """An input as messages name it."""
    return "<stdin>" if isinstance(path, StdinCopy) else os.fspath(path)


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
        file_options: Callable[[UploadInput], ConversionOptions] | None = None,
    ) -> None:
        settings.check(collection)
        self.file_options = file_options
        """The options of each input file (default: `settings.options` for every one)."""
        self.collection = collection
        self.settings = settings
        self.on_progress = on_progress
        self.on_rejected = on_rejected
        self.rejected: list[ConversionError] = []
        self.failed_attempts = 0
        self.not_rollouts: list[str] = []
        """A sentence per input left out as holding no rollout (R80), found by the check."""
        self.total: int | None = None
        """The good runs of a checked file (None for a run iterable)."""
        self._good = self._read = 0  # the validation pass so far: good runs, bytes read
        self._before = 0  # on-disk bytes of the inputs checked before the current one
        self._prepared: Iterable[JsonDict] = ()
        self._prepared_for: object = None
        """The payloads of the file `check` checked, and that file."""

    def run(self, runs_or_path: Runs, client: Docent | None = None) -> UploadResult:
        """Upload the runs (`client`: by default `default_client()`), the input files' once
        they are checked (`check`, if not called before): a bad file fails before logging
        in."""
        payloads = (
            self._prepared if self._prepared_for is runs_or_path else self._runs(runs_or_path)
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
                collection_id,
                rejected=self.rejected,
                failed_attempts=self.failed_attempts,
                not_rollouts=self.not_rollouts,
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

    def check(self, paths: UploadInput | Sequence[UploadInput]) -> None:
        """The validation pass over the input files on their own, before `run(paths, …)`
        logs in: raises what `run` would for them (the first bad line's `ConversionError`
        unless `keep_going`, `InputError`, `NothingToUpload`, `ValueError` for a `skip`
        beyond their runs)."""
        self._prepared, self._prepared_for = self._runs(paths), paths

    def _runs(self, runs_or_path: Runs) -> Iterable[JsonDict]:
        """The payloads to send: the input files' good runs once the validation pass found
        them, or the AgentRuns given."""
        paths = _paths(runs_or_path)
        if paths is None:
            return _payloads(runs_or_path)  # type: ignore[arg-type]
        if any(os.fspath(path) == STDIN for path in paths):
            raise ValueError(f"{STDIN_REFUSED} ('{STDIN}')")
        options = [
            self.settings.options if self.file_options is None else self.file_options(path)
            for path in paths
        ]
        total, rejected_lines = self._check_files(paths, options)
        shown = ", ".join(_shown(path) for path in paths)
        if total == 0:
            raise NothingToUpload(f"nothing to upload: no run in {shown}")
        skip = self.settings.skip
        if skip > total:
            raise ValueError(f"skip={skip} is more than the {total} runs in {shown}")
        self.total = total
        return checked_payloads(paths, options, total, rejected_lines)

    def _check_files(
        self, paths: Sequence[UploadInput], options: Sequence[ConversionOptions]
    ) -> tuple[int, RejectedLines]:
        """The validation pass: the number of good runs and the lines rejected (or left out
        with an input that holds no rollout, R80, named in `not_rollouts`).

        The first bad line raises its `ConversionError` unless `keep_going`.
        """
        rejected: RejectedLines = set()
        for index, path in enumerate(paths):
            self._before += _size(paths[index - 1]) if index else 0
            held: FileKind[LineResult] = FileKind()
            for result in iter_results(path, options[index], self._checked):
                if not held.take(result, result):
                    for earlier in [*held.release(), result]:
                        self._take(index, earlier, rejected)
            sentence = held.not_rollouts(_shown(path))
            if sentence is None:
                for earlier in held.release():
                    self._take(index, earlier, rejected)
            else:
                self.not_rollouts.append(sentence)
                rejected.update((index, result.line) for result in held.release())
        return self._good, rejected

    def _take(self, index: int, result: LineResult, rejected: RejectedLines) -> None:
        """Count one line of input `index` in the validation pass."""
        if result.converted is not None:
            self._good += 1
        elif result.error is None:  # a failed attempt: no rollout to send (R83)
            self.failed_attempts += 1
        elif self.settings.keep_going:
            rejected.add((index, result.line))
            self.rejected.append(result.error)
            if self.on_rejected is not None:
                self.on_rejected(result.error)
        else:
            raise result.error

    def _checked(self, source: Source, chunk: Chunk) -> None:
        """A chunk of an input went through the validation pass."""
        self._read += chunk.nbytes
        if self.on_progress is not None:
            position = self._before + chunk.position
            progress = UploadProgress("checking", self._good, self._read, position, source.size)
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


def _payloads(runs: Iterable[AgentRun]) -> Iterator[JsonDict]:
    """The wire payloads of AgentRuns, made as they are sent."""
    for run in runs:
        yield wire_payload(run)


def upload(
    collection: str | NewCollection,
    runs_or_path: Runs,
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
    `NewCollection`. `runs_or_path` is a JSONL file (plain or .gz), or a list of them sent
    in order: NeMo Gym rollouts, converted with `options` (default: strict), or AgentRun
    payloads (`convert`'s output, told by the first line: an object with `transcripts`),
    sent as they are once Docent's model takes each (else `PayloadError`, even with
    `keep_going`). The files are read twice: a validation pass, in which the first bad line
    raises its `ConversionError` before logging in or sending anything (with `keep_going`,
    bad lines go to `on_rejected` and the result, and are left out), and `NothingToUpload`
    when no run is left; then the upload pass, one chunk in memory at a time. Or it is an
    iterable of AgentRuns, uploaded as they come (a `ConversionError` it raises becomes an
    `UploadError` after the runs before it). `client` defaults to `default_client()`. The
    first `skip` runs are not sent (to resume an upload).

    A chunk holds at most `chunk_size` runs and `chunk_bytes` of JSON (a bigger run goes
    alone, up to `max_request_bytes`, Docent's limit). Each chunk is one
    `client.add_agent_runs(wait=False)` call: one gzip request, retried by the SDK on a 5xx
    (3 times, backing off 1, 2, 4 s); then its ingestion job is polled every
    `poll_interval` seconds until it is completed. Every request waits `timeout` seconds at
    most for its answer, and each chunk's job `timeout` seconds at most to finish.
    `on_progress` hears of every ~1 MB checked and every chunk accepted.

    Raises `UploadError` (how many runs are in, where to resume) when a chunk is not
    confirmed: Docent refuses it, fails its job, does not answer or finish in time, or
    answers in a way the SDK cannot read, or the file changes or becomes unreadable during
    the upload. A chunk that may have been ingested all the same is `uncertain`. Before
    anything is sent: SDK errors (`ValueError` for missing credentials,
    `requests.RequestException`), `LookupError` (no such collection), `DocentAnswerError`,
    `ConversionError`, `PayloadError`, `InputError` (unreadable), `NothingToUpload`.
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
