"""Packaging: the core stays free of Docent (one runtime dependency, no heavy imports), and
the built wheel, installed alone, carries its license, metadata and conformance suite."""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

import nemogym_ingest
from nemogym_ingest.docent.settings import DOCENT_VERSION

ROOT = Path(__file__).resolve().parents[1]


def test_runtime_dependencies_are_minimal() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [dep.split(">")[0].split("=")[0] for dep in project["dependencies"]] == [
        "dataclasses-json"
    ]
    assert project["optional-dependencies"]["docent"] == [f"docent=={DOCENT_VERSION}"]


def test_import_does_not_pull_docent_or_pydantic() -> None:
    code = (
        "import sys, nemogym_ingest, nemogym_ingest.cli; "
        "heavy = [m for m in ('docent', 'pydantic', 'openai', 'hypothesis') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _modules_after(code: str) -> list[str]:
    """The modules `code` leaves imported (it ends by printing them, one a line), in a fresh
    interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint(*sorted(sys.modules), sep='\\n')"],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.splitlines()


def test_importing_the_package_imports_none_of_its_modules() -> None:
    """The public names are imported when first used, and the version looked up when asked."""
    modules = _modules_after("import nemogym_ingest")
    assert [name for name in modules if name.startswith("nemogym_ingest.")] == []
    assert "importlib.metadata" not in modules


# Modules that `nemogym-ingest convert` (one worker) never needs: it writes the payloads it
# builds, so neither the dataclass model nor dataclasses-json is loaded.
_NOT_FOR_CONVERT = (
    "dataclasses_json",
    "docent",
    "importlib.metadata",
    "marshmallow",
    "multiprocessing",
    "nemogym_ingest.model",
    "nemogym_ingest.casebook",
    "nemogym_ingest.commands.case",
    "nemogym_ingest.commands.check",
    "nemogym_ingest.commands.conformance",
    "nemogym_ingest.commands.upload",
    "nemogym_ingest.conformance",
    "nemogym_ingest.docent",
    "nemogym_ingest.minimize",
    "nemogym_ingest.verdict",
)


def test_convert_imports_only_what_it_uses(tmp_path: Path) -> None:
    """`nemogym-ingest convert` imports neither the other commands' modules nor the Docent
    bridge: its start-up is the conversion's imports alone."""
    rollouts = ROOT / "examples" / "rollouts.jsonl"
    argv = ["convert", str(rollouts), "-o", str(tmp_path / "runs.jsonl"), "--quiet", "-j", "1"]
    modules = _modules_after(f"from nemogym_ingest.cli import main\nassert main({argv!r}) == 0")
    assert "nemogym_ingest.commands.convert" in modules
    assert (tmp_path / "runs.jsonl").stat().st_size > 0
    unused = [
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in _NOT_FOR_CONVERT)
    ]
    assert unused == []


def test_py_typed_marker_ships() -> None:
    assert (ROOT / "nemogym_ingest" / "py.typed").exists()


# --- the wheel, installed as a user would ------------------------------------------------


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    return uv


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `argv` outside this test's environment: no virtualenv or path of ours leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _checked(argv: list[str], cwd: Path) -> str:
    done = _run(argv, cwd)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel built from this checkout (and its
    runtime dependency only); returns its bin directory."""
    uv = _uv()
    root = tmp_path_factory.mktemp("wheel")
    # Built with the locked hatchling of this environment and installed from uv's cache
    # when it can be: no network is needed after `uv sync`.
    build = [uv, "build", "--wheel", "--no-build-isolation", "--python", sys.executable]
    _checked([*build, "--out-dir", str(root / "dist"), str(ROOT)], root)
    (wheel,) = (root / "dist").glob("*.whl")
    _checked([uv, "venv", "--quiet", "--python", sys.executable, str(root / "venv")], root)
    python = root / "venv" / "bin" / "python"
    install = [uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)]
    if _run([*install, "--offline"], root).returncode != 0:
        _checked(install, root)  # the cache lacked something: fetch it
    return python.parent


def test_the_installed_wheel_passes_its_own_suite_from_an_empty_directory(
    installed: Path, tmp_path: Path
) -> None:
    manifest = json.loads((ROOT / "spec" / "manifest.json").read_text(encoding="utf-8"))
    output = _checked(
        [str(installed / "nemogym-ingest"), "conformance", "--takes-options"], tmp_path
    )
    assert output.splitlines()[-1] == f"{manifest['cases']} passed, 0 failed, 0 skipped"
    assert list(tmp_path.iterdir()) == []


def test_the_installed_wheel_takes_another_suite_with_spec(installed: Path, tmp_path: Path) -> None:
    """`--spec DIR` overrides the installed suite: here a copy holding only one case file."""
    suite = tmp_path / "suite"
    shutil.copytree(ROOT / "spec", suite / "spec")
    shutil.copytree(ROOT / "golden", suite / "golden")
    for case_file in (suite / "spec" / "cases").glob("*.json"):
        if case_file.name != "naming.json":
            case_file.unlink()
    count = len(json.loads((suite / "spec" / "cases" / "naming.json").read_text())["cases"])
    arguments = ["conformance", "--takes-options", "--spec", str(suite / "spec")]
    output = _checked([str(installed / "nemogym-ingest"), *arguments], tmp_path)
    assert output.splitlines()[-1] == f"{count} passed, 0 failed, 0 skipped"


def test_the_installed_wheel_carries_license_metadata_and_no_docent(
    installed: Path, tmp_path: Path
) -> None:
    code = (
        "import importlib.metadata as m, json, pathlib, sys, nemogym_ingest\n"
        "d = m.distribution('nemogym-ingest')\n"
        "license = [f for f in d.files if f.name == 'LICENSE']\n"
        "print(json.dumps({'version': d.version, 'license': license[0].read_text(),\n"
        "  'classifiers': d.metadata.get_all('Classifier'),\n"
        "  'urls': d.metadata.get_all('Project-URL'), 'keywords': d.metadata['Keywords'],\n"
        "  'module': nemogym_ingest.__file__, 'docent': 'docent' in sys.modules}))\n"
        "import docent\n"
    )
    done = _run([str(installed / "python"), "-c", code], tmp_path)
    assert "No module named 'docent'" in done.stderr  # only the runtime dependency came
    found = json.loads(done.stdout)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert found["version"] == project["version"]
    assert found["license"] == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in found["license"]
    assert found["classifiers"] == project["classifiers"]
    assert len(found["urls"]) == len(project["urls"])
    assert found["keywords"]
    assert Path(found["module"]).is_relative_to(installed.parent)
    assert found["docent"] is False


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but Python's bytecode caches."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_case_add_from_the_installed_wheel_edits_only_the_suite_named_by_spec(
    installed: Path, tmp_path: Path
) -> None:
    """An installed package's suite copy is never edited: without --spec, `case add` exits 2
    saying so; with it, it writes there and nowhere else."""
    site = installed.parent / "lib"
    before = _tree(site)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "rollouts.jsonl", work / "rollouts.jsonl")
    command = [str(installed / "nemogym-ingest"), "case", "add", "rollouts.jsonl:1"]
    command += ["--id", "x-y", "--group", "g", "--rules", "R13"]
    refused = _run(command, work)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "pass --spec DIR" in refused.stderr
    assert refused.stdout == ""
    assert sorted(p.name for p in work.iterdir()) == ["rollouts.jsonl"]
    shutil.copytree(ROOT / "spec", tmp_path / "suite" / "spec")
    shutil.copytree(ROOT / "golden", tmp_path / "suite" / "golden")
    added = _run([*command, "--spec", str(tmp_path / "suite" / "spec")], work)
    assert added.returncode == 0, added.stdout + added.stderr
    assert (tmp_path / "suite" / "spec" / "cases" / "g.json").is_file()
    assert (tmp_path / "suite" / "golden" / "x-y.json").is_file()
    assert "git diff" not in added.stdout  # the copy is not under git
    assert _tree(site) == before
    assert sorted(p.name for p in work.iterdir()) == ["rollouts.jsonl"]


def _readme_convert_command() -> list[str]:
    """The README's main command, from `nemogym-ingest` on."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in readme.splitlines() if "nemogym-ingest convert examples/" in line]
    return line.split("nemogym-ingest", 1)[1].split()


def test_the_readme_main_command_leaves_git_status_clean_and_the_sdist_without_its_output(
    tmp_path: Path,
) -> None:
    """On a copy of the checkout (its tracked files, under a fresh git): the output the
    README's command writes is ignored by git and left out of `uv build --sdist`."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    checkout = tmp_path / "checkout"
    for name in filter(None, tracked.split("\0")):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, checkout / name)
    _checked(["git", "init", "--quiet"], checkout)
    _checked(["git", "add", "--all"], checkout)
    command = _readme_convert_command()
    assert command[:2] == ["convert", "examples/rollouts.jsonl"]
    _checked([sys.executable, "-m", "nemogym_ingest", *command], checkout)
    output = checkout / command[command.index("-o") + 1]
    assert output.stat().st_size > 0
    untracked = _checked(["git", "status", "--porcelain", "--untracked-files=all"], checkout)
    assert [line for line in untracked.splitlines() if not line.startswith("A ")] == []
    build = [_uv(), "build", "--sdist", "--no-build-isolation", "--python", sys.executable]
    _checked([*build, "--out-dir", str(tmp_path / "dist"), str(checkout)], tmp_path)
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "examples/rollouts.jsonl" in names
    assert output.name not in names


def test_every_package_lists_what_it_makes_public() -> None:
    """Each package of nemogym_ingest says what is public in its `__all__`, and every name
    listed there is importable from it."""
    package_dir = ROOT / "nemogym_ingest"
    packages = sorted(
        ".".join(("nemogym_ingest", *init.parent.relative_to(package_dir).parts))
        for init in package_dir.rglob("__init__.py")
    )
    assert len(packages) == 7
    for name in packages:
        package = importlib.import_module(name)
        assert isinstance(package.__all__, list), name
        assert [public for public in package.__all__ if not hasattr(package, public)] == []


def test_the_root_names_for_type_checkers_are_the_public_list() -> None:
    """The root's imports for type checkers (under TYPE_CHECKING, re-exported `as` the same
    name) are exactly its one list of public names, `_PUBLIC`, from the same modules."""
    tree = ast.parse((ROOT / "nemogym_ingest" / "__init__.py").read_text(encoding="utf-8"))
    (guarded,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imported: dict[str, list[str]] = {}
    for node in guarded.body:
        if isinstance(node, ast.ImportFrom):
            assert all(alias.asname == alias.name for alias in node.names)
            imported.setdefault(f".{node.module}", []).extend(a.name for a in node.names)
    public = {module: list(names) for module, names in nemogym_ingest._PUBLIC.items()}
    assert imported == public
    assert sorted(nemogym_ingest.__all__) == sorted(["__version__", *nemogym_ingest._MODULE_OF])
