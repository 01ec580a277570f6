"""Our AgentRuns as Docent's own (`to_docent`: the Docent model's dump, without the ids and
defaults `normalize_payload` drops, equals our payload), and the drop-ins for Docent's
converters that return them, so Docent's "convert, then `add_agent_runs`" code needs only
its import changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import convert as core_convert
from .. import jsonl as core_jsonl
from ..model import AgentRun
from ..options import OptionsArgument
from ..source import RolloutsSource
from ._sdk import DocentAgentRun
from .groups import docent_run


def to_docent(run: AgentRun) -> DocentAgentRun:
    """`run` as Docent's own pydantic AgentRun, validated from `run.to_dict()`: its
    `model_dump(mode="json")` adds fresh ids, `null` members, `transcript_groups: []` and
    `redacted: false`, which `normalize_payload` drops again. Transcript groups (R87) get
    fresh ids on every call, so no two runs given to Docent share one."""
    return docent_run(run.to_dict())


def to_docent_many(runs: Iterable[AgentRun]) -> list[DocentAgentRun]:
    """`to_docent` of every run, in order."""
    return [to_docent(run) for run in runs]


def convert_nemogym_rollout_to_agent_run(
    rollout: Any, *, options: OptionsArgument = None
) -> DocentAgentRun:
    """`nemogym_ingest.convert_nemogym_rollout_to_agent_run` as Docent's own AgentRun: a
    drop-in for `docent.sdk.integrations.convert_nemogym_rollout_to_agent_run`.

    Raises the core's `ConversionError` (a `ValueError` naming the field) for a rollout that
    cannot be converted exactly.
    """
    return to_docent(core_convert.convert_nemogym_rollout_to_agent_run(rollout, options=options))


def convert_nemogym_jsonl_file_to_agent_runs(
    file_path: RolloutsSource, *, options: OptionsArgument = None
) -> list[DocentAgentRun]:
    """Every run of a NeMo Gym JSONL file as Docent's own AgentRun: a drop-in for
    `docent.sdk.integrations.convert_nemogym_jsonl_file_to_agent_runs`, ready for
    `client.add_agent_runs`.

    Raises the core's `ConversionError` (with `file` and `line`) at the first bad line.
    """
    return to_docent_many(core_jsonl.iter_nemogym_jsonl(file_path, options=options))
