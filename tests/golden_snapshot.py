"""A syrupy extension storing one golden file per spec case: `golden/<case-id>.json`.

The file is `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\\n"`, so
any implementation can compare its output with it byte for byte after the same dump.
Only `test_golden`, parametrized with the case id as the parameter id, may use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syrupy.data import Snapshot, SnapshotCollection
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from syrupy.location import PyTestLocation
from syrupy.types import SerializableData, SerializedData, SnapshotIndex

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
GOLDEN_TEST = "test_golden"
"""The one test function that uses this extension (snapshot names are `test_golden[<case-id>]`)."""


def golden_text(value: Any) -> str:
    """The exact text of a golden file holding `value`."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def _case_id(test_location: PyTestLocation) -> str:
    """The parametrization id of the test, i.e. the spec case id."""
    nodename = str(test_location.nodename)
    if not nodename.endswith("]") or "[" not in nodename:
        raise ValueError(f"golden snapshots need a test parametrized by case id: {nodename}")
    return nodename[nodename.index("[") + 1 : -1]


class GoldenSnapshotExtension(SingleFileSnapshotExtension):
    """Snapshots as `golden/<case-id>.json`, pretty JSON with sorted keys."""

    _write_mode = WriteMode.TEXT
    file_extension = "json"

    def serialize(self, data: SerializableData, **_: Any) -> SerializedData:
        return golden_text(data)

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN_DIR)

    @classmethod
    def discovery_dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN_DIR)

    @classmethod
    def get_file_basename(cls, *, test_location: PyTestLocation, index: SnapshotIndex) -> str:
        return _case_id(test_location)

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        """The file's one snapshot, named as the test that owns it names it."""
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=f"{GOLDEN_TEST}[{Path(snapshot_location).stem}]"))
        return collection

    @classmethod
    def matches_test_location(
        cls, *, test_location: PyTestLocation, snapshot_location: str
    ) -> bool:
        location = Path(snapshot_location)
        return location.parent == GOLDEN_DIR and (
            not test_location.is_item_parametrized or location.stem == _case_id(test_location)
        )
