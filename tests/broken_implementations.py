"""Deliberately broken implementations, each the kind of mistake a port could make.

Each wraps our converter with one defect; `tests/test_conformance.py` checks that the spec
suite catches every one of them (the conformance runner reports at least one failure).
All take `(rollout, options=None)` like `nemogym_ingest.conformance.nemogym_ingest_rollout`.
"""

from __future__ import annotations

import copy
from typing import Any

from nemogym_ingest import ConversionError
from nemogym_ingest.conformance import nemogym_ingest_file, nemogym_ingest_rollout

JsonDict = dict[str, Any]


def glues_assistant_messages(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Joins consecutive plain assistant messages into one text, as Docent 0.1.88 does (D2)."""
    payload: JsonDict = nemogym_ingest_rollout(rollout, options).to_dict()
    glued: list[JsonDict] = []
    for message in payload["transcripts"][0]["messages"]:
        previous = glued[-1] if glued else None
        if (
            previous is not None
            and previous["role"] == message["role"] == "assistant"
            and "tool_calls" not in previous
            and isinstance(previous["content"], str)
            and isinstance(message["content"], str)
        ):
            previous["content"] += message["content"]
            if "tool_calls" in message:
                previous["tool_calls"] = message["tool_calls"]
            continue
        glued.append(message)
    payload["transcripts"][0]["messages"] = glued
    return payload


def accepts_bool_index(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Takes `true`/`false` for `_ng_task_index` / `_ng_rollout_index` as 1/0 (R10)."""
    if isinstance(rollout, dict):
        rollout = dict(rollout)
        for key in ("_ng_task_index", "_ng_rollout_index"):
            if isinstance(rollout.get(key), bool):
                rollout[key] = int(rollout[key])
    return nemogym_ingest_rollout(rollout, options).to_dict()


def one_based_error_paths(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Counts array indices in error paths from 1 instead of 0 (R50)."""
    try:
        return nemogym_ingest_rollout(rollout, options).to_dict()
    except ConversionError as error:
        loc = tuple(step + 1 if isinstance(step, int) else step for step in error.loc)
        raise ConversionError(error.reason, loc, rule=error.rule) from None


def drops_reasoning_content(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Ignores a reasoning item's `content`, keeping only its summary, as Docent does (D1)."""
    rollout = copy.deepcopy(rollout)
    response = rollout.get("response") if isinstance(rollout, dict) else None
    output = response.get("output") if isinstance(response, dict) else None
    for item in output if isinstance(output, list) else []:
        if isinstance(item, dict) and item.get("type") == "reasoning":
            item.pop("content", None)
    return nemogym_ingest_rollout(rollout, options).to_dict()


def pops_input_from_the_rollout(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Takes `input` out of the caller's rollout instead of a copy of it (R47)."""
    payload: JsonDict = nemogym_ingest_rollout(rollout, options).to_dict()
    request = rollout.get("responses_create_params") if isinstance(rollout, dict) else None
    if isinstance(request, dict):
        request.pop("input", None)
    return payload


def misnames_rules(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Rejects at the right path, under a rule that is not the spec's."""
    try:
        return nemogym_ingest_rollout(rollout, options).to_dict()
    except ConversionError as error:
        raise ConversionError(error.reason, error.loc, rule="R0") from None


class _PathOnlyError(ValueError):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def reports_no_rule(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Rejects at the right path without naming a rule (as Docent does)."""
    try:
        return nemogym_ingest_rollout(rollout, options).to_dict()
    except ConversionError as error:
        raise _PathOnlyError(error.path) from None


def adds_a_metadata_key(rollout: Any, options: JsonDict | None = None) -> JsonDict:
    """Adds a metadata key of its own to every run: a layout of its own, the transcripts
    the spec's (passes at `--compare transcripts`, fails every run at `exact`)."""
    payload: JsonDict = nemogym_ingest_rollout(rollout, options).to_dict()
    payload["metadata"]["converter"] = "mine"
    return payload


def adds_a_metadata_key_to_each_run(path: str, options: JsonDict | None = None) -> list[JsonDict]:
    """`adds_a_metadata_key` for a JSONL file."""
    runs = [run.to_dict() for run in nemogym_ingest_file(path, options)]
    for run in runs:
        run["metadata"]["converter"] = "mine"
    return runs
