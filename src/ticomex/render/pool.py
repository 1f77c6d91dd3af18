"""The built-in renderer's worker processes, and `RenderWorkers`, started ahead.

Each worker builds its `RenderSession` when it starts (`start_worker`) and hands it to
every task it runs (`run_in_worker`): that session is the only state a worker keeps.
Workers are spawned, not forked: a forked child could inherit a vl-convert runtime thread
mid-flight.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from ticomex.layout import OutputLayout
from ticomex.render.assets import vega_bundle
from ticomex.render.config import load_config
from ticomex.render.quarto import quarto_path
from ticomex.render.session import RenderSession

# This worker process's session, set by `start_worker` (None outside a render worker).
_worker_session: RenderSession | None = None


def start_worker(font_paths: tuple[Path, ...] = ()) -> None:
    """A render worker's first seconds, spent before it has work: its session, the
    imports, vl-convert's engine (its first conversion costs a third of a second) and the
    fonts it will measure text with."""
    global _worker_session
    _worker_session = RenderSession()
    try:
        import typst  # noqa: F401

        from ticomex.render import html, pdf  # noqa: F401 - imported ahead
        from ticomex.vega import vl_converter

        vl_converter().vegalite_to_svg({"mark": "point"})
        _worker_session.converter(font_paths).register_fonts()
    except Exception:  # noqa: BLE001 - only a head start: the task that needs it reports it
        pass


def run_in_worker(function: Callable, *args):
    """`function(*args, session)` with this worker's session."""
    return function(*args, _worker_session)


def run_tasks(
    function: Callable,
    tasks: list,
    total: int,
    what: str,
    jobs: int,
    font_paths: tuple[Path, ...] = (),
    workers: RenderWorkers | None = None,
) -> None:
    """`function(task, session)` for every task, giving `[(name, error or None)]`: here
    (one job, or one task) or in worker processes, the workers started ahead if given.
    Any error stops the publication, each of the `total` items (`what`) that failed named."""
    from contextlib import nullcontext

    from tqdm import tqdm

    from ticomex.errors import TicomexError

    pool = workers.pool if workers is not None else None
    errors: list[str] = []
    with tqdm(total=total, desc="render", unit=what, disable=None) as progress:

        def collect(results):
            errors.extend(error for _name, error in results if error)
            progress.update(len(results))

        if pool is None and (jobs <= 1 or len(tasks) <= 1):
            session = RenderSession()
            for task in tasks:
                collect(function(task, session))
        else:
            with nullcontext(pool) if pool is not None else new_pool(min(jobs, len(tasks)), font_paths) as running:
                futures = [running.submit(run_in_worker, function, task) for task in tasks]
                for future in as_completed(futures):
                    collect(future.result())
    if errors:
        raise TicomexError(
            f"{len(errors)} of {total} {what} could not be rendered; the previous "
            "publication is left as it was:\n  " + "\n  ".join(sorted(errors))
        )


def new_pool(jobs: int, font_paths: tuple[Path, ...] = ()) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max(1, jobs), mp_context=get_context("spawn"), initializer=start_worker, initargs=(font_paths,)
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
        if quarto_path():
            return
        config = load_config(Path(project))
        self.pool = new_pool(jobs, config.font_paths)
        self.bundle = self.pool.submit(vega_bundle, OutputLayout(out).render_cache)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def __enter__(self) -> RenderWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
