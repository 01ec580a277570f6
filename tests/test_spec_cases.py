"""The language-neutral spec suite: every case of `spec/cases/*.json` against `golden/`,
its own `expect`, Docent 0.1.88 (the baseline) and the rules of `spec/README.md`.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from functools import cache
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from docent.sdk.integrations import convert_nemogym_jsonl_file_to_agent_runs as docent_file
from jsonschema import Draft202012Validator
from syrupy.assertion import SnapshotAssertion

import nemogym_ingest
from nemogym_ingest import (
    AgentRun,
    ConversionError,
    ConversionOptions,
    convert_nemogym_jsonl_file_to_agent_runs,
    convert_nemogym_rollout_to_agent_run,
    errors,
    iter_nemogym_jsonl,
)
from nemogym_ingest.convert import row_kind
from nemogym_ingest.errors import Loc
from nemogym_ingest.jsonl import line_content
from nemogym_ingest.wire import normalize_payload
from tests.docent_oracle import (
    DocentConversionError,
    docent_convert_payload,
    docent_error_path,
    docent_payload,
    validate_on_docent,
)
from tests.golden_snapshot import GOLDEN_DIR, GoldenSnapshotExtension

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
CASES_DIR = SPEC_DIR / "cases"
SPEC_README = SPEC_DIR / "README.md"
CASE_SCHEMA = SPEC_DIR / "case.schema.json"
PACKAGE_DIR = Path(nemogym_ingest.__file__).resolve().parent

Case = dict[str, Any]


def _load_cases() -> list[Case]:
    cases: list[Case] = []
    for case_file in sorted(CASES_DIR.glob("*.json")):
        group = json.loads(case_file.read_text(encoding="utf-8"))
        for case in group["cases"]:
            cases.append({**case, "_source": case_file.name})
    return cases


CASES = _load_cases()
CASES_BY_ID = {case["id"]: case for case in CASES}


@cache
def _case_file_text(name: str) -> str:
    return (CASES_DIR / name).read_text(encoding="utf-8")


def fresh_rollout(case: Case) -> Any:
    """`case`'s rollout as its case file holds it, loaded anew: no test can have touched it."""
    group = json.loads(_case_file_text(case["_source"]))
    (rollout,) = [fresh["rollout"] for fresh in group["cases"] if fresh["id"] == case["id"]]
    return rollout


def _parametrize(cases: list[Case]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases, ids=[case["id"] for case in cases])


def _is_rejecting(case: Case) -> bool:
    return isinstance(case["expect"], dict)


# --- running a case ----------------------------------------------------------------------


def _error_value(error: ConversionError, *, with_line: bool) -> dict[str, Any]:
    value: dict[str, Any] = {"rule": error.rule, "path": error.path, "message": error.reason}
    if with_line:
        value["line"] = error.line
    return {"error": value}


def convert_case(case: Case) -> Any:
    """The golden value of `case`: the payload (a list of them for a JSONL file), or the error.

    Every conversion of the suite goes through here, on the rollout loaded anew from the
    case file (a deep copy), so a converter that modifies its input cannot change what later
    tests see.
    """
    options = ConversionOptions(**case.get("options", {}))
    if "file" in case:
        path = CASES_DIR / case["file"]
        try:
            return [
                _source_file_as_named(run.to_dict(), str(path), case["file"])
                for run in iter_nemogym_jsonl(path, options=options)
            ]
        except ConversionError as error:
            return _error_value(error, with_line=True)
    try:
        rollout = fresh_rollout(case)
        return convert_nemogym_rollout_to_agent_run(rollout, options=options).to_dict()
    except ConversionError as error:
        return _error_value(error, with_line=False)


def _source_file_as_named(payload: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    """The payload with its recorded source file (R91) `path` read as the case names its
    file, as the conformance runner reads it (spec/README.md, "What is compared")."""
    source = payload["metadata"]["source"]
    if source.get("file") == path:
        source["file"] = name
    return payload


def _docent_outcome(case: Case) -> Any:
    """Docent's result for `case`, in the same form as `convert_case`'s (errors: path and line)."""
    if "file" in case:
        path = CASES_DIR / case["file"]
        try:
            return [docent_payload(run) for run in docent_file(path)]
        except DocentConversionError as error:
            return {"error": _docent_file_error(error, str(path))}
    try:
        return docent_convert_payload(fresh_rollout(case))
    except DocentConversionError as error:
        return {"error": {"path": docent_error_path(error)}}


_DOCENT_LINE_ERROR = re.compile(
    r"(?:invalid JSON on line (?P<json>\d+) \(|line (?P<object>\d+) must be a JSON object rollout$"
    r"|line (?P<rollout>\d+): )"
)


def _docent_file_error(error: Exception, file: str) -> dict[str, Any]:
    """The line and path named by Docent's file-level error message."""
    message = str(error)
    assert message.startswith(f"{file}: "), message
    rest = message[len(file) + 2 :]
    match = _DOCENT_LINE_ERROR.match(rest)
    assert match is not None, message
    if match["rollout"] is not None:
        inner = DocentConversionError(rest[match.end() :])
        return {"line": int(match["rollout"]), "path": docent_error_path(inner)}
    return {"line": int(match["json"] or match["object"]), "path": ""}


# --- per-case tests ----------------------------------------------------------------------


@pytest.fixture
def golden(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(GoldenSnapshotExtension)


@_parametrize([case for case in CASES if not _is_rejecting(case)])
def test_golden(case: Case, golden: SnapshotAssertion) -> None:
    """An accepted case's payload (payloads) equals `golden/<case-id>.json`
    (`--snapshot-update` rewrites it); a rejecting case's verdict is in the case itself."""
    assert convert_case(case) == golden


@_parametrize(CASES)
def test_expect(case: Case) -> None:
    """The outcome is what the case's `expect` says: a run (runs) or the named error."""
    outcome = convert_case(case)
    expect = case["expect"]
    if _is_rejecting(case):
        assert "error" in outcome, f"accepted, expected {expect}"
        assert {key: outcome["error"].get(key) for key in expect["error"]} == expect["error"]
        assert outcome["error"]["message"]
        return
    if "file" in case:
        assert expect == "agent_runs"
        assert isinstance(outcome, list), outcome
        payloads = outcome
    else:
        assert expect == "agent_run"
        assert "error" not in outcome, outcome
        payloads = [outcome]
    for payload in payloads:  # group ids compare as the links they make (R87)
        assert validate_on_docent(payload) == normalize_payload(payload)
        assert AgentRun.from_dict(payload).to_dict() == payload


@_parametrize([case for case in CASES if "file" in case])
def test_file_api_agrees_with_the_lazy_reader(case: Case) -> None:
    """`convert_nemogym_jsonl_file_to_agent_runs` gives what `iter_nemogym_jsonl` gives."""
    path = CASES_DIR / case["file"]
    options = ConversionOptions(**case.get("options", {}))
    try:
        outcome: Any = [
            _source_file_as_named(run.to_dict(), str(path), case["file"])
            for run in convert_nemogym_jsonl_file_to_agent_runs(path, options=options)
        ]
    except ConversionError as error:
        outcome = _error_value(error, with_line=True)
    assert outcome == convert_case(case)


@_parametrize([case for case in CASES if "rollout" in case])
def test_input_untouched(case: Case) -> None:
    """Converting the rollout, accepted or rejected, leaves it as the case file has it (R47)."""
    rollout = fresh_rollout(case)
    with contextlib.suppress(ConversionError):
        convert_nemogym_rollout_to_agent_run(
            rollout, options=ConversionOptions(**case.get("options", {}))
        )
    assert rollout == fresh_rollout(case)


@_parametrize([case for case in CASES if "rollout" in case and not _is_rejecting(case)])
def test_same_payload_and_no_shared_objects(case: Case) -> None:
    """The same rollout gives the same payload (R46), and the AgentRun shares no mutable
    object with it (R47)."""
    rollout = fresh_rollout(case)
    run = convert_nemogym_rollout_to_agent_run(
        rollout, options=ConversionOptions(**case.get("options", {}))
    )
    payload = run.to_dict()
    assert payload == convert_case(case)
    _scramble(rollout)
    assert run.to_dict() == payload


def _scramble(value: Any) -> None:
    """Overwrite every array element and object member inside `value`, depth first."""
    if isinstance(value, dict):
        for key, child in value.items():
            _scramble(child)
            value[key] = "scrambled"
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _scramble(child)
            value[index] = "scrambled"


@_parametrize([case for case in CASES if "options" not in case])
def test_docent_baseline(case: Case) -> None:
    """Docent 0.1.88 agrees (same payload, or same rejection path and line) unless a
    divergence is marked; a marked divergence must really be one."""
    ours = convert_case(case)
    if "error" in ours:
        ours = {  # Docent reports no rules
            "error": {
                key: value for key, value in ours["error"].items() if key not in ("message", "rule")
            }
        }
    try:
        theirs = _docent_outcome(case)
    except Exception as error:  # any other failure of Docent is a difference
        assert case.get("divergence"), f"Docent raised {error!r} where no divergence is marked"
        return
    if case.get("divergence"):
        assert theirs != ours, f"marked {case['divergence']} but Docent agrees"
    else:
        assert theirs == ours


def _runs_before(data: bytes, line: int) -> int:
    """How many non-blank lines of `data` before line `line` hold a row that is not a failed
    attempt (which gives no run, R83)."""
    raw_lines = data.split(b"\n")[: line - 1]
    return sum(
        1
        for number, raw in enumerate(raw_lines, 1)
        if line_content(raw, number) and row_kind(json.loads(raw)) != "failed_attempt"
    )


@_parametrize([case for case in CASES if "file" in case and _is_rejecting(case)])
def test_jsonl_stops_at_the_first_bad_line(case: Case) -> None:
    """The lazy reader yields every earlier line's run, then raises at the bad line (R66);
    an earlier failed attempt gives none (R83)."""
    path = CASES_DIR / case["file"]
    runs = iter_nemogym_jsonl(path)
    yielded = 0
    with pytest.raises(ConversionError) as caught:
        for _ in runs:
            yielded += 1
    line = caught.value.line
    assert line is not None
    assert caught.value.file == str(path)
    assert yielded == _runs_before(path.read_bytes(), line)


# --- the suite itself --------------------------------------------------------------------

_RULE_DEFINITION = re.compile(r"^- \*\*([RD]\d+)\b", re.MULTILINE)
_CASE_LIST = re.compile(r"Cases?: ")
_BACKTICKED = re.compile(r"`([^`]+)`")


def _spec_text() -> str:
    return SPEC_README.read_text(encoding="utf-8")


def rule_blocks() -> dict[str, str]:
    """Each rule or divergence of spec/README.md with the text of its bullet."""
    text = _spec_text()
    starts = list(_RULE_DEFINITION.finditer(text))
    blocks: dict[str, str] = {}
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        block = text[start.start() : end].split("\n\n", 1)[0].split("\n## ", 1)[0]
        blocks[start[1]] = block
    return blocks


def _listed_case_ids(block: str) -> list[str]:
    found = _CASE_LIST.search(block)
    return _BACKTICKED.findall(block[found.end() :]) if found else []


def _case_rules(case: Case) -> set[str]:
    return {*case["rules"], *case.get("divergence", [])}


def _matching_cases(pattern: str) -> list[Case]:
    if pattern.endswith("*"):
        return [case for case in CASES if case["id"].startswith(pattern[:-1])]
    return [CASES_BY_ID[pattern]] if pattern in CASES_BY_ID else []


def test_case_ids_are_unique_kebab_case() -> None:
    counts = Counter(case["id"] for case in CASES)
    assert [case_id for case_id, count in counts.items() if count > 1] == []
    bad = [case["id"] for case in CASES if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", case["id"])]
    assert bad == []


def test_case_files_match_the_schema() -> None:
    """Every case file is valid against spec/case.schema.json (the loader relies on it)."""
    validator = Draft202012Validator(json.loads(CASE_SCHEMA.read_text(encoding="utf-8")))
    problems = [
        f"{case_file.name} {error.json_path}: {error.message[:200]}"
        for case_file in sorted(CASES_DIR.glob("*.json"))
        for error in validator.iter_errors(json.loads(case_file.read_text(encoding="utf-8")))
    ]
    assert problems == []
    assert all((CASES_DIR / case["file"]).is_file() for case in CASES if "file" in case)


@pytest.mark.parametrize(
    "bad_case",
    [
        {"rollout": {}, "expect": {"error": {"rule": "R1", "path": "", "line": 1}}},
        {"file": "jsonl/x.jsonl", "expect": {"error": {"rule": "R1", "path": ""}}},
        {"file": "jsonl/x.jsonl", "expect": "agent_run"},
        {"rollout": {}, "file": "jsonl/x.jsonl", "expect": "agent_runs"},
        {"rollout": {}, "expect": {"error": {"rule": "22", "path": ""}}},
        {"rollout": {}, "expect": "agent_run", "golden": {}},
    ],
    ids=["line-on-rollout", "no-line-on-file", "run-for-file", "both-inputs", "bad-rule", "extra"],
)
def test_the_schema_rejects_malformed_cases(bad_case: dict[str, Any]) -> None:
    validator = Draft202012Validator(json.loads(CASE_SCHEMA.read_text(encoding="utf-8")))
    case = {"id": "x", "description": "x", "rules": ["R1"], **bad_case}
    assert not validator.is_valid({"group": "g", "description": "g", "cases": [case]})


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert duplicates == [], f"duplicate keys {duplicates}"
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _i_json_problems(value: Any, where: str = "$") -> list[str]:
    """Where `value` leaves I-JSON (RFC 7493): lone surrogates, integers beyond 2**53."""
    if isinstance(value, str):
        return [f"{where}: lone surrogate"] if _SURROGATE.search(value) else []
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return []
    if isinstance(value, int):
        return [f"{where}: integer beyond 2**53"] if abs(value) > 2**53 else []
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _i_json_problems(item, f"{where}[{index}]")
        ]
    return [
        problem
        for key, item in value.items()
        for problem in [
            *([f"{where}: lone surrogate in a key"] if _SURROGATE.search(key) else []),
            *_i_json_problems(item, f"{where}.{key}"),
        ]
    ]


@pytest.mark.parametrize("case_file", sorted(CASES_DIR.glob("*.json")), ids=lambda path: path.name)
def test_case_files_are_i_json(case_file: Path) -> None:
    """No duplicate key, NaN or Infinity, lone surrogate or integer beyond ±2**53 (RFC 7493):
    inputs that need one live as raw bytes in spec/cases/jsonl/."""
    document = json.loads(
        case_file.read_text(encoding="utf-8"),
        object_pairs_hook=_strict_pairs,
        parse_constant=_no_constant,
    )
    assert _i_json_problems(document) == []


def test_the_i_json_check_finds_what_it_looks_for() -> None:
    assert _i_json_problems({"a\udc00": [2**53 + 1, "\ud800"]}) == [
        "$: lone surrogate in a key",
        "$.a\udc00[0]: integer beyond 2**53",
        "$.a\udc00[1]: lone surrogate",
    ]
    with pytest.raises(AssertionError):
        json.loads('{"a": 1, "a": 2}', object_pairs_hook=_strict_pairs)


# Node reads each file and writes every value tagged with its kind; numbers as the text of
# the double JavaScript holds (`-0` kept), strings escaped by JSON.stringify (lone
# surrogates as \uXXXX), so Python can compare value for value.
_NODE_READER = r"""
const fs = require("fs");
const tag = (v) =>
  v === null ? ["null"]
  : typeof v === "number" ? ["number", Object.is(v, -0) ? "-0" : String(v)]
  : typeof v === "string" || typeof v === "boolean" ? [typeof v, v]
  : Array.isArray(v) ? ["array", v.map(tag)]
  : ["object", Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]))];
const out = {};
for (const file of process.argv.slice(1)) {
  out[file] = tag(JSON.parse(fs.readFileSync(file, "utf8")));
}
process.stdout.write(JSON.stringify(out));
"""


def _node_differences(ours: Any, theirs: list[Any], where: str = "$") -> list[str]:
    kind = theirs[0]
    if kind == "number":
        number = float(theirs[1])
        same = (
            _is_json_number(ours)
            and ours == number
            and math.copysign(1.0, float(ours)) == math.copysign(1.0, number)
        )
        return [] if same else [f"{where}: Python {ours!r}, Node {theirs[1]}"]
    if kind == "array":
        if not isinstance(ours, list) or len(ours) != len(theirs[1]):
            return [f"{where}: not the same array"]
        return [
            problem
            for index, (mine, node) in enumerate(zip(ours, theirs[1], strict=True))
            for problem in _node_differences(mine, node, f"{where}[{index}]")
        ]
    if kind == "object":
        if not isinstance(ours, dict) or ours.keys() != theirs[1].keys():
            return [f"{where}: not the same object"]
        return [
            problem
            for key in ours
            for problem in _node_differences(ours[key], theirs[1][key], f"{where}.{key}")
        ]
    value = None if kind == "null" else theirs[1]
    same = type(ours) is type(value) and ours == value
    return [] if same else [f"{where}: Python {ours!r}, Node {value!r}"]


def _is_json_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _node_values(paths: list[Path]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "-e", _NODE_READER, *map(str, paths)], capture_output=True, check=True
    )
    values: dict[str, Any] = json.loads(done.stdout)
    return values


def test_case_files_read_the_same_in_python_and_node() -> None:
    """Every case file (and the schema and manifest) parses to the same value in Node."""
    paths = [*sorted(CASES_DIR.glob("*.json")), CASE_SCHEMA, SPEC_DIR / "manifest.json"]
    node_values = _node_values(paths)
    problems = [
        problem
        for path in paths
        for problem in _node_differences(
            json.loads(path.read_text(encoding="utf-8")), node_values[str(path)]
        )
    ]
    assert problems == []


def test_the_node_comparison_sees_what_node_loses(tmp_path: Path) -> None:
    """A 4001-digit integer, 2**53 + 1 and -0.0 are told apart: the comparison can fail."""
    lossy = tmp_path / "lossy.json"
    lossy.write_text('{"huge": 1' + "0" * 4000 + ', "odd": 9007199254740993, "zero": -0.0}')
    problems = _node_differences(json.loads(lossy.read_text()), _node_values([lossy])[str(lossy)])
    assert [problem.split(":")[0] for problem in problems] == ["$.huge", "$.odd"]
    assert problems[0].endswith("Node Infinity")


def test_the_manifest_counts_the_suite() -> None:
    """spec/manifest.json names the suite's version, its Docent and how many cases and rules."""
    manifest = json.loads((SPEC_DIR / "manifest.json").read_text(encoding="utf-8"))
    blocks = rule_blocks()
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["docent"] == version("docent")
    assert manifest["cases"] == len(CASES)
    assert manifest["rules"] == sum(rule.startswith("R") for rule in blocks)
    assert manifest["divergences"] == sum(rule.startswith("D") for rule in blocks)
    assert (SPEC_DIR / manifest["case_schema"]) == CASE_SCHEMA
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").lower()
    assert f"suite {manifest['version']}" in changelog


# Rules no case can exercise: a file that cannot be opened or read (tests/test_jsonl.py).
_NO_CASE = {"R68"}


def test_every_rule_has_cases_and_cases_name_only_rules() -> None:
    rules = set(rule_blocks())
    named = set().union(*(_case_rules(case) for case in CASES))
    assert sorted(rules - named - _NO_CASE) == [], "rules without a case"
    unknown = {case["id"]: sorted(_case_rules(case) - rules) for case in CASES}
    assert {case_id: bad for case_id, bad in unknown.items() if bad} == {}
    for case in CASES:
        assert all(name.startswith("D") for name in case.get("divergence", [])), case["id"]


# Rules that only say how something is converted: they never reject.
_NEVER_REJECTS = {"R8", "R14", "R15", "R19", "R23", "R30", "R31", "R32", "R33", "R35", "D2"}
_NEVER_REJECTS |= {"R40", "R42", "R43", "R44", "R45", "R46", "R47", "R60", "R61", "R62"}
_NEVER_REJECTS |= {"R80", "R82", "R87", "R88", "R89", "R91", "R92", "D8", "D10"}
# Rules (and divergences) that only say when and how something is rejected.
_NEVER_ACCEPTS = {"R50", "R51", "R63", "R64", "R65", "R68", "D4", "D5"}
# Rules that govern how the others reject (paths, order, lines, options): a rejection
# names the rule the input breaks, never one of these.
_GOVERN_REJECTIONS = {"R50", "R51", "R52", "R65", "R66", "R67"}
_GOVERN_REJECTIONS |= {"R70", "R71", "R72", "R73", "R74", "R75", "R76", "R77", "R78", "R79"}
_GOVERN_REJECTIONS |= {"R90"}


def test_every_rule_has_accepting_and_rejecting_cases() -> None:
    """Each rule has an accepting case and, where it can fail, a rejecting one."""
    rules = set(rule_blocks())
    rejecting = set().union(*(_case_rules(case) for case in CASES if _is_rejecting(case)))
    accepting = set().union(*(_case_rules(case) for case in CASES if not _is_rejecting(case)))
    assert sorted(rules - _NEVER_REJECTS - rejecting - _NO_CASE) == [], "no rejecting case"
    assert sorted(rules - _NEVER_ACCEPTS - accepting) == [], "no accepting case"


def test_listed_case_ids_exist_and_name_their_rule() -> None:
    problems: list[str] = []
    for rule, block in rule_blocks().items():
        listed = _listed_case_ids(block)
        if not listed and rule not in _NO_CASE:
            problems.append(f"{rule} lists no case")
        for pattern in listed:
            matches = _matching_cases(pattern)
            if not matches:
                problems.append(f"{rule} lists missing case {pattern}")
            problems += [
                f"{rule} lists {case['id']}, which does not name {rule}"
                for case in matches
                if rule not in _case_rules(case)
            ]
    assert problems == []


def _conversion_error_raise_sites() -> set[tuple[str, int, int]]:
    """(file, first line, last line) of every `raise ConversionError(...)` in the package."""
    sites: set[tuple[str, int, int]] = set()
    for source in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name)
                and node.exc.func.id == "ConversionError"
            ):
                sites.add((str(source), node.lineno, node.end_lineno or node.lineno))
    return sites


def _rules_in_package() -> dict[str, list[str]]:
    """Every rule slug (a string literal `"Rnn"`) in the package, with where it stands."""
    found: dict[str, list[str]] = {}
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"R\d+", node.value)
            ):
                found.setdefault(node.value, []).append(f"{source.name}:{node.lineno}")
    return found


def _raised_rules() -> set[str]:
    """The rule slugs of the package but those only the options table (options.py) names:
    it names the rules that define the options, which reject nothing."""
    return {
        rule
        for rule, where in _rules_in_package().items()
        if any(not place.startswith("options.py:") for place in where)
    }


def test_every_conversion_error_names_its_rule() -> None:
    """Each `ConversionError(...)` of the package passes `rule=`; every rule slug in the
    package is a rule of spec/README.md that can reject, and every such rule is raised."""
    unnamed = [
        f"{source.name}:{node.lineno}"
        for source in PACKAGE_DIR.rglob("*.py")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ConversionError"
        and "rule" not in {keyword.arg for keyword in node.keywords}
    ]
    assert unnamed == []
    rules = {rule for rule in rule_blocks() if rule.startswith("R")}
    in_package = _rules_in_package()
    assert {rule: where for rule, where in in_package.items() if rule not in rules} == {}
    rejecting_rules = rules - _NEVER_REJECTS - _GOVERN_REJECTIONS
    assert sorted(_raised_rules() ^ rejecting_rules) == []


def test_every_raised_rule_lists_the_cases_it_rejects() -> None:
    """Each rule that rejects lists, among its cases, one whose expected error names it;
    and the expected errors of the cases name exactly the rules the package raises."""
    expected_rules = {case["expect"]["error"]["rule"] for case in CASES if _is_rejecting(case)}
    assert sorted(expected_rules ^ (_raised_rules() - _NO_CASE)) == []
    blocks = rule_blocks()
    unlisted = [
        rule
        for rule in sorted(expected_rules)
        if not any(
            case["expect"]["error"]["rule"] == rule
            for pattern in _listed_case_ids(blocks[rule])
            for case in _matching_cases(pattern)
            if _is_rejecting(case)
        )
    ]
    assert unlisted == []


def test_accepting_cases_build_no_path_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are rendered only for an error: converting every accepting case renders none."""
    rendered: list[Loc] = []
    render = errors.render_path

    def counting_render(loc: Loc, *, any_index: bool = False) -> str:
        rendered.append(loc)
        return render(loc, any_index=any_index)

    monkeypatch.setattr(errors, "render_path", counting_render)
    accepting = [case for case in CASES if not _is_rejecting(case)]
    for case in accepting:
        assert "error" not in convert_case(case), case["id"]
    assert rendered == []
    assert "error" in convert_case(next(case for case in CASES if _is_rejecting(case)))
    assert rendered != []  # the counter does count


# Raise sites no case can reach, by file name and a fragment of the raise statement. (A file
# that cannot be opened or read, R68, raises `source.InputError`, not counted as a site.)
_UNREACHABLE_FROM_CASES: set[tuple[str, str]] = set()


def _executed_lines(cases: list[Case]) -> set[tuple[str, int]]:
    """Lines of the package executed while converting `cases`."""
    executed: set[tuple[str, int]] = set()
    package = str(PACKAGE_DIR)

    def trace(frame: FrameType, event: str, _: Any) -> Any:
        if not frame.f_code.co_filename.startswith(package):
            return None
        if event == "line":
            executed.add((frame.f_code.co_filename, frame.f_lineno))
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        for case in cases:
            convert_case(case)
    finally:
        sys.settrace(previous)
    return executed


def _site_label(site: tuple[str, int, int]) -> tuple[str, str]:
    """(file name, the raise statement's text) of a raise site."""
    file, first, last = site
    lines = Path(file).read_text(encoding="utf-8").splitlines()[first - 1 : last]
    return Path(file).name, " ".join(line.strip() for line in lines)


def _excused(label: tuple[str, str]) -> bool:
    return any(label[0] == file and text in label[1] for file, text in _UNREACHABLE_FROM_CASES)


def test_every_conversion_error_is_produced_by_a_case() -> None:
    """Every `raise ConversionError` of the package runs for at least one case."""
    sites = sorted(_conversion_error_raise_sites())
    labels = [_site_label(site) for site in sites]
    for file, text in _UNREACHABLE_FROM_CASES:  # an excuse must still name a real raise site
        assert any(label[0] == file and text in label[1] for label in labels), (file, text)
    executed = _executed_lines(CASES)
    missed = [
        _site_label(site)
        for site in sites
        if not any((site[0], line) in executed for line in range(site[1], site[2] + 1))
    ]
    assert [label for label in missed if not _excused(label)] == []


def test_every_jsonl_file_belongs_to_a_case() -> None:
    named = {(CASES_DIR / case["file"]).resolve() for case in CASES if "file" in case}
    on_disk = {path.resolve() for path in CASES_DIR.glob("jsonl/*")}
    assert sorted(str(path) for path in on_disk - named) == []


def test_golden_files_are_exactly_the_accepting_cases() -> None:
    """One golden file per accepting case, none for a rejecting or vanished case
    (`pytest --snapshot-update` deletes stale ones)."""
    accepting = {case["id"] for case in CASES if not _is_rejecting(case)}
    assert sorted(path.name for path in GOLDEN_DIR.iterdir()) == sorted(
        f"{case_id}.json" for case_id in accepting
    )


RULES_OF_THE_TEXT_ONLY = {
    "R51": "the check order: the order of the checks across the converter modules, pinned by "
    "the check-order-* cases",
    "R52": "totality: every input gives an AgentRun or a ConversionError, which the property "
    "tests and the hostile inputs show",
}
"""Rules that no one module implements, with why."""


def _expand_rules(text: str) -> list[str]:
    """`R1-R7, R9` -> `["R1", …, "R7", "R9"]`."""
    rules: list[str] = []
    for part in text.rstrip(".").split(","):
        first, _, last = part.strip().partition("-")
        start, end = int(first[1:]), int((last or first)[1:])
        rules += [f"R{number}" for number in range(start, end + 1)]
    return rules


def _package_modules() -> dict[str, ast.Module]:
    """Each module of the package, parsed, by its path in the package."""
    return {
        str(source.relative_to(PACKAGE_DIR)): ast.parse(source.read_text(encoding="utf-8"))
        for source in sorted(PACKAGE_DIR.rglob("*.py"))
    }


def _claimed_rules(module: ast.Module) -> list[str]:
    """The rules a module's docstring claims on its `Rules:` line."""
    docstring = ast.get_docstring(module) or ""
    return [
        rule
        for line in docstring.splitlines()
        if line.startswith("Rules: ")
        for rule in _expand_rules(line.removeprefix("Rules: "))
    ]


def _owned_rules() -> dict[str, list[str]]:
    """Each rule a module's docstring claims on its `Rules:` line, with the claiming modules."""
    owners: dict[str, list[str]] = {}
    for path, module in _package_modules().items():
        for rule in _claimed_rules(module):
            owners.setdefault(rule, []).append(path)
    return owners


_RULE = re.compile(r"R\d+")


def _raise_sites(module: ast.Module, raisers: set[str]) -> list[tuple[int, str]]:
    """`(line, rule)` of each raise site of `module`: a call of `ConversionError` or of a
    function with a `rule` parameter (`raisers`) that passes a literal rule, and each literal
    default of a `rule` parameter."""
    sites: list[tuple[int, str]] = []
    for node in ast.walk(module):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call):
            callee = node.func
            name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
            if name in raisers:
                values = [*node.args, *(k.value for k in node.keywords if k.arg == "rule")]
        elif isinstance(node, ast.FunctionDef):
            arguments = node.args
            positional = arguments.posonlyargs + arguments.args
            defaults = dict(zip(positional[::-1], arguments.defaults[::-1], strict=False))
            keyword = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            defaults.update((a, v) for a, v in keyword if v is not None)
            values = [value for a, value in defaults.items() if a.arg == "rule"]
        sites += [
            (value.lineno, value.value)
            for value in values
            if isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and _RULE.fullmatch(value.value)
        ]
    return sites


def _called_names(node: ast.AST) -> set[str]:
    """The names of the functions `node` calls (`f(…)`, `x.f(…)`)."""
    return {
        call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
    }


def _raisers(modules: dict[str, ast.Module]) -> set[str]:
    """`ConversionError` and the functions with a `rule` parameter that call one of them
    (the checking helpers), however indirectly."""
    helpers = [
        node
        for module in modules.values()
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef)
        and any(a.arg == "rule" for a in node.args.args + node.args.kwonlyargs)
    ]
    raisers = {"ConversionError"}
    while grown := {f.name for f in helpers if _called_names(f) & raisers} - raisers:
        raisers |= grown
    return raisers


def _misplaced_raises(modules: dict[str, ast.Module]) -> list[str]:
    """`PATH:LINE: RULE` of each raise site in a module whose `Rules:` line lacks its rule."""
    raisers = _raisers(modules)
    return [
        f"{path}:{line}: {rule}"
        for path, module in modules.items()
        for line, rule in _raise_sites(module, raisers)
        if rule not in _claimed_rules(module)
    ]


def test_every_rule_is_owned_by_exactly_one_module() -> None:
    """Each rule of spec/README.md is implemented in one place: the module whose docstring
    lists it, or it is a rule of the text only (`RULES_OF_THE_TEXT_ONLY`, with why)."""
    rules = {rule for rule in rule_blocks() if rule.startswith("R")}
    owners = _owned_rules()
    assert {rule: where for rule, where in owners.items() if len(where) != 1} == {}
    assert sorted(set(owners) - rules) == []  # no module claims a rule the spec lacks
    assert not set(owners) & set(RULES_OF_THE_TEXT_ONLY)
    assert sorted(rules - set(owners) - set(RULES_OF_THE_TEXT_ONLY)) == []


def test_every_rule_is_raised_by_its_owner() -> None:
    """A rule is raised (`rule="R22"`, or a literal rule passed to a checking helper) only
    in the module whose `Rules:` line names it."""
    modules = _package_modules()
    raisers = _raisers(modules)
    assert {"ConversionError", "require_object", "require_choice", "tool_arguments"} <= raisers
    assert "_single_value" not in raisers  # an option row names its rule, raising nothing
    assert sum(len(_raise_sites(module, raisers)) for module in modules.values()) > 60
    assert _misplaced_raises(modules) == []


def test_the_raise_check_finds_a_misplaced_raise() -> None:
    """The check reads the code: a rule raised in another module, directly or through a
    helper, or a helper's default rule, is reported where it is."""
    edits = {
        "convert/content.py": ('rule="R13"', 'rule="R12"'),
        "convert/message.py": ('"R12")', '"R13")'),
        "convert/checks.py": ("rule: str)", 'rule: str = "R10")'),
    }
    modules = _package_modules()
    for path, (old, new) in edits.items():
        source = (PACKAGE_DIR / path).read_text(encoding="utf-8")
        assert old in source
        modules[path] = ast.parse(source.replace(old, new, 1))
    found = [re.sub(r":\d+:", "", site) for site in _misplaced_raises(modules)]
    assert found == ["convert/checks.py R10", "convert/content.py R12", "convert/message.py R13"]
