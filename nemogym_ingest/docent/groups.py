"""Our payloads as Docent's own runs, their transcript groups given ids by Docent: a
payload's group ids are local (their paths in the row, the same on every conversion, R87),
and Docent's SDK refuses to upload a group whose id a caller set. Each group is made by
Docent's model, which gives it a fresh id, and the links of the run's transcripts and
child groups are mapped onto it.
"""

from __future__ import annotations

from typing import Any

from ..wire import JsonDict
from ._sdk import DocentAgentRun, DocentTranscriptGroup

_LOCAL = ("id", "parent_transcript_group_id")


def docent_run(payload: JsonDict) -> DocentAgentRun:
    """`payload` as Docent's AgentRun; its transcript groups with ids Docent generated on
    this call, never the payload's (so two conversions of one file never share one)."""
    groups = payload.get("transcript_groups")
    if not groups:
        return DocentAgentRun.model_validate(payload)
    made = {
        group["id"]: DocentTranscriptGroup.model_validate(
            {key: value for key, value in group.items() if key not in _LOCAL}
        )
        for group in groups
    }
    for group in groups:
        parent = made.get(group.get("parent_transcript_group_id"))
        if parent is not None:
            made[group["id"]].parent_transcript_group_id = parent.id
    transcripts: list[Any] = [
        {**transcript, "transcript_group_id": made[transcript["transcript_group_id"]].id}
        if transcript.get("transcript_group_id") in made
        else transcript
        for transcript in payload["transcripts"]
    ]
    return DocentAgentRun.model_validate(
        {**payload, "transcripts": transcripts, "transcript_groups": list(made.values())}
    )
