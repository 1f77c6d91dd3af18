"""The project's folders and the build's options, found from wherever a command runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROJECT
from ticomex.build import BuildOptions
from ticomex.cli import build_options, parser
from ticomex.project import Project, find_project


@pytest.mark.parametrize("start", [PROJECT, PROJECT / "notebooks", PROJECT / "src" / "ticomex"])
def test_the_project_is_found_from_its_sub_folders(start):
    assert find_project(start).root == PROJECT


def test_outside_any_project_the_package_source_is_the_project(tmp_path):
    assert find_project(tmp_path).root == PROJECT  # an editable install from the repository


def test_a_folder_with_its_own_config_and_notebooks_is_a_project(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_quarto.yml").write_text("project: {}\n", encoding="utf-8")
    inner = tmp_path / "notebooks"
    assert find_project(inner) == Project(tmp_path)
    assert find_project(inner).db == tmp_path / "data" / "ticomex.duckdb"


def test_build_options_default_to_the_project_folders(tmp_path):
    project = Project(tmp_path)
    options = BuildOptions.for_project(project, only=["05"], out="elsewhere")
    assert options.db == tmp_path / "data" / "ticomex.duckdb"
    assert options.params_dir == tmp_path / "params"
    assert options.template == tmp_path / "notebooks" / "fiche.ipynb"
    assert options.out == Path("elsewhere") and options.only == ("05",) and options.raw is None
    assert options.pdf and not options.fresh_kernels


def test_command_line_options_become_build_options(monkeypatch):
    monkeypatch.chdir(PROJECT / "notebooks")
    args = parser().parse_args(["build", "--only", "05", "92", "--year", "2023", "--no-pdf", "--jobs", "3"])
    options = build_options(args)
    assert options.project.root == PROJECT
    assert (options.only, options.year, options.pdf, options.jobs) == (("05", "92"), "2023", False, 3)
    assert options.db == PROJECT / "data" / "ticomex.duckdb"  # not notebooks/data/...
