"""Fuzzing harnesses (atheris, Hypothesis); see fuzz/README.md."""
