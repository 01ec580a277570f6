"""Minimizing a rollout by greedy delta-debugging: the moves, their order, the fixed point,
and the transcript shape an accepted case must keep (`nemogym-ingest case add --minimize`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import AgentRun, AssistantMessage

ELLIPSIS = "…"
"""Marks a shortened string."""
KEPT_PREFIX = 16
"""Characters a shortened string keeps before the ellipsis."""
LONGEST_KEPT_STRING = 24
"""Strings longer than this are tried shortened."""

Keeps = Callable[[Any], bool]
"""Whether a candidate rollout still has the outcome being kept."""
Shape = tuple[tuple[tuple[str, tuple[str, ...], int], ...], ...]
"""Per transcript, per message: its role, its content block kinds, its tool-call count."""


_QUOTED_OR_NUMBER = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\b\d+\b""")


def problem_kept(reason: str) -> str:
    """What a rejected rollout's minimization keeps of its reason: all of it (the values and
    identifiers it quotes, `call_id 'call_87f635b1'`), but its bare numbers, which count
    what shrinking changes (`at column 35`, `invocations[3]`)."""
    return _QUOTED_OR_NUMBER.sub(lambda match: match[0] if match[0][0] in "'\"" else "N", reason)


def json_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def transcript_shape(run: AgentRun) -> Shape:
    """What an accepted rollout's minimization keeps: the sequence of message roles, with
    each message's content block kinds (`text` for string content) and tool-call count."""
    return tuple(
        tuple(
            (
                message.role,
                ("text",)
                if isinstance(message.content, str)
                else tuple(block.type for block in message.content),
                len(message.tool_calls or ()) if isinstance(message, AssistantMessage) else 0,
            )
            for message in transcript.messages
        )
        for transcript in run.transcripts
    )


GroupShape = tuple[tuple[int, tuple[tuple[str, tuple[str, ...]], ...]], ...]


def _members(value: Any) -> tuple[str, ...]:
    """The members of an object, or of an array's first element when it is an object."""
    if isinstance(value, list) and value:
        value = value[0]
    return tuple(sorted(value)) if isinstance(value, dict) else ()


def group_shape(run: AgentRun) -> tuple[GroupShape, tuple[int, ...]]:
    """What minimization keeps of a run's transcript groups (R87): each group's parent (its
    index, -1 for none) and metadata members (with those of an object or of an array's first
    object below them), and each transcript's group (-1 for none)."""
    index = {group.id: position for position, group in enumerate(run.transcript_groups)}
    groups = tuple(
        (
            index.get(group.parent_transcript_group_id or "", -1),
            tuple((key, _members(value)) for key, value in sorted(group.metadata.items())),
        )
        for group in run.transcript_groups
    )
    members = tuple(index.get(t.transcript_group_id or "", -1) for t in run.transcripts)
    return groups, members


@dataclass(frozen=True)
class Minimized:
    """A minimized rollout, its size before and after (compact JSON bytes) and how many
    candidates were tried."""

    rollout: Any
    size_before: int
    size_after: int
    tries: int


class _Minimizer:
    """Holds the rollout in a one-element list, so that every value has a parent slot a
    candidate can be put in; a candidate that loses the outcome is taken back at once."""

    def __init__(self, rollout: Any, keeps: Keeps) -> None:
        self.holder = [rollout]
        self.keeps = keeps
        self.tries = 0

    def _try(self, parent: Any, key: Any, candidate: Any) -> bool:
        original = parent[key]
        parent[key] = candidate
        self.tries += 1
        if self.keeps(self.holder[0]):
            return True
        parent[key] = original
        return False

    def _drop(self, elements: list[Any], install: Callable[[list[Any]], bool]) -> bool:
        """Drop what `elements` can lose: all at once (which also replaces a long list of
        numbers), then chunks of halving size from the front (ddmin without complements)."""
        if not elements:
            return False
        if install([]):
            return True
        changed = False
        chunk = len(elements) // 2
        while chunk >= 1:
            start = 0
            while start < len(elements):
                candidate = elements[:start] + elements[start + chunk :]
                if install(candidate):
                    elements, changed = candidate, True
                else:
                    start += chunk
            chunk //= 2
        return changed

    def shrink(self, parent: Any, key: Any) -> bool:
        """One top-down pass over `parent[key]`: drop members or elements, then go into
        those left; shorten a long string. Whether anything changed."""
        value = parent[key]
        if isinstance(value, dict):
            changed = self._drop(
                list(value.items()),
                lambda items: self._try(parent, key, dict(items)),
            )
            current = parent[key]
            for member in list(current):
                changed |= self.shrink(current, member)
            return changed
        if isinstance(value, list):
            changed = self._drop(value, lambda elements: self._try(parent, key, elements))
            current = parent[key]
            for index in range(len(current)):
                changed |= self.shrink(current, index)
            return changed
        if isinstance(value, str) and len(value) > LONGEST_KEPT_STRING:
            return self._try(parent, key, value[:KEPT_PREFIX] + ELLIPSIS)
        return False


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def minimize(rollout: Any, keeps: Keeps) -> Minimized:
    """The smallest rollout greedy delta-debugging finds for which `keeps` still holds.

    Moves, top-down: drop object members (any member, a required one too when the outcome
    survives it), drop array elements (all of them first, then halving chunks), shorten a
    string longer than 24 characters to its first 16 and `…`. Passes repeat until one
    changes nothing. Deterministic: candidates are tried in document order. `rollout` is
    not modified; `keeps(rollout)` must hold.
    """
    if not keeps(rollout):
        raise ValueError("the rollout does not have the outcome to keep")
    minimizer = _Minimizer(_copy(rollout), keeps)
    while minimizer.shrink(minimizer.holder, 0):
        pass
    result = minimizer.holder[0]
    return Minimized(result, json_size(rollout), json_size(result), minimizer.tries)
