"""Copying JSON values into the output: validation (or, for lines vouched for, the trusted
path), nesting limits and metadata pruning.

Rules: R40, R41.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import ConversionError, Loc

MAX_NESTING = 200
"""Deepest level an array or object copied into an AgentRun may sit at (rollout = level 1)."""

MAX_INTEGER_DIGITS = 4000
"""Longest integer (in decimal digits) accepted; longer ones cannot be written out portably."""

INTEGER_BOUND = 10**MAX_INTEGER_DIGITS
"""The bound an accepted integer stays strictly within, either side of zero."""

TOO_DEEP = f"nested deeper than {MAX_NESTING} levels"
"""The reason a value nested deeper than MAX_NESTING is rejected (R41, R64)."""

JSON_WHITESPACE = " \t\n\r"
"""JSON's whitespace, which R61 skips and R76 trims (not Unicode's: a no-break space stays)."""

TINY_FLOAT = 1e-4
"""Floats of smaller magnitude (but 0) are the ones orjson writes in another form than
`json` (`0.00001` for `1e-05`): a payload holding one is written by `json` (`output`)."""

MAY_BE_LONG_INTEGER = 2.0**63
"""A float of this magnitude or more may be an integer orjson read as a float (it reads
integers from -2**63 to 2**64-1 exactly, longer ones as floats); smaller ones never are."""

JSON_TYPES: tuple[type[Any], ...] = (str, int, float, dict, list)
"""The Python types of JSON values but null and booleans (`bool` is an `int`)."""

SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate code point: in a Python str from JSON always a lone one (a pair decodes to
one astral code point)."""


class _OversizedInteger(int):
    """Stands for an integer literal longer than MAX_INTEGER_DIGITS, left unparsed.

    Its value is out of bounds, so `copy_json` rejects it at its path (R41); where it is
    not copied, it is never looked at.
    """


def _parse_integer(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        return _OversizedInteger(-INTEGER_BOUND if literal.startswith("-") else INTEGER_BOUND)
    return int(literal)


def parse_json_text(text: str, constants: list[str] | None = None) -> Any:
    """`json.loads(text)`, except that integers too long to parse are not an error here.

    Python refuses integer literals longer than `sys.get_int_max_str_digits()` (a whole
    text error); such a text is parsed again with those integers kept as out-of-bounds
    stand-ins, so that only a copied one is rejected, at its own path (R41). With
    `constants`, each `NaN`, `Infinity` or `-Infinity` literal read is appended to it.
    Raises `json.JSONDecodeError` (or `RecursionError`) as `json.loads` does.
    """
    hooks: dict[str, Any] = {} if constants is None else {"parse_constant": _recorder(constants)}
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError:
        raise
    except ValueError:  # the integer digit limit: the only other ValueError json raises
        return json.loads(text, parse_int=_parse_integer, **hooks)


def _recorder(constants: list[str]) -> Any:
    """A `parse_constant` reading `NaN` and the infinities as `json` does, recording each."""

    def parse_constant(literal: str) -> float:
        constants.append(literal)
        return float(literal)

    return parse_constant


def parsed_too_deep(text: bytes | str, value: Any) -> bool:
    """Whether `value`, parsed from the JSON text `text`, nests arrays and objects deeper
    than MAX_NESTING levels (its own value is level 1), wherever they are: a JSONL line
    (R64) or an `arguments` string (R20). A text with at most MAX_NESTING opening brackets
    cannot; otherwise only the value's containers are walked, never its strings.
    """
    openers = (
        text.count(b"[") + text.count(b"{")
        if isinstance(text, bytes)
        else text.count("[") + text.count("{")
    )
    if openers <= MAX_NESTING or not (type(value) is dict or type(value) is list):
        return False
    return _deeper_than(value, MAX_NESTING)


def _deeper_than(container: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether `container` holds containers more than `levels - 1` levels below it."""
    if levels == 0:
        return True
    for child in container.values() if type(container) is dict else container:
        if (type(child) is dict or type(child) is list) and _deeper_than(child, levels - 1):
            return True
    return False


def _not_text(found: re.Match[str], subject: str) -> str:
    """The reason a string (`subject`) in which `found` is a lone surrogate is rejected."""
    return (
        f"{subject} holds a lone surrogate U+{ord(found.group()):04X} at index {found.start()},"
        " which is not Unicode text"
    )


def text_problem(text: str, subject: str = "string") -> str | None:
    """Why `text` (named `subject`) is not Unicode text, or None when it is (R41)."""
    found = None if text.isascii() else SURROGATE.search(text)
    return None if found is None else _not_text(found, subject)


def require_text(text: str, loc: Loc) -> str:
    """`text`, checked to be Unicode text (no lone surrogate) before it is copied (R41)."""
    problem = text_problem(text)
    if problem is not None:
        raise ConversionError(problem, loc, rule="R41")
    return text


class _InvalidValue(Exception):
    """A non-JSON value found while copying; `segments` lead to it from the copied root."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str | int] = []


def _describe_type(value: object) -> str:
    return type(value).__name__


def _copy(value: Any, level: int, prune: bool, copier: JsonCopier | None) -> Any:
    kind = type(value)
    if kind is str:
        found = None if value.isascii() else SURROGATE.search(value)
        if found is None:
            return value
        raise _InvalidValue(_not_text(found, "string"))
    if kind is bool or value is None:
        return value
    if kind is int:
        if -INTEGER_BOUND < value < INTEGER_BOUND:
            return value
        raise _InvalidValue(f"integer has more than {MAX_INTEGER_DIGITS} digits")
    if kind is float:
        if math.isfinite(value):
            if copier is not None:
                copier.copied_float(value)
            return value
        raise _InvalidValue(f"{value} is not a JSON number")
    if kind is dict:
        if level > MAX_NESTING:
            raise _InvalidValue(TOO_DEEP)
        copied: dict[str, Any] = {}
        for raw_key, child in value.items():
            if type(raw_key) is str:
                key = raw_key
            elif isinstance(raw_key, str):
                key = str(raw_key)
            else:
                raise _InvalidValue(f"object key {raw_key!r} is not a string")
            found = None if key.isascii() else SURROGATE.search(key)
            if found is not None:
                raise _InvalidValue(_not_text(found, f"object key {json.dumps(key)}"))
            try:
                child_copy = _copy(child, level + 1, prune, copier)
            except _InvalidValue as error:
                error.segments.append(key)
                raise
            if prune and (child_copy is None or child_copy in ("", [], {})):
                continue
            copied[key] = child_copy
        return copied
    if kind is list:
        if level > MAX_NESTING:
            raise _InvalidValue(TOO_DEEP)
        items: list[Any] = []
        for index, child in enumerate(value):
            try:
                items.append(_copy(child, level + 1, prune, copier))
            except _InvalidValue as error:
                error.segments.append(index)
                raise
        return items
    return _copy(_plain(value), level, prune, copier)


def _plain(value: Any) -> Any:
    """A subclass of a JSON type as the plain type (`str`, `int`, …); anything else raises."""
    for kind in JSON_TYPES:
        if isinstance(value, kind):
            return kind(value)
    raise _InvalidValue(f"a {_describe_type(value)} is not a JSON value")


class NotAllJson(Exception):
    """Raised on the trusted path when a value turns out not to be JSON after all (a float
    that overflowed, an oversized integer), or may be an integer orjson read as a float (a
    float of magnitude 2**63 or more): the row is then read and converted the checked way."""


class JsonCopier:
    """How the values of one row are copied into its payload: checked (`copy_json`'s rules)
    or, for a row this package parsed itself and owns, on the trusted path (`owned`).

    `tiny_float` is set once a float of magnitude below TINY_FLOAT (not 0) is copied:
    the only kind of value orjson writes otherwise than `json` does (`output`).
    """

    __slots__ = ("owned", "tiny_float")

    def __init__(self, *, owned: bool) -> None:
        self.owned = owned
        self.tiny_float = False

    def __call__(self, value: Any, loc: Loc, *, prune: bool = False) -> Any:
        """`value` (found at `loc`) copied the row's way. On the trusted path it is pruned
        (R40) with its numbers checked on the way (`NotAllJson`), nothing else needing a
        check, and what pruning leaves unchanged is shared with the row, which the reader
        drops after; containers copied without pruning are checked (`checked`)."""
        if not self.owned:
            return self.checked(value, loc, prune=prune)
        kind = type(value)
        if kind is dict:
            return _pruned_object(value, self) if prune else self.checked(value, loc)
        if kind is list:
            return _pruned_array(value, self) if prune else self.checked(value, loc)
        if kind is str or value is None:
            return value
        return _own_number(value, self)

    def text(self, text: str, loc: Loc) -> str:
        """`require_text(text, loc)`; a row's string on the trusted path as it is (the reader
        vouched that its line holds no lone surrogate)."""
        return text if self.owned else require_text(str(text), loc)

    def checked(self, value: Any, loc: Loc, *, prune: bool = False) -> Any:
        """`copy_json(value, loc, prune=prune)`, each float seen by `copied_float`."""
        return _checked_copy(value, loc, prune, self)

    def copied_float(self, value: float) -> None:
        """Record a tiny float; on the trusted path, raise `NotAllJson` for one that may be
        a long integer orjson read as a float, or one that overflowed."""
        if -TINY_FLOAT < value < TINY_FLOAT:
            if value:
                self.tiny_float = True
        elif self.owned and not -MAY_BE_LONG_INTEGER < value < MAY_BE_LONG_INTEGER:
            raise NotAllJson


_DROPPED = object()
"""What a member pruning drops becomes (`_pruned_object`)."""


def _pruned_object(value: dict[str, Any], copier: JsonCopier) -> dict[str, Any]:
    """A JSON object pruned as R40 says, in one pass: members that are (after pruning) null,
    `""`, `[]` or `{}` are dropped. `value` itself when nothing in it is dropped (the trusted
    path never modifies a row, which nothing else holds), else a new object."""
    pruned: dict[str, Any] | None = None
    for key, child in value.items():
        kind = type(child)
        kept: Any
        if kind is str:
            if child:  # the most common member, kept as it is without the tail below
                if pruned is not None:
                    pruned[key] = child
                continue
            kept = _DROPPED
        elif kind is dict:
            kept = (_pruned_object(child, copier) if child else None) or _DROPPED
        elif kind is list:
            kept = _pruned_array(child, copier) if child else _DROPPED
        elif child is None:
            kept = _DROPPED
        else:
            kept = _own_number(child, copier)
        if kept is child:
            if pruned is not None:
                pruned[key] = child
            continue
        if pruned is None:  # the first member dropped or changed: the ones before it as they are
            pruned = _members_before(value, key)
        if kept is not _DROPPED:
            pruned[key] = kept
    return value if pruned is None else pruned


def _members_before(value: dict[str, Any], key: str) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for earlier, child in value.items():
        if earlier == key:
            return members
        members[earlier] = child
    return members


def _pruned_array(value: list[Any], copier: JsonCopier) -> list[Any]:
    """A JSON array pruned as R40 says (its elements are all kept); `value` itself when
    nothing in it changes, else a new array."""
    items: list[Any] | None = None
    for index, item in enumerate(value):
        kind = type(item)
        if kind is str or item is None:
            kept = item
        elif kind is dict:
            kept = _pruned_object(item, copier)
        elif kind is list:
            kept = _pruned_array(item, copier)
        else:
            kept = _own_number(item, copier)
        if items is not None:
            items.append(kept)
        elif kept is not item:
            items = value[:index]
            items.append(kept)
    return value if items is None else items


def _own_number(value: Any, copier: JsonCopier) -> Any:
    """A parsed number or boolean, as it is; `NotAllJson` for a float that overflowed or
    may be a long integer read as a float, or an integer out of bounds (R41)."""
    kind = type(value)
    if kind is int:
        if -INTEGER_BOUND < value < INTEGER_BOUND:
            return value
    elif kind is float:
        copier.copied_float(value)
        return value
    elif kind is bool:
        return value
    raise NotAllJson  # an overflowed float, an oversized integer or its stand-in, 2**63 or more


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""Any surrogate escape: one search, cheaper than the exact one below, rules most lines out."""

_LONE_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def no_lone_surrogate_escape(content: bytes) -> bool:
    """Whether the JSON text `content` holds no escape of a lone surrogate (R41), which
    `json` would read into a string. False may be wrong (`\\\\ud800`, an escaped backslash
    before text), True never is."""
    return _SURROGATE_ESCAPE.search(content) is None or (
        _LONE_SURROGATE_ESCAPE.search(content) is None
    )


def copy_json(value: Any, loc: Loc, *, prune: bool = False) -> Any:
    """A validated deep copy of `value`, found at `loc` (nesting level `len(loc) + 1`).

    Anything that is not JSON is rejected at its path (rule R41): a number that is not
    finite, an integer too long, a key that is not a string, a string or key holding a
    lone surrogate, nesting deeper than MAX_NESTING.

    With `prune`, object members whose value is (after pruning) null, `""`, `[]` or `{}`
    are dropped, depth first; array elements are kept (rule R40).
    """
    return _checked_copy(value, loc, prune, None)


def _checked_copy(value: Any, loc: Loc, prune: bool, copier: JsonCopier | None) -> Any:
    kind = type(value)
    if kind is bool or value is None or (kind is str and value.isascii()):  # no call needed
        return value
    try:
        return _copy(value, len(loc) + 1, prune, copier)
    except _InvalidValue as error:
        raise ConversionError(
            error.reason, loc + tuple(reversed(error.segments)), rule="R41"
        ) from None
