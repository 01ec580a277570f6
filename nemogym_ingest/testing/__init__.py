"""Test helpers for implementations of spec/README.md (install the `testing` extra): the
Hypothesis strategies are `nemogym_ingest.testing.strategies`, imported on their own."""

__all__: list[str] = []  # `strategies` is the public module, not imported here
