"""Which ConversionOptions would let a rejected rollout convert (for `nemogym-ingest check`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .convert import convert_rollout
from .errors import ConversionError
from .options import ConversionOptions

RESCUE_OPTIONS: dict[str, dict[str, Any]] = {
    "--agent-name NAME": {"agent_name": "agent"},
    "--task-index line": {"task_index": "line"},
    "--rollout-index line": {"rollout_index": "line"},
    "--transitions final": {"transitions": "final"},
    "--encrypted-reasoning redact": {"encrypted_reasoning": "redact"},
    "--media placeholder": {"media": "placeholder"},
}
"""Each option, as its command-line flag, and the values tried for it (any name serves)."""


def _rejection(rollout: Any, options: ConversionOptions, line: int) -> tuple[str, str] | None:
    """Where and why `rollout` is rejected with `options`; None when it converts."""
    try:
        convert_rollout(rollout, options, line)
    except ConversionError as error:
        return error.path, error.reason
    return None


def rescuing_options(
    rollout: Any, options: ConversionOptions, line: int, error: ConversionError
) -> list[str]:
    """The options (as flags) that, added to `options`, let `rollout` convert: `rollout`,
    read from JSONL line `line`, is rejected with `error` under `options`. Empty when no
    option helps.

    Options are added one at a time, each only when it gets the rollout past its current
    rejection (an option changes nothing but the rejection it resolves, R70), so the
    result lists just the options needed, in check order. Options already set are not tried.
    """
    untried = [
        flag
        for flag, values in RESCUE_OPTIONS.items()
        if all(getattr(options, name) is None for name in values)
    ]
    rejection: tuple[str, str] | None = (error.path, error.reason)
    added: list[str] = []
    while rejection is not None:
        for flag in untried:
            candidate = dataclasses.replace(options, **RESCUE_OPTIONS[flag])
            candidate_rejection = _rejection(rollout, candidate, line)
            if candidate_rejection != rejection:
                break
        else:
            return []
        untried.remove(flag)
        added.append(flag)
        options, rejection = candidate, candidate_rejection
    return added
