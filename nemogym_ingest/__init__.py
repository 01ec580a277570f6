"""Strict, exact conversion of NeMo Gym rollouts into Docent AgentRuns."""

from .convert import convert_nemogym_rollout_to_agent_run
from .errors import ConversionError
from .jsonl import convert_nemogym_jsonl_file_to_agent_runs, iter_nemogym_jsonl
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

__all__ = [
    "AgentRun",
    "AssistantMessage",
    "ChatMessage",
    "Content",
    "ContentReasoning",
    "ContentText",
    "ConversionError",
    "ConversionOptions",
    "SystemMessage",
    "ToolCall",
    "ToolMessage",
    "Transcript",
    "UserMessage",
    "convert_nemogym_jsonl_file_to_agent_runs",
    "convert_nemogym_rollout_to_agent_run",
    "iter_nemogym_jsonl",
]
