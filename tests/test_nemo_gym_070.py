"""NeMo Gym 0.7.0's files end to end (R80-R85): the wheel's real nemo_user_sim episode rows,
a failures sidecar and task inputs, through the library, `convert` and `check`, and the
totals `check` and `convert` give."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from docent.data_models import AgentRun as DocentAgentRun

from nemogym_ingest import FailedAttempt, iter_nemogym_jsonl, iter_nemogym_jsonl_results
from nemogym_ingest.cli import main
from nemogym_ingest.convert import convert_row
from nemogym_ingest.options import ConversionOptions
from tests.test_convert import make_rollout

DATA = Path(__file__).resolve().parent / "data" / "nemo-gym-0.7.0"
USERSIM = DATA / "nemo_user_sim_example_rollouts.jsonl.gz"
TASK_INPUTS = DATA / "blackjack_example_rollouts_materialized_inputs.jsonl"
SIDECAR = Path(__file__).resolve().parent.parent / "spec/cases/jsonl/jsonl-failures-sidecar.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]


def _output_texts(response: dict[str, Any]) -> list[str]:
    return [
        part["text"]
        for item in response["output"]
        if item.get("type") == "message"
        for part in item["content"]
        if part.get("type") == "output_text" and part["text"]
    ]


def _message_texts(transcript: dict[str, Any]) -> str:
    texts = []
    for message in transcript["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts += [block["text"] for block in blocks if block["type"] == "text"]
    return "\n".join(texts)


def test_the_usersim_rows_convert_strictly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wheel's 5 episode rows: 5 runs, a transcript per invocation in sequence order
    naming its role, every output text there, the reward a score, the environment server
    the agent; Docent's own model takes each payload."""
    output = tmp_path / "runs.jsonl"
    assert main(["convert", "-q", str(USERSIM), "-o", str(output)]) == 0
    assert capsys.readouterr().err == ""
    runs = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    rows = _rows(USERSIM)
    assert len(runs) == len(rows) == 5
    for row, run in zip(rows, runs, strict=True):
        server = row["_ng_environment_server"]
        assert run["name"] == f"{server}/task/{row['_ng_task_index']}/rollout/0"
        assert run["metadata"]["nemogym"]["agent_name_from"] == "_ng_environment_server"
        assert run["metadata"]["scores"] == {"reward": row["reward"]}
        invocations = sorted(row["invocations"], key=lambda invocation: invocation["sequence"])
        assert [t["name"] for t in run["transcripts"]] == [
            f"{invocation['sequence']}: {invocation['role']}" for invocation in invocations
        ]
        for invocation, transcript in zip(invocations, run["transcripts"], strict=True):
            texts = _message_texts(transcript)
            assert all(text in texts for text in _output_texts(invocation["response"]))
            recorded = transcript["metadata"]["invocation"]
            assert (recorded["sequence"], recorded["role"]) == (
                invocation["sequence"],
                invocation["role"],
            )
            assert recorded.get("termination_reason") == invocation["termination_reason"]
        DocentAgentRun.model_validate(run)
    roles = {t["name"].split(": ")[1] for run in runs for t in run["transcripts"]}
    assert roles == {"user", "assistant", "judge", "summary"}


def test_a_failures_sidecar_reads_as_failed_attempts_and_runs() -> None:
    results = list(iter_nemogym_jsonl_results(SIDECAR))
    assert [result.kind for result in results] == [
        "failed_attempt",
        "rollout",
        "failed_attempt",
        "rollout",
    ]
    attempts = [result.failure for result in results if result.failure is not None]
    assert [(a.failure_class, a.line, a.file) for a in attempts] == [
        ("agent_request_failed", 1, str(SIDECAR)),
        ("environment_server_failed", 3, str(SIDECAR)),
    ]
    assert all(result.error is None for result in results)
    assert (
        str(attempts[1]) == f"{SIDECAR}:3: failed attempt (environment_server_failed), no message"
    )
    runs = list(iter_nemogym_jsonl(SIDECAR))  # failed attempts give no run and do not stop it
    failures = [run.metadata["nemogym"]["failure"] for run in runs]
    assert [failure["class"] for failure in failures] == ["judge_failed", "timeout_exceeded"]
    assert all("scores" not in run.metadata for run in runs)
    assert isinstance(attempts[0], FailedAttempt)


def test_check_sums_failed_attempts_per_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar = tmp_path / "rollouts_failures.jsonl"
    attempt = {"_ng_failure_class": "agent_run_error", "_ng_failure_message": "HTTP 500"}
    sidecar.write_bytes(SIDECAR.read_bytes() + (json.dumps(attempt) + "\n").encode())
    assert main(["check", "-q", str(sidecar)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{sidecar}: 3 failed attempts without a rollout, nothing to convert "
        "(1 agent_request_failed, 1 environment_server_failed, 1 agent_run_error)"
    )
    assert out[1] == (
        "checked 1 file: 5 lines, 2 converted, 0 rejected, 3 failed attempts, 0 blank"
    )
    assert out[2] == "failed attempts by class (failure rows without a rollout):"
    assert out[5].endswith(f"failed attempt (agent_run_error): HTTP 500  (first: {sidecar}:5)")
    assert main(["check", "-q", "--format", "json", str(sidecar)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["converted"], report["rejected"], report["failed_attempts"]) == (2, 0, 3)
    assert [(group["class"], group["count"]) for group in report["failed_attempts_by_class"]] == [
        ("agent_request_failed", 1),
        ("environment_server_failed", 1),
        ("agent_run_error", 1),
    ]
    assert report["failed_attempts_by_class"][2]["first"] == {"file": str(sidecar), "line": 5}


def test_convert_writes_the_runs_of_a_sidecar_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "runs.jsonl"
    assert main(["convert", "-q", str(SIDECAR), "-o", str(output)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"{SIDECAR}: 2 failed attempts without a rollout, nothing to convert "
        "(1 agent_request_failed, 1 environment_server_failed)"
    ]
    assert len(output.read_text(encoding="utf-8").splitlines()) == 2


TASK_INPUTS_LINE = (
    "NeMo Gym task inputs (5 rows with responses_create_params and no response): nothing to convert"
)


@pytest.mark.parametrize("command", ["check", "convert"])
def test_a_task_inputs_file_gets_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [command, "-q", str(TASK_INPUTS)]
    assert main(args + (["-o", str(tmp_path / "o.jsonl")] if command == "convert" else [])) == 1
    captured = capsys.readouterr()
    lines = (captured.out if command == "check" else captured.err).splitlines()
    assert lines[0] == f"{TASK_INPUTS}: {TASK_INPUTS_LINE}"
    assert not any(line.startswith(f"{TASK_INPUTS}:") for line in lines[1:])
    assert not (tmp_path / "o.jsonl").exists()


def test_rejected_counts_only_rollout_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check`'s rejected equals the sum of its reasons, and `convert --keep-going` counts
    the same lines: those of files that hold no rollout are counted apart."""
    broken = tmp_path / "broken.jsonl"
    rows = [make_rollout(), {"response": {"output": []}}, make_rollout(_ng_rollout_index=1)]
    broken.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    files = [str(TASK_INPUTS), str(broken), str(SIDECAR)]
    assert main(["check", "-q", "--format", "json", *files]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["rejected"] == sum(group["count"] for group in report["rejected_by_reason"]) == 1
    assert (report["not_rollout_lines"], report["failed_attempts"], report["converted"]) == (
        5,
        2,
        4,
    )
    assert report["lines"] == 5 + 3 + 4
    assert [tally["not_rollout_lines"] for tally in report["files"]] == [5, 0, 0]
    assert main(["check", "-q", *files]) == 1
    summary = [line for line in capsys.readouterr().out.splitlines() if line.startswith("checked")]
    assert summary == [
        "checked 3 files: 12 lines, 4 converted, 1 rejected, 2 failed attempts, "
        "5 in files not rollouts, 0 blank"
    ]
    output = tmp_path / "runs.jsonl"
    assert main(["convert", "-q", "-k", *files, "-o", str(output)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"nemogym-ingest: wrote 4 runs to {output}; skipped 1 of 3 inputs, which holds no "
        "rollout; 1 of 5 rollout lines rejected"
    )
    assert len(output.read_text(encoding="utf-8").splitlines()) == 4


def test_case_add_attributes_d7_to_the_rows_docent_cannot_read() -> None:
    """`case add` names D7 for every rollout case marked with it, and for none marked with
    another divergence (it asks only where Docent differs)."""
    from nemogym_ingest import ConversionOptions
    from nemogym_ingest.conformance import default_spec_dir, load_suite
    from nemogym_ingest.verdict import attribute_divergence, outcome_of

    spec = default_spec_dir()
    assert spec is not None
    suite = load_suite(spec)
    cases = [
        case for case in suite if case.rollout is not None and not case.options and case.divergence
    ]
    assert len(cases) > 50
    for case in cases:
        outcome = outcome_of(case.rollout, ConversionOptions())
        named = attribute_divergence(case.rollout, outcome, ("error", "responses_create_params"))
        assert ("D7" in named) == ("D7" in case.divergence), case.id


def test_metadata_invocation_holds_the_other_members_then_the_trimmed_exchange() -> None:
    """A real row's invocations (sequence, role, request, response, then observations,
    state_after, termination_reason): `metadata.invocation` holds the members other than
    request and response in document order, a member after `response` included, then the
    request without `input` and the response without `output` (R82). Copying the
    invocation whole and then overwriting request and response would keep them where they
    stand, before the later members."""
    row = _rows(USERSIM)[0]
    for invocation in row["invocations"]:
        invocation["latency_ms"] = 1250
        invocation["observations"] = {"gaps": [{"kind": "multimodal_history_redacted"}]}
    payload = convert_row(row, ConversionOptions(), line=None).payload
    for invocation, transcript in zip(row["invocations"], payload["transcripts"], strict=True):
        record = transcript["metadata"]["invocation"]
        others = [key for key in invocation if key not in ("request", "response")]
        kept = [key for key in others if invocation[key] is not None]
        assert list(record) == [*kept, "request", "response"], transcript["name"]
        assert "observations" in kept and "latency_ms" in kept
        assert "input" not in record["request"] and "output" not in record["response"]
        assert record["response"]["id"] == invocation["response"]["id"]
