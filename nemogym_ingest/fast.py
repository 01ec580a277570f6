"""The `fast` extra: orjson's parser and writer when orjson is installed, or None when it is
not or when `NEMOGYM_INGEST_PARSER=json` asks for the standard library alone (to compare).

The reader (`jsonl`) and the writer (`output`) take them from here, the one place that
decides; each holds its own reference, so that tests can swap one of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

ORJSON_LOADS: Callable[[bytes], Any] | None = None
ORJSON_DUMPS: Callable[[Any], bytes] | None = None
if os.environ.get("NEMOGYM_INGEST_PARSER") != "json":
    with contextlib.suppress(ImportError):
        import orjson

        ORJSON_LOADS, ORJSON_DUMPS = orjson.loads, orjson.dumps
