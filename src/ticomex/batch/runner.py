"""Running one notebook with papermill: in a fresh kernel, or in a warm kernel reused by a worker.

Imported only when something has to be executed (papermill and jupyter_client are slow to
import). Each worker thread owns its runner and the kernel in it: the kernel's asyncio client
is only ever used from the thread that created it. Both runners start their kernels with the
batch's settings added to the kernel's environment (`KernelSettingsManager`), never to this
process's.
"""

from __future__ import annotations

import json
import os
import queue
from pathlib import Path

import papermill
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from papermill.engines import papermill_engines
from papermill.execute import (
    prepare_notebook_metadata,
    raise_for_execution_errors,
    remove_error_markers,
)
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from traitlets import Dict
from traitlets.config import Config

from ticomex.batch import kernel as kernel_side
from ticomex.batch.replay import WARM_ENGINE
from ticomex.errors import TicomexError

# Kernels otherwise log two lines each to the terminal (TCP warning, interrupt on shutdown);
# notebook errors reach the summary through the notebook itself.
KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=CRITICAL"
# What nbclient adds for the kernels it starts: no IPython history file shared between kernels.
KERNEL_HISTORY = "--HistoryManager.hist_file=:memory:"
KERNEL_START_TIMEOUT = 60
KERNEL_POLL_SECONDS = 1.0

_KERNEL_MODULE = f"__import__({kernel_side.__name__!r}, fromlist=['_'])"  # binds no name


class KernelSettingsManager(AsyncKernelManager):
    """Starts its kernel with `settings` added to this process's environment."""

    settings = Dict(help="environment variables of the kernel, on top of this process's").tag(config=True)

    async def _async_pre_start_kernel(self, **kw):
        kw.setdefault("env", dict(os.environ))
        kw["env"] = {**kw["env"], **self.settings}
        return await super()._async_pre_start_kernel(**kw)


def papermill_options(timeout: float | None) -> dict:
    """Same options in both modes, so that warm and fresh executions write the same notebook."""
    return {
        "progress_bar": False,
        "request_save_on_cell_execute": False,
        "record_timing": False,
        "start_timeout": KERNEL_START_TIMEOUT,
        "execution_timeout": timeout,
        "extra_arguments": [KERNEL_LOG_LEVEL],  # a new list: nbclient appends to it
    }


class WarmKernel:
    """A kernel started once, with the heavy imports done, that runs notebook after notebook."""

    def __init__(self, kernel_name: str, settings: dict[str, str]) -> None:
        self.kernel_name = kernel_name
        self.settings = dict(settings)
        self.km: AsyncKernelManager | None = None
        self.kc = None

    async def _start(self) -> None:
        self.km = KernelSettingsManager(kernel_name=self.kernel_name, settings=self.settings)
        await self.km.start_kernel(extra_arguments=[KERNEL_LOG_LEVEL, KERNEL_HISTORY])
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
        self.kc.allow_stdin = False
        await self._run_silently(f"{_KERNEL_MODULE}.prepare()", "preparing")
        reply = await self.kc.kernel_info(reply=True, timeout=KERNEL_START_TIMEOUT)
        self.language_info = reply["content"]["language_info"]

    async def _run_silently(self, code: str, what: str) -> None:
        reply = await self.kc.execute_interactive(
            code,
            silent=True,
            store_history=False,
            timeout=KERNEL_START_TIMEOUT,
            output_hook=lambda msg: None,
        )
        content = reply["content"]
        if content["status"] != "ok":
            raise TicomexError(
                f"warm kernel: {what} the kernel failed: {content.get('ename')}: {content.get('evalue')}"
            )

    async def _stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                await self.km.shutdown_kernel(now=True)
            finally:
                await self.km.cleanup_resources()
        self.km = self.kc = None

    def ensure_started(self) -> None:
        if self.km is None:
            try:
                run_sync(self._start)()
            except BaseException:
                run_sync(self._stop)()
                raise

    def reset(self) -> None:
        """Back to the state of a fresh kernel with the imports done: empty namespace, In [1]."""
        run_sync(self._run_silently)(f"{_KERNEL_MODULE}.reset()", "resetting")

    def stop(self) -> None:
        run_sync(self._stop)()

    async def _run_batch(self, cells: list[tuple[int, str]], path: Path) -> dict:
        code = f"{_KERNEL_MODULE}.run_notebook({cells!r}, {str(path)!r})"
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        while True:
            try:
                reply = await self.kc.get_shell_msg(timeout=KERNEL_POLL_SECONDS)
            except queue.Empty:
                if not await self.km.is_alive():
                    raise DeadKernelError("Kernel died") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            raise TicomexError(
                f"warm kernel: running the notebook failed: {content.get('ename')}: {content.get('evalue')}"
            )
        return json.loads(path.read_bytes())

    def run_batch(self, cells: list[tuple[int, str]], path: Path) -> dict:
        """Reset, then run `cells` ([(index, source)]) in one request: what
        `ticomex.batch.kernel.run_cells` recorded."""
        try:
            return run_sync(self._run_batch)(cells, path)
        finally:
            path.unlink(missing_ok=True)


class FreshRunner:
    """One plain papermill execution per notebook, each in a new kernel: strict isolation."""

    def __init__(self, settings: dict[str, str]) -> None:
        self.settings = dict(settings)

    def run(self, template: Path, output: Path, parameters: dict[str, str], timeout: float | None):
        """The executed notebook (papermill also wrote it to `output`)."""
        return papermill.execute_notebook(
            str(template),
            str(output),
            parameters=parameters,
            # nbclient creates its kernel manager from this class and config.
            kernel_manager_class=KernelSettingsManager,
            config=Config({KernelSettingsManager.__name__: {"settings": self.settings}}),
            **papermill_options(timeout),
        )

    def recycle(self) -> None:
        pass

    def close(self) -> None:
        pass


class WarmRunner:
    """Runs every notebook of a worker in one kernel, reset between notebooks."""

    def __init__(self, kernel_name: str, settings: dict[str, str]) -> None:
        self.kernel_name = kernel_name
        self.settings = dict(settings)
        self.kernel: WarmKernel | None = None

    def run(self, template: Path, output: Path, parameters: dict[str, str], timeout: float | None):
        """The executed notebook, in memory: what `papermill.execute_notebook` does, but for
        its final write (about 0.1 s of JSON a sheet; the batch writes the notebook once).
        A failed notebook is written to `output` with papermill's error markers, as papermill
        does."""
        if self.kernel is None:
            kernel = WarmKernel(self.kernel_name, self.settings)
            kernel.ensure_started()
            self.kernel = kernel
        options = papermill_options(timeout)
        nb = load_notebook_node(str(template))
        nb = parameterize_notebook(nb, parameters, report_mode=False, kernel_name=self.kernel_name)
        nb = prepare_notebook_metadata(nb, str(template), str(output), False)
        nb = remove_error_markers(nb)
        nb = papermill_engines.execute_notebook_with_engine(
            WARM_ENGINE,
            nb,
            input_path=str(template),
            output_path=None,
            kernel_name=self.kernel_name,
            progress_bar=options.pop("progress_bar"),
            log_output=False,
            start_timeout=options.pop("start_timeout"),
            stdout_file=None,
            stderr_file=None,
            warm_kernel=self.kernel,
            **{key: value for key, value in options.items() if key != "request_save_on_cell_execute"},
        )
        raise_for_execution_errors(nb, str(output))
        return nb

    def recycle(self) -> None:
        """After a failure the kernel may be dead or in a state a reset does not undo."""
        self.close()

    def close(self) -> None:
        if self.kernel is not None:
            kernel, self.kernel = self.kernel, None
            try:
                kernel.stop()
            except Exception:  # a kernel that died cannot be shut down: nothing left to stop
                pass
