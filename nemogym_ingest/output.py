"""The output text of a payload (spec/README.md, "Output text"): one JSON line in UTF-8,
the standard library's `json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`.

With the `fast` extra, orjson writes it whenever orjson writes exactly those bytes: it
writes every string, integer and key the same, and every float but some of magnitude
below 1e-4 (`0.00001`, `0.0000999` for Python's `1e-05`, `9.99e-05`). Conversion records
whether a payload holds such a float (`JsonCopier.tiny_float`); that payload is written by
`json`, as is one orjson refuses (an integer beyond 64 bits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .fast import ORJSON_DUMPS

_orjson_dumps: Callable[[Any], bytes] | None = ORJSON_DUMPS
"""orjson's writer with the `fast` extra, else None (see `fast`)."""

_JSON_ENCODE = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode
"""`json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`; a payload is a tree
(built from parsed JSON), so the check for cycles is left out."""


def payload_line(payload: Any, *, tiny_float: bool) -> bytes:
    """The output text of one payload, without its line end; `tiny_float`: the payload may
    hold a float of magnitude below 1e-4 (but 0), which orjson writes in another form."""
    if _orjson_dumps is not None and not tiny_float:
        try:
            return _orjson_dumps(payload)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
            pass
    return _JSON_ENCODE(payload).encode("utf-8")
