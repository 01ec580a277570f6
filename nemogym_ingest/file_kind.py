"""What an input turned out to hold, told from its lines (R80, R83): rollouts, or not
rollouts at all (every non-blank line a rejected row of one of the `NOT_ROLLOUT_KINDS`: a
task list, task inputs, a metrics dump), and its failed attempts per class.

The one place this is decided: the worker pool tells it for a chunk (`NotRollouts`), and
`convert`, `check` and `upload` add up a file's (`FileKind`), holding back the rejections
that one sentence replaces if the file proves not to be rollouts. The sentences themselves
are data of the row-kinds table (`convert.NOT_ROLLOUT_KINDS`), whose module owns R80 and R83.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .convert import NOT_ROLLOUT_KINDS, FailedAttempt, RowKind
from .jsonl import LineResult
from .wording import plural

Held = TypeVar("Held")
"""What a file's reader holds back for each rejected line while the file may be no rollouts."""


@dataclass
class NotRollouts:
    """Whether every non-blank line read so far (of a chunk, or of a whole input) is a
    rejected row of one not-rollouts kind (`kind`, None before the first line), and how
    many lines those are."""

    possible: bool = True
    kind: RowKind | None = None
    lines: int = 0

    def take(self, line: LineResult) -> bool:
        """Count the next non-blank line; whether every line so far still is such a row."""
        if (
            self.possible
            and line.error is not None
            and line.kind in NOT_ROLLOUT_KINDS
            and self.kind in (None, line.kind)
        ):
            self.kind = line.kind
            self.lines += 1
        else:
            self.possible = False
        return self.possible

    def take_rest(self, lines: Iterator[LineResult]) -> bool:
        """Take the lines of `lines` while every line so far is such a row (none if one
        already is not), leaving the rest unread; whether every line so far is."""
        return self.possible and all(self.take(line) for line in lines)

    def add(self, later: NotRollouts) -> bool:
        """Count the lines of a later part of the same input (a chunk); whether every line
        so far still is such a row."""
        if not later.possible or (later.kind is not None and self.kind not in (None, later.kind)):
            self.possible = False
        if self.possible:
            self.kind = later.kind if self.kind is None else self.kind
            self.lines += later.lines
        return self.possible

    def sentence(self, file: str) -> str | None:
        """The sentence for input `file` if it turned out not to be rollouts (None if not)."""
        if not (self.possible and self.lines and self.kind is not None):
            return None
        sentence = NOT_ROLLOUT_KINDS[self.kind]
        return f"{file}: " + sentence.format(
            lines=plural(self.lines, "line", grouped=True),
            rows=plural(self.lines, "row", grouped=True),
        )


@dataclass
class FileKind(Generic[Held]):
    """What one input turned out to hold, read chunk by chunk (`observe`) or line by line
    (`take`): whether it is not rollouts (`rows`), the rejections held back meanwhile, to be
    replaced by one sentence (`not_rollouts`) or released, and its failed attempts per class
    (R83), told in one sentence too (`failed_attempts`)."""

    rows: NotRollouts = field(default_factory=NotRollouts)
    held: list[Held] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def observe(
        self, chunk: NotRollouts, rejections: Iterable[Held], failures: Iterable[FailedAttempt]
    ) -> bool:
        """Take a chunk's verdict, its rejections and its failed attempts; whether every line
        so far is a rejected row of one not-rollouts kind, its rejections then held back."""
        self.failures.update(failure.failure_class for failure in failures)
        if self.rows.add(chunk):
            self.held += rejections
        return self.rows.possible

    def take(self, line: LineResult, held: Held) -> bool:
        """Take the next non-blank line (`held` standing for it); whether every line so far is
        a rejected row of one not-rollouts kind, `held` then held back."""
        if line.failure is not None:
            self.failures[line.failure.failure_class] += 1
        if self.rows.take(line):
            self.held.append(held)
        return self.rows.possible

    def release(self) -> list[Held]:
        """The held rejections, once the input proved to hold rollouts."""
        held, self.held = self.held, []
        return held

    def not_rollouts(self, file: str) -> str | None:
        """The sentence for an input that turned out not to be rollouts (None if it is)."""
        return self.rows.sentence(file)

    def failed_attempts(self, file: str) -> str | None:
        """The sentence for the failed attempts of the input, per class (None if none)."""
        if not self.failures:
            return None
        classes = ", ".join(f"{count:,} {name}" for name, count in self.failures.most_common())
        total = plural(sum(self.failures.values()), "failed attempt", grouped=True)
        return f"{file}: {total} without a rollout, nothing to convert ({classes})"
