"""SVG conversion time of each chart kind, as the PDF renderer pays it (vl-convert).

    uv run python benchmarks/charts.py [--departement 05] [--repeat 5] [--keep DIR] [--png DIR]

Targets, after warm-up: department charts (pays, activites, flux_export, flux_import)
≲ 80 ms, region and France Sankeys ≲ 150 ms. The demo release and its database are
generated once into a scratch folder (or `--keep DIR`, reused on the next run). Each chart
is converted `repeat` times and the median is printed; other processes on a shared machine
only slow a run down, so compare figures taken in one run. `--png DIR` also writes each
chart as PNG, to look at.

`measure_charts(...)` is importable by the other benchmarks: it returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

DEPARTMENT_TARGET_MS = 80
SHARED_TARGET_MS = 150  # region and France Sankeys: more links, converted once per region
N_ELEMENTS = 10  # the notebook's default `nb_elements`


def demo_database(work: Path) -> Path:
    """The demo release ingested into `work/ticomex.duckdb` (built once, then reused)."""
    from ticomex.data.demo import write_demo_release
    from ticomex.data.ingest import ingest

    db = work / "ticomex.duckdb"
    if not db.is_file():
        raw = work / "demo"
        write_demo_release(raw)
        ingest(raw, db)
    return db


def chart_specs(db: Path, departement: str, annee: int | None = None) -> dict[str, dict]:
    """The department's charts as the notebook builds them, by chart name → Vega-Lite dict."""
    from ticomex import charts, indicators
    from ticomex.indicators import Scope
    from ticomex.texts import EXPORT, IMPORT

    con = indicators.connect(db)
    try:
        annee = indicators.check_year(con, annee)
        region = indicators.department(con, departement)["region"]
        built = {
            "pays": charts.partners_chart(indicators.top_partners(con, departement, annee, N_ELEMENTS)),
            "activites": charts.treemap_chart(indicators.activities(con, departement, annee)),
        }
        for flux, name, sides in ((EXPORT, "export", ("produit", "pays")), (IMPORT, "import", ("pays", "produit"))):
            for scope, suffix in (
                (Scope("departement", departement), ""),
                (Scope("region", region), "_region"),
                (Scope("france"), "_france"),
            ):
                links = indicators.flow_links(con, scope, annee, flux, N_ELEMENTS)
                built[f"flux_{name}{suffix}"] = charts.sankey_chart(links, *sides)
    finally:
        con.close()
    return {name: chart.to_dict() for name, chart in built.items()}


def measure_charts(specs: dict[str, dict], repeat: int = 5) -> dict[str, dict]:
    """Median and minimum milliseconds of `vegalite_to_svg` per chart, after one warm-up."""
    import vl_convert as vlc

    vlc.vegalite_to_svg(next(iter(specs.values())))  # starts the JavaScript engine
    figures = {}
    for name, spec in specs.items():
        vlc.vegalite_to_svg(spec)  # this chart's first conversion compiles its expressions
        timings = []
        for _ in range(max(1, repeat)):
            started = time.perf_counter()
            vlc.vegalite_to_svg(spec)
            timings.append((time.perf_counter() - started) * 1000)
        shared = name.endswith(("_region", "_france"))
        target = SHARED_TARGET_MS if shared else DEPARTMENT_TARGET_MS
        median = statistics.median(timings)
        figures[name] = {
            "median_ms": round(median, 1),
            "min_ms": round(min(timings), 1),
            "target_ms": target,
            "target_met": median <= target,
            "spec_kb": round(len(json.dumps(spec)) / 1024, 1),
        }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departement", default="05")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="folder where the demo database is kept between runs")
    parser.add_argument("--png", type=Path, help="also write each chart as PNG into this folder")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ticomex-bench-charts-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        specs = chart_specs(demo_database(work), args.departement)
    figures = measure_charts(specs, args.repeat)
    print(f"{'chart':22s} {'median':>8s} {'min':>8s} {'target':>7s} {'spec':>8s}")
    for name, f in figures.items():
        mark = "ok" if f["target_met"] else "SLOW"
        print(
            f"{name:22s} {f['median_ms']:6.0f}ms {f['min_ms']:6.0f}ms {f['target_ms']:5d}ms "
            f"{f['spec_kb']:6.1f}KB {mark}"
        )
    if args.png:
        import vl_convert as vlc

        args.png.mkdir(parents=True, exist_ok=True)
        for name, spec in specs.items():
            (args.png / f"{name}.png").write_bytes(vlc.vegalite_to_png(spec, scale=1.5))
        print(f"PNG written to {args.png}")
    return 0 if all(f["target_met"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
