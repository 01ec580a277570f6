"""The checking helpers every converter module uses: required kinds, the error wording
(`describe`, `wrong`), truthiness, and the pruning of a converter's own small objects.
They own no rule: each caller names the rule it checks.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import JSON_TYPES, JsonCopier, copy_json, require_text
from ..members import ABSENT
from ..wire import JsonDict


def describe(value: Any) -> str:
    """A short, JSON-flavoured description of `value` for error messages."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def one_of(options: tuple[str, ...]) -> str:
    quoted = [repr(option) for option in options]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def wrong(expected: str, value: Any) -> str:
    """The reason a required `value` is not `expected`: absent, or of another kind."""
    return "is missing" if value is ABSENT else f"must be {expected}, got {describe(value)}"


def require_object(value: Any, loc: Loc, rule: str) -> JsonDict:
    if not isinstance(value, dict):
        raise ConversionError(wrong("an object", value), loc, rule=rule)
    return value


def require_array(value: Any, loc: Loc, rule: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConversionError(wrong("an array", value), loc, rule=rule)
    return value


def require_string(value: Any, loc: Loc, rule: str, copier: JsonCopier | None = None) -> str:
    """`value`, a string that is text (R41; checked by `copier`'s way when given)."""
    if not isinstance(value, str):
        raise ConversionError(wrong("a string", value), loc, rule=rule)
    return require_text(str(value), loc) if copier is None else copier.text(value, loc)


def require_non_empty_string(value: Any, loc: Loc, rule: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConversionError(wrong("a non-empty string", value), loc, rule=rule)
    return require_text(str(value), loc)


def require_choice(value: Any, options: tuple[str, ...], loc: Loc, rule: str) -> str:
    text = require_string(value, loc, rule)
    if text not in options:
        raise ConversionError(f"must be {one_of(options)}, got {describe(text)}", loc, rule=rule)
    return text


def require_index(value: Any, loc: Loc, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError(f"must be an integer, got {describe(value)}", loc, rule=rule)
    return int(copy_json(value, loc))


KEPT_FALSY = (bool, int, float)
"""The kinds whose falsy values (`false`, `0`, `0.0`) pruning keeps (R40)."""


def pruned(mapping: JsonDict) -> JsonDict:
    """`mapping` without members whose value is null, `""`, `[]` or `{}` (values already pruned)."""
    return {
        key: value
        for key, value in mapping.items()
        if value or (value is not None and type(value) in KEPT_FALSY)
    }


def json_truthy(value: Any, loc: Loc) -> bool:
    """Whether `value` is truthy: not null, false, 0, "", [] or {} (R16, R43).

    Only `value`'s own type is checked; anything but a JSON value is rejected at `loc`.
    """
    if value is not None and not isinstance(value, JSON_TYPES):
        copy_json(value, loc)  # rejects it: not a JSON value
    return bool(value)
