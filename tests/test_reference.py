"""The hand-written reference examples (tests/data/docent-0.1.88-examples.json) and Docent
0.1.88's outputs for them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nemogym_ingest import AgentRun, ConversionError, convert_nemogym_rollout_to_agent_run
from tests.docent_oracle import (
    DocentConversionError,
    docent_convert,
    docent_error_path,
    docent_payload,
    validate_on_docent,
)

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "docent-0.1.88-examples.json"
EXAMPLES: list[dict[str, Any]] = json.loads(REFERENCE.read_text(encoding="utf-8"))
# The examples whose description names the divergence our output deliberately takes.
DIVERGENT = {"docent_glues_messages": "D2", "docent_drops_reasoning_content": "D1"}


def _strip_dump_defaults(payload: dict[str, Any]) -> dict[str, Any]:
    """The reference dump without the model defaults a wire payload omits."""
    payload = json.loads(json.dumps(payload))
    payload.pop("transcript_groups", None)
    for transcript in payload["transcripts"]:
        for message in transcript["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("redacted") is False:
                    del block["redacted"]
    return payload


@pytest.mark.parametrize("example", EXAMPLES, ids=[example["name"] for example in EXAMPLES])
def test_reference_example(example: dict[str, Any]) -> None:
    """Each converter gets its own deep copy of the shared example, which stays untouched."""
    expected = example["docent_0_1_88"]
    rollout = example["rollout"]
    pristine = copy.deepcopy(rollout)
    if "error" in expected:
        with pytest.raises(ConversionError) as caught:
            convert_nemogym_rollout_to_agent_run(copy.deepcopy(rollout))
        with pytest.raises(DocentConversionError) as docent_caught:
            docent_convert(copy.deepcopy(rollout))
        assert str(docent_caught.value) == expected["error"]
        assert caught.value.path == docent_error_path(docent_caught.value)
        assert rollout == pristine
        return
    payload = convert_nemogym_rollout_to_agent_run(copy.deepcopy(rollout)).to_dict()
    assert validate_on_docent(payload) == payload
    assert AgentRun.from_dict(payload).to_dict() == payload
    reference = _strip_dump_defaults(expected["agent_run"])
    assert docent_payload(docent_convert(copy.deepcopy(rollout))) == reference
    if example["name"] in DIVERGENT:
        assert payload != reference, f"{DIVERGENT[example['name']]} should change this example"
    else:
        assert payload == reference
    assert rollout == pristine
