"""Docent 0.1.88 as the oracle: its converter and its model, compared on our wire payload."""

from __future__ import annotations

from typing import Any

from docent.data_models import AgentRun as DocentAgentRun
from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run as docent_convert
from docent.sdk.integrations.util import ConversionError as DocentConversionError

from nemogym_ingest.conformance import normalize_payload

__all__ = [
    "DocentConversionError",
    "docent_convert",
    "docent_convert_payload",
    "docent_error_path",
    "docent_payload",
    "validate_on_docent",
]

_DOCENT_PATH_PREFIX = "Nemogym rollout"


def docent_payload(run: Any) -> dict[str, Any]:
    """A Docent AgentRun as our wire payload: ids and model defaults removed.

    The normalization is the conformance runner's (`normalize_payload`, documented in
    spec/README.md, "Testing an implementation").
    """
    payload: dict[str, Any] = normalize_payload(run.model_dump(mode="json"))
    return payload


def docent_convert_payload(rollout: Any) -> dict[str, Any]:
    """Docent's converter output for `rollout`, as a normalized payload."""
    return docent_payload(docent_convert(rollout))


def validate_on_docent(payload: dict[str, Any]) -> dict[str, Any]:
    """Validate our payload on Docent's model; returns the model's normalized dump."""
    return docent_payload(DocentAgentRun.model_validate(payload))


def docent_error_path(error: Exception) -> str:
    """The field path a Docent ConversionError message names, in our path form."""
    message = str(error)
    if not message.startswith(_DOCENT_PATH_PREFIX):
        raise AssertionError(f"unexpected Docent error message: {message}")
    rest = message[len(_DOCENT_PATH_PREFIX) :]
    if rest.startswith(" "):  # "Nemogym rollout must ..." names the rollout itself
        return ""
    path = rest[1:].split(" ", 1)[0]  # ".responses_create_params.input[0].type must ..."
    return path
