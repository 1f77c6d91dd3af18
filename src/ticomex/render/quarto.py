"""The quarto engine: used when quarto is on PATH, from the same `_quarto.yml`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.layout import PDF_DIR, SITE_DIR
from ticomex.project import CONFIG_FILE
from ticomex.render.assets import write_css
from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Department


def quarto_path() -> str | None:
    return shutil.which("quarto")


def render_with_quarto(
    quarto: str,
    departments: list[Department],
    config: SiteConfig,
    project: Path,
    staging: Path,
    pdf: bool,
) -> None:
    """quarto renders a throwaway project: `_quarto.yml`, its CSS and the notebooks, into
    `staging/site/` and `staging/pdf/`."""
    work = staging / "quarto"
    work.mkdir()
    shutil.copyfile(config.path, work / CONFIG_FILE)
    write_css(config, work, project)
    for department in departments:
        shutil.copyfile(department.notebook, work / department.notebook.name)
    command = [quarto, "render", str(work), "--output-dir", str(staging / SITE_DIR)]
    if not pdf:
        command += ["--to", "html"]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise TicomexError(f"quarto render failed:\n{result.stderr[-3000:]}")
    if pdf:
        (staging / SITE_DIR / PDF_DIR).mkdir()
        for department in departments:
            os.replace(
                staging / SITE_DIR / f"{department.code}.pdf",
                staging / SITE_DIR / PDF_DIR / f"{department.code}.pdf",
            )
