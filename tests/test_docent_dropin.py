"""`nemogym_ingest.docent`'s drop-ins for Docent's converters: Docent's own upload snippet
runs with only its import changed, against the fake Docent API of tests/fake_docent_server.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docent.data_models import AgentRun as DocentAgentRun
from docent.sdk.integrations import convert_nemogym_jsonl_file_to_agent_runs as docent_file

import nemogym_ingest
from nemogym_ingest import ConversionError, ConversionOptions
from nemogym_ingest.docent import (
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
    to_docent,
)
from nemogym_ingest.jsonvalue import parsed_too_deep
from tests.docent_oracle import docent_payload
from tests.fake_docent_server import FakeDocentServer, point_sdk_at, wire_payload
from tests.golden_snapshot import GOLDEN_DIR
from tests.test_spec_cases import CASES, fresh_rollout

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COLLECTION_ID = "nemo-gym-collection"

# Docent's documentation ("After conversion, upload normally"), its import line changed
# from `docent.sdk.integrations` to `nemogym_ingest.docent`. README shows it as it is here.
SNIPPET = """\
from docent import Docent
from nemogym_ingest.docent import convert_nemogym_jsonl_file_to_agent_runs

client = Docent()
agent_runs = convert_nemogym_jsonl_file_to_agent_runs("rollouts.jsonl")
client.add_agent_runs(collection_id, agent_runs)
"""

# Every accepting rollout case without options: one line each of the snippet's file.
ROLLOUT_CASES = [
    case
    for case in CASES
    if case["expect"] == "agent_run"
    and "options" not in case
    # a rollout nested deeper than 200 levels converts only given whole, never as a line (R64)
    and not parsed_too_deep(json.dumps(case["rollout"]), case["rollout"])
]


# The rows Docent 0.1.88's file reader can read at all: not NeMo Gym 0.7.0's (D7).
DOCENT_READABLE_CASES = [case for case in ROLLOUT_CASES if "D7" not in case.get("divergence", [])]


def _golden(case: dict[str, Any]) -> Any:
    return json.loads((GOLDEN_DIR / f"{case['id']}.json").read_text(encoding="utf-8"))


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeDocentServer]:
    """The fake API, and the SDK configured for it by environment alone, in an empty cwd
    and HOME (no docent.env is found)."""
    fake = FakeDocentServer()
    fake.add_collection(COLLECTION_ID)
    fake.start()
    point_sdk_at(fake, monkeypatch, tmp_path)
    yield fake
    fake.stop()
    assert fake.unexpected == [], "the SDK called endpoints the fake does not implement"


def test_docents_upload_snippet_runs_with_only_the_import_changed(
    server: FakeDocentServer, tmp_path: Path
) -> None:
    """Every run arrives, in order: as Docent's own conversion where no divergence applies,
    as our golden payload everywhere."""
    lines = [json.dumps(fresh_rollout(case)) for case in DOCENT_READABLE_CASES]
    (tmp_path / "rollouts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    exec(SNIPPET, {"collection_id": COLLECTION_ID})

    arrived = [wire_payload(run) for run in server.collections[COLLECTION_ID].runs]
    assert len(arrived) == len(DOCENT_READABLE_CASES) > 50
    docents = [docent_payload(run) for run in docent_file(tmp_path / "rollouts.jsonl")]
    agreeing = 0
    for case, payload, docents_payload in zip(DOCENT_READABLE_CASES, arrived, docents, strict=True):
        assert payload == _golden(case), case["id"]
        if not case.get("divergence"):
            assert payload == docents_payload, case["id"]
            agreeing += 1
    assert agreeing > 50


def test_readme_shows_the_snippet_as_the_test_runs_it() -> None:
    assert SNIPPET in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ROLLOUT_CASES, ids=[case["id"] for case in ROLLOUT_CASES])
def test_rollout_drop_in_is_docents_model_with_our_payload(case: dict[str, Any]) -> None:
    run = convert_nemogym_rollout_to_agent_run(fresh_rollout(case))
    assert isinstance(run, DocentAgentRun)
    assert docent_payload(run) == _golden(case)


def test_drop_ins_raise_the_cores_errors(tmp_path: Path) -> None:
    bad: dict[str, Any] = {"response": {"output": []}}
    with pytest.raises(ConversionError) as ours:
        convert_nemogym_rollout_to_agent_run(bad)
    with pytest.raises(ConversionError) as cores:
        nemogym_ingest.convert_nemogym_rollout_to_agent_run(bad)
    assert (ours.value.path, ours.value.reason) == (cores.value.path, cores.value.reason)

    good = json.dumps(fresh_rollout(ROLLOUT_CASES[0]))
    path = tmp_path / "rollouts.jsonl"
    path.write_text(f"{good}\n{json.dumps(bad)}\n", encoding="utf-8")
    with pytest.raises(ConversionError) as file_error:
        convert_nemogym_jsonl_file_to_agent_runs(path)
    assert (file_error.value.file, file_error.value.line) == (str(path), 2)
    assert str(file_error.value) == str(ours.value.located(file=str(path), line=2))
    with pytest.raises(ConversionError, match="cannot read file"):
        convert_nemogym_jsonl_file_to_agent_runs(tmp_path / "missing.jsonl")


def test_drop_ins_take_options(tmp_path: Path) -> None:
    (case,) = [case for case in CASES if case["id"] == "agent-ref-missing"]
    rollout = fresh_rollout(case)
    options = ConversionOptions(agent_name="fallback")
    core_run = nemogym_ingest.convert_nemogym_rollout_to_agent_run(rollout, options=options)
    expected = docent_payload(to_docent(core_run))
    assert (
        docent_payload(convert_nemogym_rollout_to_agent_run(rollout, options=options)) == expected
    )
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(rollout) + "\n", encoding="utf-8")
    (run,) = convert_nemogym_jsonl_file_to_agent_runs(path, options=options)
    assert docent_payload(run) == expected
