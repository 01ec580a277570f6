"""The conformance runner: any implementation against the suite of `spec/cases/` and `golden/`.

In the manner of toml-test: every case of the suite is given to an implementation — a
Python callable (`--python module:function`) or any program speaking the stdin/stdout
protocol of spec/README.md, "Testing an implementation" (`--command "CMD …"`) — and its
answer is compared with the golden payload, or with the case's expected error (rule, path
and line), on Docent's wire layout with ids and model defaults normalized
(`normalize_payload`). The manual is spec/RUNNER.md; the command is
`nemogym_ingest.commands.conformance`.
"""

from ..wire import normalize_payload
from .adapters import (
    Answer,
    CommandImplementation,
    ErrorPathPatterns,
    Implementation,
    PythonImplementation,
    nemogym_ingest_file,
    nemogym_ingest_rollout,
)
from .compare import describe_difference, first_difference
from .runner import (
    Result,
    Tally,
    apply_allow,
    judge,
    read_allow_file,
    run_case,
    run_suite,
    skip_reason,
    stale_allow_entries,
)
from .suite import Case, ExpectedError, SuiteError, default_spec_dir, load_suite

__all__ = [
    "Answer",
    "Case",
    "CommandImplementation",
    "ErrorPathPatterns",
    "ExpectedError",
    "Implementation",
    "PythonImplementation",
    "Result",
    "SuiteError",
    "Tally",
    "apply_allow",
    "default_spec_dir",
    "describe_difference",
    "first_difference",
    "judge",
    "load_suite",
    "nemogym_ingest_file",
    "nemogym_ingest_rollout",
    "normalize_payload",
    "read_allow_file",
    "run_case",
    "run_suite",
    "skip_reason",
    "stale_allow_entries",
]
