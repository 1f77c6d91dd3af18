"""The files of the ticomex package a notebook's execution depends on, found statically.

The kernel runs the template's code cells, which import ticomex modules, which import others:
the closure of those imports (read with `ast`, imports inside functions included, so it can
only be larger than what a kernel really loads; tests/test_batch.py checks it against the
`sys.modules` of a kernel that ran the real template) plus the modules the warm kernel imports
beforehand. A package in the closure brings the non-Python files of its folder (data it reads,
e.g. reference tables). The batch's own modules that shape the written notebook are added
(their files only): changing how a notebook is run or written re-executes it. The renderer and its assets are in
none of these, so editing them re-executes nothing.

Standard library only: a no-op rebuild computes this.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import ticomex
from ticomex.batch.kernel import PRELOADED_MODULES

PACKAGE = ticomex.__name__
PACKAGE_DIR = Path(ticomex.__file__).parent
# The batch's modules that decide what an executed notebook holds, byte for byte.
NOTEBOOK_WRITERS = (
    "ticomex.batch.engine",
    "ticomex.batch.kernel",
    "ticomex.batch.normalise",
    "ticomex.batch.replay",
    "ticomex.batch.runner",
)
# IPython syntax that is not Python: line and cell magics, shell escapes, help.
_IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|\?\s*$")


def module_file(name: str, package_dir: Path) -> Path | None:
    """The source of module `name` (under the package held in `package_dir`), or None."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py") if parts[1:] else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    # A cell with IPython syntax: its Python lines still say what it imports.
    python = "\n".join("" if _IPYTHON_LINE.search(line) else line for line in source.splitlines())
    try:
        return ast.parse(python)
    except SyntaxError:  # the cell fails before importing anything
        return None


def _imported_names(tree: ast.Module, current: str, is_package: bool) -> set[str]:
    """Every module name an import statement of `tree` may load (parents included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = current.split(".") if is_package else current.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # submodules, if any
    expanded = set()
    for name in names:
        parts = name.split(".")
        expanded.update(".".join(parts[: n + 1]) for n in range(len(parts)))
    return expanded


def imported_modules(sources: Iterable[str], package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Module name → source file of every ticomex module the code in `sources` imports,
    directly or through other ticomex modules."""
    found: dict[str, Path] = {}
    pending: list[tuple[str, ast.Module | None, bool]] = [("__main__", _parse(source), False) for source in sources]
    while pending:
        current, tree, is_package = pending.pop()
        if tree is None:
            continue
        for name in _imported_names(tree, current, is_package):
            if name in found:
                continue
            path = module_file(name, package_dir)
            if path is None:
                continue
            found[name] = path
            pending.append((name, _parse(path.read_text(encoding="utf-8")), path.name == "__init__.py"))
    return found


def kernel_files(code_sources: Iterable[str], package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The package files an execution of these code cells depends on, sorted."""
    preloaded = [f"import {name}" for name in PRELOADED_MODULES if name.startswith(PACKAGE + ".")]
    modules = imported_modules([*code_sources, *preloaded], package_dir)
    files = set(modules.values())
    for path in modules.values():
        if path.name == "__init__.py":  # a package: the data files beside its modules
            files.update(
                child for child in path.parent.iterdir() if child.is_file() and child.suffix not in (".py", ".pyc")
            )
    for name in ("ticomex.batch", *NOTEBOOK_WRITERS):  # the files themselves, not their imports
        path = module_file(name, package_dir)
        if path is not None:
            files.add(path)
    return sorted(files)
