"""The opt-in conversion options: `ConversionOptions` and the one table (`OPTIONS`)
saying, per option, its rule, flag, accepted values, help, `check` probe and recorded
text, from which the command line, the rescue hints and the README's list are made.

Each option but one resolves one kind of rejection by saying what the user knows (R79 shows
what the row holds); each use is recorded in the AgentRun's `metadata.nemogym.assumed`
(R70), in table order. The other, `record_source` (R91), records where each run was read
instead. What each option does (R71-R79, R91) is done by the module that applies it, whose
`Rules:` line names it.
`ConversionOptions()` is the strict default. This module is the only one that spells flags.

Rules: R70.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConversionError, Loc
from .jsonvalue import INTEGER_BOUND, MAX_INTEGER_DIGITS, text_problem
from .wording import plural

IndexSource = Literal["line"] | int
"""Where a missing task or rollout index comes from: the JSONL line number, or a fixed number."""


Show = Callable[[object], str]
"""How a value is written in a message: `repr` for Python, `json_text` for JSON options."""


def json_text(value: object) -> str:
    """`value` as JSON text (`null`, `"drop"`), or its repr when it is no JSON value."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _name_problem(name: str, value: object, show: Show = repr) -> str | None:
    if not isinstance(value, str) or not value:
        return f"{name} must be {show(None)} or a non-empty string, got {show(value)}"
    return text_problem(value, name)  # lone surrogates: bytes the locale cannot decode


def _index_source_problem(name: str, value: object, show: Show = repr) -> str | None:
    if value == "line":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{name} must be {show(None)}, {show('line')} or an integer, got {show(value)}"
    if not -INTEGER_BOUND < value < INTEGER_BOUND:
        return f"{name} has more than {MAX_INTEGER_DIGITS} digits"
    return None


def _switch_problem(name: str, value: object, show: Show = repr) -> str | None:
    if isinstance(value, bool):
        return None
    return f"{name} must be {show(None)}, {show(True)} or {show(False)}, got {show(value)}"


def _choice_problem(choice: str) -> Callable[[str, object, Show], str | None]:
    def problem(name: str, value: object, show: Show = repr) -> str | None:
        if value == choice:
            return None
        return f"{name} must be {show(None)} or {show(choice)}, got {show(value)}"

    return problem


@dataclass(frozen=True, kw_only=True)
class ConversionOptions:
    """What to assume where a rollout is incomplete or holds what Docent cannot store.

    - `agent_name`: the agent's name when `agent_ref.name` and `_ng_environment_server` are
      missing (R71).
    - `task_index`, `rollout_index`: `"line"` (the JSONL line number) or a fixed integer,
      when `_ng_task_index` / `_ng_rollout_index` is missing (R72).
    - `transitions="final"`: convert the last of the cumulative snapshots (R73).
    - `encrypted_reasoning="redact"`: keep encrypted reasoning as redacted reasoning (R74).
    - `media="placeholder"`: replace image, file, audio and video parts with text markers (R75).
    - `think_tags="reasoning"`: a leading `<think>…</think>` in assistant text is reasoning (R76).
    - `empty_rollouts="placeholder"`: a rollout without items gets a placeholder message (R77).
    - `tool_items="generic"`: hosted and custom tool items become tool calls and outputs (R78).
    - `trajectory="transcripts"`: a rollout's `ng_trajectory` becomes a transcript per agent
      invocation (or per chain of model calls), in transcript groups (R79, R86-R89).
    - `orphan_outputs="harbor"`: function call outputs that harbor_agent gave a random call id
      (`call_` and 8 hex digits) because no tool call made them become tool messages (R90).
    - `record_source=True`: each run read from JSONL records its file and line in
      `metadata.source` (R91); it assumes nothing and resolves no rejection.

    Only missing or unsupported data is affected: a present but invalid value is still
    rejected. Invalid option values raise `ValueError`.
    """

    agent_name: str | None = None
    task_index: IndexSource | None = None
    rollout_index: IndexSource | None = None
    transitions: Literal["final"] | None = None
    encrypted_reasoning: Literal["redact"] | None = None
    media: Literal["placeholder"] | None = None
    think_tags: Literal["reasoning"] | None = None
    empty_rollouts: Literal["placeholder"] | None = None
    tool_items: Literal["generic"] | None = None
    trajectory: Literal["transcripts"] | None = None
    orphan_outputs: Literal["harbor"] | None = None
    record_source: bool | None = None

    def __post_init__(self) -> None:
        if self.record_source is False:  # off, as None is: equal options compare equal
            object.__setattr__(self, "record_source", None)
        for name, option in OPTIONS.items():
            value = getattr(self, name)
            problem = None if value is None else option.problem(name, value, repr)
            if problem is not None:
                raise ValueError(problem)

    @classmethod
    def from_json(
        cls, obj: object, where: str = "options", *, refuse_line: str | None = None
    ) -> ConversionOptions:
        """The options a JSON object names (a case's `options`, `--options JSON`), checked:
        anything but an object of known fields with accepted values raises `ValueError`
        saying `WHERE: why`. `refuse_line`, when given, is why a `"line"` index is refused
        (options for a rollout alone, which has no line number)."""
        if not isinstance(obj, dict):
            raise ValueError(f'{where}: expected a JSON object such as {{"agent_name": "agent"}}')
        unknown = sorted(set(obj) - set(OPTIONS))
        if unknown:
            known = ", ".join(OPTIONS)
            raise ValueError(f"{where}: unknown {', '.join(unknown)}; known: {known}")
        needs_line = "line" in (obj.get(name) for name in LINE_INDEX_OPTIONS)
        if refuse_line is not None and (needs_line or obj.get("record_source") is True):
            raise ValueError(f"{where}: {refuse_line}")
        for name, value in obj.items():
            problem = None if value is None else OPTIONS[name].problem(name, value, json_text)
            if problem is not None:
                raise ValueError(f"{where}: {problem}")
        return cls(**obj)


OptionsArgument = ConversionOptions | Mapping[str, Any] | None
"""What the library's `options=` takes: `ConversionOptions`, a mapping of its fields (read
as `ConversionOptions.from_json` reads a JSON object) or None (strict)."""


def options_of(options: object) -> ConversionOptions:
    """`options=` as `ConversionOptions`: None is the strict default, a mapping is read by
    `ConversionOptions.from_json`'s rules (a bad one raises `ValueError`), anything else
    raises `TypeError`."""
    if options is None:
        return ConversionOptions()
    if isinstance(options, ConversionOptions):
        return options
    if isinstance(options, Mapping):
        return ConversionOptions.from_json(dict(options), "options")
    raise TypeError(
        "options must be ConversionOptions, a mapping of its fields (such as "
        f"{{'agent_name': 'agent'}}) or None, got {type(options).__name__}"
    )


# --- each option, in one table ---------------------------------------------------------------


def _agent_name_argument(text: str) -> str:
    """A name, or a template of one (`{server}`, filled from each input's path: `layout`)."""
    from .layout import TemplateError, check_template  # noqa: PLC0415 - only when given

    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    try:
        check_template(text)
    except TemplateError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
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


def _index_record(supplied: tuple[IndexSource, int]) -> str:
    """`line 7` or `fixed 0`: how a missing index was supplied, and the index."""
    source, index = supplied
    return f"line {index}" if source == "line" else f"fixed {index}"


@dataclass(frozen=True, kw_only=True)
class OptionDefinition:
    """One option: its rule, how it is written in Python and on the command line, what it
    accepts, what `check` tries, what it records, and how a rejection names it."""

    name: str
    """The `ConversionOptions` field: `media`; the flag is its name in kebab case."""
    rule: str
    """The spec rule that defines it: `"R75"`."""
    library: str
    """The option as a `ConversionOptions` argument: `media="placeholder"`."""
    metavar: str
    """What follows the flag, as usage shows it: `placeholder`, `line|N`, `NAME`."""
    choices: tuple[str, ...] = ()
    """The only values accepted (empty: those `parse` accepts)."""
    parse: Callable[[str], Any] = str
    """The argparse `type` turning the flag's text into the option's value."""
    problem: Callable[[str, object, Show], str | None]
    """Why a value is not accepted (None when it is), values written by `Show`."""
    help: str
    """The flag's `--help` text."""
    effect: str
    """What it does, completing "pass … to": `replace media parts with text markers`."""
    probe: str | int | None
    """The value `check` tries to learn whether the option would let a line convert (None:
    it resolves no rejection)."""
    recorded: str
    """What `metadata.nemogym.assumed` records for it; capitals stand for what varies."""
    record: Callable[[Any], str]
    """The text `recorded` describes, for one rollout's use of the option: given how many
    items it applied to (or, for a supplied name or index, what was supplied)."""

    @property
    def flag(self) -> str:
        """Its command-line flag: `--media`."""
        return "--" + self.name.replace("_", "-")

    @property
    def usage(self) -> str:
        """The flag with its value: `--media placeholder`, `--task-index line|N`; a switch
        (no metavar) alone: `--record-source`."""
        return f"{self.flag} {self.metavar}" if self.metavar else self.flag

    @property
    def probe_flag(self) -> str:
        """The probe on the command line, as `check` reports it: `--task-index line`."""
        shown = self.probe if str(self.probe) in self.metavar.split("|") else self.metavar
        return f"{self.flag} {shown}"

    def text(self) -> str:
        """`pass media="placeholder" (Python) or --media placeholder (command line) to …`."""
        return f"pass {self.library} (Python) or {self.usage} (command line) to {self.effect}"

    def rejection(self, reason: str, loc: Loc = (), *, rule: str) -> ConversionError:
        """The error of a rejection this option resolves: `reason`, then the hint naming
        it (R70), after `"; "` (after a space when `reason` ends with a colon)."""
        hint = self.text()
        hinted = f"{reason} {hint}" if reason.endswith(":") else f"{reason}; {hint}"
        return ConversionError(hinted, loc, rule=rule, option=self.name)


def _index_option(index: str) -> OptionDefinition:
    """The row of the `task` or `rollout` index, supplied where `_ng_INDEX_index` is missing."""
    name = f"{index}_index"
    return OptionDefinition(
        name=name,
        rule="R72",
        library=f'{name}="line" or an integer',
        metavar="line|N",
        parse=_index_source_argument,
        problem=_index_source_problem,
        help=f"{index} index for rollouts without _ng_{name}: the line number or N",
        effect="supply it",
        probe="line",
        recorded="line L or fixed N",
        record=_index_record,
    )


def _single_value(
    name: str,
    value: str,
    *,
    rule: str,
    help: str,
    effect: str,
    recorded: str,
    record: Callable[[Any], str],
) -> OptionDefinition:
    """The row of an option that takes one value (`media="placeholder"`): the value it is
    written as, accepts and is probed with."""
    return OptionDefinition(
        name=name,
        rule=rule,
        library=f'{name}="{value}"',
        metavar=value,
        choices=(value,),
        problem=_choice_problem(value),
        help=help,
        effect=effect,
        probe=value,
        recorded=recorded,
        record=record,
    )


OPTIONS: dict[str, OptionDefinition] = {
    option.name: option
    for option in (
        OptionDefinition(
            name="agent_name",
            rule="R71",
            library="agent_name=NAME",
            metavar="NAME",
            parse=_agent_name_argument,
            problem=_name_problem,
            help="agent name for rows without agent_ref.name and _ng_environment_server; "
            "{server}, {group}, {parent} and {stem} are taken from each file's path",
            effect="supply the agent's name",
            probe="agent",  # any name serves
            recorded="NAME",
            record=str,
        ),
        _index_option("task"),
        _index_option("rollout"),
        _single_value(
            "transitions",
            "final",
            rule="R73",
            help="convert the last snapshot of transition rollouts (response.output of item "
            "arrays)",
            effect="convert the last snapshot",
            recorded="final of N snapshots",
            record=lambda count: f"final of {plural(count, 'snapshot')}",
        ),
        _single_value(
            "encrypted_reasoning",
            "redact",
            rule="R74",
            help="keep encrypted reasoning as redacted reasoning (ciphertext in its signature)",
            effect="keep it as redacted reasoning",
            recorded="redacted N items",
            record=lambda count: f"redacted {plural(count, 'item')}",
        ),
        _single_value(
            "media",
            "placeholder",
            rule="R75",
            help="replace image, file, audio and video content parts with text markers",
            effect="replace media parts with text markers",
            recorded="placeholder for N parts",
            record=lambda count: f"placeholder for {plural(count, 'part')}",
        ),
        _single_value(
            "think_tags",
            "reasoning",
            rule="R76",
            help="read a leading <think>...</think> in assistant text as reasoning",
            effect="read it as reasoning",
            recorded="split N messages",
            record=lambda count: f"split {plural(count, 'message')}",
        ),
        _single_value(
            "empty_rollouts",
            "placeholder",
            rule="R77",
            help="convert rollouts without items to a run with one system message saying so",
            effect="convert it with a placeholder message",
            recorded="placeholder message",
            record=lambda _: "placeholder message",
        ),
        _single_value(
            "tool_items",
            "generic",
            rule="R78",
            help="convert hosted and custom tool items (shell, apply_patch, mcp, web search, "
            "...) to tool calls and tool messages",
            effect="convert them as generic tool calls",
            recorded="generic for N items",
            record=lambda count: f"generic for {plural(count, 'item')}",
        ),
        _single_value(
            "trajectory",
            "transcripts",
            rule="R79",
            help="convert a rollout's ng_trajectory into a transcript per agent invocation (or "
            "model call chain), grouped as the invocation tree",
            effect="convert its trajectory into transcripts",
            recorded="N transcripts added",
            record=lambda count: f"{plural(count, 'transcript')} added",
        ),
        _single_value(
            "orphan_outputs",
            "harbor",
            rule="R90",
            help="convert function_call_outputs answering no call whose call_id is harbor_agent's "
            "random one (call_ and 8 hex digits) to tool messages without a call",
            effect="convert it as a tool message without a call, as harbor_agent wrote it",
            recorded="harbor for N outputs",
            record=lambda count: f"harbor for {plural(count, 'output')}",
        ),
        OptionDefinition(
            name="record_source",
            rule="R91",
            library="record_source=True",
            metavar="",
            problem=_switch_problem,
            help="record each run's source file and line in its metadata.source (file, line)",
            effect="record where each run was read",
            probe=None,
            recorded="nothing: metadata.source.file and .line",
            record=str,
        ),
    )
}
"""Every `ConversionOptions` field, in the order `metadata.nemogym.assumed` records them
(R70): its rule, flag, accepted values, help, `check` probe and recorded text."""

LINE_INDEX_OPTIONS = ("task_index", "rollout_index")
"""The options that may take the JSONL line number (`"line"`), which a rollout alone lacks."""


def suggested_flags(options: Sequence[str]) -> list[str]:
    """The flags `check` suggests for options that together let a line convert: each
    option's `probe_flag`, but a rollout index is fixed at 0 beside a task index taken from
    the line, so that runs are named `AGENT/task/L/rollout/0`: distinct (one line, one task)
    and readable, where `line` for both would read `task/3/rollout/3`."""
    return [
        f"{OPTIONS[option].flag} 0"
        if option == "rollout_index" and "task_index" in options
        else OPTIONS[option].probe_flag
        for option in options
    ]


def assumed_record(uses: dict[str, Any]) -> dict[str, str]:
    """`metadata.nemogym.assumed` of a rollout (R70): each option it used, in table order,
    with its `record` of the use (`uses`: option name -> count or what was supplied)."""
    return {name: option.record(uses[name]) for name, option in OPTIONS.items() if name in uses}


# --- the command line ------------------------------------------------------------------


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """Add a flag per `OPTIONS` entry (`--agent-name`, `--task-index`, ...) to `parser`."""
    group = parser.add_argument_group(
        "options (opt-in; each assumption is recorded in metadata.nemogym.assumed)"
    )
    for name, option in OPTIONS.items():
        if not option.metavar:  # a switch: on, or unset
            group.add_argument(
                option.flag, dest=name, action="store_const", const=True, help=option.help
            )
        elif option.choices:
            group.add_argument(option.flag, dest=name, choices=option.choices, help=option.help)
        else:
            group.add_argument(
                option.flag, dest=name, metavar=option.metavar, type=option.parse, help=option.help
            )


def options_from_args(args: argparse.Namespace) -> ConversionOptions:
    """The `ConversionOptions` given by the flags of `add_option_arguments`."""
    return ConversionOptions(**{name: getattr(args, name) for name in OPTIONS})
