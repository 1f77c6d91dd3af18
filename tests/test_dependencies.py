"""The declared dependencies are the libraries the package imports (no more, no fewer)."""

from __future__ import annotations

import ast
import sys
import tomllib

from conftest import PROJECT

PACKAGE = PROJECT / "src" / "ticomex"
# Distribution name → the module it is imported as, where they differ.
MODULE_OF = {"pyyaml": "yaml", "pypandoc-binary": "pypandoc", "vl-convert-python": "vl_convert",
             "ipython": "IPython", "jupyter-client": "jupyter_client", "jupyter-core": "jupyter_core"}

# Needed, never imported: the kernel papermill and the batch start (`python -m ipykernel`).
RUN_ONLY = {"ipykernel"}


def imported_top_level_modules() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ticomex", "__future__"}


def test_declared_dependencies_match_imports():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~ [":
            name = name.split(stop)[0]
        declared.add(MODULE_OF.get(name.lower(), name.replace("-", "_")))
    assert declared == imported_top_level_modules() | RUN_ONLY
