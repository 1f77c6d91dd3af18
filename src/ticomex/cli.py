"""Command line: `ticomex data demo|fetch|ingest`, `params`, `execute`, `render`, `build`, `preview`.

Heavy modules are imported inside each command so that `ticomex --help` and no-op
rebuilds start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.project import find_project


def _jobs_default() -> int:
    return os.cpu_count() or 1


def _path(value: str | None, default: Path) -> Path:
    """A path given on the command line (relative to the working folder), else the project's."""
    return Path(value) if value else default


def cmd_data_demo(args: argparse.Namespace) -> int:
    from ticomex.data.demo import YEARS, parse_years, write_demo_release

    years = parse_years(args.years) if args.years else YEARS
    folder = write_demo_release(
        _path(args.out, find_project().demo_release), rows=args.rows, layout=args.layout, years=years
    )
    print(f"Demo release (synthetic data, {args.layout} layout, {years[0]}–{years[-1]}) written to {folder}")
    return 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from ticomex.data.fetch import fetch_release

    project = find_project()
    default = project.official_release
    if args.year is not None:
        default = default.with_name(f"{default.name}-{args.year}")
    folder = fetch_release(
        year=args.year,
        out=_path(args.out, default),
        urls=args.url,
        sources=Path(args.sources) if args.sources else None,
    )
    print(f"Official release written to {folder}")
    return 0


def cmd_data_ingest(args: argparse.Namespace) -> int:
    from ticomex.data.ingest import ingest

    report = ingest(
        [Path(raw) for raw in args.raw],
        _path(args.db, find_project().db),
        skip_bad_lines=args.skip_bad_lines,
        allow_one_flow=args.allow_one_flow,
    )
    print(report.text())
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from ticomex.params import default_territories_table, write_params
    from ticomex.territories import write_territories

    project = find_project()
    out = _path(args.out, project.params_dir)
    table = Path(args.territories) if args.territories else None
    written = write_params(_path(args.db, project.db), out, territories=table, overwrite=args.force)
    print(f"{len(written)} params files written to {out}")
    table = table or default_territories_table()
    if write_territories(table if table.exists() else None, out, overwrite=args.force):
        print(f"Territoires d'industrie written to {out}")
    return 0


def _add_allow_one_flow(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-one-flow",
        action="store_true",
        help="accept a release (or a year) with exports or imports only; the sheets say which flow is absent",
    )


def _add_execute_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", nargs="+", metavar="CODE", help="departments to build (default: all)")
    _add_notebook_options(p)


def _add_notebook_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="DuckDB file (default: the project's data/ticomex.duckdb)")
    p.add_argument("--out", help="output folder (default: the project's output/)")
    p.add_argument("--params", help="params folder (default: the project's params/)")
    p.add_argument("--notebook", help="template (default: the project's notebooks/fiche.ipynb)")
    p.add_argument("--year", help="year of the sheets (default: latest full year)")
    p.add_argument(
        "--partial-year",
        action="store_true",
        help="accept a --year with fewer than four quarters in the data (the sheets say which quarters)",
    )
    p.add_argument("--jobs", type=int, default=_jobs_default(), help="parallel notebooks (default: cores)")
    p.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start a new kernel for every notebook (strict isolation, slower)",
    )


def build_options(args: argparse.Namespace):
    """The typed options of `build` and `execute` from the command line."""
    from ticomex.build import BuildOptions

    return BuildOptions.for_project(
        raw=getattr(args, "raw", None),
        db=args.db,
        params_dir=args.params,
        template=args.notebook,
        out=args.out,
        only=args.only,
        year=args.year,
        partial_year=args.partial_year,
        allow_one_flow=getattr(args, "allow_one_flow", False),
        jobs=args.jobs,
        fresh_kernels=args.fresh_kernels,
        pdf=not getattr(args, "no_pdf", False),
    )


def cmd_execute(args: argparse.Namespace) -> int:
    from ticomex.batch import print_summary
    from ticomex.build import execute_notebooks

    return print_summary(execute_notebooks(build_options(args)))


def cmd_render(args: argparse.Namespace) -> int:
    from ticomex.render import render

    project = find_project()
    report = render(out=_path(args.out, project.output), project=project.root, pdf=not args.no_pdf, jobs=args.jobs)
    print(report.text())
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from ticomex.build import build

    return build(build_options(args))


def cmd_preview(args: argparse.Namespace) -> int:
    from ticomex.preview import preview

    if args.port is not None and not 0 <= args.port <= 65535:
        raise TicomexError(f"--port {args.port}: must be between 0 and 65535")
    port = {} if args.port is None else {"port": args.port}
    return preview(build_options(args), department=args.department, **port)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ticomex",
        description="Les indicateurs clés : commerce extérieur — Territoires d'industrie.",
    )
    sub = ap.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="get and load the customs release").add_subparsers(
        dest="data_command", required=True
    )
    p = data.add_parser("demo", help="write a synthetic demo release in the official layout")
    p.add_argument("--out", help="folder (default: the project's data/raw/demo)")
    p.add_argument("--rows", type=int, help="data rows per flow, all years (default: 40 000 a year)")
    p.add_argument(
        "--layout",
        choices=("national", "annual"),
        default="national",
        help="national: REGIONAL_CPF4PAYS{E,I}.txt; annual: two ZIPs a year, one per flow, as published",
    )
    p.add_argument("--years", help="years, e.g. 2019-2024 (default: 2019-2024; 2024 is calibrated)")
    p.set_defaults(func=cmd_data_demo)

    p = data.add_parser("fetch", help="download the official release")
    p.add_argument("--year", type=int, help="annual release of that year (default: the latest)")
    p.add_argument("--out", help="folder (default: the project's data/raw/officiel, or officiel-YEAR)")
    p.add_argument("--url", action="append", help="a release ZIP given by hand (repeat it: one per flow)")
    p.add_argument("--sources", help="the addresses file (default: the project's sources.yaml)")
    p.set_defaults(func=cmd_data_fetch)

    p = data.add_parser("ingest", help="load a release (or several) into DuckDB")
    p.add_argument(
        "--raw",
        required=True,
        action="append",
        help="folder of a release, in any official layout (ZIPs included); repeat it for several "
        "releases: a year present in two is taken from the newer one",
    )
    _add_allow_one_flow(p)
    p.add_argument("--db", help="DuckDB file (default: the project's data/ticomex.duckdb)")
    p.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="load the good lines and write the rejected ones to a rejects file",
    )
    p.set_defaults(func=cmd_data_ingest)

    p = sub.add_parser("params", help="write params/<code>.yaml for every department and params/territoires.yaml")
    p.add_argument("--db", help="DuckDB file (default: the project's data/ticomex.duckdb)")
    p.add_argument("--out", help="folder (default: the project's params/)")
    p.add_argument(
        "--territories",
        help="Territoires d'industrie table (default: ../shared/reference/… when present)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing params files")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("execute", help="execute the template for every department")
    _add_execute_options(p)
    p.set_defaults(func=cmd_execute)

    p = sub.add_parser("render", help="render the executed notebooks to the site and PDFs")
    p.add_argument("--out", help="output folder (default: the project's output/)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    p.add_argument("--jobs", type=int, default=_jobs_default(), help="parallel pages (default: cores)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("build", help="the whole publication: data, params, notebooks, site, PDFs")
    _add_execute_options(p)
    p.add_argument(
        "--raw",
        action="append",
        help="release folder, repeatable as for `data ingest` (default: the demo release, generated if absent)",
    )
    _add_allow_one_flow(p)
    p.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser(
        "preview",
        help="build one department, serve it on 127.0.0.1 and rebuild it when its inputs change",
        description="Build one department (HTML only unless --pdf), serve output/site/ on 127.0.0.1, "
        "rebuild on every change of the template, its params file, _quarto.yml, the database or "
        "the package source, and reload the open page. Ctrl-C stops it (exit code 0).",
    )
    p.add_argument("department", nargs="?", metavar="CODE", help="department (default: 05, else the first params file)")
    p.add_argument("--port", type=int, help="port on 127.0.0.1 (default: 4321; 0: any free port)")
    p.add_argument("--pdf", dest="no_pdf", action="store_false", help="render the PDF too")
    _add_notebook_options(p)
    p.set_defaults(func=cmd_preview, only=None)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except TicomexError as err:
        print(f"ticomex: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
