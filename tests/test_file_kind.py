"""The file verdict (`file_kind`): an input is not rollouts exactly when every non-blank line
is a rejected row of one not-rollouts kind, however its lines are split into chunks, and
its failed attempts are counted per class."""

from __future__ import annotations

import itertools
from typing import cast

from hypothesis import given
from hypothesis import strategies as st

from nemogym_ingest.convert import NOT_ROLLOUT_KINDS, FailedAttempt, RowKind
from nemogym_ingest.errors import ConversionError
from nemogym_ingest.file_kind import FileKind, NotRollouts
from nemogym_ingest.jsonl import LineResult

KINDS: tuple[RowKind, ...] = ("rollout", "episode", "failed_attempt", "task_input", "foreign")


CLASSES = ("A", "B")
"""Failed attempts' classes."""


def _line(number: int, drawn: str) -> LineResult:
    """A failed attempt of class `drawn`, or a rejected row of kind `drawn`."""
    if drawn in CLASSES:
        failure = FailedAttempt(drawn, None, number)
        return LineResult(number, failure=failure, kind="failed_attempt")
    error = ConversionError("rejected", rule="R80", line=number)
    return LineResult(number, error=error, kind=cast(RowKind, drawn))


line_results = st.lists(
    st.sampled_from(KINDS[3:]) | st.sampled_from((*KINDS, *CLASSES)), max_size=30
).map(lambda drawn: [_line(number, each) for number, each in enumerate(drawn, 1)])
"""Non-blank lines: rejected rows of any kind (mostly not-rollouts ones) and failed
attempts (no converted line is needed: a converted line is neither)."""


def _not_rollouts_kind(lines: list[LineResult]) -> RowKind | None:
    """The definition: the one not-rollouts kind of every line, all rejected."""
    kinds = {line.kind for line in lines}
    if lines and all(line.error is not None for line in lines) and len(kinds) == 1:
        (kind,) = kinds
        return kind if kind in NOT_ROLLOUT_KINDS else None
    return None


@given(line_results, st.lists(st.integers(min_value=0, max_value=40)))
def test_chunks_and_lines_give_the_same_verdict(lines: list[LineResult], cuts: list[int]) -> None:
    by_line: FileKind[int] = FileKind()
    for line in lines:
        by_line.take(line, line.line)
    by_chunk: FileKind[int] = FileKind()
    bounds = sorted({0, len(lines), *(cut for cut in cuts if cut < len(lines))})
    for start, end in itertools.pairwise(bounds):
        chunk, part = NotRollouts(), lines[start:end]
        for line in part:
            chunk.take(line)
        failures = [line.failure for line in part if line.failure is not None]
        by_chunk.observe(chunk, [line.line for line in part if line.error], failures)
    kind = _not_rollouts_kind(lines)
    for verdict in (by_line, by_chunk):
        sentence = verdict.not_rollouts("f.jsonl")
        assert (sentence is None) == (kind is None)
        if kind is not None:
            assert verdict.held == [line.line for line in lines]
            assert sentence == "f.jsonl: " + NOT_ROLLOUT_KINDS[kind].format(
                lines=f"{len(lines)} line" + "s" * (len(lines) != 1),
                rows=f"{len(lines)} row" + "s" * (len(lines) != 1),
            )
    assert by_line.failures == by_chunk.failures
    assert sum(by_line.failures.values()) == sum(line.failure is not None for line in lines)


@given(line_results)
def test_the_rest_is_read_only_while_the_verdict_holds(lines: list[LineResult]) -> None:
    rows, rest = NotRollouts(), iter(lines)
    whole = rows.take_rest(rest)
    assert whole == (_not_rollouts_kind(lines) is not None or not lines)
    unread = list(rest)
    assert unread == ([] if whole else lines[len(lines) - len(unread) :])
    assert len(lines) - len(unread) == rows.lines + (not whole)
