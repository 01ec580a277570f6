"""The output text of a payload (spec/README.md, "Output text"): one JSON line in UTF-8,
the standard library's `json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`.

With the `fast` extra, orjson writes it whenever orjson writes exactly those bytes: it
writes every string, integer and key the same, and every float but those of magnitude
below 1e-4, which it writes in another form (`0.00001`, `1e-7` for Python's `1e-05`,
`1e-07`); an output showing such a form anywhere (strings included) is written again by
`json`, as is a payload orjson refuses (an integer beyond 64 bits).
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

_DIGITS = frozenset(b"0123456789")


def payload_line(payload: Any) -> bytes:
    """The output text of one payload, without its line end."""
    if _orjson_dumps is not None:
        try:
            text = _orjson_dumps(payload)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
            pass
        else:
            if not orjson_float_form_in(text):
                return text
    return _JSON_ENCODE(payload).encode("utf-8")


def orjson_float_form_in(text: bytes) -> bool:
    """Whether orjson's output `text` may hold a float written otherwise than `json` writes
    it: `0.0000` (a fixed form below 1e-4), or a digit, `e-` and one digit not followed by
    another (an exponent without Python's leading zero). False is never wrong."""
    if b"0.0000" in text:
        return True
    end = len(text)
    found = text.find(b"e-", 1)
    while found >= 0:
        exponent = found + 2
        if (
            text[found - 1] in _DIGITS
            and exponent < end
            and text[exponent] in _DIGITS
            and (exponent + 1 == end or text[exponent + 1] not in _DIGITS)
        ):
            return True
        found = text.find(b"e-", exponent)
    return False
