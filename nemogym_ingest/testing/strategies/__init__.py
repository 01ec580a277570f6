"""Hypothesis strategies for NeMo Gym rollouts, for any implementation of spec/README.md.

- `valid_rollouts()`: rollouts a conforming converter must accept, in realistic mixes.
- `malformed_rollouts()`: `(rollout, expected_path)` pairs, a valid rollout with exactly one
  violation injected and the path (R50) its rejection must name.
- `mutated_rollouts()`: valid rollouts with arbitrary parts replaced, removed or added.
- `json_values()`: arbitrary JSON, deep nesting included, for fuzzing (R52).
- `valid_episode_rows()`, `malformed_episode_rows()`: the same for NeMo Gym 0.7.0's episode
  rows (R81, R82), one transcript per invocation.
- `failed_attempts()`: NeMo Gym 0.7.0's failure rows without a rollout (R83), which give no
  run; `valid_*` also draw failure rows that carry one (R84), and `malformed_*` failed
  attempts, bad failure rows and rows with two violations in different check-order steps.
- `nemo_gym_rows()`: `(kind, row)`, a row of every kind R80 tells apart.
- `valid_trajectory_rows()`, `malformed_trajectory_rows()`: rollouts carrying NeMo Gym
  0.7.0's `ng_trajectory`, to convert with `trajectory="transcripts"` (R79, R86-R89).

Needs the `testing` extra, Hypothesis (`pip install 'hypothesis>=6.100'`). Everything drawn is a
fresh object: mutate it freely.

This package is the public surface; its modules, one per section, are private (`_json`:
arbitrary JSON; `_items`: realistic items; `_rollouts`: valid rollouts; `_mutations`;
`_malformed`: one violation injected; `_episodes`: NeMo Gym 0.7.0 episode rows and the row
kinds; `_failures`, used by the sections after `_items`: the failures sidecar;
`_trajectories`: rollouts carrying a trajectory), each built only on the ones before it.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  (the sections import Hypothesis; name the extra first)
except ModuleNotFoundError as error:
    raise ImportError(
        f"nemogym_ingest.testing.strategies needs Hypothesis ({error}): "
        "pip install 'hypothesis>=6.100' (the testing extra; in a checkout, uv sync installs it)"
    ) from error

from nemogym_ingest.testing.strategies._episodes import (
    malformed_episode_rows,
    nemo_gym_rows,
    valid_episode_rows,
)
from nemogym_ingest.testing.strategies._failures import failed_attempts
from nemogym_ingest.testing.strategies._json import json_values
from nemogym_ingest.testing.strategies._malformed import malformed_rollouts
from nemogym_ingest.testing.strategies._mutations import mutated_rollouts
from nemogym_ingest.testing.strategies._rollouts import valid_rollouts
from nemogym_ingest.testing.strategies._trajectories import (
    conversation_of,
    malformed_trajectory_rows,
    valid_trajectory_rows,
)

__all__ = [
    "conversation_of",
    "failed_attempts",
    "json_values",
    "malformed_episode_rows",
    "malformed_rollouts",
    "malformed_trajectory_rows",
    "mutated_rollouts",
    "nemo_gym_rows",
    "valid_episode_rows",
    "valid_rollouts",
    "valid_trajectory_rows",
]
