"""The warm kernel's side of the batch: imported and run INSIDE a kernel, never in the batch.

A worker starts one kernel and calls `prepare` once: it does the heavy imports, remembers the
process state a fresh kernel starts from and keeps the imported modules out of the garbage
collector. Before each notebook `run_notebook` goes back to that state (`reset`) and runs the
notebook's cells, recording what the kernel would publish for each cell instead of sending it;
`ticomex.batch.replay` turns that record into the notebook papermill would have written.
The upstream internals this relies on are listed in `ticomex.batch.replay`'s docstring.

Standard library only at import time (the kernel imports it before anything else).
"""

from __future__ import annotations

import copy
import gc
import importlib
import os
import sys
import warnings
from dataclasses import dataclass, field

# Imported once per warm kernel, before its first notebook: the 1.8 s that dominate a plain
# run. The ticomex ones are also roots of the cache key's module list (ticomex.batch.inputs).
PRELOADED_MODULES = (
    "pandas",
    "duckdb",
    "altair",
    "ticomex.indicators",
    "ticomex.charts",
    "ticomex.texts",
)

# What nbclient turns into outputs (or comm state): recorded during a notebook, not sent.
RECORDED_MESSAGES = frozenset(
    {
        "stream",
        "display_data",
        "update_display_data",
        "execute_result",
        "error",
        "clear_output",
        "comm_open",
        "comm_msg",
        "comm_close",
    }
)


@dataclass
class _FreshState:
    """What a fresh kernel starts from, once the imports are done."""

    cwd: str
    environ: dict[str, str]
    path: list[str]
    filters: list
    registries: list = field(default_factory=list)  # (altair registry, active, options)
    pandas_options: dict = field(default_factory=dict)


_state: _FreshState | None = None


def _shell():
    from IPython import get_ipython

    return get_ipython()


def prepare(modules=PRELOADED_MODULES) -> None:
    """Import `modules` and remember the state `reset` returns to."""
    global _state
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # not written yet or broken: the notebook's own import shows the error
            pass
    state = _FreshState(os.getcwd(), dict(os.environ), list(sys.path), list(warnings.filters))
    if "altair" in sys.modules:
        import altair as alt

        for registry in (alt.data_transformers, alt.renderers, getattr(alt, "theme", None)):
            if registry is not None:
                state.registries.append((registry, registry.active, copy.deepcopy(registry.options)))
    if "pandas" in sys.modules:
        import pandas as pd
        from pandas._config import config as pd_config

        for key in pd_config._registered_options:
            if key not in pd_config._deprecated_options:
                state.pandas_options[key] = pd.get_option(key)
    _state = state
    # The imported modules stay for the kernel's life: keeping them out of the collector
    # makes the collection ip.reset() does take 1 ms instead of 50.
    gc.collect()
    gc.freeze()


def reset() -> None:
    """Back to the state of a fresh kernel with the imports done: empty namespace, In [1]."""
    state = _state
    if state is None:
        raise RuntimeError("ticomex.batch.kernel.reset: prepare() was not called in this kernel")
    ip = _shell()
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


def _flush_when_written(stream, flush):
    """The kernel flushes both streams after every cell and before every output, each time a
    round trip to its I/O thread; only a stream written to has anything to send."""

    def flush_if_pending():
        if getattr(stream, "_flush_pending", True) or getattr(stream, "_subprocess_flush_pending", False):
            flush()

    return flush_if_pending


def run_cells(cells, path: str) -> None:
    """Run each (index, source) as nbclient would (one run_cell, streams flushed after), but
    record what the kernel would publish instead of sending it. Writes
    {"status": "ok" | "error", "cells": [[index, [[msg_type, content], ...]], ...]} once to
    `path` with the session's own packer; stops at the first cell that fails."""
    ip = _shell()
    session = ip.kernel.session
    send = session.send
    cell_messages: list | None = None

    def record(stream, msg_or_type, content=None, *args, **kwargs):
        kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type["header"]["msg_type"]
        if cell_messages is None or kind not in RECORDED_MESSAGES:
            return send(stream, msg_or_type, content, *args, **kwargs)
        cell_messages.append([kind, content if isinstance(msg_or_type, str) else msg_or_type["content"]])
        return msg_or_type

    session.send = record
    streams = []
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush = _flush_when_written(stream, stream.flush)
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


def run_notebook(cells, path: str) -> None:
    """`reset`, then `run_cells`: one request per notebook."""
    reset()
    run_cells(cells, path)
