"""Valid rollouts: a dialogue's items with realistic request, response and benchmark fields."""

from __future__ import annotations

from hypothesis import strategies as st

from nemogym_ingest.members import ABSENT
from nemogym_ingest.testing.strategies._failures import FAILURE_ROW_CLASSES, failure_stamps
from nemogym_ingest.testing.strategies._items import (
    _BENCHMARK_FIELD_KEYS,
    _HEX,
    _SAMPLE_AGENTS,
    _SAMPLE_MODELS,
    _SAMPLE_NAMES,
    _SMALL_JSON,
    _TEXTS,
    _Dialogue,
    _dialogue_items,
    _generic_tool_items,
)
from nemogym_ingest.testing.strategies._json import Item, Rollout, _fresh

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
_FAILURE_CLASSES = st.sampled_from((None, None, None, None, None, *FAILURE_ROW_CLASSES))
"""No failure (five in seven), or a failure row's class: drawn early, so both classes come."""


@st.composite
def valid_rollouts(
    draw: st.DrawFn,
    *,
    openai_shaped: bool | None = None,
    docent_identical: bool = False,
    options: bool = False,
    failures: bool = True,
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

    `failures=True` (unless `docent_identical`): two in seven are failure rows that carry
    their rollout (R84: `judge_failed`, `timeout_exceeded`), whose reward is no score.
    """
    shaped = draw(st.booleans()) if openai_shaped is None else openai_shaped
    failure = draw(_FAILURE_CLASSES) if failures and not docent_identical else None
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
    if failure is not None:
        rollout.update(draw(failure_stamps(failure)))
    return rollout
