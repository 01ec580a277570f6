"""The rollout as a whole: the required top-level fields in check order, the agent label
and the indices (supplied by `agent_name`, `task_index`, `rollout_index` where missing),
the run's name, its metadata (a failure row's included), the placeholder of a rollout
without items (`empty_rollouts`) and the payload skeleton; the request and response of
one exchange (`read_exchange`), which episode rows reuse.

Rules: R1-R10, R35, R42, R44, R45, R47, R71, R72, R77, R84, R85.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import JsonCopier
from ..members import ABSENT, ENVIRONMENT_SERVER, FAILURE_CLASS, RESERVED_TOP_LEVEL_KEYS
from ..options import (
    LINE_INDEX_OPTIONS,
    OPTIONS,
    ConversionOptions,
    IndexSource,
    assumed_record,
)
from ..wire import JsonDict, agent_run, transcript
from .checks import (
    pruned,
    require_array,
    require_index,
    require_non_empty_string,
    require_object,
)
from .items import convert_items, convert_output_items, is_transitions
from .scores import REWARD_COMPONENTS, nested_scores, scored_components
from .turn import TranscriptBuilder

SCHEMA = "nemo_gym_rollout"
EMPTY_ROLLOUT_TEXT = "This rollout has no messages: it holds no input or output items."

_INDEX_KEYS = ("_ng_task_index", "_ng_rollout_index")
"""The members holding the task and rollout indices, in the order of LINE_INDEX_OPTIONS."""
FAILURE_MEMBERS = {
    FAILURE_CLASS: "class",
    "failure_kind": "kind",
    "failure_reason": "reason",
    "mask_sample": "mask_sample",
    "reward": "unscored_reward",
}
"""A failure row's members that go to `metadata.nemogym.failure` (R84), and their names there."""


def _input_items(raw_input: Any, loc: Loc, out: TranscriptBuilder) -> list[Any]:
    if isinstance(raw_input, str):
        content = out.copy.text(raw_input, loc)
        return [{"role": "user", "content": content, "type": "message"}]
    return require_array(raw_input, loc, "R6")


def _absence(mapping: JsonDict, key: str) -> str | None:
    """How `mapping[key]` is missing (absent or null), or None when it is present (R71, R72)."""
    if key not in mapping:
        return "is missing"
    return "is null" if mapping[key] is None else None


def _agent(row: JsonDict, options: ConversionOptions) -> tuple[str, JsonDict | None, str]:
    """The agent's name, the `agent_ref` object (None when missing), and where the name came
    from: `agent_ref`, `_ng_environment_server` or the `agent_name` option (R10, R71, R85)."""
    absence = _absence(row, "agent_ref")
    agent_ref = None
    loc: Loc = ("agent_ref",)
    if absence is None:
        agent_ref = require_object(row["agent_ref"], loc, "R10")
        loc = ("agent_ref", "name")
        absence = _absence(agent_ref, "name")
        if absence is None:
            name = require_non_empty_string(agent_ref["name"], loc, "R10")
            return name, agent_ref, "agent_ref"
    if _absence(row, ENVIRONMENT_SERVER) is None:
        stamp = (ENVIRONMENT_SERVER,)
        return require_non_empty_string(row[ENVIRONMENT_SERVER], stamp, "R85"), agent_ref, stamp[0]
    if options.agent_name is None:
        raise OPTIONS["agent_name"].rejection(absence, loc, rule="R10")
    return options.agent_name, agent_ref, "agent_name"


def _failure_class(row: JsonDict) -> str | None:
    """A failure row's `_ng_failure_class`, a non-empty string when not null (R84)."""
    if _absence(row, FAILURE_CLASS) is not None:
        return None
    return require_non_empty_string(row[FAILURE_CLASS], (FAILURE_CLASS,), "R84")


def _index(
    row: JsonDict, key: str, option: str, source: IndexSource | None, line: int | None
) -> tuple[int, tuple[IndexSource, int] | None]:
    """The index `row[key]`, or the one `source` supplies when it is missing, with how it
    was supplied (`("line", 7)`, `(0, 0)`) (R10, R72)."""
    absence = _absence(row, key)
    if absence is None:
        return require_index(row[key], (key,), "R10"), None
    if source == "line" and line is not None:
        return line, (source, line)
    if isinstance(source, int):
        return source, (source, source)
    raise OPTIONS[option].rejection(absence, (key,), rule="R10")


@dataclass
class Exchange:
    """One request and its response, converted into a transcript's messages: a rollout's
    `responses_create_params` and `response`, or an episode invocation's `request` and
    `response` (R2-R9, at paths under `at`)."""

    at: Loc
    request_loc: Loc
    response_loc: Loc
    request: JsonDict
    response: JsonDict
    input_items: list[Any]
    output_items: list[Any]
    out: TranscriptBuilder

    def transcript(self, name: str, schema: str, **extra: Callable[[], JsonDict]) -> JsonDict:
        """The transcript, its metadata's facts checked now (R42, after R10), then each of
        `extra` made (and checked), in order, after them."""
        metadata = _transcript_metadata(self, schema)
        for key, make in extra.items():
            value = make()
            if value:
                metadata[key] = value
        return transcript(name, self.out.messages, metadata)

    def non_trace(self) -> JsonDict:
        """The request without `input` and the response without `output`, copied (R44)."""
        copy = self.out.copy
        return {
            "request": _copy_without(self.request, self.request_loc, "input", copy),
            "response": _copy_without(self.response, self.response_loc, "output", copy),
        }


def read_exchange(
    holder: JsonDict,
    request_key: str,
    at: Loc,
    out: TranscriptBuilder,
    rules: tuple[str, str] = ("R2", "R3"),
) -> Exchange:
    """Check `holder[request_key]` and `holder["response"]` (`rules`: the request's and the
    response's rule), read their items and convert them into `out` (R2-R9)."""
    request_loc, response_loc = at + (request_key,), at + ("response",)
    request = require_object(holder.get(request_key, ABSENT), request_loc, rules[0])
    response = require_object(holder.get("response", ABSENT), response_loc, rules[1])
    input_loc, output_loc = request_loc + ("input",), response_loc + ("output",)
    if "input" not in request:
        raise ConversionError("is missing", input_loc, rule="R4")
    if "output" not in response:
        raise ConversionError("is missing", output_loc, rule="R5")
    input_items = _input_items(request["input"], input_loc, out)
    output_items = require_array(response["output"], output_loc, "R7")
    exchange = Exchange(
        at, request_loc, response_loc, request, response, input_items, output_items, out
    )
    exchange.output_items = _convert_transcript(exchange)
    return exchange


def rollout_run(
    row: JsonDict, options: ConversionOptions, line: int | None, copy: JsonCopier
) -> JsonDict:
    """The AgentRun payload of a rollout (R1-R10, R35, R42, R44, R45): one transcript."""
    row = require_object(row, (), "R1")
    exchange = read_exchange(row, "responses_create_params", (), TranscriptBuilder(options, copy))
    identity = run_identity(row, options, line, exchange.out.uses)
    transcripts = [exchange.transcript(identity.agent_name, SCHEMA)]
    trajectory = None
    if options.trajectory is not None:  # the trajectory modules load only with the option
        from .trajectory import trajectory_parts  # noqa: PLC0415

        trajectory = trajectory_parts(row, options, copy, identity.uses)
    if trajectory is None:
        return agent_run(
            identity.run_name,
            transcripts,
            run_metadata(row, identity, exchange.non_trace(), SCHEMA, copy),
        )
    metadata = run_metadata(row, identity, exchange.non_trace(), SCHEMA, copy, rest=trajectory.rest)
    run = agent_run(identity.run_name, transcripts + trajectory.transcripts, metadata)
    if trajectory.groups:
        run["transcript_groups"] = trajectory.groups
    return run


@dataclass(frozen=True)
class RunIdentity:
    """Who ran a row and which task and rollout it is (R10, R35, R85)."""

    agent_name: str
    agent_ref: JsonDict | None
    agent_name_from: str | None
    """`_ng_environment_server` when the name is the environment server stamp (R85)."""
    task_index: int
    rollout_index: int
    uses: dict[str, Any]

    @property
    def run_name(self) -> str:
        return f"{self.agent_name}/task/{self.task_index}/rollout/{self.rollout_index}"


def run_identity(
    row: JsonDict, options: ConversionOptions, line: int | None, uses: dict[str, Any]
) -> RunIdentity:
    """The agent label, then the indices, in check order (R10, R71, R72, R85); each option
    used is added to `uses`."""
    agent_name, agent_ref, name_from = _agent(row, options)
    if name_from == "agent_name":
        uses["agent_name"] = agent_name
    indices = []
    for key, option in zip(_INDEX_KEYS, LINE_INDEX_OPTIONS, strict=True):
        index, supplied = _index(row, key, option, getattr(options, option), line)
        if supplied is not None:
            uses[option] = supplied
        indices.append(index)
    _failure_class(row)
    stamp = name_from if name_from == ENVIRONMENT_SERVER else None
    return RunIdentity(agent_name, agent_ref, stamp, indices[0], indices[1], uses)


def _convert_transcript(exchange: Exchange) -> list[Any]:
    """Convert the input items, then the output items (R8), or the final snapshot of a
    transition rollout (R73); an exchange without messages is rejected (R9) or gets the
    placeholder (R77). Returns the output items converted."""
    out, output_items = exchange.out, exchange.output_items
    if not (is_transitions(output_items) and out.options.transitions == "final"):
        convert_items(exchange.input_items, "input", exchange.request_loc + ("input",), out)
    output_items = convert_output_items(output_items, exchange.response_loc + ("output",), out)
    if not out.messages:
        if out.options.empty_rollouts != "placeholder":
            raise OPTIONS["empty_rollouts"].rejection(
                "must produce at least one transcript message, but the rollout holds no items",
                exchange.at,
                rule="R9",
            )
        out.emit_placeholder(EMPTY_ROLLOUT_TEXT)
        out.use("empty_rollouts")
    return output_items


def _transcript_metadata(exchange: Exchange, schema: str) -> JsonDict:
    response, copy = exchange.response, exchange.out.copy

    def response_fact(key: str) -> Any:
        return copy(response.get(key), exchange.response_loc + (key,), prune=True)

    source = pruned(
        {
            "schema": schema,
            "response_id": response_fact("id"),
            "response_model": response_fact("model"),
            "response_created_at": response_fact("created_at"),
            "response_status": response_fact("status"),
            "input_item_count": len(exchange.input_items),
            "output_item_count": len(exchange.output_items),
        }
    )
    return {"source": source, "message_details": exchange.out.details}


def _copy_without(mapping: JsonDict, loc: Loc, excluded: str, copy: JsonCopier) -> Any:
    """`mapping` without its member `excluded`, copied and pruned (R40, R41)."""
    # A non-string key is never compared (its __eq__ may raise): copy_json rejects it.
    rest = {
        key: value
        for key, value in mapping.items()
        if not (isinstance(key, str) and key == excluded)
    }
    return copy(rest, loc, prune=True)


def _benchmark_copy(fields: JsonDict, rest: JsonDict, copy: JsonCopier) -> JsonDict:
    """The benchmark fields copied and pruned (R40, R45), in document order; those in
    `rest` replaced by their copies there, pruned already."""
    if not rest:
        copied: JsonDict = copy(fields, (), prune=True)
        return copied
    others = copy({k: v for k, v in fields.items() if k not in rest}, (), prune=True)
    return {
        key: rest[key] if key in rest else others[key]
        for key in fields
        if rest.get(key) or key in others
    }


def run_metadata(
    row: JsonDict,
    identity: RunIdentity,
    non_trace: JsonDict,
    schema: str,
    copy: JsonCopier,
    reserved: frozenset[str] = RESERVED_TOP_LEVEL_KEYS,
    rest: JsonDict | None = None,
) -> JsonDict:
    """The AgentRun's metadata (R44, R45): the reward as a score and its components beside
    it (R92), or, for a failure row, the reward in `nemogym.failure` with the failure's
    members (R84); the rollout's non-trace members. `rest`: benchmark fields whose value is
    replaced by a copy made already (the rest of a trajectory, R89)."""
    failure = row.get(FAILURE_CLASS) is not None
    if failure:
        reserved = reserved | FAILURE_MEMBERS.keys()
    benchmark_fields = {
        key: value for key, value in row.items() if key not in reserved and value is not None
    }
    copied = _benchmark_copy(benchmark_fields, rest or {}, copy)
    components = copied.pop(REWARD_COMPONENTS) if not failure and scored_components(row) else {}
    non_trace["benchmark_fields"] = copied
    reward = None if failure else copy(row.get("reward"), ("reward",), prune=True)
    agent_ref = copy(identity.agent_ref, ("agent_ref",), prune=True)
    failure_record = (
        {name: copy(row.get(key), (key,), prune=True) for key, name in FAILURE_MEMBERS.items()}
        if failure
        else {}
    )
    metadata = {
        "scores": pruned({"reward": reward, **nested_scores(components)}),
        "nemogym": pruned(
            {
                "task_index": identity.task_index,
                "rollout_index": identity.rollout_index,
                "agent_ref": agent_ref,
                "agent_name_from": identity.agent_name_from,
                "failure": pruned(failure_record),
                "assumed": assumed_record(identity.uses),
            }
        ),
        "source": pruned({"schema": schema, "rollout_non_trace": pruned(non_trace)}),
    }
    return pruned(metadata)
