"""A realistic NeMo Gym rollouts corpus, generated deterministically for the benchmark.

Rollouts look like agentic RL exports: a system prompt and a task, then many turns of
reasoning, tool calls and long tool outputs (logs, file contents), a final answer, and
the token-id / log-prob fields NeMo Gym keeps on generated items. Rollout `i` depends
only on `i`, so every corpus of a given size is byte-identical on every machine.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

CORPUS_VERSION = 1

_VOCABULARY = (
    "the a of to and in is for on that with as by this it from be are or an at error value "
    "function return import class def self test file line path data result None True False "
    "config model token batch loss step epoch gradient tensor shape index key list dict "
    "string number object array assert raise except try while if else elif for yield async "
    "await lambda print format json load dump parse request response status output input"
)
_WORDS = _VOCABULARY.split()

_TOOLS = ("run_shell", "read_file", "write_file", "search_code", "run_tests", "python")


def _text(rng: random.Random, words: int) -> str:
    chosen = rng.choices(_WORDS, k=words)
    return " ".join(chosen)


def _long_output(rng: random.Random, lines: int) -> str:
    width = rng.randint(4, 14)
    return "\n".join(
        f"{rng.randint(1, 9999):>5}: {_text(rng, width)}" if index % 7 else f"$ {_text(rng, 3)}"
        for index in range(lines)
    )


def _token_fields(rng: random.Random, count: int) -> dict[str, Any]:
    start = rng.randrange(150_000)
    return {
        "prompt_token_ids": [(start + 7 * k) % 151_643 for k in range(count)],
        "generation_token_ids": [(start + 13 * k) % 151_643 for k in range(count // 4)],
        "generation_log_probs": [-round((k % 97) / 31.0, 4) for k in range(count // 4)],
    }


def rollout(index: int) -> dict[str, Any]:
    """Rollout number `index` of the corpus."""
    rng = random.Random(index)
    turns = rng.choice((1, 2, 4, 8, 16, 24))
    with_tokens = rng.random() < 0.5
    output: list[dict[str, Any]] = []
    for turn in range(turns):
        reasoning: dict[str, Any] = {
            "type": "reasoning",
            "id": f"rs_{index}_{turn}",
            "summary": [{"type": "summary_text", "text": _text(rng, rng.randint(20, 120))}],
        }
        call_id = f"call_{index}_{turn}"
        tool = rng.choice(_TOOLS)
        call: dict[str, Any] = {
            "type": "function_call",
            "id": f"fc_{index}_{turn}",
            "call_id": call_id,
            "name": tool,
            "arguments": json.dumps({"command": _text(rng, 8), "timeout": rng.randint(1, 600)}),
            "status": "completed",
        }
        if with_tokens:
            call.update(_token_fields(rng, rng.randint(100, 600)))
        tool_output: Any = _long_output(rng, rng.choice((3, 20, 80, 300)))
        if rng.random() < 0.15:
            tool_output = {"stdout": tool_output, "exit_code": rng.randint(0, 2)}
        output += [
            reasoning,
            call,
            {"type": "function_call_output", "call_id": call_id, "output": tool_output},
        ]
    answer: dict[str, Any] = {
        "type": "message",
        "id": f"msg_{index}",
        "role": "assistant",
        "status": "completed",
        "content": [
            {"type": "output_text", "text": _text(rng, rng.randint(20, 400)), "annotations": []}
        ],
    }
    if with_tokens:
        answer.update(_token_fields(rng, rng.randint(300, 2000)))
    output.append(answer)
    return {
        "responses_create_params": {
            "input": [
                {"role": "system", "content": _text(rng, rng.randint(50, 300))},
                {
                    "role": "user",
                    "type": "message",
                    "content": [{"type": "input_text", "text": _text(rng, rng.randint(20, 200))}],
                },
            ],
            "tools": [
                {
                    "type": "function",
                    "name": name,
                    "description": _text(rng, 12),
                    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
                }
                for name in _TOOLS
            ],
            "temperature": 1.0,
            "max_output_tokens": 16384,
        },
        "response": {
            "id": f"resp_{index}",
            "model": "qwen3-235b-a22b",
            "created_at": 1_760_000_000 + index,
            "status": "completed",
            "usage": {"input_tokens": rng.randint(1000, 90000), "output_tokens": 4096},
            "output": output,
        },
        "reward": rng.choice((0.0, 1.0, 0.5)),
        "agent_ref": {"name": "swe_agent"},
        "_ng_task_index": index // 8,
        "_ng_rollout_index": index % 8,
        "expected_answer": _text(rng, 5),
        "verifier_metadata": {"tests_passed": rng.randint(0, 40), "tests_total": 40},
    }


def ensure_corpus(directory: Path, size_bytes: int) -> tuple[Path, int]:
    """The corpus file of at least `size_bytes` bytes (generated once, then reused).

    Returns the path and its number of rollouts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"rollouts-v{CORPUS_VERSION}-{size_bytes}.jsonl"
    count_path = path.with_suffix(".count")
    if path.exists() and count_path.exists():
        return path, int(count_path.read_text())
    partial = path.with_suffix(".partial")
    written = count = 0
    with partial.open("w", encoding="utf-8") as out:
        while written < size_bytes:
            line = json.dumps(rollout(count)) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            count += 1
    partial.replace(path)
    count_path.write_text(str(count))
    return path, count
