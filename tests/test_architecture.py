"""The rooms of docs/architecture.md hold: no import circle, a small documented `sdk/`.

The imports are read with `ast`, not by importing, so an import inside a function (the
kind that hides a circle until the function runs) counts like one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sdk", "training", "export")
MOST_SDK_MODULES = 12  # modules directly in sdk/, __init__.py included
SDK_MAY_NOT_IMPORT = ("torch", "training", "export")  # the runtime is torch-free


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the three packages by dotted name (a package by its __init__.py)."""
    return {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def _imported_names(path: Path, name: str) -> Iterator[str]:
    """Dotted names each import statement may load, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` loads a.b when b is a module, else a; _owner picks which
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    """The project module that loading `dotted` runs last: its longest module prefix."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_owner(dotted, modules) for dotted in _imported_names(path, name)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of two or more modules (Tarjan), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_finds_a_circle_hidden_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import x\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    assert cycles(import_graph(modules)) == [["a", "b"]]


def test_no_import_circle_in_sdk_training_or_export() -> None:
    found = cycles(import_graph(project_modules()))
    assert not found, "import circles: " + "; ".join(" <-> ".join(group) for group in found)


def test_sdk_imports_neither_torch_nor_training_nor_export() -> None:
    modules = project_modules()
    wrong = sorted(
        f"{name} imports {dotted}"
        for name, path in modules.items()
        if name.split(".")[0] == "sdk"
        for dotted in _imported_names(path, name)
        if dotted.split(".")[0] in SDK_MAY_NOT_IMPORT
    )
    assert not wrong, wrong


def test_sdk_keeps_at_most_twelve_modules_at_its_top() -> None:
    top = sorted(p.name for p in (ROOT / "sdk").glob("*.py"))
    assert len(top) <= MOST_SDK_MODULES, f"{len(top)} modules directly in sdk/: {top}"


def _sdk_subpackages() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "sdk").rglob("__init__.py") if p.parent != ROOT / "sdk")


@pytest.mark.parametrize("folder", _sdk_subpackages(), ids=lambda p: p.name)
def test_every_sdk_subpackage_says_its_one_job(folder: Path) -> None:
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
    assert docstring and docstring.strip(), (
        f"{folder.relative_to(ROOT)}/__init__.py has no docstring"
    )
