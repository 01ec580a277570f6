"""Strict, exact conversion of NeMo Gym rollouts into Docent AgentRuns."""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("nemogym-ingest")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

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
