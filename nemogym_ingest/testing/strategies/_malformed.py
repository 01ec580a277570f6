"""Malformed rollouts: a valid rollout with exactly one violation injected, and the path
(R50) its rejection must name."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from nemogym_ingest.errors import render_path
from nemogym_ingest.jsonvalue import MAX_NESTING
from nemogym_ingest.members import ABSENT
from nemogym_ingest.testing.strategies._failures import (
    bad_failure_members,
    malformed_failed_attempts,
)
from nemogym_ingest.testing.strategies._items import (
    _ARGUMENT_KEYS,
    _ASSISTANT_PARTS,
    _BENCHMARK_FIELD_KEYS,
    _INPUT_TEXT_PARTS,
    _TEXTS,
)
from nemogym_ingest.testing.strategies._json import (
    _FINITE_FLOATS,
    _NON_JSON_SCALARS,
    Item,
    Rollout,
    Segments,
    _fresh,
)
from nemogym_ingest.testing.strategies._rollouts import valid_rollouts

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
def _non_json_member(draw: st.DrawFn, *, agent_ref: bool = True) -> _Inject:
    """A non-JSON value (R41, D5) in a benchmark field, the reward, or request, response or
    (with `agent_ref`) agent_ref metadata."""
    places = ["benchmark", "reward", "responses_create_params", "response"]
    where = draw(st.sampled_from([*places, "agent_ref"] if agent_ref else places))
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


def _failed_attempt(case: tuple[Any, str]) -> _Inject:
    return lambda rollout: case


@st.composite
def _bad_failure_row(draw: st.DrawFn) -> _Inject:
    """A failure row carrying the rollout (R84), its class or other members bad."""
    stamps: Rollout = {}
    path = draw(bad_failure_members(stamps))

    def inject(rollout: Rollout) -> tuple[Any, str]:
        rollout.update(stamps)
        return rollout, path

    return inject


_ITEM_STEP = [
    _bad_item_injector(_bad_message()),
    _bad_item_injector(_bad_function_call()),
    _bad_item_injector(_bad_function_call_output()),
    _bad_item_injector(_bad_item_shape()),
]
"""Violations of check-order step 2 (the items) that leave the rest of the rollout alone."""
_IDENTITY_STEP = [
    _replace_member("agent_ref", _missing_or(_NOT_OBJECTS)),
    _replace_member("name", _missing_or(_NOT_STRINGS), "agent_ref"),
    _replace_member("_ng_task_index", _missing_or(_NOT_INTEGERS)),
    _replace_member("_ng_rollout_index", _missing_or(_NOT_INTEGERS)),
]
"""Violations of step 4 (R10)."""


@st.composite
def _two_violations(draw: st.DrawFn) -> _Inject:
    """Two violations in different check-order steps (items, R10, a failure row's class or
    members, metadata values): the one of the earlier step is named (R51)."""
    steps = [_ITEM_STEP, _IDENTITY_STEP, [_bad_failure_row(), _non_json_member(agent_ref=False)]]
    first, second = sorted(draw(st.lists(st.integers(0, 2), min_size=2, max_size=2, unique=True)))
    early: _Inject = draw(draw(st.sampled_from(steps[first])))
    late: _Inject = draw(draw(st.sampled_from(steps[second])))

    def inject(rollout: Rollout) -> tuple[Any, str]:
        broken, _ = late(rollout)
        return early(broken)

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
        malformed_failed_attempts().map(_failed_attempt),  # D7
        _bad_failure_row(),  # D7
        _two_violations(),
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
    values; failed attempts of every class (rejected alone by R83, a bad message at
    `_ng_failure_message`) and failure rows with a bad class or bad R84 members (R84, R41);
    and rollouts with two violations in different check-order steps. The violation named is
    the first one in check order (R51), so `expected_path` is the one a conforming
    converter names. `include_divergences=False` keeps only violations Docent
    0.1.88 also rejects at that path (no D1, D4, D5 or D7 ones, nor two violations).
    """
    # The violation is drawn before the rollout: late draws in a large example lean to
    # the simplest choices, and the violation's variety matters most.
    # (Not `st.one_of`, which would weigh each group by its number of alternatives.)
    inject = draw(draw(st.sampled_from(_INJECTORS[include_divergences])))
    return inject(draw(valid_rollouts(failures=False)))
