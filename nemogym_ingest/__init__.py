"""Strict, exact conversion of NeMo Gym rollouts into Docent AgentRuns.

The public names are imported from their modules when first used (PEP 562), so that the
command line, which imports this package first, loads only what its command needs.

What is public: the names of `__all__` here (listed once, in `_PUBLIC`), and those of the
`__all__` of the packages `nemogym_ingest.docent` (the Docent bridge),
`nemogym_ingest.conformance` (the conformance runner) and `nemogym_ingest.testing.strategies`
(Hypothesis strategies), and the `nemogym-ingest` command. Every other module (and every
module or name with a leading underscore) is internal: the package imports it, and it may
change in any release.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC: dict[str, tuple[str, ...]] = {
    ".convert": ("FailedAttempt", "convert_nemogym_rollout_to_agent_run"),
    ".errors": ("ConversionError",),
    ".jsonl": (
        "LineResult",
        "convert_nemogym_jsonl_file_to_agent_runs",
        "iter_nemogym_jsonl",
        "iter_nemogym_jsonl_results",
    ),
    ".model": (
        "AgentRun",
        "AssistantMessage",
        "ChatMessage",
        "Content",
        "ContentReasoning",
        "ContentText",
        "SystemMessage",
        "ToolCall",
        "ToolMessage",
        "Transcript",
        "UserMessage",
    ),
    ".options": ("ConversionOptions",),
    ".source": ("InputError",),
}
"""The public names (but `__version__`), by the module each is imported from: the one list
of them. `__all__` and the lazy imports are made from it; the imports below, for type
checkers, which cannot read it, are held equal to it by tests/test_packaging.py."""

_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = ["__version__", *_MODULE_OF]  # noqa: PLE0604 - the names of _PUBLIC, all strings

if TYPE_CHECKING:
    from .convert import FailedAttempt as FailedAttempt
    from .convert import (
        convert_nemogym_rollout_to_agent_run as convert_nemogym_rollout_to_agent_run,
    )
    from .errors import ConversionError as ConversionError
    from .jsonl import LineResult as LineResult
    from .jsonl import (
        convert_nemogym_jsonl_file_to_agent_runs as convert_nemogym_jsonl_file_to_agent_runs,
    )
    from .jsonl import iter_nemogym_jsonl as iter_nemogym_jsonl
    from .jsonl import iter_nemogym_jsonl_results as iter_nemogym_jsonl_results
    from .model import AgentRun as AgentRun
    from .model import AssistantMessage as AssistantMessage
    from .model import ChatMessage as ChatMessage
    from .model import Content as Content
    from .model import ContentReasoning as ContentReasoning
    from .model import ContentText as ContentText
    from .model import SystemMessage as SystemMessage
    from .model import ToolCall as ToolCall
    from .model import ToolMessage as ToolMessage
    from .model import Transcript as Transcript
    from .model import UserMessage as UserMessage
    from .options import ConversionOptions as ConversionOptions
    from .source import InputError as InputError

    __version__: str


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - ~50 ms

    try:
        return version("nemogym-ingest")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


if not TYPE_CHECKING:  # for mypy, the names are the imports above

    def __getattr__(name: str) -> Any:
        """A public name, imported on first use (and then kept in the module)."""
        if name == "__version__":
            value = _version()
        elif name in _MODULE_OF:
            value = getattr(importlib.import_module(_MODULE_OF[name], __name__), name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
