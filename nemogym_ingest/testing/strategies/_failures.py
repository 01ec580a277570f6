"""NeMo Gym 0.7.0's failures sidecar (R83, R84): the stamps of a failure row that carries a
rollout, failed attempts of every class, and their malformed versions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.members import FAILURE_CLASS
from nemogym_ingest.testing.strategies._json import (
    _FINITE_FLOATS,
    _LONE_SURROGATE_STRINGS,
    _NON_JSON_SCALARS,
    Rollout,
    _fresh,
)

FAILURE_ROW_CLASSES = ("judge_failed", "timeout_exceeded")
"""The classes of a failure row that carries a rollout (R84)."""
FAILED_ATTEMPT_CLASSES = ("agent_request_failed", "agent_run_error", "environment_server_failed")
"""The classes of a failed attempt, a failure row without a rollout (R83)."""
FAILURE_MEMBERS = (FAILURE_CLASS, "failure_kind", "failure_reason", "mask_sample", "reward")
"""R84's members, in the order R84 lists them (and checks them, step 5 of the check order)."""

_MESSAGES = st.sampled_from(
    [
        "Server error '500 Internal Server Error'",
        "judge model returned no verdict after 3 attempts",
        "rollout exceeded the 600 s budget",
        "Cannot connect to host policy:8000 ssl:default [Connect call failed]",
        "",
    ]
) | st.text(max_size=20)
_LONE_SURROGATE_MESSAGES = st.sampled_from(_LONE_SURROGATE_STRINGS).map(
    lambda lone: f"Server error: {lone}"
)
_NOT_STRINGS_NOR_NULL = st.one_of(
    st.booleans(), st.integers(), _FINITE_FLOATS, _fresh([]), _fresh(["x"]), _fresh({})
)
_BAD_CLASSES = st.one_of(
    _NOT_STRINGS_NOR_NULL, st.just(""), st.sampled_from(_LONE_SURROGATE_STRINGS)
)


@st.composite
def failure_stamps(draw: st.DrawFn, failure_class: str | None = None) -> Rollout:
    """The members a failure row that carries a rollout adds (R84): its class, kind, reason,
    `mask_sample` and a reward that is no score, and maybe NeMo Gym's message stamp (a
    benchmark field, R45)."""
    chosen = draw(st.sampled_from(FAILURE_ROW_CLASSES)) if failure_class is None else failure_class
    stamps: Rollout = {
        "reward": draw(st.sampled_from([0.0, 0.0, 1.0]) | st.none()),
        "mask_sample": draw(st.just(True) | st.booleans() | st.none()),
        "failure_kind": draw(st.just(chosen) | st.none()),
        "failure_reason": draw(_MESSAGES | st.none()),
        FAILURE_CLASS: chosen,
    }
    if draw(st.booleans()):
        stamps["_ng_failure_message"] = draw(_MESSAGES | st.none())
    if chosen == "judge_failed" and draw(st.booleans()):
        stamps["_ng_failure_judge_error"] = draw(_MESSAGES)
    return stamps


@st.composite
def failed_attempts(draw: st.DrawFn, *, failure_class: str | None = None) -> Rollout:
    """Failed attempts (R83), the sidecar rows of `/run` calls that gave no rollout: each
    class NeMo Gym writes (`agent_request_failed`, `agent_run_error`,
    `environment_server_failed`) or any other, a message that is a string, `null` or absent,
    and the other stamps NeMo Gym adds. A converter gives no run for one: alone it is
    rejected by R83 at `_ng_failure_class`; in a JSONL file it is passed over."""
    others = st.text(min_size=1, max_size=12).filter(lambda text: text not in FAILURE_ROW_CLASSES)
    if failure_class is None:
        failure_class = draw(st.sampled_from(FAILED_ATTEMPT_CLASSES) | others)
    row: Rollout = {FAILURE_CLASS: failure_class}
    message = draw(st.sampled_from(["absent", "null", "string"]))
    if message != "absent":
        row["_ng_failure_message"] = None if message == "null" else draw(_MESSAGES)
    if failure_class == "environment_server_failed":
        row["_ng_task_id"] = draw(st.none() | st.text(max_size=8))
        row["_ng_terminal"] = draw(st.booleans())
    else:
        row["_ng_failure_type"] = draw(st.sampled_from(["HTTPStatusError", "ClientConnectorError"]))
        row["_ng_failure_http_status"] = draw(st.none() | st.sampled_from([500, 502, 504]))
        row["_ng_failure_response_body"] = None
    if draw(st.booleans()):
        row["_ng_task_index"] = draw(st.integers(0, 10**6))
        row["_ng_rollout_index"] = draw(st.integers(0, 10**6))
        row["agent_ref"] = {"type": "responses_api_agents", "name": "math_simple_agent"}
    return row


@st.composite
def malformed_failed_attempts(draw: st.DrawFn) -> tuple[Any, str]:
    """`(row, expected_path)`: a failed attempt, which alone is rejected at
    `_ng_failure_class` (R83); with a bad class (not a string, `""`, a lone surrogate) there
    too; with a bad message (not a string, a lone surrogate, R41) at `_ng_failure_message`."""
    row = draw(failed_attempts())
    where = draw(st.sampled_from(["none", "class", "message"]))
    if where == "class":
        row[FAILURE_CLASS] = draw(_BAD_CLASSES)
    if where == "message":
        row["_ng_failure_message"] = draw(_NOT_STRINGS_NOR_NULL | _LONE_SURROGATE_MESSAGES)
        return row, "_ng_failure_message"
    return row, FAILURE_CLASS


@st.composite
def bad_failure_members(draw: st.DrawFn, row: Rollout) -> str:
    """Makes `row` a failure row (R84) with a bad class, or with one or two of R84's other
    members not JSON (R41), maybe after a message holding a lone surrogate (a benchmark
    field, checked before R84's members); returns the path named: the class, else the
    message, else the first bad member in R84's order (the reward last)."""
    row.update(draw(failure_stamps()))
    if draw(st.booleans()):
        row[FAILURE_CLASS] = draw(_BAD_CLASSES)
        return FAILURE_CLASS
    bad = draw(st.sets(st.sampled_from(FAILURE_MEMBERS[1:]), min_size=1, max_size=2))
    for member in bad:
        row[member] = draw(st.sampled_from(_NON_JSON_SCALARS))
    if draw(st.booleans()):
        row["_ng_failure_message"] = draw(_LONE_SURROGATE_MESSAGES)
        return "_ng_failure_message"
    return next(member for member in FAILURE_MEMBERS if member in bad)
