"""The `nemogym-ingest` program: its parser, made of one `register(subparsers)` per
subcommand (`nemogym_ingest.commands`), and `main`, which runs the chosen one and turns what
stops it (an unreadable input, an unwritable output, a closed pipe, ^C) into its exit status
(`exit_status`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__, exit_status
from .commands import case, check, conformance, convert, upload
from .commands.common import OutputError, say
from .source import InputError

_COMMANDS = (convert, check, conformance, upload, case)
"""The subcommands, in the order `--help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `nemogym-ingest`."""
    parser = argparse.ArgumentParser(
        prog="nemogym-ingest",
        description="Convert NeMo Gym rollouts (JSONL) into Docent AgentRuns: exactly, or "
        "not at all. Run 'nemogym-ingest COMMAND --help' for a command's options.",
        epilog=exit_status.CONVERT_HELP,
    )
    parser.add_argument("--version", action="version", version=f"nemogym-ingest {__version__}")
    subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(subparsers)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; a usage error inside a subcommand shows that subcommand's usage."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        commands.choices[args.subcommand].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parse(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()  # a write error of the last buffered output is reported here
    except (InputError, OutputError) as error:
        say(f"nemogym-ingest: {error}")
        return exit_status.UNREADABLE
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_status.REJECTED
    except OSError as error:  # reading errors are InputErrors: this is stdout (disk full)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        say(f"nemogym-ingest: stdout: cannot write: {error.strerror or error}")
        return exit_status.UNREADABLE
    except KeyboardInterrupt:
        return exit_status.KEYBOARD_INTERRUPT
    return status
