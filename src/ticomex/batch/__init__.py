"""Execute the template notebook for every department with papermill, in parallel, with a cache.

`execute(...)` runs one notebook per `params/<code>.yaml` and returns one `Result` per
department (status EXECUTED, CACHED or FAILED); `print_summary(results)` reports them and
gives the exit code. Modules, one concern each:

- run: `execute`, the whole batch;
- plan: departments, notebook parameters, jobs, which notebooks are up to date;
- cache, inputs: the execution key (what the kernel runs and reads) and the records;
- pool, staging: worker threads; one department into temporary places, then into place;
- engine, runner, replay, kernel: how a notebook runs (warm kernel batched or cell by cell,
  or a fresh kernel per notebook) and the kernel's own side;
- normalise: the notebook made a function of its inputs, and written;
- summary: `Result`, statuses, `describe_error`, `print_summary`.

Re-exports are loaded on first use: a warm kernel imports `ticomex.batch.kernel` without the
rest, and a no-op rebuild imports only the standard library.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "execute": "ticomex.batch.run",
    "Result": "ticomex.batch.summary",
    "print_summary": "ticomex.batch.summary",
    "describe_error": "ticomex.batch.summary",
    "EXECUTED": "ticomex.batch.summary",
    "CACHED": "ticomex.batch.summary",
    "FAILED": "ticomex.batch.summary",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
