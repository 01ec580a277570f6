"""The pinned Docent (`DOCENT_VERSION`) as the oracle: what its converter makes of a
rollout and what its model makes of our payload, both as our wire payload (ids and model
defaults removed as the conformance runner does, `wire.normalize_payload`), and the field
path its error messages name, in our path form. `case add` and the test suite
(tests/docent_oracle.py) compare with it.
"""

from __future__ import annotations

from typing import Any

from docent.sdk.integrations import convert_nemogym_rollout_to_agent_run as docent_convert
from docent.sdk.integrations.util import ConversionError as DocentConversionError

from ..wire import normalize_payload
from ._sdk import DocentAgentRun

__all__ = [
    "DocentConversionError",
    "docent_convert",
    "docent_convert_payload",
    "docent_outcome",
    "docent_payload",
    "error_path",
    "validate_on_docent",
]

_PATH_PREFIX = "Nemogym rollout"


def docent_payload(run: Any) -> dict[str, Any]:
    """A Docent AgentRun as our wire payload: ids and model defaults removed.

    The normalization is the conformance runner's (`wire.normalize_payload`, documented in
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


def error_path(message: str) -> str | None:
    """The field path a Docent ConversionError message names, in our path form (None: the
    message names none)."""
    if not message.startswith(_PATH_PREFIX):
        return None
    rest = message[len(_PATH_PREFIX) :]
    if rest.startswith(" "):  # "Nemogym rollout must ..." names the rollout itself
        return ""
    return rest[1:].split(" ", 1)[0]  # ".responses_create_params.input[0].type must ..."


def docent_outcome(rollout: Any) -> tuple[str, Any]:
    """Docent's outcome for `rollout`: ("run", payload), ("error", path) or ("crash", why)."""
    try:
        return ("run", docent_convert_payload(rollout))
    except DocentConversionError as error:
        return ("error", error_path(str(error)))
    except Exception as error:  # any other failure of Docent is a difference
        return ("crash", f"{type(error).__name__}: {error}")
