"""The package's import graph is layered: read from the source (every import, at any depth,
`TYPE_CHECKING` ones included), no module imports one of a higher layer, and no import
circle exists, within a layer or across."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nemogym_ingest"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "leaves",
        (
            "errors",
            "members",
            "wire",
            "wording",
            "fast",
            "exit_status",
            "progress",
            "layout",
            "docent._sdk",
        ),
    ),
    ("values", ("jsonvalue", "model", "output", "source")),
    ("the option table", ("options",)),
    ("conversion", ("convert", "convert.*")),
    ("the line driver", ("rescue", "jsonl")),
    ("the file verdict", ("file_kind",)),
    ("the library", ("", "pool", "minimize")),
    ("the conformance runner", ("conformance", "conformance.*")),
    ("the Docent bridge", ("docent", "docent.*", "verdict")),
    ("the suite's writer and test data", ("casebook", "case_words", "testing", "testing.*")),
    ("the command line", ("commands", "commands.*", "cli", "__main__")),
)
"""The layers, lowest first, each a list of module names relative to the package (`""` is
the package itself; `*` as in fnmatch). A module may import from its own layer or a lower
one. The first pattern a module matches places it."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, node: ast.ImportFrom | ast.Import) -> set[str]:
    """The package's modules `node` (in `module`) imports: for `from X import name`, the
    submodule X.name when there is one, else X."""
    if isinstance(node, ast.Import):
        prefix = "nemogym_ingest."
        names = [alias.name for alias in node.names]
        return {name.removeprefix(prefix) for name in names if name.startswith(prefix)}
    if node.level == 0:
        if node.module is None or not node.module.startswith("nemogym_ingest"):
            return set()
        base = node.module.removeprefix("nemogym_ingest").removeprefix(".")
    else:
        package = [part for part in module.split(".") if part]
        if MODULES[module].name != "__init__.py":
            package.pop()  # a module's `.` is its package
        up = package[: len(package) - (node.level - 1)]
        base = ".".join([*up, *([node.module] if node.module else [])])
    found = set()
    for alias in node.names:
        submodule = f"{base}.{alias.name}" if base else alias.name
        found.add(submodule if submodule in MODULES else base)
    return found


def _imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(module, node)
    return found - {module}


GRAPH = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> int:
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return index
    raise AssertionError(f"{module or 'nemogym_ingest'} is in no layer: add it to LAYERS")


def test_the_graph_reads_the_imports() -> None:
    """The reader sees relative, absolute, nested and `from .. import module` imports."""
    assert {"errors", "jsonvalue"} <= GRAPH["options"]
    assert "convert" in GRAPH["docent.dropin"]  # from .. import convert
    assert "model" in GRAPH["jsonl"]  # imported inside a function
    assert "convert.rows" in GRAPH["convert"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_higher_layer(module: str) -> None:
    upward = sorted(target for target in GRAPH[module] if _layer(target) > _layer(module))
    layer = LAYERS[_layer(module)][0]
    assert not upward, f"{module} ({layer}) imports from higher layers: {upward}"


def test_no_import_circle() -> None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circle = [*path[path.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if module in done:
            return
        for target in sorted(GRAPH[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])
