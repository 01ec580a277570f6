"""The rollout as a whole: the required top-level fields in check order, the run's name,
its metadata and the payload skeleton.

Rules: R1-R10, R35, R42, R44, R45, R47.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import NotAllJson, copy_json, own_json
from ..model import AgentRun, JsonDict, SystemMessage, Transcript
from ..options import (
    LINE_INDEX_OPTIONS,
    OPTION_HINTS,
    ConversionOptions,
    IndexSource,
    OptionsArgument,
    assumed_record,
    options_of,
)
from ..schema import ABSENT, RESERVED_TOP_LEVEL_KEYS
from .checks import (
    pruned,
    require_array,
    require_index,
    require_non_empty_string,
    require_object,
    require_text,
    rescued_by,
)
from .items import convert_items
from .turn import TranscriptBuilder

SCHEMA = "nemo_gym_rollout"
EMPTY_ROLLOUT_TEXT = "This rollout has no messages: it holds no input or output items."

_STRICT = ConversionOptions()


_INDEX_KEYS = ("_ng_task_index", "_ng_rollout_index")
"""The members holding the task and rollout indices, in the order of LINE_INDEX_OPTIONS."""
_INPUT: Loc = ("responses_create_params", "input")
_OUTPUT: Loc = ("response", "output")


def _input_items(raw_input: Any) -> list[Any]:
    if isinstance(raw_input, str):
        content = require_text(str(raw_input), _INPUT)
        return [{"role": "user", "content": content, "type": "message"}]
    return require_array(raw_input, _INPUT, "R6")


def _is_transitions(output_items: list[Any]) -> bool:
    """Whether `response.output` holds transition snapshots: a non-empty array of arrays (R73)."""
    return bool(output_items) and all(isinstance(item, list) for item in output_items)


def _absence(mapping: JsonDict, key: str) -> str | None:
    """How `mapping[key]` is missing (absent or null), or None when it is present (R71, R72)."""
    if key not in mapping:
        return "is missing"
    return "is null" if mapping[key] is None else None


def _agent(row: JsonDict, options: ConversionOptions) -> tuple[str, JsonDict | None, bool]:
    """The agent's name, the `agent_ref` object (None when missing), and whether the name
    was supplied by `options.agent_name` (R10, R71)."""
    hint = rescued_by("agent_name")
    absence = _absence(row, "agent_ref")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(absence + hint, ("agent_ref",), rule="R10", option="agent_name")
        return options.agent_name, None, True
    agent_ref = require_object(row["agent_ref"], ("agent_ref",), "R10")
    absence = _absence(agent_ref, "name")
    if absence is not None:
        if options.agent_name is None:
            raise ConversionError(
                absence + hint, ("agent_ref", "name"), rule="R10", option="agent_name"
            )
        return options.agent_name, agent_ref, True
    name = require_non_empty_string(agent_ref["name"], ("agent_ref", "name"), "R10")
    return name, agent_ref, False


def _index(
    row: JsonDict, key: str, option: str, source: IndexSource | None, line: int | None
) -> tuple[int, tuple[IndexSource, int] | None]:
    """The index `row[key]`, or the one `source` supplies when it is missing, with how it
    was supplied (`("line", 7)`, `(0, 0)`) (R10, R72)."""
    absence = _absence(row, key)
    if absence is None:
        return require_index(row[key], (key,)), None
    if source == "line" and line is not None:
        return line, (source, line)
    if isinstance(source, int):
        return source, (source, source)
    raise ConversionError(absence + rescued_by(option), (key,), rule="R10", option=option)


def convert_nemogym_rollout_to_agent_run(
    rollout: Any, *, options: OptionsArgument = None
) -> AgentRun:
    """Convert one parsed NeMo Gym rollout into an AgentRun.

    Raises `ConversionError` (with the offending field's `path`) for anything that cannot
    be converted exactly. The rollout is never modified and shares nothing with the result.
    `options` (default: strict; `ConversionOptions` or a mapping of its fields) say what to
    assume where the rollout is incomplete; a `"line"` index option needs a JSONL line, so it
    raises `ValueError` here.
    """
    options = _STRICT if options is None else options_of(options)
    for option in LINE_INDEX_OPTIONS:
        if getattr(options, option) == "line":
            raise ValueError(
                f'{option}="line" needs a JSONL line number: read the file with '
                "iter_nemogym_jsonl, or pass a fixed integer"
            )
    return convert_rollout(rollout, options, line=None)


def convert_rollout(
    rollout: Any, options: ConversionOptions, line: int | None, *, owned: bool = False
) -> AgentRun:
    """Convert one rollout read from JSONL line `line` (None: not from a file) with `options`.

    `owned`: the rollout was just parsed by this package from a line that the JSONL
    reader vouched for (`parse_jsonl_line`), and nothing else holds it; its values are
    then used without checking or copying them (the trusted path). A caller's rollout is
    never owned (R47).
    """
    if owned:
        try:
            return _convert(rollout, options, line, own_json)
        except NotAllJson:  # a number the line could not vouch for: convert the checked way
            pass
    return _convert(rollout, options, line, copy_json)


def _convert(
    rollout: Any, options: ConversionOptions, line: int | None, copy: Callable[..., Any]
) -> AgentRun:
    row = require_object(rollout, (), "R1")
    request = require_object(
        row.get("responses_create_params", ABSENT), ("responses_create_params",), "R2"
    )
    response = require_object(row.get("response", ABSENT), ("response",), "R3")
    if "input" not in request:
        raise ConversionError("is missing", _INPUT, rule="R4")
    if "output" not in response:
        raise ConversionError("is missing", _OUTPUT, rule="R5")
    input_items = _input_items(request["input"])
    output_items = require_array(response["output"], _OUTPUT, "R7")

    out = TranscriptBuilder(options, copy)
    output_items = _convert_transcript(input_items, output_items, out)
    agent_name, agent_ref, name_supplied = _agent(row, options)
    if name_supplied:
        out.uses["agent_name"] = agent_name
    indices = []
    for key, option in zip(_INDEX_KEYS, LINE_INDEX_OPTIONS, strict=True):
        index, supplied = _index(row, key, option, getattr(options, option), line)
        if supplied is not None:
            out.uses[option] = supplied
        indices.append(index)
    task_index, rollout_index = indices

    return AgentRun(
        name=f"{agent_name}/task/{task_index}/rollout/{rollout_index}",
        transcripts=[
            Transcript(
                name=agent_name,
                messages=out.messages,
                metadata=_transcript_metadata(
                    response, input_items, output_items, out.details, copy
                ),
            )
        ],
        metadata=_agent_run_metadata(
            row, request, response, agent_ref, task_index, rollout_index, out.uses, copy
        ),
    )


def _convert_transcript(
    input_items: list[Any], output_items: list[Any], out: TranscriptBuilder
) -> list[Any]:
    """Convert the input items, then the output items (R8), or the final snapshot of a
    transition rollout (R73); a rollout without messages is rejected (R9) or gets the
    placeholder (R77). Returns the output items converted."""
    options = out.options
    transitions = _is_transitions(output_items)
    if transitions and options.transitions == "final":
        final = len(output_items) - 1
        out.uses["transitions"] = len(output_items)
        output_items = output_items[final]
        convert_items(output_items, "output", _OUTPUT + (final,), out)
    else:
        convert_items(input_items, "input", _INPUT, out)
        if transitions:
            raise ConversionError(
                "must be an object, got an array; response.output holds transition snapshots"
                " (arrays of items): " + OPTION_HINTS["transitions"].text(),
                _OUTPUT + (0,),
                rule="R11",
                option="transitions",
            )
        convert_items(output_items, "output", _OUTPUT, out)
    if not out.messages:
        if options.empty_rollouts != "placeholder":
            raise ConversionError(
                "must produce at least one transcript message, but the rollout holds no items"
                + rescued_by("empty_rollouts"),
                (),
                rule="R9",
                option="empty_rollouts",
            )
        out.messages.append(SystemMessage(content=EMPTY_ROLLOUT_TEXT))
        out.details.append({"role": "system", "origin": "placeholder", "source_item_count": 0})
        out.use("empty_rollouts")
    return output_items


def _transcript_metadata(
    response: JsonDict,
    input_items: list[Any],
    output_items: list[Any],
    message_details: list[JsonDict],
    copy: Callable[..., Any],
) -> JsonDict:
    def response_fact(key: str) -> Any:
        return copy(response.get(key), ("response", key), prune=True)

    source = pruned(
        {
            "schema": SCHEMA,
            "response_id": response_fact("id"),
            "response_model": response_fact("model"),
            "response_created_at": response_fact("created_at"),
            "response_status": response_fact("status"),
            "input_item_count": len(input_items),
            "output_item_count": len(output_items),
        }
    )
    return {"source": source, "message_details": message_details}


def _agent_run_metadata(
    row: JsonDict,
    request: JsonDict,
    response: JsonDict,
    agent_ref: JsonDict | None,
    task_index: int,
    rollout_index: int,
    uses: dict[str, Any],
    copy: Callable[..., Any],
) -> JsonDict:
    def copy_without(mapping: JsonDict, loc: Loc, excluded: str) -> JsonDict:
        # A non-string key is never compared (its __eq__ may raise): copy_json rejects it.
        rest = {
            key: value
            for key, value in mapping.items()
            if not (isinstance(key, str) and key == excluded)
        }
        copied: JsonDict = copy(rest, loc, prune=True)
        return copied

    benchmark_fields = {
        key: value
        for key, value in row.items()
        if key not in RESERVED_TOP_LEVEL_KEYS and value is not None
    }
    non_trace = pruned(
        {
            "request": copy_without(request, ("responses_create_params",), "input"),
            "response": copy_without(response, ("response",), "output"),
            "benchmark_fields": copy(benchmark_fields, (), prune=True),
        }
    )
    metadata = {
        "scores": pruned({"reward": copy(row.get("reward"), ("reward",), prune=True)}),
        "nemogym": pruned(
            {
                "task_index": task_index,
                "rollout_index": rollout_index,
                "agent_ref": copy(agent_ref, ("agent_ref",), prune=True),
                "assumed": assumed_record(uses),
            }
        ),
        "source": pruned({"schema": SCHEMA, "rollout_non_trace": non_trace}),
    }
    return pruned(metadata)
