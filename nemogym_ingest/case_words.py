"""The words `case add` writes: a case's description, a group's, and a rejection's reason
without the hint naming an option (which the case's options say)."""

from __future__ import annotations

from typing import Any

from .errors import ConversionError
from .options import OPTIONS
from .verdict import Outcome


def bare_reason(error: ConversionError) -> str:
    """The reason without the hint naming an option (R70), which the case's options say."""
    if error.option is None:
        return error.reason
    hint = OPTIONS[error.option].text()
    return error.reason.removesuffix(hint).removesuffix("; ").removesuffix(" ")


def default_description(outcome: Outcome) -> str:
    """The case's description, written from its outcome: where and why it is rejected (the
    whole reason, without an option's hint), or the messages it gives."""
    error = outcome.error
    if error is not None:
        where = error.path or "the rollout"
        return f"rejected by {error.rule} at {where}: {bare_reason(error)}"
    assert outcome.run is not None
    roles = [message.role for message in outcome.run.transcripts[0].messages]
    return f"accepted: {len(roles)} messages ({', '.join(roles)})"


def group_description(cases: list[dict[str, Any]], sections: dict[str, str]) -> str:
    """The description `case add` gives a group it creates: its cases' rules, in the order
    they first appear, with their spec sections (`R20, R22 (Function calls and outputs); R32
    (Assistant turns): cases`); refreshed as cases join, unless edited."""
    by_section: dict[str, list[str]] = {}
    for rule in dict.fromkeys(rule for case in cases for rule in case["rules"]):
        by_section.setdefault(sections.get(rule, ""), []).append(rule)
    named = [
        ", ".join(rules) + (f" ({title})" if title else "") for title, rules in by_section.items()
    ]
    return f"{'; '.join(named)}: cases"
