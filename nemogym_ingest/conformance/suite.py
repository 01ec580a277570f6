"""The suite on disk: where it is found and how it is laid out (`Suite`: `spec/cases/*.json`,
valid against `spec/case.schema.json`, the JSONL files they name, the manifest, the rules of
`spec/README.md`, the golden payloads of accepting cases), and its cases read (`load_suite`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..wire import JsonDict

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_DEFINED_RULE = re.compile(r"^- \*\*([RD]\d+)\b", re.MULTILINE)


class SuiteError(Exception):
    """The suite itself (a case file, a golden file, an allow file) is unusable."""


@dataclass(frozen=True)
class ExpectedError:
    """A rejection at `path` (and, for a JSONL file, on `line`) under spec rule `rule`."""

    path: str
    line: int | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Case:
    """One spec case with its expectation: the golden payload(s), or an `ExpectedError`."""

    id: str
    description: str
    rules: tuple[str, ...]
    divergence: tuple[str, ...]
    options: JsonDict | None
    expected: Any
    rollout: Any = None
    file: Path | None = None
    file_name: str = ""

    @property
    def is_file(self) -> bool:
        """Whether the case is a JSONL file rather than one rollout."""
        return self.file is not None


def default_spec_dir() -> Path | None:
    """The suite's `spec/`: the copy an installed wheel carries (`nemogym_ingest/_suite/`),
    else the one of the source checkout the package runs from; None when neither exists."""
    for candidate in (_PACKAGE_DIR / "_suite" / "spec", _PACKAGE_DIR.parent / "spec"):
        if (candidate / "cases").is_dir():
            return candidate
    return None


def checkout_spec_dir() -> Path | None:
    """The `spec/` of the source checkout the package runs from (a `pyproject.toml` beside
    it), where `case add` writes by default; None for an installed wheel, whose suite copy
    is not to be edited."""
    checkout = _PACKAGE_DIR.parent
    spec = checkout / "spec"
    if (spec / "cases").is_dir() and (checkout / "pyproject.toml").is_file():
        return spec
    return None


def read_json(path: Path) -> Any:
    """A suite file's JSON (a case file, a golden payload, the manifest, the schema)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise SuiteError(f"{path}: cannot read JSON: {error}") from None


@dataclass(frozen=True)
class Suite:
    """Where a suite lies: `spec/` (cases, schema, manifest, rules) and its golden payloads
    (`golden_dir`, by default `golden/` beside `spec/`)."""

    spec: Path
    golden_dir: Path | None = None

    @property
    def cases(self) -> Path:
        """`spec/cases/`: the case files, and the JSONL files under `jsonl/`."""
        return self.spec / "cases"

    @property
    def golden(self) -> Path:
        """The golden payloads, one `ID.json` per accepting case."""
        return self.golden_dir if self.golden_dir is not None else self.spec.parent / "golden"

    @property
    def schema(self) -> Path:
        """`spec/case.schema.json`, which every case file is valid against."""
        return self.spec / "case.schema.json"

    @property
    def manifest(self) -> Path:
        """`spec/manifest.json`: the suite's version and case count."""
        return self.spec / "manifest.json"

    def docent_version(self) -> str | None:
        """The Docent version the suite is written against (the manifest's `docent`), or
        None when the manifest does not say (or cannot be read)."""
        try:
            manifest = read_json(self.manifest)
        except SuiteError:
            return None
        version = manifest.get("docent") if isinstance(manifest, dict) else None
        return version if isinstance(version, str) else None

    @property
    def readme(self) -> Path:
        """`spec/README.md`, which defines the rules and divergences."""
        return self.spec / "README.md"

    def case_files(self) -> list[Path]:
        """The case files (`cases/*.json`), in name order."""
        return sorted(self.cases.glob("*.json"))

    def case_ids(self) -> set[str]:
        """Every case id of every case file."""
        return {
            case["id"] for path in self.case_files() for case in read_json(path).get("cases", [])
        }

    def taken_by(self, case_id: str) -> str | None:
        """What already uses `case_id` (a case, a golden file, a JSONL file), or None."""
        if case_id in self.case_ids():
            return f"a case in {self.cases}"
        for path in (self.golden / f"{case_id}.json", self.cases / "jsonl" / f"{case_id}.jsonl"):
            if path.exists():
                return str(path)
        return None

    def defined_rules(self) -> set[str] | None:
        """The rules and divergences `spec/README.md` defines (None when it is not there)."""
        if not self.readme.is_file():
            return None
        return set(_DEFINED_RULE.findall(self.readme.read_text(encoding="utf-8")))


def _load_case(raw: JsonDict, cases_dir: Path, golden_dir: Path) -> Case:
    """One case, as spec/case.schema.json describes it (the suite's tests check every file)."""
    case_id = raw["id"]
    expect = raw["expect"]
    is_file = "file" in raw
    expected: Any
    if isinstance(expect, dict):
        error = expect["error"]
        expected = ExpectedError(error["path"], error.get("line"), error["rule"])
    else:
        golden = golden_dir / f"{case_id}.json"
        if not golden.is_file():
            raise SuiteError(f"{case_id}: golden payload {golden} is missing")
        expected = read_json(golden)
    file = cases_dir / raw["file"] if is_file else None
    if file is not None and not file.is_file():
        raise SuiteError(f"{case_id}: {file} is missing")
    return Case(
        id=case_id,
        description=raw["description"],
        rules=tuple(raw["rules"]),
        divergence=tuple(raw.get("divergence", ())),
        options=raw.get("options"),
        expected=expected,
        rollout=raw.get("rollout"),
        file=file,
        file_name=raw["file"] if is_file else "",
    )


def load_suite(spec_dir: Path, golden_dir: Path | None = None) -> list[Case]:
    """Every case of `spec_dir/cases/*.json`, in file then case order, with its expectation.

    `golden_dir` defaults to `golden/` beside `spec_dir`. The case files are taken to be
    valid against `spec_dir/case.schema.json`; a file that is not, a duplicate id or a
    missing golden payload or JSONL file raises `SuiteError`.
    """
    suite = Suite(spec_dir, golden_dir)
    case_files = suite.case_files()
    if not case_files:
        raise SuiteError(f"no case files in {suite.cases}")
    cases: list[Case] = []
    seen: set[str] = set()
    for case_file in case_files:
        try:
            loaded = [
                _load_case(raw, suite.cases, suite.golden) for raw in read_json(case_file)["cases"]
            ]
        except (KeyError, TypeError, AttributeError) as error:
            raise SuiteError(
                f"{case_file}: not a case file as case.schema.json describes ({error!r})"
            ) from None
        for case in loaded:
            if case.id in seen:
                raise SuiteError(f"{case_file.name}: duplicate case id {case.id!r}")
            seen.add(case.id)
            cases.append(case)
    return cases
