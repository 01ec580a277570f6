"""What the model received and answered, where no conversation was observed: a trajectory's
model calls (`ng_trajectory.model_calls`, each in its provider's dialect: `chat`,
`messages`, `responses`) made readable as one transcript. Each call's request and
response are read as Responses items and converted by the item rules; the history a call
shares with the calls before it is shown once. A call whose shape the item rules cannot
show stays whole in the metadata. Invocations own the calls their references join, as
NeMo Gym's `_build_ng_perf` joins them.

Rules: R88.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConversionError, Loc
from ..jsonvalue import JsonCopier
from ..options import ConversionOptions
from ..wire import JsonDict, transcript
from .checks import pruned
from .items import convert_items
from .trajectory_record import TRAJECTORY, Invocation
from .turn import TranscriptBuilder

MODEL_CALLS_SCHEMA = "nemo_gym_trajectory_model_calls"
_TOKEN_STATS = (
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "total_tokens",
)

Items = list[Any]


class _NotShown(Exception):
    """A model call whose request or response the item rules cannot show."""


def _model_ref_key(ref: Any) -> tuple[Any, Any] | None:
    return (ref.get("type"), ref.get("name")) if isinstance(ref, dict) else None


class CallIndex:
    """A trajectory's model calls, indexed by `model_call_id` and by (model reference,
    response id), as `_build_ng_perf` indexes them; each call owned at most once."""

    def __init__(self, calls: list[JsonDict]) -> None:
        self.calls = calls
        self.by_id: dict[Any, list[int]] = {}
        self.by_response: dict[tuple[Any, ...], list[int]] = {}
        self.claimed: set[int] = set()
        for index, call in enumerate(calls):
            if call.get("model_call_id"):
                self.by_id.setdefault(call["model_call_id"], []).append(index)
            metadata = _metadata(call)
            ref_key, response_id = (
                _model_ref_key(metadata.get("model_ref")),
                metadata.get("response_id"),
            )
            if ref_key is not None and response_id:
                self.by_response.setdefault((*ref_key, response_id), []).append(index)

    def _match(self, ref: JsonDict) -> int | None:
        """The one call a `ModelCallRef` names, or None (none, or more than one)."""
        if ref.get("model_call_id"):
            candidates = [
                index
                for index in self.by_id.get(ref["model_call_id"], [])
                if ref.get("model_ref") is None
                or ref["model_ref"] == _metadata(self.calls[index]).get("model_ref")
                if ref.get("response_id") is None
                or ref["response_id"] == _metadata(self.calls[index]).get("response_id")
            ]
        else:
            ref_key = _model_ref_key(ref.get("model_ref"))
            response_id = ref.get("response_id")
            key = None if ref_key is None or not response_id else (*ref_key, response_id)
            candidates = [] if key is None else self.by_response.get(key, [])
        return candidates[0] if len(candidates) == 1 else None

    def owned(self, invocation: Invocation) -> list[int]:
        """The positions of the calls the invocation's references join, not claimed by an
        earlier invocation, in reference order."""
        owned = []
        for ref in invocation.model_calls:
            index = self._match(ref)
            if index is not None and index not in self.claimed:
                self.claimed.add(index)
                owned.append(index)
        return owned

    def token_stats(self, positions: list[int]) -> JsonDict:
        """The token stats of the calls at `positions`, summed where any call has one, and
        how many calls they are."""
        stats: JsonDict = {}
        for name in _TOKEN_STATS:
            values = [
                value
                for index in positions
                if isinstance(value := _stats(self.calls[index]).get(name), int)
                and not isinstance(value, bool)
            ]
            if values:
                stats[name] = sum(values)
        if positions:
            stats["model_call_count"] = len(positions)
        return stats


def _metadata(call: JsonDict) -> JsonDict:
    metadata = call.get("response_metadata")
    return metadata if isinstance(metadata, dict) else {}


def _stats(call: JsonDict) -> JsonDict:
    stats = call.get("token_stats")
    return stats if isinstance(stats, dict) else {}


# --- the dialects, read as Responses items ---------------------------------------------------


def _text_parts(content: Any, text_type: str) -> Any:
    """A chat or Anthropic content (a string or text parts) as a Responses message's."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _NotShown
    parts = []
    for part in content:
        if (
            not isinstance(part, dict)
            or part.get("type") != "text"
            or not isinstance(part.get("text"), str)
        ):
            raise _NotShown
        parts.append({"type": text_type, "text": part["text"]})
    return parts


def _chat_assistant(message: JsonDict) -> Items:
    items: Items = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        items.append(
            {
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": reasoning}],
            }
        )
    elif reasoning:
        raise _NotShown
    content = message.get("content")
    if content:
        items.append(
            {"type": "message", "role": "assistant", "content": _text_parts(content, "output_text")}
        )
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise _NotShown
        items.append(
            {
                "type": "function_call",
                "call_id": call.get("id"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return items


def _chat_message(message: Any) -> Items:
    if not isinstance(message, dict):
        raise _NotShown
    role, content = message.get("role"), message.get("content")
    if role in ("system", "developer", "user"):
        return [{"type": "message", "role": role, "content": _text_parts(content, "input_text")}]
    if role == "assistant":
        return _chat_assistant(message)
    if role == "tool":
        output = content
        return [
            {
                "type": "function_call_output",
                "call_id": message.get("tool_call_id"),
                "output": output,
            }
        ]
    raise _NotShown


def _chat(request: JsonDict, response: JsonDict) -> tuple[Items, Items, tuple[str, ...], JsonDict]:
    messages = request.get("messages")
    choices = response.get("choices")
    if not isinstance(messages, list) or not isinstance(choices, list) or len(choices) != 1:
        raise _NotShown
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
        raise _NotShown
    request_items = [item for message in messages for item in _chat_message(message)]
    rest = dict(response)
    rest["choices"] = [{k: v for k, v in choice.items() if k != "message"}]
    return request_items, _chat_assistant(choice["message"]), ("messages",), rest


def _anthropic_blocks(role: str, content: Any, signatures: list[str]) -> Items:
    if isinstance(content, str):
        kind = "output_text" if role == "assistant" else "input_text"
        return [{"type": "message", "role": role, "content": [{"type": kind, "text": content}]}]
    if not isinstance(content, list):
        raise _NotShown
    items: Items = []
    for block in content:
        block_type = block.get("type") if isinstance(block, dict) else None
        if block_type == "text":
            part = "output_text" if role == "assistant" else "input_text"
            items.append(
                {
                    "type": "message",
                    "role": role,
                    "content": [{"type": part, "text": block.get("text")}],
                }
            )
        elif block_type == "thinking" and role == "assistant":
            if isinstance(block.get("signature"), str):
                signatures.append(block["signature"])
            text = block.get("thinking")
            items.append(
                {
                    "type": "reasoning",
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": text}],
                }
            )
        elif block_type == "tool_use" and role == "assistant":
            items.append(
                {
                    "type": "function_call",
                    "call_id": block.get("id"),
                    "name": block.get("name"),
                    "arguments": block.get("input"),
                }
            )
        elif block_type == "tool_result" and role == "user":
            output = block.get("content")
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": block.get("tool_use_id"),
                    "output": output,
                }
            )
        else:
            raise _NotShown
    return items


def _messages(
    request: JsonDict, response: JsonDict
) -> tuple[Items, Items, tuple[str, ...], JsonDict]:
    messages, system = request.get("messages"), request.get("system")
    if not isinstance(messages, list):
        raise _NotShown
    signatures: list[str] = []
    items: Items = []
    if system:
        items.append(
            {"type": "message", "role": "system", "content": _text_parts(system, "input_text")}
        )
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise _NotShown
        items += _anthropic_blocks(message["role"], message.get("content"), signatures)
    answer = _anthropic_blocks("assistant", response.get("content"), signatures)
    rest = {k: v for k, v in response.items() if k != "content"}
    if signatures:
        rest["thinking_signatures"] = signatures
    return items, answer, ("system", "messages"), rest


def _responses(
    request: JsonDict, response: JsonDict
) -> tuple[Items, Items, tuple[str, ...], JsonDict]:
    given, output = request.get("input"), response.get("output")
    if not isinstance(output, list) or not isinstance(given, str | list):
        raise _NotShown
    items: Items = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        items.append({"type": "message", "role": "system", "content": instructions})
    elif instructions:
        raise _NotShown
    items += (
        [{"type": "message", "role": "user", "content": given}] if isinstance(given, str) else given
    )
    rest = {k: v for k, v in response.items() if k != "output"}
    return items, output, ("instructions", "input"), rest


_Dialect = Callable[[JsonDict, JsonDict], tuple[Items, Items, tuple[str, ...], JsonDict]]

DIALECTS: dict[str, _Dialect] = {"chat": _chat, "messages": _messages, "responses": _responses}
"""Each dialect NeMo Gym records (`response_metadata.dialect`): its request and response
read as Responses input and output items, the request members that holds, and the
response without them."""


# --- the transcript -----------------------------------------------------------------------


@dataclass
class Rendering:
    """A model-call transcript and the positions of the calls it shows."""

    transcript: JsonDict
    rendered: list[int]


def _shown_key(message: JsonDict) -> Any:
    """A message as a later request repeats it: without its reasoning blocks."""
    content = message.get("content")
    if isinstance(content, list):
        texts = [block.get("text", "") for block in content if block.get("type") == "text"]
        return {**message, "content": "".join(texts)}
    return message


def _call_messages(
    position: int,
    call: JsonDict,
    options: ConversionOptions,
    copy: JsonCopier,
    uses: dict[str, Any],
) -> tuple[list[JsonDict], list[JsonDict], JsonDict]:
    """A call's request and answer converted (messages, details) and the call's metadata
    without what they show; `_NotShown` when the item rules cannot show them."""
    request, response = call.get("request"), call.get("response")
    dialect = DIALECTS.get(str(_metadata(call).get("dialect")))
    if dialect is None or not isinstance(request, dict) or not isinstance(response, dict):
        raise _NotShown
    request_items, answer, shown_members, response_rest = dialect(request, response)
    loc: Loc = TRAJECTORY + ("model_calls", position)
    scratch: dict[str, Any] = {}
    out = TranscriptBuilder(options, copy, uses=scratch)
    try:
        convert_items(request_items, "request", loc + ("request",), out)
        convert_items(answer, "response", loc + ("response",), out)
    except ConversionError:
        raise _NotShown from None
    for option, count in scratch.items():
        uses[option] = uses.get(option, 0) + count if isinstance(count, int) else count
    rest = {k: v for k, v in call.items() if k not in ("request", "response")}
    rest["request"] = {k: v for k, v in request.items() if k not in shown_members}
    rest["response"] = response_rest
    return out.messages, out.details, copy(rest, loc, prune=True)


@dataclass
class _Chain:
    """Calls that each repeat the history of the one before: their messages, shown once."""

    messages: list[JsonDict]
    details: list[JsonDict]
    keys: list[Any]

    def continued_by(self, keys: list[Any]) -> bool:
        return self.keys == keys[: len(self.keys)]


def render_model_calls(
    name: str,
    positions: list[int],
    calls: CallIndex,
    options: ConversionOptions,
    copy: JsonCopier,
    uses: dict[str, Any],
) -> Rendering | None:
    """One transcript of the calls at `positions` (R88): each call continues the latest
    chain whose messages are its first ones (a request repeats the history without the
    reasoning), adding only the messages after them, or starts a new chain; the chains
    follow each other in the order they start. None when no call can be shown."""
    chains: list[_Chain] = []
    kept: list[JsonDict] = []
    rendered: list[int] = []
    for position in positions:
        try:
            new, details, rest = _call_messages(
                position, calls.calls[position], options, copy, uses
            )
        except _NotShown:
            continue
        keys = [_shown_key(message) for message in new]
        details = [detail | {"model_call_index": position} for detail in details]
        chain = next((chain for chain in reversed(chains) if chain.continued_by(keys)), None)
        if chain is None:
            chains.append(_Chain(new, details, keys))
        else:
            start = len(chain.keys)
            chain.messages += new[start:]
            chain.details += details[start:]
            chain.keys = keys
        kept.append(rest | {"model_call_index": position})
        rendered.append(position)
    if not rendered:
        return None
    messages = [message for chain in chains for message in chain.messages]
    source = {"schema": MODEL_CALLS_SCHEMA, "model_call_count": len(rendered)}
    metadata = {
        "source": source,
        "message_details": [detail for chain in chains for detail in chain.details],
        "model_calls": kept,
    }
    return Rendering(transcript(name, messages, pruned(metadata)), rendered)
