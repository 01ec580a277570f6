"""Opt-in conversion options for real exports that the strict default rejects (R70-R79).

Each option resolves one kind of rejection by saying what the user knows; each use is
recorded in the AgentRun's `metadata.nemogym.assumed` (R76). `ConversionOptions()` is
the strict default.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal

from .jsonvalue import MAX_INTEGER_DIGITS, text_problem

IndexSource = Literal["line"] | int
"""Where a missing task or rollout index comes from: the JSONL line number, or a fixed number."""

_INTEGER_BOUND = 10**MAX_INTEGER_DIGITS


def _check_choice(name: str, value: object, choice: str) -> None:
    if value is not None and value != choice:
        raise ValueError(f"{name} must be None or {choice!r}, got {value!r}")


def _check_index_source(name: str, value: object) -> None:
    if value is None or value == "line":
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be None, 'line' or an integer, got {value!r}")
    if not -_INTEGER_BOUND < value < _INTEGER_BOUND:
        raise ValueError(f"{name} has more than {MAX_INTEGER_DIGITS} digits")


@dataclass(frozen=True, kw_only=True)
class ConversionOptions:
    """What to assume where a rollout is incomplete or holds what Docent cannot store.

    - `agent_name`: the agent's name when `agent_ref` or `agent_ref.name` is missing (R71).
    - `task_index`, `rollout_index`: `"line"` (the JSONL line number) or a fixed integer,
      when `_ng_task_index` / `_ng_rollout_index` is missing (R72).
    - `transitions="final"`: convert the last of the cumulative snapshots (R73).
    - `encrypted_reasoning="redact"`: keep encrypted reasoning as redacted reasoning (R74).
    - `media="placeholder"`: replace image, file, audio and video parts with text markers (R75).

    Only missing or unsupported data is affected: a present but invalid value is still
    rejected. Invalid option values raise `ValueError`.
    """

    agent_name: str | None = None
    task_index: IndexSource | None = None
    rollout_index: IndexSource | None = None
    transitions: Literal["final"] | None = None
    encrypted_reasoning: Literal["redact"] | None = None
    media: Literal["placeholder"] | None = None

    def __post_init__(self) -> None:
        if self.agent_name is not None and (
            not isinstance(self.agent_name, str) or not self.agent_name
        ):
            raise ValueError(
                f"agent_name must be None or a non-empty string, got {self.agent_name!r}"
            )
        problem = None if self.agent_name is None else text_problem(self.agent_name, "agent_name")
        if problem is not None:
            raise ValueError(problem)
        _check_index_source("task_index", self.task_index)
        _check_index_source("rollout_index", self.rollout_index)
        _check_choice("transitions", self.transitions, "final")
        _check_choice("encrypted_reasoning", self.encrypted_reasoning, "redact")
        _check_choice("media", self.media, "placeholder")


# --- what each option rescues, in one table ----------------------------------------------


@dataclass(frozen=True)
class OptionHint:
    """How a rejection names the option that would let its input convert."""

    library: str
    """The option as a `ConversionOptions` argument: `media="placeholder"`."""
    flag: str
    """The same on the command line: `--media placeholder`."""
    effect: str
    """What it does, completing "pass … to": `replace media parts with text markers`."""
    probe: str | int
    """The value `check` tries to learn whether the option would let a line convert."""
    probe_flag: str
    """That value on the command line, as `check` reports it: `--task-index line`."""

    def text(self) -> str:
        """`pass media="placeholder" / --media placeholder to replace …`."""
        return f"pass {self.library} / {self.flag} to {self.effect}"


OPTION_HINTS: dict[str, OptionHint] = {
    "agent_name": OptionHint(
        "agent_name=NAME",
        "--agent-name NAME",
        "supply the agent's name",
        "agent",  # any name serves
        "--agent-name NAME",
    ),
    "task_index": OptionHint(
        'task_index="line" or an integer',
        "--task-index line|N",
        "supply it",
        "line",
        "--task-index line",
    ),
    "rollout_index": OptionHint(
        'rollout_index="line" or an integer',
        "--rollout-index line|N",
        "supply it",
        "line",
        "--rollout-index line",
    ),
    "transitions": OptionHint(
        'transitions="final"',
        "--transitions final",
        "convert the last snapshot",
        "final",
        "--transitions final",
    ),
    "encrypted_reasoning": OptionHint(
        'encrypted_reasoning="redact"',
        "--encrypted-reasoning redact",
        "keep it as redacted reasoning",
        "redact",
        "--encrypted-reasoning redact",
    ),
    "media": OptionHint(
        'media="placeholder"',
        "--media placeholder",
        "replace media parts with text markers",
        "placeholder",
        "--media placeholder",
    ),
}
"""Per `ConversionOptions` field, how a strict rejection it would resolve names it (R70)."""


# --- the command line ------------------------------------------------------------------


def _agent_name_argument(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    problem = text_problem(text, "the name")  # bytes the locale cannot decode (surrogateescape)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _index_source_argument(text: str) -> IndexSource:
    if text == "line":
        return "line"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'line' or an integer, got {text!r}") from None


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `ConversionOptions` flags (`--agent-name`, `--task-index`, ...) to `parser`."""
    group = parser.add_argument_group(
        "assumptions (opt-in; each use is recorded in metadata.nemogym.assumed)"
    )
    group.add_argument(
        "--agent-name",
        metavar="NAME",
        type=_agent_name_argument,
        help="agent name for rollouts without agent_ref / agent_ref.name",
    )
    group.add_argument(
        "--task-index",
        metavar="line|N",
        type=_index_source_argument,
        help="task index for rollouts without _ng_task_index: the line number or N",
    )
    group.add_argument(
        "--rollout-index",
        metavar="line|N",
        type=_index_source_argument,
        help="rollout index for rollouts without _ng_rollout_index: the line number or N",
    )
    group.add_argument(
        "--transitions",
        choices=["final"],
        help="convert the last snapshot of transition rollouts (response.output of item arrays)",
    )
    group.add_argument(
        "--encrypted-reasoning",
        choices=["redact"],
        help="keep encrypted reasoning as redacted reasoning (ciphertext in its signature)",
    )
    group.add_argument(
        "--media",
        choices=["placeholder"],
        help="replace image, file, audio and video content parts with text markers",
    )


def options_from_args(args: argparse.Namespace) -> ConversionOptions:
    """The `ConversionOptions` given by the flags of `add_option_arguments`."""
    return ConversionOptions(
        agent_name=args.agent_name,
        task_index=args.task_index,
        rollout_index=args.rollout_index,
        transitions=args.transitions,
        encrypted_reasoning=args.encrypted_reasoning,
        media=args.media,
    )
