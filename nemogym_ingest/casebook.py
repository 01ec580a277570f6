"""Writing a spec case: one line of a rollouts file (read through the input layer, converted,
compared with Docent when installed, optionally minimized) made a case of the suite and
written into `spec/cases/GROUP.json`, `golden/ID.json` and `spec/manifest.json`, laid out as
`nemogym_ingest.conformance.suite` reads them (`nemogym-ingest case add` is the command).

Docent's verdict (`nemogym_ingest.verdict`) is taken only when Docent is installed: the
writer works without it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .case_words import bare_reason, default_description, group_description
from .conformance.suite import Suite, read_json
from .convert import row_kind
from .convert.checks import describe
from .docent.settings import DOCENT_VERSION
from .errors import ConversionError, Loc, render_path
from .jsonl import line_content, parse_line
from .jsonvalue import SURROGATE
from .members import ABSENT, ENVIRONMENT_SERVER, FAILURE_CLASS
from .minimize import Keeps, Minimized, group_shape, minimize, problem_kept, transcript_shape
from .model import AgentRun
from .options import ConversionOptions
from .source import InputError, iter_raw_lines, open_source
from .verdict import DocentVerdict, DocentView, Outcome, docent_verdict, outcome_of
from .wording import plural

_I_JSON_INTEGER = 2**53


class CaseError(Exception):
    """The case cannot be added: the message says why and what to do (exit status 2)."""


# --- reading the line ------------------------------------------------------------------------


def line_of_file(path: str, number: int) -> bytes:
    """The content of line `number` of rollouts file `path` (plain or gzip), as the other
    commands read it: without surrounding JSON whitespace (and a BOM on line 1)."""
    try:
        with open_source(path) as source:
            last = 0
            for last, raw in enumerate(iter_raw_lines(source), 1):
                if last == number:
                    content = line_content(raw, number)
                    if not content:
                        raise CaseError(f"{path}:{number}: the line is blank")
                    return content
    except InputError as error:
        raise CaseError(str(error)) from None
    raise CaseError(f"{path}: line {number} is past the end (the file has {last} lines)")


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise CaseError(f"duplicate key {key!r}")
        seen.add(key)
    return dict(pairs)


def parse_rollout(content: bytes, where: str) -> dict[str, Any]:
    """The rollout object of a line, read as the driver reads it (`jsonl.parse_line`, every
    integer exact); a line that is not one JSON object without duplicate keys is refused
    (a JSONL-level case is written by hand as a file case)."""
    by_hand = "add it by hand as a file case under spec/cases/jsonl/ (spec/CONTRIBUTING.md)"
    try:
        rollout = parse_line(content).exact_value(content)
    except ConversionError as error:
        raise CaseError(f"{where}: {error.reason}: {by_hand}") from None
    if not isinstance(rollout, dict):
        kind = describe(rollout)
        raise CaseError(f"{where}: the line is not a JSON object but {kind}: {by_hand}")
    try:  # numbers as text: only the keys matter here
        json.loads(
            content.decode("utf-8"),
            object_pairs_hook=_strict_pairs,
            parse_int=str,
            parse_float=str,
            parse_constant=str,
        )
    except CaseError as error:
        raise CaseError(f"{where}: {error}, which a case file cannot hold: {by_hand}") from None
    return rollout


def i_json_problem(value: Any, loc: Loc = ()) -> str | None:
    """Where and why `value` is not I-JSON (RFC 7493: a lone surrogate, an integer beyond
    ±2^53, NaN or Infinity), or None."""
    where = render_path(loc) or "the rollout"
    if isinstance(value, str):
        return f"{where}: a lone surrogate" if SURROGATE.search(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return f"{where}: an integer beyond ±2^53" if abs(value) > _I_JSON_INTEGER else None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where}: {value!r}, not a JSON number"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and SURROGATE.search(key):
            return f"{where}: a lone surrogate in a key"
        problem = i_json_problem(item, (*loc, key))
        if problem is not None:
            return problem
    return None


# --- minimizing --------------------------------------------------------------------------------


def _assumed(run: AgentRun) -> Any:
    """What a run records of the options it used (`metadata.nemogym.assumed`, R70)."""
    nemogym = run.metadata.get("nemogym")
    return nemogym.get("assumed") if isinstance(nemogym, dict) else None


def outcome_keeper(
    rollout: Any,
    options: ConversionOptions,
    view: DocentView | None,
    declared: tuple[str, ...] = (),
) -> tuple[Keeps, str]:
    """Whether a candidate keeps `rollout`'s outcome, and what is kept, in words.

    A rejection keeps its rule at its path pattern (array indices as `[*]`); an acceptance
    its transcript shape and what it records of the options used (`final of 2 snapshots`
    stays 2 snapshots). With Docent, its verdict too: agreeing, or diverging with the same
    divergences (`declared`, the ones given by `--divergence`, named as given).
    """
    original = outcome_of(rollout, options)
    verdict = docent_verdict(rollout, original, view)

    def same_docent(candidate: Any, outcome: Outcome) -> bool:
        if view is None:
            return True
        again = docent_verdict(candidate, outcome, view)
        return (again.agrees, again.divergence) == (verdict.agrees, verdict.divergence)

    docent = (
        ""
        if view is None
        else ", Docent agreeing"
        if verdict.agrees
        else f", Docent diverging ({_divergence_words(verdict, declared)})"
    )
    if original.error is not None:
        rule, problem = original.error.rule, problem_kept(original.error.reason)
        pattern = render_path(original.error.loc, any_index=True)

        def keeps_rejection(candidate: Any) -> bool:
            outcome = outcome_of(candidate, options)
            return (
                outcome.error is not None
                and outcome.error.rule == rule
                and render_path(outcome.error.loc, any_index=True) == pattern
                and problem_kept(outcome.error.reason) == problem
                and same_docent(candidate, outcome)
            )

        problem_words = f"{rule} at {pattern or '(rollout)'}: {bare_reason(original.error)}"
        return keeps_rejection, f"{problem_words}{docent}"
    assert original.run is not None
    kept = _kept_of(original.run)

    def keeps_shape(candidate: Any) -> bool:
        outcome = outcome_of(candidate, options)
        return (
            outcome.run is not None
            and _kept_of(outcome.run) == kept
            and same_docent(candidate, outcome)
        )

    return keeps_shape, _kept_words(original.run) + docent


def _kept_of(run: AgentRun) -> tuple[Any, ...]:
    """What minimizing an accepted rollout keeps: its transcript shape, its transcript
    groups (R87) and what it records of the options (R70)."""
    return transcript_shape(run), group_shape(run), _assumed(run)


def _kept_words(run: AgentRun) -> str:
    """`_kept_of` in words: `the transcript shape (user, assistant), media: …`."""
    shape, groups, assumed = _kept_of(run)
    roles = ", ".join(role for transcript in shape for role, _, _ in transcript)
    recorded = "".join(f", {name}: {text}" for name, text in (assumed or {}).items())
    if groups[0]:
        recorded += f", {plural(len(groups[0]), 'transcript group')} and their members"
    return f"the transcript shape ({roles}){recorded}"


def _names_the_agent(row: dict[str, Any]) -> bool:
    """Whether the row's `_ng_environment_server` is its agent label (R85): `agent_ref` or
    its `name` is absent or null."""
    agent_ref = row.get("agent_ref")
    return row.get(ENVIRONMENT_SERVER) is not None and (
        agent_ref is None or (isinstance(agent_ref, dict) and agent_ref.get("name") is None)
    )


def members_kept(row: dict[str, Any]) -> dict[Loc, Any]:
    """What makes a NeMo Gym 0.7.0 row a reference case, which minimizing keeps as it is
    (neither dropped nor shortened): the `_ng_environment_server` that names the agent, the
    `_ng_failure_class`, and an episode row's participant roles (R83-R85)."""
    kept: dict[Loc, Any] = {}
    if _names_the_agent(row):
        kept[(ENVIRONMENT_SERVER,)] = row[ENVIRONMENT_SERVER]
    if row.get(FAILURE_CLASS) is not None:
        kept[(FAILURE_CLASS,)] = row[FAILURE_CLASS]
    invocations = row.get("invocations") if row_kind(row) == "episode" else None
    for index, invocation in enumerate(invocations if isinstance(invocations, list) else []):
        if isinstance(invocation, dict) and "role" in invocation:
            kept[("invocations", index, "role")] = invocation["role"]
    return kept


def _at(value: Any, loc: Loc) -> Any:
    """The value at `loc` in `value`, or ABSENT."""
    for segment in loc:
        inside = isinstance(value, dict) or (
            isinstance(value, list) and isinstance(segment, int) and segment < len(value)
        )
        if not inside or (isinstance(value, dict) and segment not in value):
            return ABSENT
        value = value[segment]
    return value


def keeping_members(rollout: Any, keeps: Keeps, kept: str) -> tuple[Keeps, str]:
    """`keeps`, and also `members_kept(rollout)` as they are; `kept` says so in words."""
    members = members_kept(rollout) if isinstance(rollout, dict) else {}
    if not members:
        return keeps, kept

    def keeps_members(candidate: Any) -> bool:
        return all(_at(candidate, loc) == value for loc, value in members.items()) and keeps(
            candidate
        )

    roles = any(loc[0] == "invocations" for loc in members)
    names = [render_path(loc) for loc in members if loc[0] != "invocations"]
    words = ", ".join([*names, *(["the invocation roles"] if roles else [])])
    return keeps_members, f"{kept}; and {words} as they are"


def _divergence_words(verdict: DocentVerdict, declared: tuple[str, ...]) -> str:
    """The divergences a diverging verdict is kept with: told, or else as declared."""
    if verdict.divergence:
        return ", ".join(verdict.divergence)
    return f"{', '.join(declared)}, as given" if declared else "unattributed"


# --- the case's files ----------------------------------------------------------------------------


def golden_text(value: Any) -> str:
    """A golden file's exact text, as the test suite writes it (tests/golden_snapshot.py)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def case_file_text(document: Any) -> str:
    """A case file's (or the manifest's) text in the house format."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _file_mode() -> int:
    """The mode a file created now gets (0o666 less the umask), which mkstemp does not give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def write_all_or_nothing(texts: dict[Path, str]) -> None:
    """Write every file of `texts` or none: each is written beside its target under a
    temporary name, then all are renamed into place; a failure restores what was there."""
    temporaries: dict[Path, Path] = {}
    before = {path: path.read_bytes() if path.is_file() else None for path in texts}
    replaced: list[Path] = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temporaries[path] = Path(name)
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.chmod(name, _FILE_MODE)
        for path, temporary in temporaries.items():
            os.replace(temporary, path)
            replaced.append(path)
    except OSError as error:
        for path in replaced:
            old = before[path]
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink()
                else:
                    path.write_bytes(old)
        raise CaseError(f"cannot write: {error}; nothing written") from None
    finally:
        for temporary in temporaries.values():
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def schema_problems(suite: Suite, document: Any) -> list[str] | None:
    """Where `document` breaks `case.schema.json` (None when jsonschema is not installed)."""
    try:
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - a development tool
    except ImportError:
        return None
    schema = read_json(suite.schema)
    return [
        f"{error.json_path}: {error.message[:200]}"
        for error in Draft202012Validator(schema).iter_errors(document)
    ]


# --- the case ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What `case add` was asked."""

    source: str
    line: int
    case_id: str
    group: str
    rules: tuple[str, ...]
    divergence: tuple[str, ...]
    description: str | None
    options: dict[str, Any] | None
    minimize: bool
    suite: Suite


@dataclass(frozen=True)
class Added:
    """What `add_case` wrote and found."""

    case: dict[str, Any]
    outcome: Outcome
    docent: DocentVerdict
    written: tuple[Path, ...]
    minimized: Minimized | None = None
    kept: str = ""
    cases_now: int | None = None
    validated: bool = True


def _divergence(request: Request, verdict: DocentVerdict) -> tuple[str, ...]:
    if not verdict.compared:
        return request.divergence
    if verdict.agrees:
        if request.divergence:
            raise CaseError(
                f"--divergence {','.join(request.divergence)}: Docent agrees with this case, "
                "so it marks no divergence"
            )
        return ()
    if request.divergence:
        return request.divergence
    if verdict.divergence:
        return verdict.divergence
    kind, value = verdict.theirs
    said = {"run": "accepts it with another payload", "error": f"rejects it at {value!r}"}.get(
        kind, f"fails with {value}"
    )
    raise CaseError(
        f"Docent {DOCENT_VERSION} {said}, and no divergence D1-D7 could be told from the rollout: "
        "say which with --divergence D… (spec/README.md, Divergences), or fix the rule"
    )


def add_case(request: Request, view: DocentView | None) -> Added:
    """Read, convert, compare, minimize when asked, then write the case, its golden file
    (accepted cases) and the manifest's count."""
    where = f"{request.source}:{request.line}"
    rollout = parse_rollout(line_of_file(request.source, request.line), where)
    options = ConversionOptions.from_json(request.options or {})
    view = None if request.options else view  # the suite compares Docent without options only
    if not request.rules and outcome_of(rollout, options).error is None:
        raise CaseError(  # before any minimizing: it keeps the acceptance
            f"{where} is accepted: say which rules it exercises with --rules R…,R… "
            "(spec/README.md); a rejection defaults to the rule it breaks"
        )
    minimized, kept = None, ""
    if request.minimize:
        keeps, kept = outcome_keeper(rollout, options, view, request.divergence)
        keeps, kept = keeping_members(rollout, keeps, kept)
        minimized = minimize(rollout, keeps)
        rollout = minimized.rollout
    problem = i_json_problem(rollout)
    if problem is not None:
        hint = "" if request.minimize else " (--minimize may drop it if the outcome allows)"
        raise CaseError(
            f"{where}: {problem}: case files are I-JSON; add it by hand as a file case under "
            f"spec/cases/jsonl/ (spec/CONTRIBUTING.md){hint}"
        )
    outcome = outcome_of(rollout, options)
    rules = request.rules
    if not rules and outcome.error is not None:
        rules = (outcome.error.rule,)
    verdict = docent_verdict(rollout, outcome, view)
    divergence = _divergence(request, verdict)
    case: dict[str, Any] = {
        "id": request.case_id,
        "description": request.description or default_description(outcome),
        "rules": list(rules),
    }
    if divergence:
        case["divergence"] = list(divergence)
    if request.options:
        case["options"] = request.options
    case["rollout"] = rollout
    case["expect"] = outcome.expect
    return _write(request, case, outcome, verdict, minimized, kept)


def _write(
    request: Request,
    case: dict[str, Any],
    outcome: Outcome,
    verdict: DocentVerdict,
    minimized: Minimized | None,
    kept: str,
) -> Added:
    suite = request.suite
    group_path = suite.cases / f"{request.group}.json"
    if group_path.exists():
        document = read_json(group_path)
        sections = suite.rule_sections()
        generated = document["description"] == group_description(document["cases"], sections)
        document["cases"].append(case)
        if generated:  # written by case add: it names the rules of the cases, now one more
            document["description"] = group_description(document["cases"], sections)
    else:
        document = {
            "group": request.group,
            "description": group_description([case], suite.rule_sections()),
            "cases": [case],
        }
    problems = schema_problems(suite, document)
    if problems:
        raise CaseError(f"{group_path}: the case would break case.schema.json: {problems[0]}")
    texts: dict[Path, str] = {group_path: case_file_text(document)}
    if outcome.run is not None:
        texts[suite.golden / f"{request.case_id}.json"] = golden_text(outcome.run.to_dict())
    manifest_path = suite.manifest
    cases_now = None
    if manifest_path.is_file():
        manifest = read_json(manifest_path)
        cases_now = len(suite.case_ids()) + 1
        manifest["cases"] = cases_now
        texts[manifest_path] = case_file_text(manifest)
    write_all_or_nothing(texts)
    return Added(
        case=case,
        outcome=outcome,
        docent=verdict,
        written=tuple(texts),
        minimized=minimized,
        kept=kept,
        cases_now=cases_now,
        validated=problems is not None,
    )
