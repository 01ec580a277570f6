"""The subcommands of `nemogym-ingest`, one module each (`convert`, `check`, `conformance`,
`upload`, `case`), each registering itself with `register(subparsers, summary)`; `common`
holds what they share (messages on stderr, the run arguments, what stops the program). The
program itself (`main`, `build_parser`, and `COMMANDS`: each command's summary) is
`nemogym_ingest.cli`, which imports only the module of the command that runs.
"""

__all__: list[str] = []  # the command line is the interface
