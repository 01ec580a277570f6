"""A rollout's outcome as a case records it (`Outcome`: our run or rejection), Docent's
outcome beside it (`docent_view`, loading `nemogym_ingest.docent.oracle` only when Docent is
installed) and Docent's verdict on it: agreeing, or differing by the divergences (D1-D6 of
spec/README.md) that can be told from the rollout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .convert import convert_nemogym_rollout_to_agent_run
from .errors import ConversionError
from .jsonvalue import parse_json_text, parsed_too_deep
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


def attribute_divergence(rollout: Any, ours: Outcome, theirs: tuple[str, Any]) -> list[str]:
    """The divergences (D-numbers) that explain why Docent's outcome differs from ours, as
    far as they can be told: D1 reasoning content, D2 split turns, D3 an `arguments` string
    nested too deeply, D4 an empty agent name, D5 a value that is not JSON, D6 a `phase` or
    `namespace` (kept, or rejected when not a string). Empty when none explains it."""
    if ours.error is not None:
        rule = ours.error.rule
        agent = rollout.get("agent_ref")
        if rule == "R10" and isinstance(agent, dict) and agent.get("name") == "":
            return ["D4"]
        if rule == "R41":
            return ["D5"]
        if rule == "R18":
            return ["D1"]
        if rule == "R48":
            return ["D6"]
        if rule == "R20" and _too_deep_text(_value_at(rollout, ours.error.loc)):
            return ["D3"]
        return []
    if theirs[0] != "run":
        return []
    request = rollout.get("responses_create_params")
    response = rollout.get("response")
    both = [
        request.get("input") if isinstance(request, dict) else None,
        response.get("output") if isinstance(response, dict) else None,
    ]
    found = []
    if any(_reasoning_content(items) for items in both):
        found.append("D1")
    if any(_splits_a_turn(items) for items in both):
        found.append("D2")
    if any(_phase_or_namespace(items) for items in both):
        found.append("D6")
    return found


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
