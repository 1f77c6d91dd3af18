"""The project's folders, found from wherever a command or a kernel runs.

A project is the folder holding `_quarto.yml` (the site's configuration) and `notebooks/`.
Commands and the notebook look for it from the working folder upwards, then beside the
installed package (an editable install from the repository), so that `ticomex build` in a
sub-folder and papermill from `notebooks/` or the root find the same database and params.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.layout import Under

CONFIG_FILE = "_quarto.yml"
TEMPLATE = Path("notebooks") / "fiche.ipynb"
PARAMS_DIR = Path("params")
DB_FILE = Path("data") / "ticomex.duckdb"
DEMO_RELEASE_DIR = Path("data") / "raw" / "demo"
OFFICIAL_RELEASE_DIR = Path("data") / "raw" / "officiel"
OUTPUT_DIR = Path("output")


@dataclass(frozen=True)
class Project:
    root: Path

    config = Under(CONFIG_FILE)
    template = Under(TEMPLATE)
    params_dir = Under(PARAMS_DIR)
    db = Under(DB_FILE)
    demo_release = Under(DEMO_RELEASE_DIR)
    official_release = Under(OFFICIAL_RELEASE_DIR)
    output = Under(OUTPUT_DIR)


def config_option(tree, dotted: str, config: Path, purpose: str | None = None):
    """The option `dotted` (e.g. `format.typst.mainfont`) of a configuration read from
    `config`; a clear error naming the file and the key when it is missing."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise TicomexError(f"{config}: option `{dotted}` missing" + (f" ({purpose})" if purpose else ""))
        node = node[part]
    return node


def _is_project(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and (folder / TEMPLATE).parent.is_dir()


def find_project(start: Path | None = None) -> Project:
    """The project holding `start` (default: the working folder), else the one holding the
    package's source; a clear error when neither is one."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_project(folder):
            return Project(folder)
    source_root = Path(__file__).resolve().parents[2]  # src/ticomex/project.py → repository
    if _is_project(source_root):
        return Project(source_root)
    raise TicomexError(f"{here}: not inside a ticomex project (no folder above holds {CONFIG_FILE} and notebooks/)")
