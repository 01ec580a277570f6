"""The exit statuses of every `nemogym-ingest` subcommand, defined once."""

from __future__ import annotations

OK = 0
"""Every line converted (and, for `upload`, every run uploaded)."""
REJECTED = 1
"""A line could not be converted (`conformance`: a case failed)."""
UNREADABLE = 2
"""An input or output that cannot be read or written, or a wrong command line."""
USAGE = UNREADABLE
DOCENT_UNAVAILABLE = 3
"""`upload`: Docent cannot be used (the SDK, credentials, server, collection); nothing sent."""
INTERRUPTED = 4
"""`upload`: stopped part way; the message says how to resume."""
KEYBOARD_INTERRUPT = 130
"""Ctrl-C (128 + SIGINT), as shells report it."""

CONVERT_HELP = (
    f"exit status: {OK} when every rollout line converts (an input that holds no rollout "
    f"is named and skipped), {REJECTED} when a line is rejected or no input holds a rollout, "
    f"{UNREADABLE} when a file cannot be read or written (missing, a directory, no "
    "permission, corrupt .gz) or the command line is wrong."
)
"""The exit statuses as `convert` and `check` describe them in `--help`."""
