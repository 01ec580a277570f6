"""NeMo Gym's source layout, as a file's path shows it (`GROUP/NAME/data/FILE`, e.g.
`resources_servers/math/data/example_rollouts.jsonl`), and the agent-name templates that
read it (`--agent-name '{server}'`): a name per input file.

A template is text with fields in braces, `{{` and `}}` for a literal brace:

- `{server}`: NAME, the directory that follows a NeMo Gym component group (`GROUPS`) in
  the file's absolute path, the nearest to the file (`resources_servers/NAME/…`,
  `environments/NAME/…`, `responses_api_agents/NAME/…`);
- `{group}`: that group (`resources_servers`);
- `{parent}`: the directory holding the file (`data`);
- `{stem}`: the file's name without `.gz` and `.jsonl` (`example_rollouts`).

A field the path cannot fill (a file outside the layout, stdin) is an error, never an
empty name.
"""

from __future__ import annotations

import os
import string

GROUPS = (
    "resources_servers",
    "responses_api_agents",
    "responses_api_models",
    "environment_servers",
    "environments",
    "benchmarks",
)
"""The directories of NeMo Gym 0.7.0's source tree that hold one component per
subdirectory (`nemo_gym/discovery.py`'s server groups, and the catalogs `environments/`
and `benchmarks/` of `nemo_gym/environment/`)."""

FIELDS = ("server", "group", "parent", "stem")
"""The fields a template may name, in the order the documentation lists them."""


class TemplateError(ValueError):
    """A template that is malformed, names an unknown field, or asks for a part of the
    path the file does not have."""


def is_template(text: str) -> bool:
    """Whether an agent name is a template (holds a brace)."""
    return "{" in text or "}" in text


def _fields(template: str) -> list[str]:
    """The fields `template` names, checked: plain names from `FIELDS` only."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:  # "Single '}' encountered", "unmatched '{'"
        raise TemplateError(f"{template!r}: {error} (write {{{{ or }}}} for a brace)") from None
    fields = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            shown = (
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            known = ", ".join("{" + name + "}" for name in FIELDS)
            raise TemplateError(f"{template!r}: unknown field {shown}; known: {known}")
        fields.append(field)
    return fields


def check_template(template: str) -> None:
    """Raise `TemplateError` for a malformed template (before any file is read)."""
    _fields(template)


def path_fields(path: str) -> dict[str, str]:
    """The fields of the file at `path` (relative to the current directory) that its path
    has: `parent` and `stem` always, `server` and `group` inside NeMo Gym's layout."""
    absolute = os.path.abspath(path)
    directory, name = os.path.split(absolute)
    for suffix in (".gz", ".jsonl"):
        name = name.removesuffix(suffix)
    fields = {"parent": os.path.basename(directory), "stem": name}
    parts = directory.split(os.sep)
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in GROUPS:
            fields.update(group=parts[index], server=parts[index + 1])
            break
    return fields


def agent_name_for(template: str, path: str | None) -> str:
    """The agent name `template` gives the file at `path` (None: stdin, which has none).

    Raises `TemplateError` when the template is malformed or names a field the path does
    not have (a file outside NeMo Gym's layout has no `{server}`)."""
    fields = _fields(template)
    if not fields:
        return template.replace("{{", "{").replace("}}", "}")
    if path is None:
        raise TemplateError(f"{template!r}: stdin has no path to take a name from")
    known = path_fields(path)
    missing = [field for field in fields if field not in known]
    if missing:
        groups = "/, ".join(GROUPS)
        raise TemplateError(
            f"{path}: no {{{missing[0]}}} for the agent name {template!r}: the path has no "
            f"NeMo Gym component directory ({groups}/ followed by its name)"
        )
    return template.format(**known)
