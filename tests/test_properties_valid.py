"""Properties of valid rollouts (nemogym_ingest.testing.strategies.valid_rollouts).

The helpers below restate the mapping from spec/README.md over the generated structure
(which items make which message); the converter is never consulted to decide what to expect.
"""

from __future__ import annotations

import copy
import json
from dataclasses import fields, is_dataclass
from typing import Any

from hypothesis import event, given
from openai.types.responses import Response

from nemogym_ingest import AgentRun, convert_nemogym_rollout_to_agent_run
from nemogym_ingest.testing.strategies import valid_episode_rows, valid_rollouts
from nemogym_ingest.testing.strategies._failures import FAILURE_MEMBERS
from tests.docent_oracle import docent_convert_payload, validate_on_docent

Item = dict[str, Any]
Source = tuple[str, int]  # (origin, index of the item in its array)

ASSISTANT_SIDE = ("reasoning", "function_call", "assistant")


def sections(rollout: Item) -> list[tuple[str, list[Any]]]:
    """The input and output items; a string input stands for one user message (R6)."""
    raw_input = rollout["responses_create_params"]["input"]
    inputs = [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else raw_input
    return [("input", inputs), ("output", rollout["response"]["output"])]


def item_at(rollout: Item, source: Source) -> Item:
    origin, index = source
    item: Item = dict(sections(rollout))[origin][index]
    return item


def kind(item: Item) -> str:
    """`reasoning`, `function_call`, `function_call_output`, `assistant` or a prompt role."""
    item_type: str = item.get("type") or "message"
    return str(item["role"]) if item_type == "message" else item_type


def message_groups(rollout: Item, *, split_backwards: bool = True) -> list[list[Source]]:
    """The source items of each transcript message (R14, R22, R30-R33).

    `split_backwards=False` groups as Docent 0.1.88 does, without D2's split of a turn
    where an item would go backwards (R32).
    """
    groups: list[list[Source]] = []
    for origin, items in sections(rollout):
        turn: list[Source] = []
        seen_message = seen_call = False
        for index, item in enumerate(items):
            item_kind = kind(item)
            goes_backwards = item_kind in ("reasoning", "assistant") and (seen_message or seen_call)
            if item_kind not in ASSISTANT_SIDE or (split_backwards and goes_backwards):
                if turn:
                    groups.append(turn)
                turn, seen_message, seen_call = [], False, False
            if item_kind in ASSISTANT_SIDE:
                turn.append((origin, index))
                seen_message = seen_message or item_kind == "assistant"
                seen_call = seen_call or item_kind == "function_call"
            else:
                groups.append([(origin, index)])
        if turn:
            groups.append(turn)
    return groups


def all_items(rollout: Item) -> list[Item]:
    return [item for _, items in sections(rollout) for item in items]


def d1_applies(rollout: Item) -> bool:
    """Some reasoning item has `reasoning_text` content, which Docent drops (D1)."""
    return any(kind(item) == "reasoning" and item.get("content") for item in all_items(rollout))


def d2_applies(rollout: Item) -> bool:
    """Some assistant-side item goes backwards in its turn, so Docent glues or hoists (D2)."""
    return message_groups(rollout) != message_groups(rollout, split_backwards=False)


def message_text(item: Item) -> str:
    """A message item's text: its string content or its parts' texts joined (R13)."""
    content = item["content"]
    if isinstance(content, str):
        return content
    return "".join(part["refusal" if part["type"] == "refusal" else "text"] for part in content)


def joined_texts(parts: list[Item] | None) -> str:
    return "\n".join(part["text"] for part in parts or [] if part["text"])


def item_reasoning(item: Item) -> tuple[str, str]:
    """A reasoning item's (reasoning, summary beside it) by R17 and R18 (D1)."""
    content, summary = joined_texts(item.get("content")), joined_texts(item["summary"])
    return (content, summary) if content else (summary, "")


def tool_output_text(output: Any) -> str:
    """R23: the output string, or its JSON text with sorted keys and ASCII escapes."""
    return (
        output if isinstance(output, str) else json.dumps(output, ensure_ascii=True, sort_keys=True)
    )


def tagged(rollout: Item) -> Item:
    """A copy whose array items carry unique ids `"<origin>-<index>"` (ids only reach
    message_details, R43)."""
    copied = copy.deepcopy(rollout)
    for origin, items in sections(copied):  # a string input's item is a throwaway copy
        for index, item in enumerate(items):
            item["id"] = f"{origin}-{index}"
    return copied


def source_ids(detail: Item) -> list[str | None]:
    return [source.get("source_item_id") for source in detail["source_items"]]


def expected_ids(rollout: Item, group: list[Source]) -> list[str | None]:
    string_input = isinstance(rollout["responses_create_params"]["input"], str)
    return [
        None if string_input and origin == "input" else f"{origin}-{index}"
        for origin, index in group
    ]


def payload_of(rollout: Item) -> Item:
    payload: Item = convert_nemogym_rollout_to_agent_run(rollout).to_dict()
    return payload


def messages_of(payload: Item) -> list[Item]:
    messages: list[Item] = payload["transcripts"][0]["messages"]
    return messages


def details_of(payload: Item) -> list[Item]:
    details: list[Item] = payload["transcripts"][0]["metadata"]["message_details"]
    return details


def reasoning_block(message: Item) -> Item | None:
    content = message["content"]
    blocks = (
        [block for block in content if block["type"] == "reasoning"]
        if isinstance(content, list)
        else []
    )
    return blocks[0] if blocks else None


def text_of(message: Item) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(block["text"] for block in content if block["type"] == "text")


def mutable_ids(value: Any) -> set[int]:
    """The ids of every dict and list reachable from `value` (through dataclass fields too)."""
    found: set[int] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if is_dataclass(current):
            stack += [getattr(current, field.name) for field in fields(current)]
        elif isinstance(current, dict):
            found.add(id(current))
            stack += list(current.values())
        elif isinstance(current, list):
            found.add(id(current))
            stack += current
    return found


# --- conversion, model, round trip, determinism, no sharing -----------------------------


@given(valid_rollouts())
def test_valid_rollouts_convert_exactly_deterministically_and_leave_input_alone(
    rollout: Item,
) -> None:
    """R1-R47: every valid rollout converts; the payload validates on Docent's AgentRun
    model unchanged and `from_dict(to_dict())` is exact; R46: the same input gives the same
    payload, byte for byte; R47: the rollout is not modified and the AgentRun shares no
    dict or list with it."""
    before = copy.deepcopy(rollout)
    run = convert_nemogym_rollout_to_agent_run(rollout)
    payload = run.to_dict()
    assert validate_on_docent(payload) == payload
    assert AgentRun.from_dict(payload).to_dict() == payload
    assert rollout == before
    assert not mutable_ids(run) & mutable_ids(rollout)
    assert json.dumps(payload_of(before)) == json.dumps(payload)


@given(valid_rollouts(openai_shaped=True))
def test_openai_shaped_responses_validate_on_the_openai_model(rollout: Item) -> None:
    """The strategy's shapes stay true to the Responses API: `response` validates as
    `openai.types.responses.Response`."""
    response = Response.model_validate(rollout["response"])
    assert len(response.output) == len(rollout["response"]["output"])


# --- differential against Docent 0.1.88 ---------------------------------------------------


@given(valid_rollouts(docent_identical=True))
def test_docent_identical_rollouts_convert_exactly_as_docent(rollout: Item) -> None:
    """Baseline: where no divergence applies, ours equals Docent's converter (ids removed)."""
    assert not d1_applies(rollout)
    assert not d2_applies(rollout)
    assert payload_of(rollout) == docent_convert_payload(rollout)


def glued(payload: Item) -> list[Item]:
    """Our messages with each run of same-origin assistant messages merged as Docent's
    single pending turn would be (reasoning joined "\\n\\n", texts "", calls in order),
    reasoning summaries (D1) left out."""
    merged: list[Item] = []
    merged_origin: Any = None
    for message, detail in zip(messages_of(payload), details_of(payload), strict=True):
        if message["role"] != "assistant":
            merged.append(message)
            merged_origin = None
            continue
        block = reasoning_block(message)
        parts = {
            "reasoning": [block["reasoning"]] if block else [],
            "text": [text_of(message)],
            "tool_calls": message.get("tool_calls", []),
        }
        if merged_origin == detail["origin"]:
            previous = merged[-1]
            for key, values in parts.items():
                previous[key] = previous[key] + values
        else:
            merged.append({"role": "assistant", **parts})
            merged_origin = detail["origin"]
    return [
        docent_turn(message) if message["role"] == "assistant" else message for message in merged
    ]


def docent_turn(parts: Item) -> Item:
    reasoning, text = "\n\n".join(parts["reasoning"]), "".join(parts["text"])
    content: Any = text
    if reasoning:
        content = [{"type": "reasoning", "reasoning": reasoning}]
        content += [{"type": "text", "text": text}] if text else []
    message = {"role": "assistant", "content": content}
    return message | ({"tool_calls": parts["tool_calls"]} if parts["tool_calls"] else {})


def with_content_as_summary(rollout: Item) -> Item:
    """A copy where each reasoning item's content text stands in its summary, which is what
    Docent reads (so Docent's reasoning equals ours under D1)."""
    copied = copy.deepcopy(rollout)
    for item in all_items(copied):
        if kind(item) == "reasoning":
            reasoning, _ = item_reasoning(item)
            item["summary"] = [{"type": "summary_text", "text": reasoning}]
            item.pop("content", None)
    return copied


def flat_sources(payload: Item, *, drop_reasoning_content_types: bool = False) -> list[Item]:
    sources = [source for detail in details_of(payload) for source in detail["source_items"]]
    if drop_reasoning_content_types:
        sources = [
            {key: value for key, value in source.items() if key != "content_part_types"}
            if source["source_item_type"] == "reasoning"
            else source
            for source in sources
        ]
    return sources


def without_phase_and_namespace(rollout: Item) -> Item:
    """`rollout` without the items' `phase` and `namespace` members (D6)."""
    rollout = copy.deepcopy(rollout)
    for items in (rollout["responses_create_params"]["input"], rollout["response"]["output"]):
        for item in items if isinstance(items, list) else []:
            item.pop("phase", None)
            item.pop("namespace", None)
    return rollout


@given(valid_rollouts(failures=False))
def test_differential_against_docent_with_documented_divergences(rollout: Item) -> None:
    """Baseline vs Docent 0.1.88; where the generated structure triggers D1 (reasoning
    content kept, R18) or D2 (no gluing or reordering, R32), our documented output:
    merging our split turns back gives Docent's messages (Docent reading the content as
    summary under D1), and every per-item and rollout-level fact is Docent's. (D6, a kept
    `phase` or `namespace`, is compared in tests/test_rollout_shapes.py: removed here; D7,
    a failure row, in test_failure_rows_keep_the_reward_out_of_the_scores.)"""
    rollout = without_phase_and_namespace(rollout)
    ours, docents = payload_of(rollout), docent_convert_payload(rollout)
    applying = [
        name for name, applies in (("D1", d1_applies), ("D2", d2_applies)) if applies(rollout)
    ]
    event(f"divergences: {'+'.join(applying) or 'none'}")
    if not applying:
        assert ours == docents
        return
    assert {key: ours[key] for key in ("name", "metadata")} == {
        key: docents[key] for key in ("name", "metadata")
    }
    ours_transcript, docent_transcript = ours["transcripts"][0], docents["transcripts"][0]
    assert ours_transcript["name"] == docent_transcript["name"]
    assert ours_transcript["metadata"]["source"] == docent_transcript["metadata"]["source"]
    assert flat_sources(ours, drop_reasoning_content_types=True) == flat_sources(docents)
    docent_messages = messages_of(docent_convert_payload(with_content_as_summary(rollout)))
    assert glued(ours) == docent_messages
    assert len(messages_of(ours)) == len(message_groups(rollout))


# --- mapping invariants --------------------------------------------------------------------


def check_messages_follow_the_items_in_count_order_and_grouping(
    rollout: Item, payload: Item
) -> None:
    """R14, R22, R30-R33: one message per prompt message, per tool output and per
    assistant turn (split where D2 says), in item order, each made of exactly its items;
    R12: developer becomes system."""
    groups = message_groups(rollout)
    messages, details = messages_of(payload), details_of(payload)
    assert len(messages) == len(groups) == len(details)
    roles = {"developer": "system", "function_call_output": "tool"}
    for message, detail, group in zip(messages, details, groups, strict=True):
        first_kind = kind(item_at(rollout, group[0]))
        expected_role = "assistant" if first_kind in ASSISTANT_SIDE else first_kind
        assert message["role"] == roles.get(expected_role, expected_role)
        assert source_ids(detail) == expected_ids(rollout, group)
        assert detail["origin"] == group[0][0]
        assert detail["source_item_count"] == len(group)


def check_every_item_is_accounted_for_once_in_message_details(rollout: Item, payload: Item) -> None:
    """R43: the message_details' source items are all the input items then all the output
    items, each exactly once, in order, with its origin and type."""
    sources = flat_sources(payload)
    expected = [
        (origin, expected_ids(rollout, [(origin, index)])[0], item.get("type") or "message")
        for origin, items in sections(rollout)
        for index, item in enumerate(items)
    ]
    actual = [
        (source["origin"], source.get("source_item_id"), source["source_item_type"])
        for source in sources
    ]
    assert actual == expected


def check_tool_messages_answer_an_earlier_tool_call(rollout: Item, payload: Item) -> None:
    """R21-R23: every tool message's tool_call_id is a ToolCall of an earlier assistant
    message, its function is that call's latest name, its content the output's text."""
    latest_names: dict[str, str] = {}
    for message, detail in zip(messages_of(payload), details_of(payload), strict=True):
        for call in message.get("tool_calls", []):
            latest_names[call["id"]] = call["function"]
        if message["role"] == "tool":
            assert message["function"] == latest_names[message["tool_call_id"]]
            origin, index = str(source_ids(detail)[0]).split("-")
            item = item_at(rollout, (origin, int(index)))
            assert message["tool_call_id"] == item["call_id"]
            assert message["content"] == tool_output_text(item["output"])


def check_no_text_lost_or_glued(rollout: Item, payload: Item) -> None:
    """D2, R13-R15, R31, R32: each message item's text is one message's text, unchanged, in
    order: no two texts are glued together and none is dropped."""
    item_texts = [
        (kind(item), message_text(item))
        for item in all_items(rollout)
        if kind(item) not in ("reasoning", "function_call", "function_call_output")
    ]
    roles = {"developer": "system"}
    expected = [
        (roles.get(role, role), text) for role, text in item_texts if text or role != "assistant"
    ]
    actual = [
        (message["role"], text_of(message))
        for message in messages_of(payload)
        if message["role"] != "tool" and (message["role"] != "assistant" or text_of(message))
    ]
    assert actual == expected


def check_no_reasoning_text_lost(rollout: Item, payload: Item) -> None:
    """D1, R17, R18, R31, R33: each assistant message's reasoning is its reasoning items'
    reasoning (content text, else summary text) joined "\\n\\n"; the summaries of items
    that have both go to the block's summary."""
    for message, group in zip(messages_of(payload), message_groups(rollout), strict=True):
        items = [item_at(rollout, source) for source in group]
        pairs = [item_reasoning(item) for item in items if kind(item) == "reasoning"]
        reasoning = "\n\n".join(text for text, _ in pairs if text)
        summary = "\n\n".join(text for _, text in pairs if text)
        block = reasoning_block(message) if message["role"] == "assistant" else None
        assert (block["reasoning"] if block else "") == reasoning
        assert (block.get("summary", "") if block else "") == summary
        assert block is None or "summary" not in block or block["summary"]


def check_reward_indices_and_names_are_placed_as_specified(rollout: Item, payload: Item) -> None:
    """R35: the run is named `{agent}/task/{task}/rollout/{rollout}`, its one transcript after
    the agent; R44: the reward sits at metadata.scores.reward, no `scores` when it is null
    or absent; R45: reserved members never appear among the benchmark fields."""
    agent = rollout["agent_ref"]["name"]
    task, number = rollout["_ng_task_index"], rollout["_ng_rollout_index"]
    assert payload["name"] == f"{agent}/task/{task}/rollout/{number}"
    assert [transcript["name"] for transcript in payload["transcripts"]] == [agent]
    metadata = payload["metadata"]
    failure = rollout.get("_ng_failure_class") is not None
    if rollout.get("reward") is None or failure:  # R84: a failure row's reward is no score
        assert "scores" not in metadata
    else:
        assert metadata["scores"] == {"reward": rollout["reward"]}
    assert metadata["nemogym"]["task_index"] == task
    assert metadata["nemogym"]["rollout_index"] == number
    assert ("failure" in metadata["nemogym"]) == failure
    benchmark = metadata["source"].get("rollout_non_trace", {}).get("benchmark_fields", {})
    reserved = {"responses_create_params", "response", "reward", "agent_ref"}
    reserved |= set(FAILURE_MEMBERS) if failure else set()
    assert not reserved & set(benchmark)
    assert not {"_ng_task_index", "_ng_rollout_index"} & set(benchmark)


def empty_members(value: Any, path: str = "") -> list[str]:
    """Paths of object members whose value is null, "", [] or {} (array elements aside)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if child is None or child in ("", [], {}):
                found.append(f"{path}.{key}")
            found += empty_members(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += empty_members(child, f"{path}[{index}]")
    return found


def check_metadata_holds_no_empty_members(rollout: Item, payload: Item) -> None:
    """R40: all metadata is pruned: no object member is null, "", [] or {}."""
    assert empty_members(payload["metadata"]) == []
    assert empty_members(payload["transcripts"][0]["metadata"]) == []


MAPPING_INVARIANTS = (
    check_messages_follow_the_items_in_count_order_and_grouping,
    check_every_item_is_accounted_for_once_in_message_details,
    check_tool_messages_answer_an_earlier_tool_call,
    check_no_text_lost_or_glued,
    check_no_reasoning_text_lost,
    check_reward_indices_and_names_are_placed_as_specified,
    check_metadata_holds_no_empty_members,
)


@given(valid_rollouts())
def test_mapping_invariants(rollout: Item) -> None:
    """Every check above (each names its rules) on every valid rollout, its items tagged with
    unique ids; one example stream for all of them keeps the suite fast."""
    rollout = tagged(rollout)
    payload = payload_of(rollout)
    for check in MAPPING_INVARIANTS:
        check(rollout, payload)


# --- NeMo Gym 0.7.0 episode rows ---------------------------------------------------------


def _as_rollout(invocation: Item) -> Item:
    return {
        "responses_create_params": invocation["request"],
        "response": invocation["response"],
        "agent_ref": {"name": "x"},
        "_ng_task_index": 0,
        "_ng_rollout_index": 0,
    }


@given(valid_episode_rows())
def test_episode_rows_convert_invocation_by_invocation(row: Item) -> None:
    """R81, R82: one transcript per invocation, in sequence order, named "SEQUENCE: ROLE",
    whose messages and message_details are exactly those of the invocation's request and
    response converted as a rollout; R85: the agent label; the payload validates on
    Docent's AgentRun; R47: the row is left unchanged."""
    before = copy.deepcopy(row)
    payload = convert_nemogym_rollout_to_agent_run(row).to_dict()
    assert row == before
    assert validate_on_docent(payload) == payload
    invocations = sorted(row["invocations"], key=lambda invocation: invocation["sequence"])
    event(f"invocations: {len(invocations)}")
    assert [t["name"] for t in payload["transcripts"]] == [
        f"{invocation['sequence']}: {invocation['role']}" for invocation in invocations
    ]
    for invocation, transcript in zip(invocations, payload["transcripts"], strict=True):
        alone = convert_nemogym_rollout_to_agent_run(_as_rollout(invocation)).to_dict()
        (expected,) = alone["transcripts"]
        assert transcript["messages"] == expected["messages"]
        assert transcript["metadata"]["message_details"] == expected["metadata"]["message_details"]
        assert transcript["metadata"]["invocation"]["sequence"] == invocation["sequence"]
    agent = row.get("agent_ref", {}).get("name") or row["_ng_environment_server"]
    assert (
        payload["name"]
        == f"{agent}/task/{row['_ng_task_index']}/rollout/{row['_ng_rollout_index']}"
    )
    assert ("agent_name_from" in payload["metadata"]["nemogym"]) == ("agent_ref" not in row)


# --- NeMo Gym 0.7.0 failure rows -----------------------------------------------------------


def _expected_failure(row: Item) -> Item:
    """R84's `metadata.nemogym.failure` of a failure row, pruned (R40)."""
    names = ("class", "kind", "reason", "mask_sample", "unscored_reward")
    record = {name: row.get(member) for name, member in zip(names, FAILURE_MEMBERS, strict=True)}
    return {name: value for name, value in record.items() if value not in (None, "")}


@given(valid_rollouts() | valid_episode_rows())
def test_failure_rows_keep_the_reward_out_of_the_scores(row: Item) -> None:
    """R84 on every failure row the strategies draw (a rollout or an episode row carrying a
    `judge_failed` or `timeout_exceeded` failure): the run is the one the row gives without
    R84's members, but without `scores` and with `metadata.nemogym.failure` holding the class,
    kind, reason, mask_sample and unscored reward; `_ng_failure_message` and the other
    stamps stay benchmark fields; R47: the row is left unchanged."""
    failure_class = row.get("_ng_failure_class")
    event(f"failure: {failure_class}")
    if failure_class is None:
        return
    before = copy.deepcopy(row)
    payload = convert_nemogym_rollout_to_agent_run(row).to_dict()
    assert row == before
    stripped = {key: value for key, value in row.items() if key not in FAILURE_MEMBERS}
    expected = convert_nemogym_rollout_to_agent_run(stripped).to_dict()
    nemogym = expected["metadata"]["nemogym"]
    failure = _expected_failure(row)
    expected["metadata"]["nemogym"] = {
        **{key: value for key, value in nemogym.items() if key != "assumed"},
        **({"failure": failure} if failure else {}),
        **({"assumed": nemogym["assumed"]} if "assumed" in nemogym else {}),
    }
    assert payload == expected
    assert list(payload["metadata"]["nemogym"]) == list(expected["metadata"]["nemogym"])
    benchmark = payload["metadata"]["source"].get("rollout_non_trace", {})
    kept = benchmark.get("benchmark_fields", {})
    assert not set(FAILURE_MEMBERS) & set(kept)
    if row.get("_ng_failure_message"):
        assert kept["_ng_failure_message"] == row["_ng_failure_message"]
