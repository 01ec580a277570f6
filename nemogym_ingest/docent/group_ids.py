"""Fresh transcript group ids for Docent: a payload's groups carry local ids (their paths in
the row, the same on every conversion, R87), which Docent would store as they are, so two
uploads of one file would collide. Each run sent to Docent gets new ids, mapped
consistently onto its transcripts and child groups. Docent-free.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ..wire import JsonDict


def with_fresh_group_ids(
    payload: JsonDict, new_id: Callable[[], str] = lambda: str(uuid.uuid4())
) -> JsonDict:
    """`payload` with each transcript group's local id replaced by `new_id()`, in its
    transcripts' `transcript_group_id` and its groups' `parent_transcript_group_id` too.

    A payload without groups is returned as it is; otherwise only the run, its groups and
    the transcripts in a group are new objects (the rest is shared, never modified)."""
    groups = payload.get("transcript_groups")
    if not groups:
        return payload
    fresh = {group["id"]: new_id() for group in groups}

    def mapped(member: str, holder: JsonDict) -> JsonDict:
        local = holder.get(member)
        return holder if local is None else {**holder, member: fresh.get(local, local)}

    return {
        **payload,
        "transcripts": [
            mapped("transcript_group_id", transcript) for transcript in payload["transcripts"]
        ],
        "transcript_groups": [
            {**mapped("parent_transcript_group_id", group), "id": fresh[group["id"]]}
            for group in groups
        ],
    }
