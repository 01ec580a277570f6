"""Test helpers for implementations of spec/README.md (install the `testing` extra)."""
