"""Worker threads, each with its runner (and warm kernel), taking jobs until none is left.

The kernels' settings are given to the kernels themselves (their environment at start), never
set in this process's environment.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from pathlib import Path

from ticomex.batch.plan import Job
from ticomex.batch.staging import run_job
from ticomex.batch.summary import FAILED, Result, describe_error
from ticomex.conventions import DUCKDB_THREADS_VARIABLE
from ticomex.errors import TicomexError
from ticomex.layout import OutputLayout

# String and set iteration order must not vary between kernels: same inputs, same notebook.
KERNEL_HASH_SEED = "0"


def kernel_settings(workers: int, cores: int | None = None) -> dict[str, str]:
    """Environment variables added to every kernel's: a fixed hash seed, and DuckDB threads
    such that the kernels side by side use the cores (not threads inside each)."""
    cores = (os.cpu_count() or 1) if cores is None else cores
    return {"PYTHONHASHSEED": KERNEL_HASH_SEED, DUCKDB_THREADS_VARIABLE: str(max(1, cores // max(1, workers)))}


def run_jobs(
    todo: list[Job],
    template: Path,
    kernel_name: str,
    template_ids: set[str],
    layout: OutputLayout,
    jobs: int,
    fresh_kernels: bool,
    progress: bool,
    timeout: float | None,
) -> list[Result]:
    from tqdm import tqdm

    from ticomex.batch.runner import FreshRunner, WarmRunner

    pending: queue.Queue[Job] = queue.Queue()
    for job in todo:
        pending.put(job)
    finished: queue.Queue[Result] = queue.Queue()
    count = min(jobs, len(todo))
    settings = kernel_settings(count)

    def work() -> None:
        runner = FreshRunner(settings) if fresh_kernels else WarmRunner(kernel_name, settings)
        try:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = run_job(job, runner, template, template_ids, layout, timeout)
                except Exception as err:  # e.g. the output folder is not writable: report, go on
                    result = Result(job.code, FAILED, error=describe_error(err))
                if result.status == FAILED:
                    runner.recycle()
                finished.put(result)
        finally:
            runner.close()

    # Daemon threads: an interrupted build exits at once; its kernels notice their parent is
    # gone and exit too (ipykernel's parent poller).
    workers = [threading.Thread(target=work, daemon=True, name=f"ticomex-{n}") for n in range(count)]
    for worker in workers:
        worker.start()
    results = []
    bar = tqdm(
        total=len(todo), desc="notebooks", unit="nb", file=sys.stderr, disable=not (progress and sys.stderr.isatty())
    )
    with bar:
        while len(results) < len(todo):
            try:
                result = finished.get(timeout=0.5)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers) and finished.empty():
                    raise TicomexError("notebook execution: the workers stopped unexpectedly") from None
                continue
            results.append(result)
            bar.set_postfix_str(result.code, refresh=False)
            bar.update()
    for worker in workers:
        worker.join()
    return results
