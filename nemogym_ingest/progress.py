"""A one-line progress report on stderr (rollouts, MB, MB/s, ETA), shown only on a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

_REFRESH_SECONDS = 0.2
_CLEAR_LINE = "\r\x1b[K"


def _duration(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


class Progress:
    """Counts rollouts and bytes and redraws one status line at most every 0.2 s.

    Silent unless `enabled` (default: when `stream`, stderr by default, is a terminal).
    `total` is the input's size in the unit of the `position` passed to `advance` (the
    file offset: compressed bytes for a `.gz` file); with it the line shows a percentage
    and an ETA. Use as a context manager, or call `close()` to clear the line.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.total = total
        self.rollouts = 0
        self.bytes = 0
        self.position = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0

    def advance(self, rollouts: int, nbytes: int, position: int | None = None) -> None:
        """Count `rollouts` more rollouts and `nbytes` more input bytes, read up to `position`."""
        self.rollouts += rollouts
        self.bytes += nbytes
        self.position = self.bytes if position is None else position
        if self.enabled:
            now = time.monotonic()
            if now - self._drawn_at >= _REFRESH_SECONDS:
                self._drawn_at = now
                self.stream.write(_CLEAR_LINE + self.status(now - self._started))
                self.stream.flush()

    def status(self, elapsed: float) -> str:
        """The status line after `elapsed` seconds."""
        megabytes = self.bytes / 1e6
        parts = [f"{self.label}: {self.rollouts:,} rollouts", f"{megabytes:,.1f} MB"]
        if elapsed > 0:
            parts.append(f"{megabytes / elapsed:,.1f} MB/s")
        if self.total:
            fraction = min(self.position / self.total, 1.0)
            parts.append(f"{fraction:.0%}")
            if 0 < fraction < 1:
                parts.append(f"ETA {_duration(elapsed * (1 - fraction) / fraction)}")
        return "  ".join(parts)

    def clear(self) -> None:
        """Clear the status line (if one is drawn), e.g. before printing a message.

        The line is redrawn at the next `advance`.
        """
        if self.enabled and self._drawn_at:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self._drawn_at = 0.0

    def close(self) -> None:
        """Clear the status line for good."""
        self.clear()
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
