"""`ticomex render`: the executed notebooks → the HTML site and one PDF per department.

quarto renders when it is on PATH; otherwise the built-in renderer produces the same
site and PDFs from the same `_quarto.yml`. Everything is written to a temporary folder
under `<out>` and moved into place at the end: a failed render leaves the previous
publication as it was.

The built-in renderer keeps each department's page and PDF in `<out>/.cache/render/`,
keyed on the notebook, its chart data, `_quarto.yml` and the renderer itself: a rebuild
re-renders only the departments whose inputs changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.render.cache import (
    CACHE_DIR,
    CachedOutputs,
    cached_outputs,
    fingerprint,
    prune,
    write_atomic,
)
from ticomex.render.config import CONFIG_FILE, SiteConfig, load_config
from ticomex.render.notebook import Department, read_department

__all__ = ["RenderReport", "RenderWorkers", "render"]

NOTEBOOKS_DIR = "notebooks"
SITE_DIR = "site"
PDF_DIR = "pdf"
ENGINES = ("quarto", "builtin")


@dataclass
class RenderReport:
    engine: str
    site: Path
    pdf: Path | None
    departments: list[str]
    rendered: list[str] = field(default_factory=list)  # the others came from the cache
    seconds: float = 0.0

    def text(self) -> str:
        reused = len(self.departments) - len(self.rendered)
        lines = [
            (
                f"{len(self.departments)} departments published in {self.seconds:.1f} s "
                f"({self.engine}; {len(self.rendered)} rendered, {reused} unchanged)"
            ),
            f"site: {self.site / 'index.html'}",
        ]
        if self.pdf:
            lines.append(f"PDF:  {self.pdf}/")
        return "\n".join(lines)


def _demo_note() -> str:
    from ticomex.texts import DEMO_NOTICE

    return DEMO_NOTICE


def render(
    out: Path,
    project: Path,
    pdf: bool = True,
    jobs: int = 1,
    *,
    engine: str | None = None,
    workers: RenderWorkers | None = None,
) -> RenderReport:
    """Publish `<out>/notebooks/*.ipynb` as `<out>/site/` and `<out>/pdf/`.

    `engine`: None picks quarto when it is on PATH and the built-in renderer otherwise;
    `workers`: render processes started ahead (`RenderWorkers`), used instead of new ones.
    """
    start = time.perf_counter()
    out, project = Path(out), Path(project)
    if engine not in (None, *ENGINES):
        raise TicomexError(f"unknown render engine {engine!r} (choose among {', '.join(ENGINES)})")
    config = load_config(project)
    notebooks = sorted((out / NOTEBOOKS_DIR).glob("*.ipynb"))
    if not notebooks:
        raise TicomexError(
            f"{out / NOTEBOOKS_DIR}: no executed notebook to render (run `ticomex execute` first)"
        )
    departments = [read_department(nb, out / NOTEBOOKS_DIR / "data") for nb in notebooks]
    quarto = shutil.which("quarto") if engine != "builtin" else None
    if engine == "quarto" and not quarto:
        raise TicomexError("quarto is not on PATH")

    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=out))
    # Written while the departments render: about a second of JavaScript the first time, in
    # a process of its own (vl-convert holds the interpreter lock while it bundles).
    bundle_writer, bundle = None, Future()
    if workers is not None and workers.bundle is not None:
        bundle = workers.bundle
    elif _vega_bundle_path(out / CACHE_DIR).exists():
        bundle.set_result(_vega_bundle_path(out / CACHE_DIR))
    else:
        bundle_writer = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        bundle = bundle_writer.submit(_vega_bundle, out / CACHE_DIR)
    try:
        if quarto:
            _render_with_quarto(quarto, departments, config, project, staging, pdf)
            rendered = [d.code for d in departments]
        else:
            rendered = _render_builtin(departments, config, out / CACHE_DIR, staging, pdf, jobs, workers)
        _write_shared(departments, config, bundle.result(), staging, pdf)
        _publish(staging, out, [SITE_DIR, PDF_DIR] if pdf else [SITE_DIR])
    finally:
        if bundle_writer is not None:
            bundle_writer.shutdown()
        shutil.rmtree(staging, ignore_errors=True)
    return RenderReport(
        engine="quarto" if quarto else "builtin",
        site=out / SITE_DIR,
        pdf=out / PDF_DIR if pdf else None,
        departments=[d.code for d in departments],
        rendered=rendered,
        seconds=time.perf_counter() - start,
    )


# --- quarto ------------------------------------------------------------------------------


def _render_with_quarto(
    quarto: str,
    departments: list[Department],
    config: SiteConfig,
    project: Path,
    staging: Path,
    pdf: bool,
) -> None:
    """quarto renders a throwaway project: `_quarto.yml`, its CSS and the notebooks."""
    work = staging / "quarto"
    work.mkdir()
    shutil.copyfile(config.path, work / CONFIG_FILE)
    for css in config.css:
        target = work / css.relative_to(project.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(css, target)
    for department in departments:
        shutil.copyfile(department.notebook, work / department.notebook.name)
    command = [quarto, "render", str(work), "--output-dir", str(staging / SITE_DIR)]
    if not pdf:
        command += ["--to", "html"]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise TicomexError(f"quarto render failed:\n{result.stderr[-3000:]}")
    if pdf:
        (staging / PDF_DIR).mkdir()
        for department in departments:
            os.replace(
                staging / SITE_DIR / f"{department.code}.pdf",
                staging / PDF_DIR / f"{department.code}.pdf",
            )


# --- built-in renderer -------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """Departments of one region rendered by one worker: they share the region's charts."""

    departments: tuple[Department, ...]
    outputs: tuple[CachedOutputs, ...]
    pdf: bool
    config: SiteConfig
    demo_note: str
    cache: Path


def _render_task(task: _Task) -> list[tuple[str, str | None]]:
    """Render and cache each department of the task: (code, error or None) for each."""
    from ticomex.render.html import department_page, sheet_title
    from ticomex.render.notebook import Markdown, read_blocks
    from ticomex.render.pdf import ChartImages, convert_blocks, department_pdf

    images = ChartImages(task.cache, task.config) if task.pdf else None
    read: dict[Path, list] = {}
    if images:  # every sheet's text in one pandoc run; a failure here is met again below
        try:
            for department in task.departments:
                read[department.notebook] = read_blocks(department.notebook)
            texts = [block.text for blocks in read.values() for block in blocks if isinstance(block, Markdown)]
            titles = [sheet_title(department, task.config) for department in task.departments]
            convert_blocks([*texts, *titles], task.departments[0].notebook)
        except Exception:  # noqa: BLE001 - each department reports its own error below
            pass
    results = []
    for department, outputs in zip(task.departments, task.outputs):
        try:
            blocks = read.pop(department.notebook, None) or read_blocks(department.notebook)
            if not outputs.html.exists():
                page = department_page(department, blocks, task.config, task.demo_note, task.pdf)
                write_atomic(outputs.html, page.encode("utf-8"))
            if images and not outputs.pdf.exists():
                document = department_pdf(department, blocks, task.config, task.demo_note, images)
                write_atomic(outputs.pdf, document)
            results.append((department.code, None))
        except TicomexError as err:
            results.append((department.code, str(err)))
        except Exception as err:  # noqa: BLE001 - one department's bug must name it, not stop the others
            results.append((department.code, f"{department.notebook}: {type(err).__name__}: {err}"))
    return results


def _render_builtin(
    departments: list[Department],
    config: SiteConfig,
    cache: Path,
    staging: Path,
    pdf: bool,
    jobs: int,
    workers: RenderWorkers | None = None,
) -> list[str]:
    key = fingerprint(config, _demo_note())
    for folder in ("pages", "pdf"):
        (cache / folder).mkdir(parents=True, exist_ok=True)
    outputs = {d.code: cached_outputs(d, key, cache, pdf) for d in departments}
    stale = [d for d in departments if outputs[d.code].missing(pdf)]
    if stale:
        pool = workers.pool if workers is not None else None
        _run_tasks(_tasks(stale, outputs, config, cache, pdf), len(stale), jobs, pool)

    (staging / SITE_DIR).mkdir()
    if pdf:
        (staging / PDF_DIR).mkdir()
    for department in departments:
        kept = outputs[department.code]
        shutil.copyfile(kept.html, staging / SITE_DIR / f"{department.code}.html")
        if pdf:
            shutil.copyfile(kept.pdf, staging / PDF_DIR / f"{department.code}.pdf")
    prune(cache, list(outputs.values()), pdf)
    return [d.code for d in stale]


# Departments per task at most: a region's departments share its charts (converted once,
# then read from the cache), small tasks let the workers finish together.
TASK_SIZE = 4


def _tasks(stale, outputs, config, cache, pdf) -> list[_Task]:
    by_region: dict[str, list[Department]] = {}
    for department in stale:
        by_region.setdefault(department.region_code, []).append(department)
    demo_note = _demo_note()
    chunks = [
        (part, group[i : i + TASK_SIZE])
        for group in by_region.values()
        for part, i in enumerate(range(0, len(group), TASK_SIZE))
    ]
    # Each region's first chunk before any second one (its charts are converted by then),
    # the largest first.
    groups = [chunk for _, chunk in sorted(chunks, key=lambda c: (c[0], -len(c[1]), c[1][0].code))]
    return [
        _Task(tuple(group), tuple(outputs[d.code] for d in group), pdf, config, demo_note, cache)
        for group in groups
    ]


def _run_tasks(tasks: list[_Task], total: int, jobs: int, pool: ProcessPoolExecutor | None = None) -> None:
    from tqdm import tqdm

    errors: list[str] = []
    with tqdm(total=total, desc="render", unit="dept", disable=None) as progress:

        def collect(results):
            for code, error in results:
                if error:
                    errors.append(error)
            progress.update(len(results))

        if pool is None and (jobs <= 1 or len(tasks) <= 1):
            for task in tasks:
                collect(_render_task(task))
        else:
            # spawn: a forked child could inherit a vl-convert runtime thread mid-flight.
            with (
                nullcontext(pool)
                if pool is not None
                else ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=get_context("spawn"))
            ) as running:
                for future in as_completed([running.submit(_render_task, task) for task in tasks]):
                    collect(future.result())
    if errors:
        raise TicomexError(
            f"{len(errors)} of {total} departments could not be rendered; the previous "
            "publication is left as it was:\n  " + "\n  ".join(sorted(errors))
        )


class RenderWorkers:
    """The built-in renderer's processes, started ahead — `ticomex build` starts them when
    notebooks are about to execute: while the notebooks run, each worker imports its
    libraries and starts vl-convert's engine, and the Vega bundle is written;
    `render(workers=...)` then renders at once. Does nothing when quarto
    renders. Close it (or use it as a context manager)."""

    def __init__(self, out: Path, project: Path, pdf: bool = True, jobs: int = 1) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.bundle: Future | None = None
        if shutil.which("quarto"):
            return
        cache = Path(out) / CACHE_DIR
        config = load_config(Path(project))
        # spawn: see _run_tasks.
        self.pool = ProcessPoolExecutor(max(1, jobs), mp_context=get_context("spawn"), initializer=_warm_up)
        self.bundle = self.pool.submit(_vega_bundle, cache)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self) -> RenderWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _warm_up() -> None:
    """A render worker's first seconds, spent before it has work: imports, vl-convert's
    engine (its first conversion costs a third of a second)."""
    try:
        import typst  # noqa: F401

        from ticomex.render import html, pdf  # noqa: F401 - html: imported ahead

        pdf.vl_converter().vegalite_to_svg({"mark": "point"})
    except Exception:  # noqa: BLE001 - only a head start: the task that needs it reports it
        pass


# --- shared by both engines --------------------------------------------------------------


def _vega_bundle_path(cache: Path) -> Path:
    return cache / f"vega-{version('vl-convert-python')}.js"


def _vega_bundle(cache: Path) -> Path:
    """Vega + Vega-Lite + vega-embed in one script (vl-convert ships them), built once."""
    path = _vega_bundle_path(cache)
    if not path.exists():
        import vl_convert

        cache.mkdir(parents=True, exist_ok=True)
        # The default snippet sets window.vegaEmbed, window.vega and window.vegaLite.
        with _stderr_kept_aside() as said:
            try:
                bundle = vl_convert.javascript_bundle()
            except Exception as err:
                raise TicomexError(f"the Vega bundle could not be built: {err}\n{said()}") from None
        write_atomic(path, bundle.encode("utf-8"))
    return path


@contextmanager
def _stderr_kept_aside():
    """vl-convert's bundler prints its passes on the process's standard error (file
    descriptor 2, below Python): kept aside, and given back as text on demand."""
    sys.stderr.flush()
    saved = os.dup(2)
    kept = tempfile.TemporaryFile()
    os.dup2(kept.fileno(), 2)

    def said() -> str:
        kept.seek(0)
        return kept.read().decode("utf-8", "replace").strip()

    try:
        yield said
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        kept.close()


def _write_shared(
    departments: list[Department], config: SiteConfig, bundle: Path, staging: Path, pdf: bool
) -> None:
    """The index, the assets shared by all pages and the chart data."""
    from ticomex.render.html import ASSETS, ASSETS_DIR, DATA_DIR, SCRIPT, VEGA_BUNDLE, index_page

    site = staging / SITE_DIR
    assets = site / ASSETS_DIR
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle, assets / VEGA_BUNDLE)
    shutil.copyfile(ASSETS / SCRIPT, assets / SCRIPT)
    for css in config.css:
        shutil.copyfile(css, assets / css.name)
    for department in departments:
        shutil.copytree(department.data_dir, site / DATA_DIR / department.code)
    index = index_page(departments, config, _demo_note(), pdf)
    (site / "index.html").write_text(index, encoding="utf-8")


def _publish(staging: Path, out: Path, names: list[str]) -> None:
    """Move the new folders into place; the previous ones go to the staging folder."""
    for name in names:
        target = out / name
        if target.exists():
            os.replace(target, staging / f"previous-{name}")
        os.replace(staging / name, target)
