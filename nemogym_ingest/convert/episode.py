"""Episode rows (NeMo Gym 0.7.0's environment-server episodes, such as the
`usersim.ConversationLoop` protocol): the invocations checked in array order, each converted
from its own request and response as a rollout's are, and the run made of their
transcripts in `sequence` order.

Rules: R81, R82.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import JsonCopier, copy_json
from ..members import ABSENT, EPISODE_RESERVED_KEYS
from ..options import ConversionOptions
from ..wire import JsonDict, agent_run
from .checks import describe, pruned, require_array, require_non_empty_string, require_object
from .rollout import Exchange, read_exchange, run_identity, run_metadata
from .turn import TranscriptBuilder

EPISODE_SCHEMA = "nemo_gym_episode"
INVOCATION_SCHEMA = "nemo_gym_episode_invocation"
_INVOCATIONS: Loc = ("invocations",)
_EXCHANGE_KEYS = ("request", "response")


def episode_run(
    row: JsonDict, options: ConversionOptions, line: int | None, copy: JsonCopier
) -> JsonDict:
    """The AgentRun payload of an episode row: one transcript per invocation (R81, R82)."""
    invocations = require_array(row["invocations"], _INVOCATIONS, "R81")
    if not invocations:
        raise ConversionError("must hold at least one invocation, got []", _INVOCATIONS, rule="R81")
    uses: dict[str, Any] = {}
    sequences: dict[int, int] = {}
    steps: list[tuple[int, str, JsonDict, Exchange]] = []
    for index, raw_invocation in enumerate(invocations):
        at = _INVOCATIONS + (index,)
        invocation = require_object(raw_invocation, at, "R81")
        sequence = _sequence(invocation, at, sequences)
        role = require_non_empty_string(invocation.get("role", ABSENT), at + ("role",), "R81")
        exchange = read_exchange(
            invocation, "request", at, TranscriptBuilder(options, copy, uses=uses)
        )
        steps.append((sequence, role, invocation, exchange))
    identity = run_identity(row, options, line, uses)
    transcripts = [
        (sequence, _transcript(sequence, role, invocation, exchange))
        for sequence, role, invocation, exchange in steps
    ]
    metadata = run_metadata(row, identity, {}, EPISODE_SCHEMA, copy, EPISODE_RESERVED_KEYS)
    return agent_run(
        identity.run_name,
        [transcript for _, transcript in sorted(transcripts, key=lambda t: t[0])],
        metadata,
    )


def _sequence(invocation: JsonDict, at: Loc, seen: dict[int, int]) -> int:
    """The invocation's `sequence`: a non-negative integer no earlier invocation has (R81)."""
    loc = at + ("sequence",)
    value = invocation.get("sequence", ABSENT)
    if value is ABSENT:
        raise ConversionError("is missing", loc, rule="R81")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConversionError(
            f"must be a non-negative integer, got {describe(value)}", loc, rule="R81"
        )
    sequence = int(copy_json(value, loc))  # R41: at most 4000 digits
    if sequence in seen:
        raise ConversionError(
            f"must be unique within the row, but invocations[{seen[sequence]}] has sequence "
            f"{sequence} too",
            loc,
            rule="R81",
        )
    seen[sequence] = int(at[-1])
    return sequence


def _transcript(sequence: int, role: str, invocation: JsonDict, exchange: Exchange) -> JsonDict:
    """The invocation's transcript, named `SEQUENCE: ROLE`; its metadata holds, after the
    facts of R42 (checked first), the invocation's other members, then its request and
    response without the items (R82)."""

    def invocation_record() -> JsonDict:
        rest = {
            key: value
            for key, value in invocation.items()
            if not (isinstance(key, str) and key in _EXCHANGE_KEYS)
        }
        record: JsonDict = exchange.out.copy(rest, exchange.at, prune=True)
        record.update(exchange.non_trace())
        return pruned(record)

    name = f"{sequence}: {role}"
    return exchange.transcript(name, INVOCATION_SCHEMA, invocation=invocation_record)
