"""The suite in an implementation's own pytest run: every case a parameter with its id
(`suite_params`), and one case run and judged as the runner judges it (`check_case`), a
failure showing the runner's message (the first differing path and the diff).

    import pytest
    from nemogym_ingest.conformance import CommandImplementation
    from nemogym_ingest.conformance.pytest_cases import check_case, suite_params

    MINE = CommandImplementation(argv=("my-converter",), file_argv=("my-converter",), options=True)

    @pytest.mark.parametrize("case", suite_params())
    def test_conforms(case):
        check_case(MINE, case)

pytest is imported only when these are called: the package does not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .adapters import Implementation
from .runner import run_case
from .suite import Case, SuiteError, default_spec_dir, load_suite


def suite_params(spec: str | Path | None = None, golden: str | Path | None = None) -> list[Any]:
    """Every case of the suite as a `pytest.param` whose id is the case id, in suite order.

    `spec` is the directory holding `cases/` (default: the suite installed with the
    package, or the checkout's `spec/`); `golden` the golden payloads (default: `golden/`
    beside it). A case carries its `options` and, for a JSONL case, its file.
    """
    import pytest  # noqa: PLC0415 - only for pytest users

    spec_dir = Path(spec) if spec is not None else default_spec_dir()
    if spec_dir is None:
        raise SuiteError("no spec/ found (installed or in a checkout): pass spec=DIR")
    cases = load_suite(spec_dir, Path(golden) if golden is not None else None)
    return [pytest.param(case, id=case.id) for case in cases]


def check_case(
    implementation: Implementation,
    case: Case,
    *,
    rules: bool = False,
    compare: str = "exact",
    ignore: Sequence[str] = (),
) -> None:
    """Run `case` on `implementation` as `nemogym-ingest conformance` does (`rules`: a
    rejection must name the case's rule, as `--check-rules`; `compare` and `ignore`: the
    comparison level, `"exact"` or `"transcripts"`, and metadata paths left out, as
    `--compare` and `--ignore`). A failure fails the test with the runner's message (and
    the traceback of a crash); a case the implementation cannot run (a JSONL case without
    a file entry point, options it does not take) is skipped with the runner's reason."""
    import pytest  # noqa: PLC0415 - only for pytest users

    result = run_case(implementation, case, rules=rules, compare=compare, ignore=ignore)
    if result.status == "skip":
        pytest.skip(result.summary)
    if result.status == "fail":
        below = "".join(f"\n{part}" for part in (result.detail, result.traceback) if part)
        pytest.fail(f"{case.id}: {result.summary}{below}", pytrace=False)
