"""The subcommands of `nemogym-ingest`, one module each (`convert`, `check`, `conformance`,
`upload`, `case`), each registering itself with `register(subparsers)`; `common` holds what
they share (messages on stderr, the run arguments, what stops the program). The program
itself (`main`, `build_parser`) is `nemogym_ingest.cli`.
"""

__all__: list[str] = []  # the command line is the interface
