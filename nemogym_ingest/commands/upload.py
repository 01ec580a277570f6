"""`nemogym-ingest upload`: upload rollouts files (converted) or AgentRun payload files (as
they are) into a Docent collection.

Docent's SDK is imported only when the command runs (it is the optional extra
`nemogym-ingest[docent]`); its help, its arguments and their defaults
(`nemogym_ingest.docent.settings`) never need it.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from typing import TYPE_CHECKING, Any, TextIO

from .. import exit_status
from ..docent.settings import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_TIMEOUT,
    NewCollection,
    UploadSettings,
    missing_extra,
)
from ..errors import ConversionError
from ..options import ConversionOptions, add_option_arguments, options_from_args
from ..progress import Progress
from ..source import STDIN, InputError, open_source
from ..wording import plural
from .common import file_options, seconds, whole_number

if TYPE_CHECKING:
    from ..docent._sdk import Docent
    from ..docent.runs import UploadInput
    from ..docent.uploader import Uploader, UploadError, UploadProgress, UploadResult

_DESCRIPTION = """\
Upload AgentRuns into a Docent collection, with Docent's own SDK client: from NeMo Gym
rollouts files, converted, or from files of AgentRun payloads (what nemogym-ingest convert
writes, told by the first line: an object with "transcripts"), sent as they are. Files
(.jsonl or .jsonl.gz) are uploaded in order; '-' reads stdin (copied to a temporary file).

The files are read twice: first every line is checked, and a line that cannot be converted
(or a payload Docent's model refuses) stops the command before anything is sent
(FILE:LINE: PATH: reason), as do inputs that hold no run at all; then the runs are
uploaded in chunks, in file order, each chunk one request that is confirmed processed
before the next. If Docent stops accepting runs, fails a chunk's job, answers in a way the
SDK cannot read, or does not answer within --timeout, the message names the chunk, the
runs already in the collection, and the command that resumes (--skip N) without losing or
repeating a run.

Credentials and server are read like the SDK reads them: DOCENT_API_KEY, and
DOCENT_DOMAIN or DOCENT_API_URL with DOCENT_FRONTEND_URL, from the environment or a
docent.env file (in this directory or above, or ~/.docent/docent.env)."""

_EXIT_STATUSES = (
    (exit_status.OK, "every run was uploaded"),
    (
        exit_status.REJECTED,
        "a line cannot be converted, or the inputs hold no run: nothing was sent (with\n"
        "     --keep-going: the good lines were uploaded, each bad line was reported)",
    ),
    (exit_status.UNREADABLE, "the file cannot be read, or the command line is wrong"),
    (
        exit_status.DOCENT_UNAVAILABLE,
        "Docent cannot be used: the SDK is missing, no or a refused API key, the server\n"
        "     cannot be reached, or no such collection; nothing was sent",
    ),
    (
        exit_status.INTERRUPTED,
        "the upload stopped part way (or was interrupted); the message says how to resume",
    ),
)

_EPILOG = (
    "exit status:\n"
    + "".join(f"  {status}  {meaning}\n" for status, meaning in _EXIT_STATUSES)
    + """
example:
  export DOCENT_API_KEY=dk_...
  nemogym-ingest upload rollouts.jsonl --new-collection "my eval"
  nemogym-ingest upload rollouts.jsonl --collection-id ID --skip 1500   # resume"""
)

_DOCENT_LOGGER = "docent.sdk._base"  # the logger of every method of the SDK client


def register(subparsers: Any, summary: str) -> None:
    """Register `nemogym-ingest upload` (`summary`: its line in `--help`)."""
    parser = subparsers.add_parser(
        "upload",
        help=summary,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "rollouts",
        metavar="FILE.jsonl",
        nargs="+",
        help="NeMo Gym rollouts or AgentRun payloads (.jsonl or .jsonl.gz); '-' reads stdin",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--collection-id", metavar="ID", help="upload into this collection")
    target.add_argument(
        "--new-collection",
        metavar="NAME",
        help="create a collection named NAME (once the file checks out) and upload into it",
    )
    parser.add_argument(
        "--chunk-size",
        metavar="N",
        type=whole_number(1),
        default=DEFAULT_CHUNK_SIZE,
        help="runs per request, at most (default: %(default)s; a request also stays under "
        "16 MB of JSON unless one run is bigger); memory holds one request's runs",
    )
    parser.add_argument(
        "-k",
        "--keep-going",
        action="store_true",
        help="report and leave out the lines that cannot be converted, upload the rest "
        "(exit status 1 if any was left out)",
    )
    parser.add_argument(
        "--skip",
        metavar="N",
        type=whole_number(0),
        default=0,
        help="do not send the first N runs (the good lines, in file order): resumes an "
        "upload that stopped after N runs; needs --collection-id",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        help="the longest wait for Docent's answer to any one request, and for any one "
        "chunk's processing to finish (default: %(default)g); past it the upload stops "
        "and says how to resume",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line and no summary"
    )
    add_option_arguments(parser)
    parser.set_defaults(handler=_upload, parser=parser)


class _Reporter:
    """The command's output: progress lines on stderr (a terminal only), messages."""

    def __init__(self, args: argparse.Namespace, size: int | None, stderr: TextIO) -> None:
        self.args = args
        self.stderr = stderr
        enabled = False if args.quiet else None
        self.checking = Progress("check", size, stream=stderr, enabled=enabled)
        self.uploading = Progress("upload", stream=stderr, enabled=enabled)
        self.latest: UploadProgress | None = None

    def say(self, message: str) -> None:
        self.checking.clear()
        self.uploading.clear()
        print(message, file=self.stderr, flush=True)

    def progress(self, update: UploadProgress) -> None:
        self.latest = update
        bar = self.checking if update.phase == "checking" else self.uploading
        if bar is self.uploading:
            self.checking.close()
            bar.total = update.total
        bar.advance(update.runs - bar.rollouts, update.bytes - bar.bytes, update.position)

    def rejected(self, error: ConversionError) -> None:
        self.say(f"{error} (left out)")

    def close(self) -> None:
        self.checking.close()
        self.uploading.close()


def _configure_sdk_logging(quiet: bool, stderr: TextIO) -> None:
    """The SDK logs every step at INFO on stdout: keep its warnings (e.g. retries) only,
    on stderr, and only its errors with --quiet."""
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("nemogym-ingest: docent: %(message)s"))
    logger = logging.getLogger(_DOCENT_LOGGER)
    logger.handlers = [handler]
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


def _resume_command(
    paths: list[str], settings: UploadSettings, collection_id: str, skip: int
) -> str:
    parts = ["nemogym-ingest upload", *paths, "--collection-id", collection_id]
    parts += ["--skip", str(skip)]
    if settings.chunk_size != DEFAULT_CHUNK_SIZE:
        parts += ["--chunk-size", str(settings.chunk_size)]
    if settings.keep_going:
        parts.append("--keep-going")
    if settings.timeout != DEFAULT_TIMEOUT:
        parts += ["--timeout", f"{settings.timeout:g}"]
    command = " ".join(shlex.quote(part) if part != parts[0] else part for part in parts)
    if settings.options != ConversionOptions():
        command += "  # and the same assumption flags as before"
    return command


def _stopped(path: list[str], settings: UploadSettings, error: UploadError) -> str:
    resume = _resume_command(path, settings, error.collection_id, error.accepted)
    if not error.uncertain:
        return (
            f"nemogym-ingest: {error.failure}\nnemogym-ingest: {error.done}; to resume:\n  {resume}"
        )
    return (
        f"nemogym-ingest: {error.failure}\n"
        f"nemogym-ingest: {error.done}; look at the collection, then resume with\n"
        f"  {resume}\n"
        f"if {error.runs} are not there, or with\n"
        f"  {_resume_command(path, settings, error.collection_id, error.last_run)}\n"
        "if they are"
    )


def _interrupted(path: list[str], settings: UploadSettings, latest: UploadProgress | None) -> str:
    if latest is None or latest.collection_id is None:
        return "nemogym-ingest: interrupted before anything was sent"
    done = f"runs 1-{latest.runs} are" if latest.runs else "no run is yet"
    return (
        f"nemogym-ingest: interrupted; {done} in collection {latest.collection_id}, and the "
        "chunk being sent may or may not be; look at the collection, then resume with\n"
        f"  {_resume_command(path, settings, latest.collection_id, latest.runs)}"
    )


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB" if nbytes >= 100_000 else f"{nbytes / 1e3:,.1f} kB"


def _summary(result: UploadResult, url: str) -> str:
    chunks = plural(result.chunks, "chunk")
    lines = [
        f"uploaded {result.uploaded:,} runs ({_size(result.bytes)}) in {chunks} "
        f"to collection {result.collection_id}"
    ]
    if result.skipped:
        lines.append(f"skipped the first {result.skipped:,} runs (--skip)")
    if result.rejected:
        rejected = plural(len(result.rejected), "line", grouped=True)
        lines.append(f"left out {rejected} that cannot be converted")
    if result.not_rollouts:
        inputs = len(result.not_rollouts)
        lines.append(
            f"left out {plural(inputs, 'input')} that hold{'s' * (inputs == 1)} no rollout"
        )
    if result.failed_attempts:
        failed = plural(result.failed_attempts, "line", grouped=True)
        lines.append(f"left out {failed} recording failed attempts (no rollout to upload)")
    lines.append(f"view it at {url}/dashboard/{result.collection_id}")
    return "\n".join(lines)


def _upload(args: argparse.Namespace) -> int:
    if args.skip and args.new_collection is not None:
        args.parser.error(
            "--skip resumes an upload into an existing collection: use --collection-id"
        )
    if args.rollouts.count(STDIN) > 1:
        args.parser.error(f"stdin ('{STDIN}') can be read only once")
    try:
        from ..docent import client  # noqa: F401, PLC0415 - the optional extra, only when used
    except ImportError as error:
        missing = getattr(error.__cause__, "name", None)
        print(f"nemogym-ingest: {missing_extra('upload', missing)}", file=sys.stderr)
        return exit_status.DOCENT_UNAVAILABLE
    with _stdin_copied(args.rollouts) as inputs:
        return _upload_inputs(args, inputs)


@contextmanager
def _stdin_copied(paths: list[str]) -> Iterator[list[UploadInput]]:
    """The inputs, `-` (stdin) copied to a temporary file, which upload reads twice
    (removed on leaving)."""
    from ..docent.runs import StdinCopy  # noqa: PLC0415 - the optional extra, found by now

    if STDIN not in paths:
        yield list(paths)
        return
    handle, copy = tempfile.mkstemp(prefix="nemogym-ingest-stdin-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
        yield [StdinCopy(copy) if path == STDIN else path for path in paths]
    finally:
        os.unlink(copy)


def _upload_inputs(args: argparse.Namespace, inputs: list[UploadInput]) -> int:
    """Upload the inputs (stdin already copied): check them, log in, send."""
    import requests  # noqa: PLC0415 - comes with the extra

    from ..docent import client as docent  # noqa: PLC0415 - likewise

    settings = UploadSettings(
        chunk_size=args.chunk_size,
        keep_going=args.keep_going,
        skip=args.skip,
        options=options_from_args(args),
        timeout=args.timeout,
    )
    per_file = {  # usage errors first
        path: file_options(settings.options, path if isinstance(path, str) else STDIN)
        for path in inputs
    }
    size = 0
    for path in inputs:  # a missing or unreadable file fails here (exit 2)
        with open_source(path) as source:
            size += source.size or 0
    stderr = sys.stderr
    reporter = _Reporter(args, size or None, stderr)
    _configure_sdk_logging(args.quiet, stderr)
    uploader = _uploader(args, settings, reporter, per_file)
    status = _check(inputs, uploader, reporter)  # the files first, then the credentials
    if status is not None:
        reporter.close()
        return status
    try:
        client = docent.default_client(args.timeout)
    except ValueError as error:  # no API key, or a bad docent.env profile
        reporter.say(f"nemogym-ingest: cannot use Docent: {error}")
        return exit_status.DOCENT_UNAVAILABLE
    except requests.RequestException as error:
        reason = docent.describe_request_error(error, args.timeout)
        reporter.say(f"nemogym-ingest: cannot log in to Docent: {reason}")
        reporter.close()
        return exit_status.DOCENT_UNAVAILABLE
    try:
        return _send(args, inputs, settings, uploader, client, reporter)
    finally:
        reporter.close()


def _uploader(
    args: argparse.Namespace,
    settings: UploadSettings,
    reporter: _Reporter,
    per_file: dict[UploadInput, ConversionOptions],
) -> Uploader:
    """The upload the arguments ask for, with each input's options, reporting to `reporter`."""
    from ..docent.uploader import Uploader  # noqa: PLC0415 - the optional extra, found by now

    collection: str | NewCollection = (
        args.collection_id if args.new_collection is None else NewCollection(args.new_collection)
    )
    return Uploader(
        collection,
        settings,
        on_progress=reporter.progress,
        on_rejected=reporter.rejected,
        file_options=per_file.__getitem__,
    )


def _check(inputs: list[UploadInput], uploader: Uploader, reporter: _Reporter) -> int | None:
    """The validation pass over the inputs; the exit status when it stops the upload."""
    from ..docent.runs import PayloadError  # noqa: PLC0415 - the optional extra
    from ..docent.uploader import NothingToUpload  # noqa: PLC0415 - likewise

    try:
        try:
            uploader.check(inputs)
        finally:  # the inputs left out are named before what stops the upload, if anything
            for sentence in uploader.not_rollouts:
                reporter.say(sentence)
    except InputError as error:  # the file became unreadable
        reporter.say(f"nemogym-ingest: {error}")
        return exit_status.UNREADABLE
    except ConversionError as error:
        reporter.say(str(error))
        reporter.say(
            "nemogym-ingest: nothing was uploaded (--keep-going uploads the good lines "
            "and leaves the bad ones out)"
        )
        return exit_status.REJECTED
    except PayloadError as error:  # sent as they are: nothing to leave out
        reporter.say(str(error))
        reporter.say(
            "nemogym-ingest: nothing was uploaded (AgentRun payloads are sent as they are: "
            "fix or remove the line)"
        )
        return exit_status.REJECTED
    except NothingToUpload as error:  # empty, failed attempts only, or every line left out
        reporter.say(f"nemogym-ingest: {error}; no collection was created or used")
        return exit_status.REJECTED
    except ValueError as error:  # --skip N beyond the file's runs
        reporter.say(f"nemogym-ingest: {error}")
        return exit_status.USAGE
    return None


def _send(
    args: argparse.Namespace,
    inputs: list[UploadInput],
    settings: UploadSettings,
    uploader: Uploader,
    client: Docent,
    reporter: _Reporter,
) -> int:
    """Upload the checked file with `client`; the exit status."""
    import requests  # noqa: PLC0415 - the optional extra, found installed by `_upload`

    from ..docent import client as docent  # noqa: PLC0415 - likewise
    from ..docent.uploader import UploadError  # noqa: PLC0415 - likewise

    try:
        # The SDK draws a tqdm bar per request on stderr; ours replaces them.
        with open(os.devnull, "w") as sink, redirect_stderr(sink):
            result = uploader.run(inputs, client)
    except InputError as error:  # the file became unreadable after the validation pass
        reporter.say(f"nemogym-ingest: {error}")
        return exit_status.UNREADABLE
    except UploadError as error:
        reporter.say(_stopped(args.rollouts, settings, error))
        return exit_status.INTERRUPTED
    except KeyboardInterrupt:
        reporter.say(_interrupted(args.rollouts, settings, reporter.latest))
        return exit_status.INTERRUPTED
    except requests.RequestException as error:  # before anything was sent
        reason = docent.describe_request_error(error, args.timeout)
        reporter.say(f"nemogym-ingest: Docent: {reason}; nothing was sent")
        return exit_status.DOCENT_UNAVAILABLE
    except (LookupError, docent.DocentAnswerError) as error:  # no such collection, or so
        reporter.say(f"nemogym-ingest: {error}; nothing was sent")
        return exit_status.DOCENT_UNAVAILABLE
    if not args.quiet:
        print(_summary(result, client.frontend_url), flush=True)
    return exit_status.REJECTED if result.rejected else exit_status.OK
