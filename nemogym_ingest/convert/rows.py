"""The kinds of row NeMo Gym writes, in one ordered table (`ROW_KINDS`), and the one row
converter that takes each to its own builder: a rollout (`rollout`), an episode row
(`episode`), or a failed attempt, which holds no rollout and is never a run (R83); task
inputs and other objects are rejected as rollouts.

Rules: R80, R83.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConversionError
from ..jsonvalue import JsonCopier, require_text
from ..members import FAILURE_CLASS
from ..options import LINE_INDEX_OPTIONS, ConversionOptions, OptionsArgument, options_of
from ..wire import JsonDict, RunPayload
from .checks import describe, require_non_empty_string
from .episode import episode_run
from .rollout import rollout_run

if TYPE_CHECKING:
    from ..model import AgentRun

RowKind = Literal["rollout", "episode", "failed_attempt", "task_input", "foreign", "other"]
"""The name of a kind of row (R80): a rollout, an episode row, a failed attempt, a task input
(`responses_create_params` and no `response`), a JSON object that is none of these, or
not an object at all."""

_STRICT = ConversionOptions()
_FAILURE_MESSAGE = "_ng_failure_message"


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """A NeMo Gym failure row that holds no rollout (R83): its class and message."""

    failure_class: str
    message: str | None
    line: int | None = None
    file: str | None = None

    def describe(self) -> str:
        """`failed attempt (CLASS): MESSAGE`, the sentence for people."""
        text = f"failed attempt ({self.failure_class})"
        return text + (f": {self.message}" if self.message else ", no message")

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        return f"{where}: {self.describe()}" if where else self.describe()


def read_failed_attempt(row: dict[str, Any]) -> FailedAttempt:
    """The failed attempt of a row of kind `failed_attempt`: `_ng_failure_class` a non-empty
    string, `_ng_failure_message` a string or null (R83)."""
    failure_class = require_non_empty_string(row[FAILURE_CLASS], (FAILURE_CLASS,), "R83")
    message = row.get(_FAILURE_MESSAGE)
    if message is not None and not isinstance(message, str):
        raise ConversionError(
            f"must be a string or null, got {describe(message)}", (_FAILURE_MESSAGE,), rule="R83"
        )
    if message is not None:
        message = require_text(message, (_FAILURE_MESSAGE,))
    return FailedAttempt(failure_class, message)


RunBuilder = Callable[[JsonDict, ConversionOptions, int | None, JsonCopier], JsonDict]
"""Builds a row's AgentRun payload (the row, the options, its line, the copier) or raises
`ConversionError`."""


def _refuse_failed_attempt(
    row: JsonDict, options: ConversionOptions, line: int | None, copier: JsonCopier
) -> JsonDict:
    """A failed attempt is rejected by R83, naming its class: it holds no rollout to convert."""
    attempt = read_failed_attempt(row)
    raise ConversionError(
        f"holds no rollout to convert: the row records a {attempt.describe()}",
        (FAILURE_CLASS,),
        rule="R83",
    )


@dataclass(frozen=True, slots=True)
class KindOfRow:
    """One kind of row (R80): how it is told, how it is converted, what a file of it says."""

    name: RowKind
    recognises: Callable[[dict[str, Any]], bool]
    """Whether an object row is of this kind (asked in `ROW_KINDS` order)."""
    build: RunBuilder
    """Its converter (`rollout_run` rejects a row that is no rollout, by its first missing
    member)."""
    read_failure: Callable[[dict[str, Any]], FailedAttempt] | None = None
    """For a row that records a failed attempt (R83): its reader; the JSONL driver gives
    the attempt instead of a run or a rejection."""
    nothing_to_convert: str | None = None
    """When a file whose every line is rejected and of such kinds holds no rollout: the
    sentence saying so (`{lines}`: "N lines", `{rows}`: "N rows")."""
    docent_reads: bool = True
    """Whether the pinned Docent (`DOCENT_VERSION`) reads it as NeMo Gym does (else D7)."""


ROW_KINDS: tuple[KindOfRow, ...] = (
    KindOfRow("rollout", lambda row: "response" in row, rollout_run),
    KindOfRow(
        "episode",
        lambda row: "invocations" in row and "responses_create_params" not in row,
        episode_run,
        docent_reads=False,
    ),
    KindOfRow(
        "failed_attempt",
        lambda row: row.get(FAILURE_CLASS) is not None,
        _refuse_failed_attempt,
        read_failure=read_failed_attempt,
        docent_reads=False,
    ),
    KindOfRow(
        "task_input",
        lambda row: "responses_create_params" in row,
        rollout_run,
        nothing_to_convert="NeMo Gym task inputs ({rows} with responses_create_params and no "
        "response): nothing to convert",
    ),
    KindOfRow(
        "foreign",
        lambda row: True,
        rollout_run,
        nothing_to_convert="not a NeMo Gym rollouts file ({lines}, none with "
        "responses_create_params, response or invocations)",
    ),
)
"""The kinds of an object row, in the order they are told apart (R80): the first that
recognises a row is its kind."""

NOT_AN_OBJECT = KindOfRow("other", lambda row: False, rollout_run)
"""The kind of a line that is not a JSON object (rejected as a rollout)."""

NOT_ROLLOUT_KINDS: dict[RowKind, str] = {
    kind.name: kind.nothing_to_convert for kind in ROW_KINDS if kind.nothing_to_convert
}
"""The kinds that make a whole file not rollouts when every line is of one of them, and the
sentence saying so."""


def kind_of(row: Any) -> KindOfRow:
    """The kind of a parsed line (R80), read from which members it has."""
    if isinstance(row, dict):
        for kind in ROW_KINDS:
            if kind.recognises(row):
                return kind
    return NOT_AN_OBJECT


def row_kind(row: Any) -> RowKind:
    """The name of the kind of a parsed line (R80)."""
    return kind_of(row).name


def convert_nemogym_rollout_to_agent_run(
    rollout: Any, *, options: OptionsArgument = None
) -> AgentRun:
    """Convert one parsed NeMo Gym row (a rollout or an episode row) into an AgentRun.

    Raises `ConversionError` (with the offending field's `path`) for anything that cannot
    be converted exactly, and for a failed attempt, which holds no rollout (R83). The row
    is never modified and shares nothing with the result. `options` (default: strict;
    `ConversionOptions` or a mapping of its fields) say what to assume where the row is
    incomplete; a `"line"` index option and `record_source` need a JSONL line, so they
    raise `ValueError` here.
    """
    options = _STRICT if options is None else options_of(options)
    for option in LINE_INDEX_OPTIONS:
        if getattr(options, option) == "line":
            raise ValueError(
                f'{option}="line" needs a JSONL line number: read the file with '
                "iter_nemogym_jsonl, or pass a fixed integer"
            )
    if options.record_source:
        raise ValueError(
            "record_source=True records the JSONL file and line a run was read from: read "
            "the file with iter_nemogym_jsonl"
        )
    # The model (and dataclasses-json) is loaded only where a run is returned, not to write one.
    from ..model import run_from_payload  # noqa: PLC0415

    return run_from_payload(convert_row(rollout, options, line=None).payload)


def convert_row(
    row: Any,
    options: ConversionOptions,
    line: int | None,
    *,
    owned: bool = False,
    kind: KindOfRow | None = None,
) -> RunPayload:
    """Convert one row read from JSONL line `line` (None: not from a file) with `options`
    into its AgentRun's wire payload.

    `owned`: the row was just parsed by this package from a line that the JSONL reader
    vouched for (`jsonl.parse_line`), and nothing else holds it; its values are then used
    without checking them (the trusted path). A value the line could not vouch for then
    raises `NotAllJson`, and the caller reads the line again and converts it unowned. A
    caller's row is never owned (R47). `kind`: the row's kind, when the caller told it
    already (`kind_of`).
    """
    build = (kind_of(row) if kind is None else kind).build
    copier = JsonCopier(owned=owned)
    return RunPayload(build(row, options, line, copier), copier.tiny_float)
