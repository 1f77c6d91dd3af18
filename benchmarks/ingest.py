"""Ingest speed on a real-size demo release (target: at least 1 million rows per second).

    uv run python benchmarks/ingest.py [--rows 3000000] [--repeat 3] [--keep DIR]

`measure_ingest(rows)` is importable by the other benchmarks: it returns the figures as a dict.
The release is generated once (about 7 µs a row) and ingested `repeat` times; the best run counts,
since other processes on a shared machine only ever slow a run down.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGET_ROWS_PER_SECOND = 1_000_000
REAL_SIZE_ROWS = 3_000_000  # per flow file: the official release holds a few million


def measure_ingest(rows: int = REAL_SIZE_ROWS, repeat: int = 3, keep: Path | None = None) -> dict:
    """Generate a demo release of `rows` rows per flow, ingest it, and time it."""
    from ticomex.data.demo import write_demo_release
    from ticomex.data.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="ticomex-bench-") as scratch:
        work = Path(keep) if keep else Path(scratch)
        raw = work / f"demo-{rows}"
        stamp = raw / ".rows"
        started = time.perf_counter()
        if not (stamp.is_file() and stamp.read_text() == str(rows)):
            write_demo_release(raw, rows=rows)
            stamp.write_text(str(rows))
        generated = time.perf_counter() - started
        timings, cpu = [], []
        for _ in range(max(1, repeat)):
            db = work / "bench.duckdb"
            started, started_cpu = time.perf_counter(), time.process_time()
            report = ingest(raw, db)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        size = sum(f.path.stat().st_size for f in _data_files(raw))
        best = min(timings)
        return {
            "rows": report.rows_loaded,
            "megabytes": round(size / 1e6, 1),
            "demo_seconds": round(generated, 2),
            "ingest_seconds": round(best, 3),
            "ingest_seconds_all": [round(t, 3) for t in timings],
            # CPU seconds of all threads: on a shared machine, wall time above cpu / cores means
            # other processes took the cores.
            "ingest_cpu_seconds": round(cpu[timings.index(best)], 3),
            "rows_per_second": round(report.rows_loaded / best),
            "target_rows_per_second": TARGET_ROWS_PER_SECOND,
            "target_met": report.rows_loaded / best >= TARGET_ROWS_PER_SECOND,
            "cpus": os.cpu_count(),
        }


def _data_files(raw: Path):
    from ticomex.data.release import locate_release

    return locate_release(raw).data_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=REAL_SIZE_ROWS, help="rows per flow file (default: %(default)s)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="ingest runs, best counts (default: %(default)s)"
    )
    parser.add_argument("--keep", type=Path, help="keep the generated release in this folder and reuse it")
    args = parser.parse_args(argv)
    figures = measure_ingest(args.rows, args.repeat, args.keep)
    print(
        f"release: {figures['rows']:,} rows, {figures['megabytes']} MB (generated in {figures['demo_seconds']} s)"
    )
    print(
        f"ingest: {figures['ingest_seconds']} s wall, {figures['ingest_cpu_seconds']} s CPU "
        f"(wall of each run: {figures['ingest_seconds_all']}) on {figures['cpus']} cores"
    )
    verdict = "met" if figures["target_met"] else "NOT met"
    print(
        f"speed: {figures['rows_per_second']:,} rows/s — target ≥ {TARGET_ROWS_PER_SECOND:,} rows/s: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
