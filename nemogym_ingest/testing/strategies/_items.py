"""Realistic pieces of a rollout: texts, names, content parts, and the items of a
dialogue (messages, reasoning, function calls and outputs, hosted and custom tool items)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.members import RESERVED_TOP_LEVEL_KEYS
from nemogym_ingest.testing.strategies._json import Item, json_values

_SAMPLE_TEXTS = (
    "What is the weather in Paris today?",
    "The answer is 42.",
    "Let me look that up.",
    "I'll call the search tool first.",
    "¿Dónde está la biblioteca?",
    "日本語のテキストです。",
    "Ωμέγα και άλφα",
    "emoji 🚀🔥👩‍💻",
    "עברית \u200fRTL",
    "line one\nline two",
    "first paragraph\n\nsecond paragraph",
    'quote " and backslash \\',
    "tab\tseparated\r\n",
    "nul \u0000 byte",
    '{"looks": "like json"}',
    "  ",
)
_SAMPLE_NAMES = ("get_weather", "search", "python", "bash", "submit_answer", "read_file", "calc")
_SAMPLE_AGENTS = ("simple_agent", "math_with_judge_simple_agent", "swe_agent", "agént-ü", "a")
_SAMPLE_MODELS = ("gpt-4.1-2025-04-14", "o4-mini", "Qwen/Qwen3-8B", "nvidia/Nemotron-Nano-9B")
_ARGUMENT_KEYS = ("city", "query", "code", "units", "path", "n", "ключ", "a.b", "")
_BENCHMARK_KEYS = (
    "expected_answer",
    "question",
    "task_id",
    "uuid",
    "verifier_metadata",
    "library_reward",
    "judge_evaluations",
    "extracted_answer",
    "a.b",
    "with space",
    "ключ",
    "",
)
_BENCHMARK_FIELD_KEYS = (st.sampled_from(_BENCHMARK_KEYS) | st.text(max_size=10)).map(
    lambda key: "_" + key if key in RESERVED_TOP_LEVEL_KEYS else key
)
_STATUSES = ("completed", "incomplete", "in_progress")


_TEXTS = st.sampled_from([*_SAMPLE_TEXTS, ""]) | st.text(max_size=40)
_NON_EMPTY_TEXTS = st.sampled_from(_SAMPLE_TEXTS) | st.text(min_size=1, max_size=40)
_HEX = st.text("0123456789abcdef", min_size=8, max_size=16)
_SMALL_JSON = json_values(max_leaves=8, deep=False)
# Strategies are built once, here: building them inside draws costs more than drawing.
_ID_ALTERNATIVES: st.SearchStrategy[Item] = st.sampled_from([{}, {"id": None}, {"id": ""}])
_STATUS_ALTERNATIVES: st.SearchStrategy[Item] = st.sampled_from([{}, {"status": None}])


def _id_and_status(
    draw: st.DrawFn, prefix: str, *, id_required: bool, status_required: bool
) -> Item:
    """`id`/`status` members: absent, null, empty or realistic (always realistic if required)."""
    fields: Item = {}
    if id_required or draw(st.booleans()):
        fields["id"] = prefix + draw(_HEX)
    else:
        fields.update(draw(_ID_ALTERNATIVES))
    if status_required or draw(st.booleans()):
        fields["status"] = draw(st.sampled_from(_STATUSES))
    else:
        fields.update(draw(_STATUS_ALTERNATIVES))
    return fields


_ANNOTATIONS: st.SearchStrategy[list[Item]] = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("url_citation"),
            "start_index": st.just(0),
            "end_index": st.integers(min_value=0, max_value=40),
            "title": _TEXTS,
            "url": st.sampled_from(["https://example.com/a", "https://docs.example/ü"]),
        }
    ),
    max_size=2,
)
_LOGPROBS = st.lists(
    st.tuples(_NON_EMPTY_TEXTS, st.floats(min_value=-30.0, max_value=0.0)).map(
        lambda pair: {
            "token": pair[0],
            "bytes": list(pair[0].encode()),
            "logprob": pair[1],
            "top_logprobs": [],
        }
    ),
    max_size=3,
)


@st.composite
def _output_text_part(draw: st.DrawFn) -> Item:
    text = draw(_TEXTS)
    annotations = draw(_ANNOTATIONS)
    for annotation in annotations:
        annotation["end_index"] = min(annotation["end_index"], len(text))
    part: Item = {"type": "output_text", "text": text, "annotations": annotations}
    if draw(st.booleans()):
        part["logprobs"] = draw(_LOGPROBS)
    return part


_REFUSAL_PARTS = st.fixed_dictionaries({"type": st.just("refusal"), "refusal": _TEXTS})
_INPUT_TEXT_PARTS = st.fixed_dictionaries({"type": st.just("input_text"), "text": _TEXTS})
_ASSISTANT_PARTS = _output_text_part() | _REFUSAL_PARTS
_ASSISTANT_CONTENT = {
    True: st.lists(_ASSISTANT_PARTS, min_size=1, max_size=2),
    False: _TEXTS | st.lists(_ASSISTANT_PARTS, max_size=2),
}
_PROMPT_CONTENT = _TEXTS | st.lists(_INPUT_TEXT_PARTS, max_size=3)
_SUMMARIES = {
    shaped: st.lists(
        st.fixed_dictionaries({"type": st.sampled_from(types), "text": _TEXTS}), max_size=2
    )
    for shaped, types in ((True, ["summary_text"]), (False, ["summary_text", "text"]))
}
_REASONING_CONTENT = (
    st.none()
    | st.lists(
        st.fixed_dictionaries({"type": st.just("reasoning_text"), "text": _TEXTS}), max_size=2
    )
    | st.just("absent")
)
_NO_ENCRYPTED_CONTENT: st.SearchStrategy[Item] = st.sampled_from(
    [{}, {"encrypted_content": None}, {"encrypted_content": ""}]
)
_CALL_ID_TAILS = st.text("abcdefXYZ0123456789", max_size=8) | st.text(max_size=4)
_TOOL_NAMES = st.sampled_from(_SAMPLE_NAMES) | st.text(min_size=1, max_size=20)
_ARGUMENTS = st.dictionaries(
    st.sampled_from(_ARGUMENT_KEYS) | st.text(max_size=8),
    json_values(max_leaves=6, deep=False),
    max_size=4,
)
_TEXT_OUTPUTS = _TEXTS | _SMALL_JSON.map(json.dumps)
_OUTPUTS = {True: _TEXT_OUTPUTS, False: _TEXT_OUTPUTS | _SMALL_JSON}


_PHASES = st.sampled_from(["commentary", "final_answer"])
_NAMESPACES = st.sampled_from(["weather", "functions", "mcp.github", "ns-ü"])
_THINK_TEXTS = st.sampled_from(
    [
        "<think>\nThe user wants 2+2. That is 4.\n</think>\n\nThe answer is 4.",
        "Reasoning left open by the chat template.\n</think>\n\nDone.",
        "<think></think>Hello!",
        "  <think>a</think>b",
        "<think>budget ran out before the closing tag",
        "Answer first <think>not leading</think> rest",
    ]
)


@dataclass
class _Dialogue:
    """What the items drawn so far declared, and how the items are to be shaped."""

    reasoning_content: bool  # reasoning items may carry `content` (D1)
    extras: bool = False  # messages may carry a `phase`, calls a `namespace` (D6)
    think_tags: bool = False  # assistant text may hold inline `<think>` reasoning (R76)
    call_names: dict[str, str] = field(default_factory=dict)
    calls_made: int = 0


def _message(
    draw: st.DrawFn, role: str, *, shaped: bool, dialogue: _Dialogue | None = None
) -> Item:
    """A message item; `shaped`: exactly as the OpenAI Responses API returns one."""
    item: Item = {"type": "message"} if shaped or draw(st.booleans()) else {}
    item["role"] = role
    if role == "assistant":
        item["content"] = draw(_ASSISTANT_CONTENT[shaped])
        if dialogue is not None and dialogue.think_tags and draw(st.booleans()):
            text = draw(_THINK_TEXTS)
            item["content"] = [{"type": "output_text", "text": text, "annotations": []}]
        item.update(_id_and_status(draw, "msg_", id_required=shaped, status_required=shaped))
        if dialogue is not None and dialogue.extras and draw(st.booleans()):
            item["phase"] = draw(st.none() | _PHASES)
    else:
        item["content"] = draw(_PROMPT_CONTENT)
    return item


def _reasoning(draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool) -> Item:
    item: Item = {"type": "reasoning", "summary": draw(_SUMMARIES[shaped])}
    if dialogue.reasoning_content:
        content = draw(_REASONING_CONTENT)
        if content != "absent":
            item["content"] = content
    item.update(draw(_NO_ENCRYPTED_CONTENT))
    item.update(_id_and_status(draw, "rs_", id_required=shaped, status_required=False))
    return item


def _function_call(draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool) -> Item:
    if dialogue.call_names and draw(st.integers(min_value=0, max_value=9)) == 0:
        call_id = draw(st.sampled_from(sorted(dialogue.call_names)))  # declared again (R21)
    else:
        call_id = f"call_{dialogue.calls_made}_{draw(_CALL_ID_TAILS)}"
        dialogue.calls_made += 1
    name = draw(_TOOL_NAMES)
    dialogue.call_names[call_id] = name
    arguments: Any = draw(_ARGUMENTS)
    if shaped or draw(st.booleans()):
        indent = draw(st.sampled_from([None, 2]))
        arguments = json.dumps(arguments, ensure_ascii=draw(st.booleans()), indent=indent)
    item: Item = {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
    item.update(_id_and_status(draw, "fc_", id_required=False, status_required=False))
    if dialogue.extras and draw(st.booleans()):
        item["namespace"] = draw(st.none() | _NAMESPACES)
    return item


def _function_call_output(draw: st.DrawFn, call_id: str, *, shaped: bool) -> Item:
    output = draw(_OUTPUTS[shaped])
    item: Item = {"type": "function_call_output", "call_id": call_id, "output": output}
    item.update(_id_and_status(draw, "fco_", id_required=shaped, status_required=shaped))
    return item


def _assistant_step(draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool) -> list[Item]:
    """One model step in Docent's own order: reasoning*, message?, function_call* (R32)."""
    items = [_reasoning(draw, dialogue, shaped=shaped) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        items.append(_message(draw, "assistant", shaped=shaped, dialogue=dialogue))
    items += [_function_call(draw, dialogue, shaped=shaped) for _ in range(draw(st.integers(0, 3)))]
    return items or [_message(draw, "assistant", shaped=shaped, dialogue=dialogue)]


def _agent_loop(draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool, steps: int) -> list[Item]:
    """Model steps, each step's calls answered (some, in any order) before the next step."""
    items: list[Item] = []
    for _ in range(draw(st.integers(min_value=0, max_value=steps))):
        step = _assistant_step(draw, dialogue, shaped=shaped)
        items += step
        call_ids = [item["call_id"] for item in step if item.get("type") == "function_call"]
        if not call_ids:
            break  # a final answer ends the loop
        answered = draw(st.permutations(call_ids))[: draw(st.integers(1, len(call_ids)))]
        items += [_function_call_output(draw, call_id, shaped=shaped) for call_id in answered]
    return items


def _items_in_any_order(
    draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool, prompts: bool
) -> list[Item]:
    """Items of every kind in any order (D2 territory); outputs answer earlier calls."""
    items: list[Item] = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        kinds = ["reasoning", "assistant", "function_call"]
        kinds += ["function_call_output"] if dialogue.call_names else []
        kinds += ["user", "system", "developer"] if prompts else []
        kind = draw(st.sampled_from(kinds))
        if kind == "reasoning":
            items.append(_reasoning(draw, dialogue, shaped=shaped))
        elif kind == "function_call":
            items.append(_function_call(draw, dialogue, shaped=shaped))
        elif kind == "function_call_output":
            call_id = draw(st.sampled_from(sorted(dialogue.call_names)))
            items.append(_function_call_output(draw, call_id, shaped=shaped))
        else:
            items.append(_message(draw, kind, shaped=shaped, dialogue=dialogue))
    return items


def _dialogue_items(
    draw: st.DrawFn, dialogue: _Dialogue, *, shaped: bool, any_order: bool
) -> tuple[str | list[Item], list[Item]]:
    """The request's `input` (a string or items) and the response's `output` items."""
    input_: str | list[Item]
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        input_ = draw(_TEXTS)
    else:
        roles = st.sampled_from(["system", "developer"])
        input_ = [_message(draw, draw(roles), shaped=False) for _ in range(draw(st.integers(0, 2)))]
        if any_order:
            input_ += _items_in_any_order(draw, dialogue, shaped=False, prompts=True)
        else:
            input_.append(_message(draw, "user", shaped=False))
            for _ in range(draw(st.integers(min_value=0, max_value=2))):
                input_ += _agent_loop(draw, dialogue, shaped=False, steps=2)
                input_.append(_message(draw, "user", shaped=False))
    if any_order:
        output = _items_in_any_order(draw, dialogue, shaped=shaped, prompts=not shaped)
    else:
        output = _agent_loop(draw, dialogue, shaped=shaped, steps=4)
    if input_ == [] and not output:
        input_ = [_message(draw, "user", shaped=False)]  # at least one message (R9)
    return input_, output


_GENERIC_TOOL_ITEMS: dict[str, list[Item]] = {
    "custom_tool_call": [
        {"type": "custom_tool_call", "call_id": "@", "name": "apply_diff", "input": "-a\n+b"},
        {"type": "custom_tool_call_output", "call_id": "@", "output": "applied"},
    ],
    "web_search_call": [
        {
            "type": "web_search_call",
            "id": "@",
            "status": "completed",
            "action": {"type": "search", "query": "nemo gym"},
        }
    ],
    "file_search_call": [
        {
            "type": "file_search_call",
            "id": "@",
            "status": "completed",
            "queries": ["reward"],
            "results": [{"file_id": "file-1", "score": 0.5, "text": "reward is 1"}],
        }
    ],
    "code_interpreter_call": [
        {
            "type": "code_interpreter_call",
            "id": "@",
            "status": "completed",
            "container_id": "cntr",
            "code": "print(1)",
            "outputs": [
                {"type": "logs", "logs": "1\n"},
                {"type": "image", "url": "https://x/p.png"},
            ],
        }
    ],
    "image_generation_call": [
        {"type": "image_generation_call", "id": "@", "status": "completed", "result": "iVBORw0K"}
    ],
    "local_shell_call": [
        {
            "type": "local_shell_call",
            "id": "lsh_@",
            "call_id": "@",
            "status": "completed",
            "action": {"type": "exec", "command": ["ls"], "env": {}},
        },
        {"type": "local_shell_call_output", "id": "@", "output": "a.py\n"},
    ],
    "shell_call": [
        {
            "type": "shell_call",
            "call_id": "@",
            "status": "completed",
            "action": {"commands": ["pytest -q"]},
        },
        {
            "type": "shell_call_output",
            "call_id": "@",
            "output": [{"stdout": "ok", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}],
        },
    ],
    "apply_patch_call": [
        {
            "type": "apply_patch_call",
            "call_id": "@",
            "status": "completed",
            "operation": {"type": "delete_file", "path": "old.py"},
        },
        {"type": "apply_patch_call_output", "call_id": "@", "status": "failed"},
    ],
    "computer_call": [
        {
            "type": "computer_call",
            "id": "cu_@",
            "call_id": "@",
            "status": "completed",
            "pending_safety_checks": [],
            "action": {"type": "screenshot"},
        },
        {
            "type": "computer_call_output",
            "call_id": "@",
            "output": {"type": "computer_screenshot", "image_url": "data:image/png;base64,AAAA"},
        },
    ],
    "mcp_call": [
        {
            "type": "mcp_call",
            "id": "@",
            "server_label": "gh",
            "name": "search",
            "arguments": '{"q": "x"}',
            "output": "found",
        }
    ],
    "mcp_list_tools": [
        {
            "type": "mcp_list_tools",
            "id": "@",
            "server_label": "gh",
            "tools": [{"name": "search", "input_schema": {}}],
        }
    ],
    "mcp_approval_request": [
        {
            "type": "mcp_approval_request",
            "id": "@",
            "server_label": "gh",
            "name": "create",
            "arguments": "{}",
        },
        {"type": "mcp_approval_response", "approval_request_id": "@", "approve": True},
    ],
    "tool_search_call": [
        {"type": "tool_search_call", "call_id": "@", "arguments": {"q": "sheets"}},
        {
            "type": "tool_search_output",
            "id": "tso_@",
            "call_id": "@",
            "execution": "client",
            "status": "completed",
            "tools": [],
        },
    ],
    "compaction": [{"type": "compaction", "id": "@", "encrypted_content": "gAAAA"}],
}
"""A call of each hosted or custom tool type (R24-R27), with its output item if it has one,
as `openai.types.responses` shapes them; `@` stands for a fresh id (`@` inside a string)."""


def _generic_tool_items(draw: st.DrawFn, number: int) -> list[Item]:
    """A call (and its output) of a hosted or custom tool type, with ids unique to `number`."""
    kind = draw(st.sampled_from(sorted(_GENERIC_TOOL_ITEMS)))
    fresh = f"{kind}_{number}"
    return [
        {
            key: value.replace("@", fresh) if isinstance(value, str) and "@" in value else value
            for key, value in copy.deepcopy(item).items()
        }
        for item in _GENERIC_TOOL_ITEMS[kind]
    ]
