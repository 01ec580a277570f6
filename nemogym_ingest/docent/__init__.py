"""The bridge to Docent's own models and API (the optional extra `nemogym-ingest[docent]`).

- `settings`: what an upload is given (`NewCollection`, `UploadSettings`, the defaults), no
  Docent needed;
- `dropin`: `to_docent` and the drop-ins for Docent's converters
  (`convert_nemogym_rollout_to_agent_run`, `convert_nemogym_jsonl_file_to_agent_runs`);
- `uploader`: `upload` (one `Uploader`), a rollouts file (or any runs) streamed into a
  Docent collection, with `runs` (the file's two passes and the chunks) and `client` (the
  SDK's client, timed);
- `oracle`: Docent's converter and model as the tests' and `case add`'s reference.

`import nemogym_ingest` never imports Docent, nor does this package or its `settings`: the
other names load on first use, and without Docent's SDK that raises an `ImportError` naming
the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .settings import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_TIMEOUT,
    NewCollection,
    UploadSettings,
)

if TYPE_CHECKING:
    from .client import DocentAnswerError, default_client, describe_request_error
    from .dropin import (
        convert_nemogym_jsonl_file_to_agent_runs,
        convert_nemogym_rollout_to_agent_run,
        to_docent,
        to_docent_many,
    )
    from .runs import PayloadError
    from .uploader import (
        NothingToUpload,
        Uploader,
        UploadError,
        UploadProgress,
        UploadResult,
        upload,
    )

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "DocentAnswerError",
    "NewCollection",
    "NothingToUpload",
    "PayloadError",
    "UploadError",
    "UploadProgress",
    "UploadResult",
    "UploadSettings",
    "Uploader",
    "convert_nemogym_jsonl_file_to_agent_runs",
    "convert_nemogym_rollout_to_agent_run",
    "default_client",
    "describe_request_error",
    "to_docent",
    "to_docent_many",
    "upload",
]

_MODULE_OF = {
    "DocentAnswerError": "client",
    "default_client": "client",
    "describe_request_error": "client",
    "convert_nemogym_jsonl_file_to_agent_runs": "dropin",
    "convert_nemogym_rollout_to_agent_run": "dropin",
    "to_docent": "dropin",
    "to_docent_many": "dropin",
    "NothingToUpload": "uploader",
    "PayloadError": "runs",
    "UploadError": "uploader",
    "UploadProgress": "uploader",
    "UploadResult": "uploader",
    "Uploader": "uploader",
    "upload": "uploader",
}
"""Where each name that needs Docent's SDK is defined, loaded on first use."""


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
