"""What an upload is given, without Docent's SDK: the defaults, the target (`NewCollection`)
and `UploadSettings`, shared by `nemogym-ingest upload` (which shows its help and checks its
arguments without importing Docent) and `nemogym_ingest.docent.upload`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..options import ConversionOptions

DOCENT_VERSION = "0.1.88"
"""The Docent release the spec's divergences are told from and the `docent` extra pins."""


def missing_extra(user: str, module: str | None) -> str:
    """What `user` (`upload`; `_sdk` says the same for `nemogym_ingest.docent`) says when
    Docent's SDK cannot be imported (`module`: the module found missing)."""
    missing = f"; not installed: {module}" if module else ""
    return (
        f"{user} needs the docent extra (Docent's SDK, docent=={DOCENT_VERSION}): pip install "
        f"'nemogym-ingest[docent]' (in a checkout: pip install '.[docent]', or uv sync){missing}"
    )


STDIN_REFUSED = "upload reads its file twice, so it cannot read stdin"
"""Why `upload` refuses `-`: the file is read once to check it and once to send it."""

DEFAULT_CHUNK_SIZE = 500
"""Runs per `add_agent_runs` call, at most."""

DEFAULT_CHUNK_BYTES = 16_000_000
"""Request body bytes (JSON, before gzip) a chunk stays under, unless one run is bigger: that
run goes alone, up to Docent's 100 MB limit. Memory holds about a few times this."""

DEFAULT_TIMEOUT = 120.0
"""Seconds `upload` waits, at most, for any one request's answer and for any one chunk's
ingestion job to finish."""

DEFAULT_POLL_INTERVAL = 1.0
"""Seconds between two questions about a chunk's ingestion jobs."""


@dataclass(frozen=True)
class NewCollection:
    """Upload into a collection created for the purpose (after the input checked out)."""

    name: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class UploadSettings:
    """How an upload goes (`nemogym_ingest.docent.upload` says what each does).

    `max_request_bytes` None is Docent's own limit (`MAX_AGENT_RUN_PAYLOAD_BYTES`).
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE
    keep_going: bool = False
    skip: int = 0
    options: ConversionOptions = ConversionOptions()
    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    max_request_bytes: int | None = None

    def check(self, collection: str | NewCollection) -> None:
        """Raises `ValueError` when the settings cannot upload into `collection`."""
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {self.chunk_size}")
        if self.chunk_bytes < 1:
            raise ValueError(f"chunk_bytes must be at least 1, got {self.chunk_bytes}")
        if self.skip < 0:
            raise ValueError(f"skip must be at least 0, got {self.skip}")
        if self.skip and isinstance(collection, NewCollection):
            raise ValueError("skip resumes an upload into an existing collection, not a new one")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be more than 0 seconds, got {self.timeout}")
