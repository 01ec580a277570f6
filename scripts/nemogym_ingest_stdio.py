"""nemogym-ingest behind the conformance runner's stdin/stdout protocol.

    python scripts/nemogym_ingest_stdio.py [--options JSON]          # one rollout on stdin
    python scripts/nemogym_ingest_stdio.py [--options JSON] FILE     # a JSONL file

Prints the AgentRun payload (for a file: one payload a line) and exits 0, or prints
`{"error": {"path": …, "line": …, "message": …}}` and exits 1 (spec/README.md, "Testing an
implementation"). The runner's `--command` and `--command-file` take this script as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
)
from nemogym_ingest.jsonvalue import parse_json_text


def _options(parser: argparse.ArgumentParser, text: str | None) -> ConversionOptions | None:
    """The `--options` JSON as options; anything else is a usage error (exit status 2)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        parser.error(f"--options: not JSON: {error}")
    try:
        return ConversionOptions.from_json(value, "--options")
    except ValueError as error:  # unknown fields, values not accepted
        parser.error(str(error))


def _convert(args: argparse.Namespace, options: ConversionOptions | None) -> list[AgentRun]:
    if args.file is not None:
        return convert_nemogym_jsonl_file_to_agent_runs(args.file, options=options)
    rollout: Any = parse_json_text(sys.stdin.buffer.read().decode("utf-8"))
    return [convert_nemogym_rollout_to_agent_run(rollout, options=options)]


def main() -> int:
    """Answer one conformance case; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options", metavar="JSON", help="the case's ConversionOptions")
    parser.add_argument("file", nargs="?", metavar="FILE", help="a JSONL file (else stdin)")
    args = parser.parse_args()
    options = _options(parser, args.options)
    try:
        runs = _convert(args, options)
    except ConversionError as error:
        answer: dict[str, Any] = {"rule": error.rule, "path": error.path, "message": error.reason}
        if error.line is not None:
            answer["line"] = error.line
        print(json.dumps({"error": answer}, ensure_ascii=True))
        return 1
    for run in runs:
        print(json.dumps(run.to_dict(), ensure_ascii=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
