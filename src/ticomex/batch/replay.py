"""Building the notebook of a batched run through nbclient's and papermill's own code.

The warm kernel ran every cell in one request and recorded, per cell, the messages it would
have published (ticomex.batch.kernel). `replay` feeds them to nbclient's message handling and
papermill's per-cell hooks, in order, so the notebook gets exactly the outputs, counts and
metadata a cell-by-cell run writes. `WarmEngine` is the papermill engine that picks batched or
cell by cell (ticomex.batch.engine) on a kernel already running.

Upstream internals relied on (not public API), tested with the versions of uv.lock:
ipykernel 7.4.0, IPython 9.18.1, jupyter_client 8.10.0, nbclient 0.11.0, papermill 2.7.0,
pandas 3.1.1, altair 6.3.0, duckdb 2.0.0, traitlets 5.16.1. tests/test_batch.py (warm ==
fresh, byte for byte) is the gate when any of them moves.

In the kernel (ticomex.batch.kernel):
- ipykernel: `get_ipython().kernel.session`, its `send(stream, msg_or_type, content, ...)`
  replaced on the instance during a notebook (`del` restores the class's method), and
  `session.pack` to write the record;
- ipykernel's `OutStream._flush_pending` / `_subprocess_flush_pending` (a stream with nothing
  pending is not flushed) and `flush` replaced on the stream instance;
- IPython: `InteractiveShell.reset(new_session=False)`, `execution_count`, `run_cell`;
- pandas: `pandas._config.config._registered_options` and `_deprecated_options` (every
  option, to put back its value);
- altair: the registries' `active` / `options` / `enable` (`data_transformers`, `renderers`,
  `theme`);
- duckdb: `set_default_connection` (a fresh default connection per notebook).

In the batch process (this module and ticomex.batch.runner):
- nbclient `NotebookClient.process_message(msg, cell, index)` with a message made of
  `msg_type`, `header.msg_type`, `parent_header`, `metadata`, `content`;
  `reset_execution_trackers`, `clear_before_next_output`, `set_widgets_metadata`, and a
  client given `km=` plus `kc` set by hand (it then leaves the kernel running);
- papermill `NotebookExecutionManager.cell_start` / `cell_complete`, the engine registry
  (`papermill_engines.register`, `execute_notebook_with_engine`), `NBClientEngine`'s
  `execute_managed_notebook` signature, `PapermillNotebookClient`, `remove_args`, and
  `papermill.execute`'s steps (`prepare_notebook_metadata`, `remove_error_markers`,
  `raise_for_execution_errors`) with `iorw.load_notebook_node` and
  `parameterize.parameterize_notebook`;
- jupyter_client `KernelManager._async_pre_start_kernel(**kw)` receiving the kernel's `env`
  (the settings of ticomex.batch.pool reach both warm and papermill's own kernels this way).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import remove_args

from ticomex.batch.engine import BATCHED, choose_engine

WARM_ENGINE = "ticomex-warm"


def replay(client: PapermillNotebookClient, nb_man, recorded: dict, language_info: dict):
    """The notebook built from what the kernel recorded ({cell index: [[msg_type, content]]})."""
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


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, on an already started kernel (a `runner.WarmKernel`)."""

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
        warm_kernel=None,
        **kwargs,
    ):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        # What NBClientEngine gives its client, with the warm kernel's manager.
        client = PapermillNotebookClient(
            nb_man, km=warm_kernel.km, kernel_name=kernel_name, log=logger,
            timeout=execution_timeout, startup_timeout=start_timeout,
            log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file, **kwargs,
        )  # fmt: skip
        # nbclient keeps a client it is given and leaves a kernel manager it does not own running.
        client.kc = warm_kernel.kc
        choice = choose_engine(nb_man.nb, execution_timeout)
        if choice.engine == BATCHED:
            batch = warm_kernel.run_batch(list(choice.cells), _messages_path())
            if batch["status"] == "ok":
                return replay(client, nb_man, dict(batch["cells"]), warm_kernel.language_info)
            choice = choose_engine(nb_man.nb, execution_timeout, batched_run_failed=True)
        logger.debug("warm kernel, cell by cell: %s", choice.reason)
        warm_kernel.reset()
        return client.execute()


def _messages_path() -> Path:
    handle, name = tempfile.mkstemp(prefix="ticomex-cells-", suffix=".json")
    os.close(handle)
    return Path(name)


papermill_engines.register(WARM_ENGINE, WarmEngine)
