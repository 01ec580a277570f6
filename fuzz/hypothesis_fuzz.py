"""Hypothesis fuzzing at scale: only an AgentRun or a ConversionError, for any input.

Targets (each checks that nothing but `ConversionError` escapes, and that every run
serialises to strict JSON equal to its payload):

- `json-values`: arbitrary JSON values, NaN/Infinity/huge integers and 5,000-deep chains
  included, handed to the converter as rollouts.
- `mutated-rollouts`: valid rollouts with up to 3 arbitrary changes anywhere.
- `jsonl-bytes`: JSONL files of mutated rollouts (written with Python's NaN/Infinity
  literals), then broken at the byte level: bytes inserted, replaced or cut, CR/CRLF/BOM,
  repeated keys, deep brackets; read by the JSONL reader, whose error must name a line of
  the file.
- `python-values`: valid rollouts with members replaced by, or objects given keys of,
  values no JSON text gives: tuples, sets, bytes, complex numbers, plain objects, objects
  whose truth value or comparison raises, and references to an enclosing container (cycles).

    uv run python fuzz/hypothesis_fuzz.py --count 100000            # per target
    uv run python fuzz/hypothesis_fuzz.py --seconds 600 --target jsonl-bytes

Prints, per target, the inputs tried, the time taken and the failures (0 expected);
exits 1 on the first failure, after Hypothesis has shrunk it.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    convert_nemogym_rollout_to_agent_run,
    iter_nemogym_jsonl,
)
from nemogym_ingest.testing.strategies import json_values, mutated_rollouts, valid_rollouts

BATCH = 2_000


def check_run(run: AgentRun) -> None:
    """The run's JSON text is strict JSON and reads back as its payload."""
    payload = run.to_dict()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert json.loads(run.to_json()) == payload


def check_rollout(rollout: Any) -> None:
    """Converting `rollout` gives a good run or a ConversionError, nothing else."""
    try:
        run = convert_nemogym_rollout_to_agent_run(rollout)
    except ConversionError as error:
        assert error.reason
        return
    check_run(run)


def check_jsonl(data: bytes) -> None:
    """Reading `data` as a JSONL file gives good runs, then maybe one located error."""
    line_count = data.count(b"\n") + 1
    try:
        for run in iter_nemogym_jsonl(io.BytesIO(data)):
            check_run(run)
    except ConversionError as error:
        assert error.file is None and error.reason  # an unnamed stream
        assert error.line is not None and 1 <= error.line <= line_count


def _line(rollout: Any) -> bytes:
    try:
        return json.dumps(rollout).encode()
    except (RecursionError, ValueError):  # too deep for json.dumps itself
        return b'{"deep": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"


_BYTE_EDITS = st.sampled_from(
    [
        *(b"\r", b"\r\n", b"\n", b"\xef\xbb\xbf", b"\x00", b"\xff", b"\xed\xa0\x80", b'"', b"\\"),
        *(b"[" * 300, b"{", b"}", b",", b'"a": NaN, "a": ', b"1" * 5_000, b" \t", b"\x0c"),
    ]
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    """JSONL files of mutated rollouts, broken at the byte level."""
    lines = [_line(rollout) for rollout in draw(st.lists(mutated_rollouts(), max_size=3))]
    data = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n"])).join(lines)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["insert", "replace", "cut"]))
        if edit == "cut":
            data = data[:position]
            continue
        inserted = draw(_BYTE_EDITS | st.binary(min_size=1, max_size=8))
        end = position + (len(inserted) if edit == "replace" else 0)
        data = data[:position] + inserted + data[end:]
    return data


class Unruly:
    """Refuses truthiness and comparison, as a numpy array or pandas.NA does."""

    def __bool__(self) -> bool:
        raise RuntimeError("truth value is ambiguous")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("comparison is ambiguous")

    __hash__ = object.__hash__


_PYTHON_VALUES = st.one_of(
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.builds(set, st.lists(st.integers(), max_size=2)),
    st.binary(max_size=4),
    st.complex_numbers(max_magnitude=10),
    st.builds(object),
    st.builds(Unruly),
)
_PYTHON_KEYS = st.one_of(
    st.integers(), st.none(), st.tuples(st.integers()), st.binary(max_size=2), st.builds(Unruly)
)


@st.composite
def python_valued_rollouts(draw: st.DrawFn) -> Any:
    """Valid rollouts with up to 3 places given a non-JSON value, key or a cycle."""
    rollout: Any = draw(valid_rollouts())
    containers: list[Any] = [rollout]
    stack: list[Any] = [rollout]
    while stack:
        container = stack.pop()
        for child in container.values() if isinstance(container, dict) else container:
            if isinstance(child, dict | list):
                containers.append(child)
                stack.append(child)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(containers) - 1))
        container = containers[index]
        ancestor = containers[draw(st.integers(0, index))]
        value = draw(_PYTHON_VALUES | st.just(ancestor))
        if isinstance(container, dict):
            keys = list(container)
            replace_a_member: bool = draw(st.booleans())
            if keys and replace_a_member:
                container[draw(st.sampled_from(keys))] = value
            else:
                container[draw(_PYTHON_KEYS | st.text(max_size=4))] = value
        elif container:
            container[draw(st.integers(0, len(container) - 1))] = value
        else:
            container.append(value)
    return rollout


TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
    "json-values": (json_values(non_finite=True), check_rollout),
    "mutated-rollouts": (mutated_rollouts(), check_rollout),
    "jsonl-bytes": (jsonl_files(), check_jsonl),
    "python-values": (python_valued_rollouts(), check_rollout),
}


def fuzz(target: str, count: int | None, seconds: float | None, seed: int | None) -> int:
    """Run `target` until `count` inputs or `seconds` have passed; returns inputs tried."""
    strategy, check = TARGETS[target]
    tried = 0

    def counted(value: Any) -> None:
        nonlocal tried
        tried += 1
        check(value)

    started = time.monotonic()
    batch_index = 0
    while (count is None or tried < count) and (
        seconds is None or time.monotonic() - started < seconds
    ):
        batch = BATCH if count is None else min(BATCH, count - tried)
        run_batch = settings(
            max_examples=batch,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(counted))
        if seed is not None:
            run_batch = fixed_seed(seed + batch_index)(run_batch)
        before = tried
        run_batch()
        batch_index += 1
        if tried == before:  # the strategy cannot produce more distinct inputs
            break
    return tried


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--count", type=int, help="inputs per target")
    parser.add_argument("--seconds", type=float, help="time per target")
    parser.add_argument("--seed", type=int, help="derandomise (seed, seed + 1, ... per batch)")
    args = parser.parse_args(argv)
    if args.count is None and args.seconds is None:
        parser.error("give --count and/or --seconds")
    targets = list(TARGETS) if args.target == "all" else [args.target]
    for target in targets:
        started = time.monotonic()
        try:
            tried = fuzz(target, args.count, args.seconds, args.seed)
        except Exception:  # the falsifying example is printed by Hypothesis above
            print(f"{target}: FAILED after {time.monotonic() - started:.0f} s", flush=True)
            raise
        elapsed = time.monotonic() - started
        print(
            f"{target}: {tried:,} inputs in {elapsed:,.0f} s, 0 exceptions other than "
            "ConversionError",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
