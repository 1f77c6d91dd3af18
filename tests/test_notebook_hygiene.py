"""The template stays clean without discipline: the repository's pre-commit hook strips what
JupyterLab saves (outputs, counts, run metadata), keeps cell ids, and leaves the committed
template as it is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT, TEMPLATE

CONFIG = PROJECT / ".pre-commit-config.yaml"


def hook_arguments() -> list[str]:
    """The nbstripout hook's command as pre-commit runs it, less the `uv run` in front."""
    import shlex

    (hook,) = [h for repo in yaml.safe_load(CONFIG.read_text())["repos"] for h in repo["hooks"] if h["id"] == "nbstripout"]
    words = shlex.split(hook["entry"])
    return words[words.index("nbstripout") + 1 :]


def saved_from_jupyterlab(path: Path) -> None:
    """The template as JupyterLab saves it after a run: outputs, counts, metadata."""
    nb = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    for number, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-12-02T10:00:00Z"}
    nb["metadata"]["language_info"].update(version="3.11.7", codemirror_mode={"name": "ipython"})
    nb["metadata"]["papermill"] = {"duration": 3.2}
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def test_the_hook_leaves_the_committed_template_as_it_is(tmp_path):
    copy = tmp_path / "fiche.ipynb"
    shutil.copy(TEMPLATE, copy)
    subprocess.run([sys.executable, "-m", "nbstripout", *hook_arguments(), str(copy)], check=True)
    assert copy.read_bytes() == TEMPLATE.read_bytes()


def test_the_hook_strips_what_jupyterlab_saves(tmp_path):
    dirty = tmp_path / "fiche.ipynb"
    saved_from_jupyterlab(dirty)
    subprocess.run([sys.executable, "-m", "nbstripout", *hook_arguments(), str(dirty)], check=True)
    assert dirty.read_bytes() == TEMPLATE.read_bytes()  # outputs, counts, metadata gone; ids kept


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("uv") is None, reason="git and uv are needed")
def test_pre_commit_refuses_a_notebook_with_outputs_and_strips_it(tmp_path):
    """pre-commit itself, in a throwaway repository holding this project's hook config."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy(CONFIG, repo / CONFIG.name)
    dirty = repo / "notebooks" / "fiche.ipynb"
    saved_from_jupyterlab(dirty)
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        UV_PROJECT=str(PROJECT),  # `uv run` in the hook: the project's locked environment
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run([*git, "add", "."], cwd=repo, check=True, env=env)
    run = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # files were modified: the commit stops
    assert "strip notebook outputs" in run.stdout and "Failed" in run.stdout
    assert dirty.read_bytes() == TEMPLATE.read_bytes()
