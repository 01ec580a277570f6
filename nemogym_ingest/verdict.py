"""A rollout's outcome as a case records it (`Outcome`: our run or rejection), Docent's
outcome beside it (`docent_view`, loading `nemogym_ingest.docent.oracle` only when Docent is
installed) and Docent's verdict on it: agreeing, or differing by the divergences (D1-D7 of
spec/README.md) that can be told from the rollout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .convert import convert_nemogym_rollout_to_agent_run, kind_of
from .errors import ConversionError
from .jsonvalue import parse_json_text, parsed_too_deep
from .members import ENVIRONMENT_SERVER, FAILURE_CLASS
from .model import AgentRun
from .options import ConversionOptions


@dataclass(frozen=True)
class Outcome:
    """A conversion's outcome: exactly one of `run` and `error` is set."""

    run: AgentRun | None = None
    error: ConversionError | None = None

    @property
    def expect(self) -> Any:
        """The case's `expect` for this outcome."""
        if self.error is None:
            return "agent_run"
        return {"error": {"rule": self.error.rule, "path": self.error.path}}

    def view(self) -> tuple[str, Any]:
        """What Docent is compared with: the payload, or the error's path."""
        if self.error is not None:
            return ("error", self.error.path)
        assert self.run is not None
        return ("run", self.run.to_dict())


def outcome_of(rollout: Any, options: ConversionOptions) -> Outcome:
    """Convert `rollout` as the suite converts a rollout case."""
    try:
        return Outcome(run=convert_nemogym_rollout_to_agent_run(rollout, options=options))
    except ConversionError as error:
        return Outcome(error=error)


DocentView = Callable[[Any], tuple[str, Any]]
"""Docent's outcome for a rollout: ("run", payload), ("error", path) or ("crash", why)."""


def docent_view() -> DocentView | None:
    """Docent's converter as a `DocentView`, or None when Docent is not installed."""
    try:
        from .docent.oracle import docent_outcome  # noqa: PLC0415 - the optional extra
    except ImportError:
        return None
    return docent_outcome


def _splits_a_turn(items: Any) -> bool:
    """Whether items group into turns the way D2 says Docent does not: reasoning after a
    message or call, or a message after a message or call, of the pending turn (R32)."""
    if not isinstance(items, list):
        return False
    message = call = False
    for item in items:
        if not isinstance(item, dict):
            continue
        kind, role = item.get("type"), item.get("role")
        if (kind in ("message", None) and role == "assistant") or kind == "reasoning":
            if message or call:
                return True
            message = message or kind != "reasoning"
        elif kind == "function_call":
            call = True
        else:
            message = call = False
    return False


def _reasoning_content(items: Any) -> bool:
    """Whether a reasoning item carries `content` (D1: Docent drops it)."""
    return isinstance(items, list) and any(
        isinstance(item, dict) and item.get("type") == "reasoning" and item.get("content")
        for item in items
    )


def _value_at(value: Any, loc: tuple[str | int, ...]) -> Any:
    """The value at `loc` in `value` (None when there is none)."""
    for segment in loc:
        if isinstance(value, dict) and isinstance(segment, str):
            value = value.get(segment)
        elif isinstance(value, list) and isinstance(segment, int) and segment < len(value):
            value = value[segment]
        else:
            return None
    return value


def _too_deep_text(value: Any) -> bool:
    """Whether `value` is JSON text nested deeper than R20 allows (D3: Docent parses it)."""
    if not isinstance(value, str):
        return False
    try:
        parsed = parse_json_text(value)
    except RecursionError:  # a parser's limit, far above ours
        return True
    except ValueError:  # not JSON text at all
        return False
    return parsed_too_deep(value, parsed)


def _phase_or_namespace(items: Any) -> bool:
    """Whether an item carries a `phase` or `namespace` (D6: Docent drops them)."""
    return isinstance(items, list) and any(
        isinstance(item, dict)
        and (item.get("phase") is not None or item.get("namespace") is not None)
        for item in items
    )


def _nemo_gym_070_row(rollout: Any) -> bool:
    """D7: an episode row, a failed attempt, a failure row or a row named by its
    environment server, none of which the pinned Docent (`DOCENT_VERSION`) reads as NeMo
    Gym does."""
    if not kind_of(rollout).docent_reads:
        return True
    if not isinstance(rollout, dict):
        return False
    agent = rollout.get("agent_ref")
    unnamed = agent is None or (isinstance(agent, dict) and agent.get("name") is None)
    stamped = rollout.get(ENVIRONMENT_SERVER) is not None
    return rollout.get(FAILURE_CLASS) is not None or (unnamed and stamped)


def _empty_agent_name(rollout: Any, error: ConversionError) -> bool:
    """D4: `agent_ref.name` is `""`, which Docent takes as a name."""
    agent = rollout.get("agent_ref")
    return isinstance(agent, dict) and agent.get("name") == ""


def _always(rollout: Any, error: ConversionError) -> bool:
    return True


def _too_deep_arguments(rollout: Any, error: ConversionError) -> bool:
    """D3: the rejected value is an `arguments` string nested too deeply."""
    return _too_deep_text(_value_at(rollout, error.loc))


REJECTION_DIVERGENCES: tuple[tuple[str, str, Callable[[Any, ConversionError], bool]], ...] = (
    ("R10", "D4", _empty_agent_name),
    ("R41", "D5", _always),  # a value that is not JSON
    ("R18", "D1", _always),  # reasoning content that is not an array
    ("R20", "D3", _too_deep_arguments),
    ("R48", "D6", _always),  # a phase or namespace that is not a string
)
"""What explains Docent converting a rollout we reject: (our error's rule, the divergence,
whether it applies to the rollout and the error); the first that applies names it."""

RUN_DIVERGENCES: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("D1", _reasoning_content),
    ("D2", _splits_a_turn),
    ("D6", _phase_or_namespace),
)
"""What explains Docent's run differing from ours: (the divergence, whether the input or
the output items show it), each that applies in this order."""


def attribute_divergence(rollout: Any, ours: Outcome, theirs: tuple[str, Any]) -> list[str]:
    """The divergences (D-numbers) that explain why Docent's outcome differs from ours, as
    far as they can be told: D7 for the rows of NeMo Gym 0.7.0 Docent cannot read, else
    `REJECTION_DIVERGENCES` when we reject, `RUN_DIVERGENCES` when both convert. Empty when
    none explains it."""
    if _nemo_gym_070_row(rollout):
        return ["D7"]
    if ours.error is not None:
        error = ours.error
        return [
            divergence
            for rule, divergence, applies in REJECTION_DIVERGENCES
            if rule == error.rule and applies(rollout, error)
        ][:1]
    if theirs[0] != "run":
        return []
    request = rollout.get("responses_create_params")
    response = rollout.get("response")
    both = [
        request.get("input") if isinstance(request, dict) else None,
        response.get("output") if isinstance(response, dict) else None,
    ]
    return [divergence for divergence, shows in RUN_DIVERGENCES if any(map(shows, both))]


@dataclass(frozen=True)
class DocentVerdict:
    """How Docent's converter compares: `compared` False when it was not run (not
    installed, or options given, which Docent has none of)."""

    compared: bool
    agrees: bool = True
    divergence: tuple[str, ...] = ()
    theirs: tuple[str, Any] = ("run", None)


def docent_verdict(rollout: Any, ours: Outcome, view: DocentView | None) -> DocentVerdict:
    """Docent's outcome on `rollout` against ours, with the divergences that explain it."""
    if view is None:
        return DocentVerdict(compared=False)
    theirs = view(rollout)
    if theirs == ours.view():
        return DocentVerdict(compared=True, theirs=theirs)
    found = tuple(attribute_divergence(rollout, ours, theirs))
    return DocentVerdict(compared=True, agrees=False, divergence=found, theirs=theirs)
