"""Hypothesis strategies for NeMo Gym rollouts, for any implementation of spec/README.md.

- `valid_rollouts()`: rollouts a conforming converter must accept, in realistic mixes.
- `malformed_rollouts()`: `(rollout, expected_path)` pairs, a valid rollout with exactly one
  violation injected and the path (R50) its rejection must name.
- `mutated_rollouts()`: valid rollouts with arbitrary parts replaced, removed or added.
- `json_values()`: arbitrary JSON, deep nesting included, for fuzzing (R52).
- `valid_episode_rows()`, `malformed_episode_rows()`: the same for NeMo Gym 0.7.0's episode
  rows (R81, R82), one transcript per invocation.

Needs the `testing` extra, Hypothesis (`pip install 'hypothesis>=6.100'`). Everything drawn is a
fresh object: mutate it freely.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as error:
    raise ImportError(
        f"nemogym_ingest.testing.strategies needs Hypothesis ({error}): "
        "pip install 'hypothesis>=6.100' (the testing extra; in a checkout, uv sync installs it)"
    ) from error

from nemogym_ingest.errors import render_path
from nemogym_ingest.jsonvalue import MAX_INTEGER_DIGITS, MAX_NESTING
from nemogym_ingest.members import ABSENT, RESERVED_TOP_LEVEL_KEYS

__all__ = [
    "json_values",
    "malformed_episode_rows",
    "malformed_rollouts",
    "mutated_rollouts",
    "valid_episode_rows",
    "valid_rollouts",
]

Rollout = dict[str, Any]
Item = dict[str, Any]
Segments = tuple[str | int, ...]

# --- arbitrary JSON ---------------------------------------------------------------------

_FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _fresh(*values: Any) -> st.SearchStrategy[Any]:
    """One of `values`, deep-copied at each draw: no two draws share a mutable object."""
    return st.sampled_from(values).map(copy.deepcopy)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    _FINITE_FLOATS,
    st.text(max_size=16),
)
_NON_JSON_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    10**MAX_INTEGER_DIGITS,
    -(10**MAX_INTEGER_DIGITS),
)
_LONE_SURROGATE_STRINGS = ("\ud800", "half a pair \udfff here", "\udbff")
_NON_JSON_SCALARS = (*_NON_JSON_NUMBERS, *_LONE_SURROGATE_STRINGS)  # R41 rejects them copied
_DEPTH_BOUNDARIES = (MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, 1000, 5000)


@st.composite
def _nested_chains(draw: st.DrawFn, leaves: st.SearchStrategy[Any]) -> Any:
    """A leaf wrapped in up to 5,000 single-member arrays and/or objects."""
    depth = draw(st.integers(min_value=1, max_value=3000) | st.sampled_from(_DEPTH_BOUNDARIES))
    shape = draw(st.sampled_from(["array", "object", "alternating"]))
    key = draw(st.text(max_size=4))
    value = draw(leaves)
    for level in range(depth):
        as_array = shape == "array" or (shape == "alternating" and level % 2 == 0)
        value = [value] if as_array else {key: value}
    return value


def json_values(
    *, max_leaves: int = 16, deep: bool = True, non_finite: bool = False
) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values.

    With `deep` (default), also values nested up to 5,000 levels (R52, D3). With
    `non_finite`, also what Python's `json` module reads but JSON forbids: NaN, ±Infinity
    and integers of more than 4,000 digits (R41, D5).
    """
    scalars = _SCALARS | st.sampled_from(_NON_JSON_NUMBERS) if non_finite else _SCALARS
    shallow = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )
    return shallow | _nested_chains(shallow) if deep else shallow


# --- realistic pieces -------------------------------------------------------------------

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


_FUNCTION_TOOLS = st.fixed_dictionaries(
    {
        "type": st.just("function"),
        "name": st.sampled_from(_SAMPLE_NAMES),
        "description": _TEXTS,
        "parameters": _fresh({"type": "object", "properties": {"q": {"type": "string"}}}),
        "strict": st.booleans(),
    }
)
_SAMPLING = {
    "temperature": st.floats(min_value=0.0, max_value=2.0),
    "top_p": st.floats(min_value=0.0, max_value=1.0),
    "max_output_tokens": st.integers(min_value=1, max_value=2**20),
}
_USAGE = st.builds(
    lambda input_tokens, output_tokens, cached, reasoning: {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    },
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 100),
    st.integers(0, 100),
)


_REQUEST_PARAMS = st.fixed_dictionaries(  # `responses_create_params` without `input`
    {},
    optional={
        "model": st.sampled_from(_SAMPLE_MODELS),
        **_SAMPLING,
        "tools": st.lists(_FUNCTION_TOOLS, max_size=2),
        "tool_choice": st.sampled_from(["auto", "none", "required"]),
        "parallel_tool_calls": st.booleans(),
        "reasoning": st.fixed_dictionaries({"effort": st.sampled_from(["low", "medium", "high"])}),
        "metadata": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2),
        "instructions": st.none() | _TEXTS,
        "store": st.booleans(),
    },
)


def _response_fields(*, shaped: bool) -> st.SearchStrategy[Item]:
    """`response` members other than `output`; `shaped`: all the OpenAI API requires."""
    required = {
        "id": _HEX.map(lambda tail: "resp_" + tail),
        "created_at": st.integers(1_600_000_000, 1_900_000_000) | st.floats(1.6e9, 1.9e9),
        "model": st.sampled_from(_SAMPLE_MODELS),
        "object": st.just("response"),
        "parallel_tool_calls": st.booleans(),
        "tool_choice": st.sampled_from(["auto", "none", "required"]),
        "tools": st.lists(_FUNCTION_TOOLS, max_size=2),
    }
    optional = {
        **_SAMPLING,
        "status": st.sampled_from(["completed", "incomplete", "failed", "in_progress"]),
        "usage": _USAGE,
        "error": st.none(),
        "incomplete_details": st.none(),
        "instructions": st.none(),
        "metadata": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2),
    }
    if shaped:
        return st.fixed_dictionaries(required, optional=optional)
    loose = {key: value | st.none() | st.just("") for key, value in required.items()}
    return st.fixed_dictionaries({}, optional={**loose, **optional})


_RESPONSE_FIELDS = {shaped: _response_fields(shaped=shaped) for shaped in (True, False)}


_BENCHMARK_FIELDS = st.dictionaries(_BENCHMARK_FIELD_KEYS, _SMALL_JSON, max_size=4)


@st.composite
def valid_rollouts(
    draw: st.DrawFn,
    *,
    openai_shaped: bool | None = None,
    docent_identical: bool = False,
    options: bool = False,
) -> Rollout:
    """Rollouts every conforming converter must accept.

    String or item-array input; system/developer prompts; multi-turn tool use where each
    `function_call_output` answers an earlier call; parallel calls; reasoning with a summary
    and/or `reasoning_text` content; refusals, annotations, logprobs, ids and statuses;
    usage, request parameters, benchmark fields; null, absent or numeric rewards; unicode.

    `openai_shaped=True`: `response` validates as `openai.types.responses.Response`;
    `False`: also the looser shapes the spec accepts (items without `type`, ids or
    statuses, string message content, object `arguments`, non-string tool outputs, prompts
    among the output); `None` (default): either. `docent_identical=True`: nothing that makes
    Docent 0.1.88 differ (no reasoning `content` (D1), items in Docent's order (D2), no
    `phase` or `namespace` (D6)).

    `options=True`: also what only options convert: inline `<think>` texts (R76), rollouts
    without items (R77) and hosted and custom tool items (R78, with media outputs, R75):
    convert them with `think_tags`, `empty_rollouts`, `tool_items` and `media` set.
    """
    shaped = draw(st.booleans()) if openai_shaped is None else openai_shaped
    any_order = not docent_identical and draw(st.booleans())
    # The small members first: draws late in a large example lean to the simplest values.
    reward = draw(
        st.just(ABSENT) | st.none() | st.integers(-1, 1) | st.floats(0.0, 1.0) | st.booleans()
    )
    agent_name = draw(st.sampled_from(_SAMPLE_AGENTS) | st.text(min_size=1, max_size=20))
    indices = st.integers(0, 10**6) | st.integers(-(2**63), 2**63)
    task_index, rollout_index = draw(indices), draw(indices)
    benchmark_fields = draw(_BENCHMARK_FIELDS)
    request, response = draw(_REQUEST_PARAMS), draw(_RESPONSE_FIELDS[shaped])
    dialogue = _Dialogue(
        reasoning_content=not docent_identical, extras=not docent_identical, think_tags=options
    )
    input_, output = _dialogue_items(draw, dialogue, shaped=shaped, any_order=any_order)
    if options and draw(st.integers(min_value=0, max_value=7)) == 0:
        input_, output = [], []  # a rollout without items (R77)
    elif options:
        for number in range(draw(st.integers(min_value=0, max_value=3))):
            spot = draw(st.integers(min_value=0, max_value=len(output)))
            output[spot:spot] = _generic_tool_items(draw, number)
    rollout: Rollout = {
        "responses_create_params": {"input": input_, **request},
        "response": {**response, "output": output},
    }
    if reward is not ABSENT:
        rollout["reward"] = reward
    rollout["agent_ref"] = {"type": "responses_api_agents", "name": agent_name}
    rollout["_ng_task_index"] = task_index
    rollout["_ng_rollout_index"] = rollout_index
    rollout.update(benchmark_fields)
    return rollout


# --- arbitrary mutations -----------------------------------------------------------------


def _places(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of `value`, depth first."""
    places: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        container = stack.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            places.append((container, key))
            if isinstance(container[key], dict | list):
                stack.append(container[key])
    return places


_MUTATION_VALUES = json_values(max_leaves=8, non_finite=True)


@st.composite
def mutated_rollouts(draw: st.DrawFn, *, max_mutations: int = 3) -> Any:
    """Valid rollouts after up to `max_mutations` arbitrary changes, each replacing,
    removing or adding a member or element anywhere (NaN, ±Infinity and deep values
    included), or replacing the whole rollout (R52)."""
    rollout: Any = draw(valid_rollouts())
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        places = _places(rollout) if isinstance(rollout, dict | list) else []
        if not places or draw(st.integers(min_value=0, max_value=50)) == 0:
            rollout = draw(_MUTATION_VALUES)
            continue
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            container[key] = draw(_MUTATION_VALUES)
        elif action == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=8))] = draw(_MUTATION_VALUES)
        else:
            container.insert(key, draw(_MUTATION_VALUES))
    return rollout


# --- malformed rollouts: exactly one violation ---------------------------------------------

_NOT_OBJECTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _FINITE_FLOATS,
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
_NOT_ARRAYS_NOR_NULL = st.one_of(
    st.booleans(),
    st.integers(),
    _FINITE_FLOATS,
    st.text(max_size=8),
    _fresh({}),
    _fresh({"a": 1}),
)
_NOT_ARRAYS = st.none() | _NOT_ARRAYS_NOR_NULL
_NOT_STRINGS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _FINITE_FLOATS,
    _fresh([]),
    _fresh(["x"]),
    _fresh({}),
)
_NOT_NON_EMPTY_STRINGS = _NOT_STRINGS | st.just("")
_NOT_STRINGS_NOR_ARRAYS = st.one_of(
    st.none(), st.booleans(), st.integers(), _FINITE_FLOATS, _fresh({}), _fresh({"a": 1})
)
_NOT_STRINGS_NOR_NULL: st.SearchStrategy[Any] = st.one_of(
    st.booleans(), st.integers(), _fresh([]), _fresh({})
)
_NOT_INTEGERS = st.one_of(
    st.none(),
    st.booleans(),
    _FINITE_FLOATS,
    st.sampled_from([0.0, 1.0, -1.0]),
    st.text(max_size=4),
    _fresh([1]),
    _fresh({}),
)
_UNKNOWN = st.text(max_size=8).map(lambda text: "x-" + text)
_UNKNOWN_ITEM_TYPES = (
    st.sampled_from(
        [
            "web_search_call",
            "computer_call",
            "file_search_call",
            "item_reference",
            "Message",
            "tool",
            "",
        ]
    )
    | _UNKNOWN
)
_UNKNOWN_MESSAGE_PARTS = (
    st.sampled_from(
        ["input_image", "input_file", "input_audio", "text", "reasoning_text", "summary_text", ""]
    )
    | _UNKNOWN
)
_INVALID_JSON = st.sampled_from(["", "{", "{'a': 1}", "not json", '{"a":}']) | st.text(
    max_size=10
).map(lambda text: text + "{")
_NON_OBJECT_JSON = st.sampled_from(["[]", "[1]", "1", "null", '"s"', "true", "NaN"])
_TRUTHY = st.one_of(
    st.text(min_size=1, max_size=8), st.just(1), st.just(True), _fresh([0]), _fresh({"a": 1})
)


def _set_or_remove(mapping: Item, key: str, value: Any) -> None:
    if value is ABSENT:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _missing_or(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(ABSENT) | values


def _path(*segments: str | int) -> str:
    """The R50 path of the location made of `segments`."""
    return render_path(segments)


@dataclass
class _BadItem:
    """An item to insert, the segments from it to the violation, and valid items around it."""

    item: Any
    segments: Segments
    before: list[Item] = field(default_factory=list)
    after: list[Item] = field(default_factory=list)


def _fresh_call_id(draw: st.DrawFn) -> str:
    """A call_id no valid rollout declares (theirs all start with `call_`)."""
    return "undeclared_" + draw(st.text(max_size=6))


def _bad_parts(
    draw: st.DrawFn, good: st.SearchStrategy[Item], bad: st.SearchStrategy[tuple[Any, Segments]]
) -> tuple[list[Any], Segments]:
    """Valid parts, then one bad part; the segments lead from the array to the violation."""
    parts: list[Any] = draw(st.lists(good, max_size=2))
    part, segments = draw(bad)
    return [*parts, part], (len(parts), *segments)


def _bad_text_part(
    part_types: list[str], text_key: dict[str, str], unknown: st.SearchStrategy[str]
) -> st.SearchStrategy[tuple[Any, Segments]]:
    """A part that is not an object, has a bad `type`, or lacks its string text."""

    def bad_text(part_type: str, value: Any) -> tuple[Any, Segments]:
        part: Item = {"type": part_type}
        _set_or_remove(part, text_key[part_type], value)
        return part, (text_key[part_type],)

    return st.one_of(
        _NOT_OBJECTS.map(lambda part: (part, ())),
        _missing_or(_NOT_STRINGS | unknown).map(
            lambda kind: (
                {"text": "x"} if kind is ABSENT else {"type": kind, "text": "x"},
                ("type",),
            )
        ),
        st.builds(bad_text, st.sampled_from(part_types), _missing_or(_NOT_STRINGS)),
    )


@st.composite
def _bad_message(draw: st.DrawFn) -> _BadItem:
    role = draw(st.sampled_from(["developer", "system", "user", "assistant"]))
    item: Item = {"type": "message", "role": role, "content": "hello"}
    where = draw(st.sampled_from(["role", "content", "part"]))
    if where == "role":  # `type` stays, so a missing role is not a missing type
        roles = _NOT_STRINGS | st.sampled_from(["tool", "function", "Assistant", ""]) | _UNKNOWN
        _set_or_remove(item, "role", draw(_missing_or(roles)))
        return _BadItem(item, ("role",))
    if where == "content":
        _set_or_remove(item, "content", draw(_missing_or(_NOT_STRINGS_NOR_ARRAYS)))
        return _BadItem(item, ("content",))
    good = _INPUT_TEXT_PARTS | _ASSISTANT_PARTS
    text_keys = {"input_text": "text", "output_text": "text", "refusal": "refusal"}
    bad = _bad_text_part(list(text_keys), text_keys, _UNKNOWN_MESSAGE_PARTS)
    item["content"], segments = _bad_parts(draw, good, bad)
    return _BadItem(item, ("content", *segments))


@st.composite
def _bad_reasoning(draw: st.DrawFn, *, divergent: bool) -> _BadItem:
    summary_parts = st.fixed_dictionaries(
        {"type": st.sampled_from(["summary_text", "text"]), "text": _TEXTS}
    )
    item: Item = {"type": "reasoning", "summary": draw(st.lists(summary_parts, max_size=2))}
    wheres = ["encrypted_content", "summary", "summary part"]
    where = draw(st.sampled_from([*wheres, "content", "content part"] if divergent else wheres))
    if where == "encrypted_content":
        item["encrypted_content"] = draw(_TRUTHY)
        return _BadItem(item, ("encrypted_content",))
    if where == "summary":
        _set_or_remove(item, "summary", draw(_missing_or(_NOT_ARRAYS)))
        return _BadItem(item, ("summary",))
    if where == "content":  # D1: Docent ignores reasoning content
        item["content"] = draw(_NOT_ARRAYS_NOR_NULL)
        return _BadItem(item, ("content",))
    if where == "summary part":
        unknown = st.sampled_from(["output_text", "reasoning_text", ""]) | _UNKNOWN
        text_keys = {"summary_text": "text", "text": "text"}
        bad = _bad_text_part(list(text_keys), text_keys, unknown)
        item["summary"], segments = _bad_parts(draw, summary_parts, bad)
        return _BadItem(item, ("summary", *segments))
    good = st.fixed_dictionaries({"type": st.just("reasoning_text"), "text": _TEXTS})
    unknown = st.sampled_from(["output_text", "summary_text", "text", ""]) | _UNKNOWN
    bad = _bad_text_part(["reasoning_text"], {"reasoning_text": "text"}, unknown)
    item["content"], segments = _bad_parts(draw, good, bad)
    return _BadItem(item, ("content", *segments))


@st.composite
def _bad_function_call(draw: st.DrawFn) -> _BadItem:
    call_id = _fresh_call_id(draw)
    item: Item = {"type": "function_call", "call_id": call_id, "name": "search", "arguments": "{}"}
    where = draw(st.sampled_from(["arguments", "call_id", "name"]))
    if where == "arguments":
        not_objects = st.one_of(
            st.none(), st.booleans(), st.integers(), _FINITE_FLOATS, _fresh([]), _fresh([{}])
        )
        value = draw(_missing_or(not_objects | _INVALID_JSON | _NON_OBJECT_JSON))
        _set_or_remove(item, "arguments", value)
    else:
        _set_or_remove(item, where, draw(_missing_or(_NOT_NON_EMPTY_STRINGS)))
    return _BadItem(item, (where,))


@st.composite
def _bad_function_call_output(draw: st.DrawFn) -> _BadItem:
    item: Item = {"type": "function_call_output", "call_id": _fresh_call_id(draw), "output": "ok"}
    where = draw(st.sampled_from(["call_id", "undeclared", "declared later", "output"]))
    if where == "call_id":
        _set_or_remove(item, "call_id", draw(_missing_or(_NOT_NON_EMPTY_STRINGS)))
        return _BadItem(item, ("call_id",))
    if where == "undeclared":
        return _BadItem(item, ("call_id",))
    declaration = {"type": "function_call", "call_id": item["call_id"], "name": "f"}
    declaration["arguments"] = draw(st.sampled_from(["{}", '{"a": 1}']) | _fresh({}))
    if where == "declared later":  # R22: declared, but only after its output
        return _BadItem(item, ("call_id",), after=[declaration])
    del item["output"]
    return _BadItem(item, ("output",), before=[declaration])


@st.composite
def _bad_item_shape(draw: st.DrawFn) -> _BadItem:
    """Not an object, or an object without a known `type`."""
    if draw(st.booleans()):
        return _BadItem(draw(_NOT_OBJECTS), ())
    typeless = _fresh({}, {"content": "x"}, {"type": None, "content": "x"})
    unknown = st.builds(
        lambda kind, with_role: {
            "type": kind,
            **({"role": "user"} if with_role else {}),
            "content": "x",
        },
        _UNKNOWN_ITEM_TYPES | _NOT_STRINGS_NOR_NULL,
        st.booleans(),
    )
    return _BadItem(draw(typeless | unknown), ("type",))


def _non_json(level: int, *, as_text: bool) -> st.SearchStrategy[tuple[Any, Segments]]:
    """A value rule R41 rejects, sitting at nesting `level`, and the segments to the violation;
    `as_text`: only values that survive `json.dumps` and `json.loads` (no non-string keys)."""
    too_deep = MAX_NESTING + 1 - level  # the array at this depth below the value is rejected
    deep = st.integers(min_value=0, max_value=3).map(
        lambda extra: (_array_chain(too_deep + 1 + extra), (0,) * too_deep)
    )
    scalars = st.sampled_from(_NON_JSON_SCALARS).map(lambda scalar: (scalar, ()))
    return scalars | deep if as_text else scalars | deep | _fresh(({1: "x"}, ()))


def _array_chain(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@st.composite
def _placed_non_json(
    draw: st.DrawFn, base_level: int, *, as_text: bool = False
) -> tuple[Any, Segments]:
    """A non-JSON value wrapped in up to two containers, and the segments to the violation."""
    wrappers: list[str | int] = draw(
        st.lists(st.just(0) | st.sampled_from(_ARGUMENT_KEYS), max_size=2)
    )
    value, segments = draw(_non_json(base_level + len(wrappers), as_text=as_text))
    for wrapper in reversed(wrappers):
        value = [value] if isinstance(wrapper, int) else {wrapper: value}
    return value, (*wrappers, *segments)


@st.composite
def _non_json_item(draw: st.DrawFn) -> _BadItem:
    """A valid item carrying a non-JSON value in its id, arguments or output (R41, D5)."""
    where = draw(st.sampled_from(["id", "arguments", "output"]))
    if where == "id":
        value, segments = draw(_placed_non_json(5))
        return _BadItem({"role": "user", "content": "x", "id": value}, ("id", *segments))
    call_id = _fresh_call_id(draw)
    call = {"type": "function_call", "call_id": call_id, "name": "f", "arguments": {}}
    if where == "arguments":  # as an object, or as JSON text (its levels count alike, R41)
        as_text = draw(st.booleans())
        value, segments = draw(_placed_non_json(6, as_text=as_text))
        call["arguments"] = json.dumps({"k": value}) if as_text else {"k": value}
        return _BadItem(call, ("arguments", "k", *segments))
    value, segments = draw(_placed_non_json(6))
    output = {"type": "function_call_output", "call_id": call_id, "output": [value]}
    return _BadItem(output, ("output", 0, *segments), before=[call])


@st.composite
def _bad_item_injector(draw: st.DrawFn, bad_items: st.SearchStrategy[_BadItem]) -> _Inject:
    """Inserts a bad item into the input or the output, at any position."""
    bad = draw(bad_items)
    in_input = draw(st.booleans())
    spot = draw(st.integers(min_value=0, max_value=1000))

    def inject(rollout: Rollout) -> tuple[Any, str]:
        request, response = rollout["responses_create_params"], rollout["response"]
        if isinstance(request["input"], str):  # the item a string input stands for (R6)
            request["input"] = [{"role": "user", "content": request["input"], "type": "message"}]
        items = request["input"] if in_input else response["output"]
        position = spot * (len(items) + 1) // 1001
        items[position:position] = [*bad.before, bad.item, *bad.after]
        prefix = ("responses_create_params", "input") if in_input else ("response", "output")
        return rollout, _path(*prefix, position + len(bad.before), *bad.segments)

    return inject


_Inject = Callable[[Rollout], tuple[Any, str]]
"""Injects one violation into a valid rollout; returns it and the violation's path."""


def _replace_member(
    key: str, values: st.SearchStrategy[Any], container: str = ""
) -> st.SearchStrategy[_Inject]:
    """Replaces (or removes) `key` of the rollout (or of its member `container`)."""

    def injector(value: Any) -> _Inject:
        def inject(rollout: Rollout) -> tuple[Any, str]:
            _set_or_remove(rollout[container] if container else rollout, key, value)
            return rollout, _path(*([container] if container else []), key)

        return inject

    return values.map(injector)


def _no_messages(rollout: Rollout) -> tuple[Any, str]:
    rollout["responses_create_params"]["input"] = []
    rollout["response"]["output"] = []
    return rollout, ""


def _not_an_object(value: Any) -> _Inject:
    return lambda rollout: (value, "")


@st.composite
def _non_json_member(draw: st.DrawFn) -> _Inject:
    """A non-JSON value (R41, D5) in a benchmark field, the reward, or request, response or
    agent_ref metadata."""
    where = draw(
        st.sampled_from(["benchmark", "reward", "responses_create_params", "response", "agent_ref"])
    )
    if where in ("benchmark", "reward"):
        key = "reward" if where == "reward" else draw(_BENCHMARK_FIELD_KEYS)
        value, segments = draw(_placed_non_json(2))
        return lambda rollout: ({**rollout, key: value}, _path(key, *segments))
    key = draw(st.sampled_from(["extra", "temperature", "metadata", "a.b", "ключ"]))
    value, segments = draw(_placed_non_json(3))

    def inject(rollout: Rollout) -> tuple[Any, str]:
        rollout[where][key] = value
        return rollout, _path(where, key, *segments)

    return inject


def _injectors(divergent: bool) -> list[st.SearchStrategy[_Inject]]:
    """One injector per rule group; with `divergent`, also those Docent 0.1.88 accepts."""
    item_level = [
        _bad_item_injector(_bad_message()),
        _bad_item_injector(_bad_reasoning(divergent=divergent)),
        _bad_item_injector(_bad_function_call()),
        _bad_item_injector(_bad_function_call_output()),
        _bad_item_injector(_bad_item_shape()),
    ]
    rollout_level = [
        _replace_member("agent_ref", _missing_or(_NOT_OBJECTS)),
        _replace_member("name", _missing_or(_NOT_STRINGS), "agent_ref"),
        _replace_member("_ng_task_index", _missing_or(_NOT_INTEGERS)),
        _replace_member("_ng_rollout_index", _missing_or(_NOT_INTEGERS)),
        _replace_member("_ng_task_index", st.booleans()),  # a bool is not an integer (R10)
        _replace_member("_ng_rollout_index", st.booleans()),
        _replace_member("input", _NOT_STRINGS_NOR_ARRAYS, "responses_create_params"),
        _replace_member("output", _NOT_ARRAYS, "response"),
        _replace_member("input", st.just(ABSENT), "responses_create_params"),
        _replace_member("output", st.just(ABSENT), "response"),
        _replace_member("responses_create_params", _missing_or(_NOT_OBJECTS)),
        _replace_member("response", _missing_or(_NOT_OBJECTS)),
        st.just(_no_messages),
        _NOT_OBJECTS.map(_not_an_object),
    ]
    divergent_only = [
        _replace_member("name", st.just(""), "agent_ref"),  # D4
        _non_json_member(),  # D5
        _bad_item_injector(_non_json_item()),  # D5
    ]
    return item_level + rollout_level + (divergent_only if divergent else [])


_INJECTORS = {divergent: _injectors(divergent) for divergent in (True, False)}


@st.composite
def malformed_rollouts(draw: st.DrawFn, *, include_divergences: bool = True) -> tuple[Any, str]:
    """`(rollout, expected_path)`: a valid rollout with exactly one violation injected.

    Covers every rejection rule of spec/README.md (R1-R22, R41): each required field
    missing or of the wrong type, a bool or float index, non-object and unknown items,
    unknown content parts, encrypted reasoning, dangling or declared-too-late call_ids,
    non-object arguments, empty names, non-JSON numbers, lone surrogates and over-deep
    values. The violation is the first one in check order (R51), so `expected_path` is the
    one a conforming converter names. `include_divergences=False` keeps only violations Docent
    0.1.88 also rejects at that path (no D1, D4 or D5 ones).
    """
    # The violation is drawn before the rollout: late draws in a large example lean to
    # the simplest choices, and the violation's variety matters most.
    # (Not `st.one_of`, which would weigh each group by its number of alternatives.)
    inject = draw(draw(st.sampled_from(_INJECTORS[include_divergences])))
    return inject(draw(valid_rollouts()))


# --- NeMo Gym 0.7.0 episode rows (R80-R85) ------------------------------------------------

_ROLES = st.sampled_from(["user", "assistant", "judge", "summary", "tool_simulation"]) | st.text(
    min_size=1, max_size=12
)
_TERMINATIONS = st.sampled_from([None, "usersim_completed", "max_turns", "user_quit"])
_SERVERS = st.sampled_from(["nemo_user_sim_environment", "env-ü", "e"]) | st.text(
    min_size=1, max_size=20
)
_REWARD_COMPONENTS = st.dictionaries(
    st.sampled_from(["participants_completed", "quality.helpfulness", "scorer_pass"]),
    st.floats(0.0, 1.0),
    max_size=3,
)


@st.composite
def valid_episode_rows(
    draw: st.DrawFn, *, openai_shaped: bool | None = None, options: bool = False
) -> Rollout:
    """Episode rows (R81, R82) every conforming converter must accept.

    One to three invocations with unique `sequence`s in any array order, each a valid
    rollout's request and response (`valid_rollouts(openai_shaped=…, options=…)`), a role
    of nemo_user_sim's vocabulary or any other, with or without `state_after`,
    `termination_reason` and `observations`; the row's reward and `reward_components`,
    named by `agent_ref` or only by `_ng_environment_server` (R85).
    """
    count = draw(st.integers(min_value=1, max_value=3))
    sequences = draw(st.lists(st.integers(0, 10**6), min_size=count, max_size=count, unique=True))
    invocations = []
    for sequence in sequences:
        rollout = draw(valid_rollouts(openai_shaped=openai_shaped, options=options))
        invocation: Item = {
            "sequence": sequence,
            "role": draw(_ROLES),
            "request": rollout["responses_create_params"],
            "response": rollout["response"],
        }
        if draw(st.booleans()):
            invocation["observations"] = None
            invocation["state_after"] = draw(st.none() | _SMALL_JSON)
            invocation["termination_reason"] = draw(_TERMINATIONS)
        invocations.append(invocation)
    row: Rollout = {
        "reward": draw(st.none() | st.floats(0.0, 1.0)),
        "reward_components": draw(_REWARD_COMPONENTS),
        "episode_interaction_protocol": "usersim.ConversationLoop",
        "invocations": invocations,
        "_ng_task_index": draw(st.integers(0, 10**6)),
        "_ng_rollout_index": draw(st.integers(0, 10**6)),
        "_ng_environment_server": draw(_SERVERS),
    }
    if draw(st.booleans()):
        row["agent_ref"] = {
            "type": "responses_api_agents",
            "name": draw(st.sampled_from(_SAMPLE_AGENTS)),
        }
    return row


_INVOCATION_PATHS = {"responses_create_params": "request", "response": "response"}
_PATH_SEGMENT = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _segments(path: str) -> Segments:
    """The keys and indices of a path as R50 renders it."""
    segments: list[str | int] = []
    for key, index, quoted in _PATH_SEGMENT.findall(path):
        segments.append(key if key else int(index) if index else json.loads(quoted))
    return tuple(segments)


def _into_invocation(rollout_path: str, index: int) -> str | None:
    """The path a violation of a rollout's request or response has in invocation `index`
    (None for a violation outside them: those of R10 and the row's metadata). The
    invocation's values sit two levels deeper than the rollout's, so a value whose new
    path passes level 200 is rejected at its container there (R41)."""
    segments = _segments(rollout_path)
    if not segments:
        return render_path(("invocations", index))  # R9: no message
    if segments[0] not in _INVOCATION_PATHS:
        return None
    moved = ("invocations", index, _INVOCATION_PATHS[str(segments[0])], *segments[1:])
    return render_path(moved[:MAX_NESTING])


@st.composite
def _bad_invocation_exchange(draw: st.DrawFn, row: Rollout) -> tuple[Any, str]:
    """A malformed rollout's request and response in place of one invocation's."""
    index = draw(st.integers(0, len(row["invocations"]) - 1))
    broken, path = draw(
        malformed_rollouts().filter(
            lambda case: isinstance(case[0], dict) and _into_invocation(case[1], 0) is not None
        )
    )
    invocation = row["invocations"][index]
    for rollout_key, key in _INVOCATION_PATHS.items():
        _set_or_remove(invocation, key, broken.get(rollout_key, ABSENT))
    return row, str(_into_invocation(path, index))


@st.composite
def _bad_invocation_member(draw: st.DrawFn, row: Rollout) -> tuple[Any, str]:
    """An invocation that is no object, or whose `sequence` or `role` is wrong (R81)."""
    index = draw(st.integers(0, len(row["invocations"]) - 1))
    invocations = row["invocations"]
    member = draw(st.sampled_from(["invocation", "sequence", "repeated", "role"]))
    if member == "invocation":
        invocations[index] = draw(_NOT_OBJECTS)
        return row, f"invocations[{index}]"
    if member == "repeated" and index > 0:
        invocations[index]["sequence"] = invocations[draw(st.integers(0, index - 1))]["sequence"]
        return row, f"invocations[{index}].sequence"
    if member == "role":
        _set_or_remove(invocations[index], "role", draw(_missing_or(_NOT_NON_EMPTY_STRINGS)))
        return row, f"invocations[{index}].role"
    bad = st.integers(max_value=-1) | st.just(1.0) | st.booleans() | st.text(max_size=3)
    _set_or_remove(invocations[index], "sequence", draw(_missing_or(bad | st.none())))
    return row, f"invocations[{index}].sequence"


@st.composite
def malformed_episode_rows(draw: st.DrawFn) -> tuple[Any, str]:
    """`(row, expected_path)`: a valid episode row with exactly one violation injected, the
    first in check order (R51): `invocations` not a non-empty array, an invocation that is
    no object, a bad or repeated `sequence`, a bad `role`, any violation of
    `malformed_rollouts()` in one invocation's request or response (at its path under
    `invocations[i]`), or a bad `_ng_environment_server` naming the agent (R85)."""
    kind = draw(st.sampled_from(["invocations", "member", "exchange", "server"]))
    row = draw(valid_episode_rows())
    if kind == "invocations":
        row["invocations"] = draw(st.just([]) | _NOT_ARRAYS)
        return row, "invocations"
    if kind == "member":
        return draw(_bad_invocation_member(row))
    if kind == "exchange":
        return draw(_bad_invocation_exchange(row))
    row.pop("agent_ref", None)  # null would be a missing stamp: R10 at agent_ref
    row["_ng_environment_server"] = draw(_NOT_NON_EMPTY_STRINGS.filter(lambda v: v is not None))
    return row, "_ng_environment_server"
