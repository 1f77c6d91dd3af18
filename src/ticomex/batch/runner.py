"""Running one notebook with papermill: in a fresh kernel, or in a warm kernel reused by a worker.

Imported only when something has to be executed (papermill and jupyter_client are slow to
import). Each worker thread owns its runner and the kernel in it: the kernel's asyncio client
is only ever used from the thread that created it.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import textwrap
from pathlib import Path

import papermill
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.execute import (
    prepare_notebook_metadata,
    raise_for_execution_errors,
    remove_error_markers,
)
from papermill.iorw import load_notebook_node
from papermill.log import logger
from papermill.parameterize import parameterize_notebook
from papermill.utils import remove_args

from ticomex.errors import TicomexError

# Imported once per warm kernel, before its first notebook: the 1.8 s that dominate a plain
# run. Modules not written yet, or broken, are left for the notebook itself to report.
PRELOADED_MODULES = (
    "pandas",
    "duckdb",
    "altair",
    "ticomex.indicators",
    "ticomex.charts",
    "ticomex.texts",
)

WARM_ENGINE = "ticomex-warm"
# Kernels otherwise log two lines each to the terminal (TCP warning, interrupt on shutdown);
# notebook errors reach the summary through the notebook itself.
KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=CRITICAL"
# What nbclient adds for the kernels it starts: no IPython history file shared between kernels.
KERNEL_HISTORY = "--HistoryManager.hist_file=:memory:"
KERNEL_START_TIMEOUT = 60


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

# Run silently in a warm kernel once imports are done: remembers the process state a fresh
# kernel would start from, and defines how to return to it between notebooks.
_PREPARE_KERNEL = textwrap.dedent(
    """
    def _ticomex_prepare(modules):
        import copy, gc, importlib, os, sys, types, warnings

        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the notebook's own import shows the error
                pass

        state = types.ModuleType("_ticomex_warm_kernel")
        state.cwd = os.getcwd()
        state.environ = dict(os.environ)
        state.path = list(sys.path)
        state.filters = list(warnings.filters)
        registries = []
        if "altair" in sys.modules:
            import altair as alt

            for registry in (alt.data_transformers, alt.renderers, getattr(alt, "theme", None)):
                if registry is not None:
                    registries.append((registry, registry.active, copy.deepcopy(registry.options)))
        state.registries = registries
        pandas_options = {}
        if "pandas" in sys.modules:
            import pandas as pd
            from pandas._config import config as pd_config

            for key in pd_config._registered_options:
                if key not in pd_config._deprecated_options:
                    pandas_options[key] = pd.get_option(key)
        state.pandas_options = pandas_options

        def reset():
            ip = get_ipython()
            ip.reset(new_session=False)
            ip.execution_count = 1
            os.chdir(state.cwd)
            os.environ.clear()
            os.environ.update(state.environ)
            sys.path[:] = state.path
            # resetwarnings() also invalidates every "already shown once" registry.
            warnings.resetwarnings()
            warnings.filters[:] = state.filters
            for registry, active, options in state.registries:
                if registry.active != active or registry.options != options:
                    registry.enable(active, **copy.deepcopy(options))
            if state.pandas_options:
                import pandas as pd

                for key, value in state.pandas_options.items():
                    if pd.get_option(key) != value:
                        pd.set_option(key, value)
            if "duckdb" in sys.modules:
                import duckdb

                if hasattr(duckdb, "set_default_connection"):
                    duckdb.set_default_connection(duckdb.connect(":memory:"))

        def run_cells(cells, path):
            # Each cell as nbclient runs it (one run_cell, streams flushed after), but what the
            # kernel would publish is recorded instead of sent: [index, [[msg_type, content]...]]
            # per cell, written once to `path` with the session's own packer. Stops at an error.
            ip = get_ipython()
            session = ip.kernel.session
            cell_messages = None

            def record(stream, msg_or_type, content=None, *args, **kwargs):
                kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type["header"]["msg_type"]
                if cell_messages is None or kind not in RECORDED:
                    return send(stream, msg_or_type, content, *args, **kwargs)
                cell_messages.append([kind, content if isinstance(msg_or_type, str) else msg_or_type["content"]])
                return msg_or_type

            def flush_when_written(stream, flush):
                # The kernel flushes both streams after every cell and before every output,
                # each time a round trip to its I/O thread; only a stream written to has
                # anything to send.
                def flush_if_pending():
                    if getattr(stream, "_flush_pending", True) or getattr(stream, "_subprocess_flush_pending", False):
                        flush()

                return flush_if_pending

            send = session.send
            session.send = record
            streams = []
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush = flush_when_written(stream, stream.flush)
                    streams.append(stream)
                except AttributeError:  # not the kernel's stream: flushed as it is
                    pass
            recorded, status = [], "ok"
            try:
                for index, source in cells:
                    cell_messages = [["execute_input", {"code": source, "execution_count": ip.execution_count}]]
                    result = ip.run_cell(source, store_history=True)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    recorded.append([index, cell_messages])
                    cell_messages = None
                    if not result.success:
                        status = "error"
                        break
            finally:
                cell_messages = None
                del session.send  # back to the class's method
                for stream in streams:
                    del stream.flush
            with open(path, "wb") as f:
                f.write(session.pack({"status": status, "cells": recorded}))

        state.reset = reset
        state.run_cells = run_cells
        sys.modules[state.__name__] = state
        # The imported modules stay for the kernel's life: keeping them out of the collector
        # makes the collection ip.reset() does take 1 ms instead of 50.
        gc.collect()
        gc.freeze()

    _ticomex_prepare(MODULES)
    """
)
_KERNEL_STATE = "__import__('sys').modules['_ticomex_warm_kernel']"
_RESET_KERNEL = f"{_KERNEL_STATE}.reset()"
# What nbclient turns into outputs (or comm state): recorded by the kernel during a batch.
RECORDED_MESSAGES = (
    "stream",
    "display_data",
    "update_display_data",
    "execute_result",
    "error",
    "clear_output",
    "comm_open",
    "comm_msg",
    "comm_close",
)
# A cell nbclient would not run, or that a batch would run differently: such a notebook
# is executed cell by cell, as papermill does.
SKIP_TAG = "skip-execution"
ERRORS_ALLOWED_TAG = "raises-exception"
KERNEL_POLL_SECONDS = 1.0


class WarmKernel:
    """A kernel started once, with the heavy imports done, that runs notebook after notebook."""

    def __init__(self, kernel_name: str) -> None:
        self.kernel_name = kernel_name
        self.km: AsyncKernelManager | None = None
        self.kc = None

    async def _start(self) -> None:
        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        await self.km.start_kernel(extra_arguments=[KERNEL_LOG_LEVEL, KERNEL_HISTORY])
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
        self.kc.allow_stdin = False
        prepare = _PREPARE_KERNEL.replace("MODULES", repr(PRELOADED_MODULES)).replace(
            "RECORDED", repr(frozenset(RECORDED_MESSAGES))
        )
        await self._run_silently(prepare, "preparing")
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
        run_sync(self._run_silently)(_RESET_KERNEL, "resetting")

    def stop(self) -> None:
        run_sync(self._stop)()

    async def _run_batch(self, cells: list[tuple[int, str]], path: Path) -> dict:
        code = f"{_RESET_KERNEL}\n{_KERNEL_STATE}.run_cells({cells!r}, {str(path)!r})"
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
        """Reset, then run `cells` ([(index, source)]) in one request: {"status": "ok" or
        "error", "cells": [[index, [[msg_type, content], ...]], ...]}, what the kernel would have
        published for each cell, in order; it stops at the first cell that fails."""
        try:
            return run_sync(self._run_batch)(cells, path)
        finally:
            path.unlink(missing_ok=True)


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, on an already started kernel and client."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        warm_kernel: WarmKernel | None = None,
        **kwargs,
    ):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            km=warm_kernel.km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        # nbclient keeps a client it is given and leaves a kernel manager it does not own running.
        client.kc = warm_kernel.kc
        cells = batch_cells(nb_man.nb) if execution_timeout is None else None
        if cells is not None:
            batch = warm_kernel.run_batch(cells, _messages_path())
            if batch["status"] == "ok":
                return replay(client, nb_man, dict(batch["cells"]), warm_kernel.language_info)
        # A cell failed (or cannot run in a batch): cell by cell, so that papermill records
        # the failure exactly as it does in a fresh kernel.
        warm_kernel.reset()
        return client.execute()


def batch_cells(nb) -> list[tuple[int, str]] | None:
    """The cells nbclient would execute, as (index, source); None when the notebook must run
    cell by cell (errors allowed in a cell, or code that awaits at top level)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        tags = cell.metadata.get("tags", [])
        if SKIP_TAG in tags:
            continue
        if ERRORS_ALLOWED_TAG in tags or "await" in cell.source or "async" in cell.source:
            return None
        cells.append((index, cell.source))
    return cells


def replay(client: PapermillNotebookClient, nb_man, recorded: dict, language_info: dict):
    """Build the notebook from what the kernel recorded, through nbclient's and papermill's own
    handling of each message: the outputs, counts and metadata a cell-by-cell run writes."""
    client.reset_execution_trackers()
    nb = nb_man.nb
    for index, cell in enumerate(nb.cells):
        nb_man.cell_start(cell, index)
        if index in recorded:
            cell.outputs = []
            client.clear_before_next_output = False
            for kind, content in recorded[index]:
                message = {
                    "msg_type": kind,
                    "header": {"msg_type": kind},
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                }
                client.process_message(message, cell, index)
        nb_man.cell_complete(cell, index)
    nb.metadata["language_info"] = language_info
    client.set_widgets_metadata()
    return nb


def _messages_path() -> Path:
    handle, name = tempfile.mkstemp(prefix="ticomex-cellules-", suffix=".json")
    os.close(handle)
    return Path(name)


papermill_engines.register(WARM_ENGINE, WarmEngine)


class FreshRunner:
    """One plain papermill execution per notebook, each in a new kernel: strict isolation."""

    def run(self, template: Path, output: Path, parameters: dict[str, str], timeout: float | None):
        """The executed notebook (papermill also wrote it to `output`)."""
        return papermill.execute_notebook(
            str(template),
            str(output),
            parameters=parameters,
            **papermill_options(timeout),
        )

    def recycle(self) -> None:
        pass

    def close(self) -> None:
        pass


class WarmRunner:
    """Runs every notebook of a worker in one kernel, reset between notebooks."""

    def __init__(self, kernel_name: str) -> None:
        self.kernel_name = kernel_name
        self.kernel: WarmKernel | None = None

    def run(self, template: Path, output: Path, parameters: dict[str, str], timeout: float | None):
        """The executed notebook, in memory: what `papermill.execute_notebook` does, but for
        its final write (about 0.1 s of JSON a sheet; the batch writes the notebook once).
        A failed notebook is written to `output` with papermill's error markers, as papermill
        does."""
        if self.kernel is None:
            kernel = WarmKernel(self.kernel_name)
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
