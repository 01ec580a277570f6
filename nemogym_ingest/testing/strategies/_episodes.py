"""NeMo Gym 0.7.0 episode rows (R80-R85), valid and malformed."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.errors import render_path
from nemogym_ingest.jsonvalue import MAX_NESTING
from nemogym_ingest.members import ABSENT
from nemogym_ingest.testing.strategies._failures import (
    bad_failure_members,
    failed_attempts,
    failure_stamps,
)
from nemogym_ingest.testing.strategies._items import _SAMPLE_AGENTS, _SMALL_JSON
from nemogym_ingest.testing.strategies._json import Item, Rollout, Segments
from nemogym_ingest.testing.strategies._malformed import (
    _NOT_ARRAYS,
    _NOT_NON_EMPTY_STRINGS,
    _NOT_OBJECTS,
    _missing_or,
    _set_or_remove,
    malformed_rollouts,
)
from nemogym_ingest.testing.strategies._rollouts import _FAILURE_CLASSES, valid_rollouts

_ROLES = st.sampled_from(["user", "assistant", "judge", "summary", "tool_simulation"]) | st.text(
    min_size=1, max_size=12
)
_TERMINATIONS = st.sampled_from([None, "usersim_completed", "max_turns", "user_quit"])
_SERVERS = st.sampled_from(["nemo_user_sim_environment", "env-ü", "e"]) | st.text(
    min_size=1, max_size=20
)
_REWARD_COMPONENTS = st.dictionaries(
    st.sampled_from(["participants_completed", "quality.helpfulness", "scorer_pass"]),
    st.floats(0.0, 1.0),
    max_size=3,
)


@st.composite
def valid_episode_rows(
    draw: st.DrawFn,
    *,
    openai_shaped: bool | None = None,
    options: bool = False,
    failures: bool = True,
) -> Rollout:
    """Episode rows (R81, R82) every conforming converter must accept.

    One to three invocations with unique `sequence`s in any array order, each a valid
    rollout's request and response (`valid_rollouts(openai_shaped=…, options=…)`), a role
    of nemo_user_sim's vocabulary or any other, with or without `state_after`,
    `termination_reason` and `observations`; the row's reward and `reward_components`,
    named by `agent_ref` or only by `_ng_environment_server` (R85). With `failures`, two in
    seven carry a failure (R84: `judge_failed`, `timeout_exceeded`), its reward no score.
    """
    failure = draw(_FAILURE_CLASSES) if failures else None
    count = draw(st.integers(min_value=1, max_value=3))
    sequences = draw(st.lists(st.integers(0, 10**6), min_size=count, max_size=count, unique=True))
    invocations = []
    for sequence in sequences:
        rollout = draw(valid_rollouts(openai_shaped=openai_shaped, options=options, failures=False))
        invocation: Item = {
            "sequence": sequence,
            "role": draw(_ROLES),
            "request": rollout["responses_create_params"],
            "response": rollout["response"],
        }
        if draw(st.booleans()):
            invocation["observations"] = None
            invocation["state_after"] = draw(st.none() | _SMALL_JSON)
            invocation["termination_reason"] = draw(_TERMINATIONS)
        invocations.append(invocation)
    row: Rollout = {
        "reward": draw(st.none() | st.floats(0.0, 1.0)),
        "reward_components": draw(_REWARD_COMPONENTS),
        "episode_interaction_protocol": "usersim.ConversationLoop",
        "invocations": invocations,
        "_ng_task_index": draw(st.integers(0, 10**6)),
        "_ng_rollout_index": draw(st.integers(0, 10**6)),
        "_ng_environment_server": draw(_SERVERS),
    }
    if draw(st.booleans()):
        row["agent_ref"] = {
            "type": "responses_api_agents",
            "name": draw(st.sampled_from(_SAMPLE_AGENTS)),
        }
    if failure is not None:
        row.update(draw(failure_stamps(failure)))
    return row


_INVOCATION_PATHS = {"responses_create_params": "request", "response": "response"}
_PATH_SEGMENT = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _segments(path: str) -> Segments:
    """The keys and indices of a path as R50 renders it."""
    segments: list[str | int] = []
    for key, index, quoted in _PATH_SEGMENT.findall(path):
        segments.append(key if key else int(index) if index else json.loads(quoted))
    return tuple(segments)


def _into_invocation(rollout_path: str, index: int) -> str | None:
    """The path a violation of a rollout's request or response has in invocation `index`
    (None for a violation outside them: those of R10 and the row's metadata). The
    invocation's values sit two levels deeper than the rollout's, so a value whose new
    path passes level 200 is rejected at its container there (R41)."""
    segments = _segments(rollout_path)
    if not segments:
        return render_path(("invocations", index))  # R9: no message
    if segments[0] not in _INVOCATION_PATHS:
        return None
    moved = ("invocations", index, _INVOCATION_PATHS[str(segments[0])], *segments[1:])
    return render_path(moved[:MAX_NESTING])


@st.composite
def _bad_invocation_exchange(draw: st.DrawFn, row: Rollout) -> tuple[Any, str]:
    """A malformed rollout's request and response in place of one invocation's."""
    index = draw(st.integers(0, len(row["invocations"]) - 1))
    broken, path = draw(
        malformed_rollouts().filter(
            lambda case: isinstance(case[0], dict) and _into_invocation(case[1], 0) is not None
        )
    )
    invocation = row["invocations"][index]
    for rollout_key, key in _INVOCATION_PATHS.items():
        _set_or_remove(invocation, key, broken.get(rollout_key, ABSENT))
    return row, str(_into_invocation(path, index))


@st.composite
def _bad_invocation_member(draw: st.DrawFn, row: Rollout) -> tuple[Any, str]:
    """An invocation that is no object, or whose `sequence` or `role` is wrong (R81)."""
    index = draw(st.integers(0, len(row["invocations"]) - 1))
    invocations = row["invocations"]
    member = draw(st.sampled_from(["invocation", "sequence", "repeated", "role"]))
    if member == "invocation":
        invocations[index] = draw(_NOT_OBJECTS)
        return row, f"invocations[{index}]"
    if member == "repeated" and index > 0:
        invocations[index]["sequence"] = invocations[draw(st.integers(0, index - 1))]["sequence"]
        return row, f"invocations[{index}].sequence"
    if member == "role":
        _set_or_remove(invocations[index], "role", draw(_missing_or(_NOT_NON_EMPTY_STRINGS)))
        return row, f"invocations[{index}].role"
    bad = st.integers(max_value=-1) | st.just(1.0) | st.booleans() | st.text(max_size=3)
    _set_or_remove(invocations[index], "sequence", draw(_missing_or(bad | st.none())))
    return row, f"invocations[{index}].sequence"


@st.composite
def malformed_episode_rows(draw: st.DrawFn) -> tuple[Any, str]:
    """`(row, expected_path)`: a valid episode row with exactly one violation injected, the
    first in check order (R51): `invocations` not a non-empty array, an invocation that is
    no object, a bad or repeated `sequence`, a bad `role`, any violation of
    `malformed_rollouts()` in one invocation's request or response (at its path under
    `invocations[i]`), a bad `_ng_environment_server` naming the agent (R85), a failure
    row's bad class or members (R84, R41), or one of the first three with a failure row's
    bad member too (two violations in different check-order steps: the first is named)."""
    kind = draw(st.sampled_from(["invocations", "member", "exchange", "server", "failure"]))
    row = draw(valid_episode_rows(failures=False))
    if kind == "failure" or draw(st.integers(0, 3)) == 0:
        failure_path = draw(bad_failure_members(row))
        if kind == "failure":
            return row, failure_path
    if kind == "invocations":
        row["invocations"] = draw(st.just([]) | _NOT_ARRAYS)
        return row, "invocations"
    if kind == "member":
        return draw(_bad_invocation_member(row))
    if kind == "exchange":
        return draw(_bad_invocation_exchange(row))
    row.pop("agent_ref", None)  # null would be a missing stamp: R10 at agent_ref
    row["_ng_environment_server"] = draw(_NOT_NON_EMPTY_STRINGS.filter(lambda v: v is not None))
    return row, "_ng_environment_server"


ROW_KINDS = ("rollout", "episode", "failed_attempt", "task_input", "foreign")
"""The kinds of object R80 tells apart."""


@st.composite
def nemo_gym_rows(draw: st.DrawFn) -> tuple[str, Rollout]:
    """`(kind, row)`: a row of each kind R80 tells apart, as NeMo Gym 0.7.0 writes them: a
    rollout (a failure row among them, R84), an episode row (likewise), a failed attempt of
    any class (R83), a task input (`responses_create_params` without `response`) and a
    foreign object (a metrics row). A rollout and an episode row convert; a failed attempt
    gives no run (alone: R83 at `_ng_failure_class`); a task input is rejected by R3 at
    `response`, a foreign object by R2 at `responses_create_params`."""
    kind = draw(st.sampled_from(ROW_KINDS))
    if kind == "rollout":
        return kind, draw(valid_rollouts())
    if kind == "episode":
        return kind, draw(valid_episode_rows())
    if kind == "failed_attempt":
        return kind, draw(failed_attempts())
    if kind == "task_input":
        row = draw(valid_rollouts(failures=False))
        del row["response"]
        return kind, row
    metrics = st.dictionaries(st.sampled_from(["mean/reward", "count", "std/reward"]), _SMALL_JSON)
    return kind, draw(metrics)
