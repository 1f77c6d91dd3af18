"""The built-in engine: each department's page and PDF, rendered in tasks and cached.

A task holds at most `TASK_SIZE` departments of one region (they share its charts,
converted once then read from the cache); tasks run in this process (one job) or in
render workers (`pool`). Each page and PDF is kept in the render cache under a key of
its inputs (`cache`): only the departments whose inputs changed are rendered again.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ticomex.errors import TicomexError
from ticomex.layout import PDF_DIR, SITE_DIR, write_atomic
from ticomex.render.cache import CachedOutputs, cached_outputs, fingerprint, prune
from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Department
from ticomex.render.pool import run_tasks
from ticomex.render.session import RenderSession
from ticomex.texts import DEMO_NOTICE

if TYPE_CHECKING:
    from ticomex.render.pool import RenderWorkers

# Departments per task at most: a region's departments share its charts (converted once,
# then read from the cache), small tasks let the workers finish together.
TASK_SIZE = 4


@dataclass(frozen=True)
class Task:
    """Departments of one region rendered by one worker: they share the region's charts."""

    departments: tuple[Department, ...]
    outputs: tuple[CachedOutputs, ...]
    pdf: bool
    config: SiteConfig
    demo_note: str
    cache: Path
    published: frozenset[str] = frozenset()  # every sheet published: linked to, the others not


def render_task(task: Task, session: RenderSession) -> list[tuple[str, str | None]]:
    """Render and cache each department of the task: (code, error or None) for each."""
    from ticomex.render.html import department_page, sheet_title
    from ticomex.render.notebook import Markdown, read_blocks
    from ticomex.render.pdf import ChartImages, convert_blocks, department_pdf

    images = ChartImages(task.cache, task.config, session)
    read: dict[Path, list] = {}
    if task.pdf:  # every sheet's text in one pandoc run; a failure here is met again below
        try:
            for department in task.departments:
                read[department.notebook] = read_blocks(department.notebook)
            texts = [block.text for blocks in read.values() for block in blocks if isinstance(block, Markdown)]
            titles = [sheet_title(department, task.config) for department in task.departments]
            convert_blocks([*texts, *titles], task.departments[0].notebook, session)
        except Exception:  # noqa: BLE001 - each department reports its own error below
            pass
    results = []
    for department, outputs in zip(task.departments, task.outputs):
        try:
            blocks = read.pop(department.notebook, None) or read_blocks(department.notebook)
            if not outputs.html.exists():
                page = department_page(department, blocks, task.config, task.demo_note, task.pdf, images, task.published)
                write_atomic(outputs.html, page.encode("utf-8"))
            if task.pdf and not outputs.pdf.exists():
                document = department_pdf(department, blocks, task.config, task.demo_note, images, session)
                write_atomic(outputs.pdf, document)
            results.append((department.code, None))
        except TicomexError as err:
            results.append((department.code, str(err)))
        except Exception as err:  # noqa: BLE001 - one department's bug must name it, not stop the others
            results.append((department.code, f"{department.notebook}: {type(err).__name__}: {err}"))
    return results


def render_builtin(
    departments: list[Department],
    config: SiteConfig,
    cache: Path,
    staging: Path,
    pdf: bool,
    jobs: int,
    workers: RenderWorkers | None = None,
) -> list[str]:
    """Render the departments whose cached outputs are missing, copy every department's
    page (and PDF) into `staging/site/` (`staging/pdf/`); the codes rendered."""
    key = fingerprint(config, DEMO_NOTICE)
    for folder in ("pages", "pdf"):
        (cache / folder).mkdir(parents=True, exist_ok=True)
    published = frozenset(d.code for d in departments)
    outputs = {d.code: cached_outputs(d, key, cache, pdf, published) for d in departments}
    stale = [d for d in departments if outputs[d.code].missing(pdf)]
    if stale:
        tasks = make_tasks(stale, outputs, config, cache, pdf, published)
        run_tasks(render_task, tasks, len(stale), "departments", jobs, config.font_paths, workers)

    (staging / SITE_DIR).mkdir()
    if pdf:
        (staging / SITE_DIR / PDF_DIR).mkdir()
    for department in departments:
        kept = outputs[department.code]
        shutil.copyfile(kept.html, staging / SITE_DIR / f"{department.code}.html")
        if pdf:
            shutil.copyfile(kept.pdf, staging / SITE_DIR / PDF_DIR / f"{department.code}.pdf")
    prune(cache, list(outputs.values()), pdf)
    return [d.code for d in stale]


def make_tasks(
    stale: list[Department], outputs: dict[str, CachedOutputs], config: SiteConfig, cache: Path, pdf: bool,
    published: frozenset[str] = frozenset(),
) -> list[Task]:
    by_region: dict[str, list[Department]] = {}
    for department in stale:
        by_region.setdefault(department.region_code, []).append(department)
    chunks = [
        (part, group[i : i + TASK_SIZE])
        for group in by_region.values()
        for part, i in enumerate(range(0, len(group), TASK_SIZE))
    ]
    # Each region's first chunk before any second one (its charts are converted by then),
    # the largest first.
    groups = [chunk for _, chunk in sorted(chunks, key=lambda c: (c[0], -len(c[1]), c[1][0].code))]
    return [
        Task(tuple(group), tuple(outputs[d.code] for d in group), pdf, config, DEMO_NOTICE, cache, published)
        for group in groups
    ]
