"""Which ConversionOptions would let a rejected row convert (for `nemogym-ingest check`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .convert import KindOfRow, convert_row
from .errors import ConversionError
from .options import OPTIONS, ConversionOptions


def rescuing_options(
    row: Any,
    options: ConversionOptions,
    line: int,
    error: ConversionError,
    kind: KindOfRow | None = None,
) -> list[str]:
    """The options (`ConversionOptions` field names) that, added to `options`, let
    `row` convert: `row`, read from JSONL line `line`, is rejected with `error`
    under `options` (`kind`: its kind, when the driver told it). Empty when no option helps.

    Each rejection names the option that resolves it (`error.option`); that option is
    added (with `OPTIONS[…].probe`) and the row converted again, until it
    converts or is rejected for a reason no option, or no option not yet set, resolves.
    An option changes nothing but the rejection it resolves (R70), so the result lists
    just the options needed, in check order.
    """
    added: list[str] = []
    while error.option is not None and getattr(options, error.option) is None:
        added.append(error.option)
        probe: dict[str, Any] = {error.option: OPTIONS[error.option].probe}
        options = dataclasses.replace(options, **probe)
        try:
            convert_row(row, options, line, kind=kind)
        except ConversionError as next_error:
            error = next_error
        else:
            return added
    return []
