"""Words for people: counts of things in messages and summaries."""

from __future__ import annotations


def plural(count: int, noun: str, *, grouped: bool = False) -> str:
    """`1 item`, `2 items`; `grouped`: with thousands separators, `2,000 lines`."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun}" if count == 1 else f"{number} {noun}s"
