"""The `nemogym-ingest` program: its parser, made of one `register(subparsers, summary)` per
subcommand (`nemogym_ingest.commands`), and `main`, which runs the chosen one and turns what
stops it (an unreadable input, an unwritable output, a closed pipe, ^C) into its exit status
(`exit_status`). Only the module of the command that runs is imported: the others are listed
in `--help` by their name and summary alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Container, Sequence
from typing import Any

from . import exit_status
from .commands.common import OutputError, UsageError, say
from .source import InputError

COMMANDS = {
    "convert": "convert rollouts JSONL files into AgentRun JSONL",
    "check": "validate rollouts JSONL files without writing anything",
    "conformance": "test an implementation against the spec cases and golden outputs",
    "upload": "convert a rollouts JSONL file and upload it into a Docent collection",
    "case": "extend the spec suite: add a case from a real rollouts line",
}
"""Each subcommand (its module in `nemogym_ingest.commands`) and its summary in `--help`, in
the order `--help` lists them."""


class _Version(argparse._VersionAction):
    """argparse's `--version`, the version read (importlib.metadata: ~50 ms) only when asked."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from . import __version__  # noqa: PLC0415 - see the docstring

        self.version = f"nemogym-ingest {__version__}"
        super().__call__(parser, namespace, values, option_string)


def build_parser(full: Container[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of `nemogym-ingest`, with the subcommands named in `full` (default:
    all) registered in full; the others are listed by name and summary, but take nothing."""
    parser = argparse.ArgumentParser(
        prog="nemogym-ingest",
        description="Convert NeMo Gym rollouts (JSONL) into Docent AgentRuns: exactly, or "
        "not at all. Run 'nemogym-ingest COMMAND --help' for a command's options.",
        epilog=exit_status.CONVERT_HELP,
    )
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if full is None or name in full:
            command = importlib.import_module(f"{__package__}.commands.{name}")
            command.register(subparsers, summary)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; a usage error inside a subcommand shows that subcommand's usage."""
    argv = sys.argv[1:] if argv is None else argv
    # The program's own options (-h, --version) take no value, so the command that runs is
    # the first argument that is not an option, if any.
    parser = build_parser(full=[arg for arg in argv if not arg.startswith("-")][:1])
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
    except (InputError, OutputError, UsageError) as error:
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
