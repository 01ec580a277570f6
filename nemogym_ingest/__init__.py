"""Strict, exact conversion of NeMo Gym rollouts into Docent AgentRuns.

The public names are imported from their modules when first used (PEP 562), so that the
command line, which imports this package first, loads only what its command needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .convert import FailedAttempt, convert_nemogym_rollout_to_agent_run
    from .errors import ConversionError
    from .jsonl import (
        LineResult,
        convert_nemogym_jsonl_file_to_agent_runs,
        iter_nemogym_jsonl,
        iter_nemogym_jsonl_results,
    )
    from .model import (
        AgentRun,
        AssistantMessage,
        ChatMessage,
        Content,
        ContentReasoning,
        ContentText,
        SystemMessage,
        ToolCall,
        ToolMessage,
        Transcript,
        UserMessage,
    )
    from .options import ConversionOptions
    from .source import InputError

    __version__: str

__all__ = [
    "AgentRun",
    "AssistantMessage",
    "ChatMessage",
    "Content",
    "ContentReasoning",
    "ContentText",
    "ConversionError",
    "ConversionOptions",
    "FailedAttempt",
    "InputError",
    "LineResult",
    "SystemMessage",
    "ToolCall",
    "ToolMessage",
    "Transcript",
    "UserMessage",
    "__version__",
    "convert_nemogym_jsonl_file_to_agent_runs",
    "convert_nemogym_rollout_to_agent_run",
    "iter_nemogym_jsonl",
    "iter_nemogym_jsonl_results",
]

_MODULE_OF = {
    "FailedAttempt": ".convert",
    "convert_nemogym_rollout_to_agent_run": ".convert",
    "ConversionError": ".errors",
    "LineResult": ".jsonl",
    "convert_nemogym_jsonl_file_to_agent_runs": ".jsonl",
    "iter_nemogym_jsonl": ".jsonl",
    "iter_nemogym_jsonl_results": ".jsonl",
    "AgentRun": ".model",
    "AssistantMessage": ".model",
    "ChatMessage": ".model",
    "Content": ".model",
    "ContentReasoning": ".model",
    "ContentText": ".model",
    "SystemMessage": ".model",
    "ToolCall": ".model",
    "ToolMessage": ".model",
    "Transcript": ".model",
    "UserMessage": ".model",
    "ConversionOptions": ".options",
    "InputError": ".source",
}
"""The module each public name (but `__version__`) is imported from."""


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
