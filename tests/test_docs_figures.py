"""Every figure README.md and spec/CONTRIBUTING.md print is what the command prints today:
the conformance tallies and the first failure shown for Docent (run live), and the whole
`case add` transcript (run on a copy of the suite, as in a checkout). The expected figures
come from the commands and the suite, so they stay right as the suite grows."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from nemogym_ingest.cli import main
from nemogym_ingest.commands import case as case_command
from nemogym_ingest.conformance.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "spec" / "CONTRIBUTING.md"


def transcripts(path: Path, command: str) -> list[tuple[list[str], list[str]]]:
    """Each `$ nemogym-ingest COMMAND …` shown in `path`'s indented blocks: its words (the
    continuation lines joined) and the lines it prints, up to the next `$` or the block's end."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[tuple[list[str], list[str]]] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        at += 1
        if not line.startswith(f"    $ nemogym-ingest {command}"):
            continue
        text = line[6:]
        while text.endswith("\\"):
            text, at = text[:-1] + lines[at].strip(), at + 1
        printed = []
        while (
            at < len(lines) and lines[at].startswith("    ") and not lines[at][4:].startswith("$")
        ):
            printed.append(lines[at][4:])
            at += 1
        found.append((shlex.split(text)[1:], printed))
    return found


def test_the_stdio_tally_is_the_suite_s_size() -> None:
    (stdio, _docent) = transcripts(README, "conformance")
    assert "--command" in stdio[0]
    today = f"{len(load_suite(ROOT / 'spec'))} passed, 0 failed, 0 skipped"
    assert stdio[1] == [today], f"README.md: the stdio tally is {today} today"


def test_the_docent_run_shows_what_the_runner_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (_stdio, (words, printed)) = transcripts(README, "conformance")
    assert "docent.sdk.integrations:convert_nemogym_rollout_to_agent_run" in words
    monkeypatch.chdir(ROOT)
    assert main(words) == 1
    output = capsys.readouterr().out.splitlines()
    first_failure = next(line for line in output if line.startswith("FAIL "))
    assert printed == [first_failure, "…", output[-1]], "README.md: update the Docent run to this"


@pytest.mark.parametrize("document", [README, CONTRIBUTING], ids=["README", "CONTRIBUTING"])
def test_the_case_add_transcript_is_what_case_add_prints(
    document: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run in a copy of the checkout (under git, its spec/ the default), from its root."""
    ((words, printed),) = transcripts(document, "case add")
    for name in ("spec", "golden", "examples", "tests"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    (tmp_path / ".git").mkdir()
    monkeypatch.setattr(case_command, "checkout_spec_dir", lambda: tmp_path / "spec")
    monkeypatch.chdir(tmp_path)
    assert main(words) == 0
    today = capsys.readouterr().out.splitlines()
    assert today == printed, f"{document.name}: case add prints this today:\n" + "\n".join(today)
