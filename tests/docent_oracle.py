"""Docent 0.1.88 as the oracle (`nemogym_ingest.docent.oracle`), with its error path required."""

from __future__ import annotations

from nemogym_ingest.docent.oracle import (
    DocentConversionError,
    docent_convert,
    docent_convert_payload,
    docent_payload,
    error_path,
    validate_on_docent,
)

__all__ = [
    "DocentConversionError",
    "docent_convert",
    "docent_convert_payload",
    "docent_error_path",
    "docent_payload",
    "validate_on_docent",
]


def docent_error_path(error: Exception) -> str:
    """The field path a Docent ConversionError message names, in our path form."""
    message = str(error)
    path = error_path(message)
    if path is None:
        raise AssertionError(f"unexpected Docent error message: {message}")
    return path
