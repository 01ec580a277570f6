"""`nemogym_ingest.docent.to_docent`: our runs as Docent's own pydantic AgentRuns, exactly."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from docent.data_models import AgentRun as DocentAgentRun
from docent.sdk._client_util import validate_no_user_set_ids

from nemogym_ingest import AgentRun, convert_nemogym_rollout_to_agent_run, iter_nemogym_jsonl
from nemogym_ingest.docent import to_docent, to_docent_many
from nemogym_ingest.wire import normalize_payload
from tests.docent_oracle import docent_payload
from tests.test_reference import EXAMPLES
from tests.test_spec_cases import CASES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILE = ROOT / "examples" / "rollouts.jsonl"
ACCEPTING_CASES = [case for case in CASES if case["expect"] in ("agent_run", "agent_runs")]
ACCEPTING_EXAMPLES = [example for example in EXAMPLES if "error" not in example["docent_0_1_88"]]


def assert_exact(run: AgentRun) -> DocentAgentRun:
    """`to_docent(run)` is a Docent AgentRun whose dump is our payload once the ids and
    defaults `normalize_payload` drops are gone (and only then: the raw dump has them)."""
    docent_run = to_docent(run)
    assert isinstance(docent_run, DocentAgentRun)
    assert docent_payload(docent_run) == normalize_payload(run.to_dict())  # group ids: links
    assert docent_run.model_dump(mode="json") != run.to_dict()
    validate_no_user_set_ids([docent_run])  # add_agent_runs would refuse ids we set
    return docent_run


def test_example_file_runs_are_exact() -> None:
    runs = list(iter_nemogym_jsonl(EXAMPLE_FILE))
    assert len(runs) == 5
    for run in runs:
        assert_exact(run)


@pytest.mark.parametrize(
    "example", ACCEPTING_EXAMPLES, ids=[example["name"] for example in ACCEPTING_EXAMPLES]
)
def test_reference_examples_are_exact(example: dict[str, Any]) -> None:
    assert_exact(convert_nemogym_rollout_to_agent_run(copy.deepcopy(example["rollout"])))


@pytest.mark.parametrize("case", ACCEPTING_CASES, ids=[case["id"] for case in ACCEPTING_CASES])
def test_spec_case_outputs_are_exact(case: dict[str, Any]) -> None:
    """Every accepting spec case's golden output (options cases included)."""
    golden = json.loads((ROOT / "golden" / f"{case['id']}.json").read_text(encoding="utf-8"))
    for payload in golden if case["expect"] == "agent_runs" else [golden]:
        run = AgentRun.from_dict(payload)
        assert run.to_dict() == payload
        assert_exact(run)


def test_every_run_gets_fresh_ids_from_docent() -> None:
    runs = list(iter_nemogym_jsonl(EXAMPLE_FILE))
    docent_runs = to_docent_many(runs)
    assert [docent_payload(run) for run in docent_runs] == [run.to_dict() for run in runs]
    ids = [run.id for run in docent_runs] + [
        transcript.id for run in docent_runs for transcript in run.transcripts
    ]
    assert len(set(ids)) == len(ids) == 10
    assert to_docent(runs[0]).id != docent_runs[0].id


def test_to_docent_shares_nothing_with_our_run() -> None:
    run = next(iter_nemogym_jsonl(EXAMPLE_FILE))
    before = run.to_dict()
    docent_run = to_docent(run)
    docent_run.metadata["nemogym"]["task_index"] = -1
    docent_run.transcripts[0].messages[0].content = "changed"
    assert run.to_dict() == before


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_missing_docent_names_the_extra() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['docent'] = None  # as if docent were not installed\n"
        "from nemogym_ingest.docent import to_docent\n"
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: nemogym_ingest.docent needs the docent extra")
    (hint,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["docent"]
    assert f"(Docent's SDK, {hint}): pip install 'nemogym-ingest[docent]'" in last_line
    assert last_line.endswith("; not installed: docent")


def test_upload_without_the_extra_says_to_install_it() -> None:
    """Without Docent's SDK (here: without requests, which it brings), `upload` names the
    extra to install, not the module it found missing first."""
    result = _python(
        "import sys\n"
        "sys.modules['requests'] = None  # as if the extra were not installed\n"
        "from nemogym_ingest.cli import main\n"
        "sys.exit(main(['upload', 'examples/rollouts.jsonl', '--new-collection', 'x']))\n"
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(
        "nemogym-ingest: upload needs the docent extra (Docent's SDK, docent==0.1.88): "
        "pip install 'nemogym-ingest[docent]'"
    )
    assert result.stdout == ""


def test_the_core_and_the_cli_never_import_docent() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['docent'] = None\n"
        "import nemogym_ingest, nemogym_ingest.cli\n"
        "nemogym_ingest.cli.build_parser()\n"
        "print(sorted(name for name in sys.modules if name.startswith('docent')))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['docent']\n"  # only the blocker we put there


def test_the_upload_settings_never_import_docent() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['docent'] = None\n"
        "import nemogym_ingest.docent\n"
        "from nemogym_ingest.docent.settings import DEFAULT_CHUNK_SIZE, UploadSettings\n"
        "UploadSettings(chunk_size=DEFAULT_CHUNK_SIZE).check('collection')\n"
        "print(sorted(name for name in sys.modules if name.startswith('docent')))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['docent']\n"  # only the blocker we put there
