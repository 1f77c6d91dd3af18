"""`ticomex build`: release → DuckDB → params → executed notebooks → site and PDFs.

Each step is skipped when its inputs have not changed, so a rebuild costs only what
changed: the demo release carries a stamp of the generator, the database the
fingerprint of the release it was loaded from, each notebook and page its own key.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ticomex.batch.summary import FAILED
from ticomex.layout import OutputLayout
from ticomex.project import Project, find_project

DEMO_STAMP = ".ticomex-demo"


@dataclass(frozen=True)
class BuildOptions:
    """What `build` builds, from where to where. `BuildOptions.for_project()` fills in the
    project's folders; any field can be given instead."""

    project: Project
    raw: tuple[Path, ...] | None = None  # the release folders; None: the demo release, generated if absent
    db: Path | None = None
    params_dir: Path | None = None
    template: Path | None = None
    out: Path | None = None
    only: tuple[str, ...] | None = None  # department codes; None: all of params_dir
    year: str | None = None  # None: the latest full year
    partial_year: bool = False  # accept a year with fewer than four quarters
    allow_one_flow: bool = False  # ingest a release with one flow only
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    fresh_kernels: bool = False
    pdf: bool = True

    def __post_init__(self) -> None:
        defaults = {
            "db": self.project.db,
            "params_dir": self.project.params_dir,
            "template": self.project.template,
            "out": self.project.output,
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, Path(value) if value is not None else default)
        if self.raw is not None:
            raw = (self.raw,) if isinstance(self.raw, (str, os.PathLike)) else self.raw
            object.__setattr__(self, "raw", tuple(Path(r) for r in raw))
        if self.only is not None:
            object.__setattr__(self, "only", tuple(self.only))

    @classmethod
    def for_project(cls, project: Project | None = None, **fields) -> BuildOptions:
        return cls(project=project or find_project(), **fields)


def _generator_version() -> str:
    """Hash of the demo generator's code and reference tables."""
    import ticomex.data as data_pkg

    root = Path(data_pkg.__file__).parent.parent
    digest = hashlib.sha256()
    for folder in (root / "data", root / "reference"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_demo_release(folder: Path) -> Path:
    """Write the demo release unless the same generator already wrote it there."""
    stamp = folder.parent / f"{folder.name}{DEMO_STAMP}"
    version = _generator_version()
    if folder.is_dir() and stamp.exists() and stamp.read_text() == version:
        return folder
    from ticomex.data.demo import write_demo_release

    print(f"Writing the demo release (synthetic data) to {folder}", file=sys.stderr)
    write_demo_release(folder)
    stamp.write_text(version)
    return folder


def ensure_database(raw: Path | tuple[Path, ...], db: Path, allow_one_flow: bool = False) -> None:
    """Ingest the release(s) unless the database was loaded from these very files."""
    from ticomex.data.ingest import ingest, recorded_fingerprint, release_fingerprint

    if recorded_fingerprint(db) == release_fingerprint(raw, allow_one_flow):
        return
    report = ingest(raw, db, allow_one_flow=allow_one_flow)
    print(report.text(), file=sys.stderr)


def execute_notebooks(options: BuildOptions, before_executing=None) -> list:
    """The notebooks of `options` executed (or found up to date): one batch Result each."""
    from ticomex.batch import execute

    return execute(
        notebook=options.template,
        params_dir=options.params_dir,
        db=options.db,
        out=options.out,
        only=list(options.only) if options.only is not None else None,
        year=options.year,
        partial_year=options.partial_year,
        jobs=options.jobs,
        fresh_kernels=options.fresh_kernels,
        before_executing=before_executing,
    )


def build(options: BuildOptions) -> int:
    """The whole publication; the exit code (non-zero when a department failed).

    Its report ends with what executed or failed, the pages now stale (a department whose
    notebook failed keeps its previous page and PDF, marked as not updated) and the whole
    build's time."""
    from ticomex.batch import print_summary
    from ticomex.errors import TicomexError
    from ticomex.conventions import TERRITORIES_FILE
    from ticomex.params import default_territories_table, write_params
    from ticomex.render import RenderWorkers, render
    from ticomex.territories import write_territories

    started = time.perf_counter()

    raw = options.raw if options.raw is not None else ensure_demo_release(options.project.demo_release)
    ensure_database(raw, options.db, options.allow_one_flow)
    written = write_params(options.db, options.params_dir)
    table = default_territories_table()
    if write_territories(table if table.exists() else None, options.params_dir):
        written.append(options.params_dir / TERRITORIES_FILE)
    if written:
        print(f"{len(written)} params files written to {options.params_dir}", file=sys.stderr)
    workers: list[RenderWorkers] = []

    def start_render_workers(_count: int) -> None:
        # Started while the notebooks execute (see RenderWorkers); not for a rebuild that
        # executes nothing.
        workers.append(RenderWorkers(options.out, options.project.root, pdf=options.pdf, jobs=options.jobs))

    results = []
    try:
        results = execute_notebooks(options, before_executing=start_render_workers)
        report = render(
            out=options.out,
            project=options.project.root,
            pdf=options.pdf,
            jobs=options.jobs,
            workers=workers[0] if workers else None,
            params_dir=options.params_dir,
        )
    except TicomexError:
        if results:  # e.g. every department failed: nothing to render
            print_summary(results)
        raise
    finally:
        for running in workers:
            running.close()
    print(report.text(), file=sys.stderr)
    exit_code = print_summary(results)
    layout = OutputLayout(options.out)
    stale = [r.code for r in results if r.status == FAILED and layout.notebook(r.code).is_file()]
    if stale:
        print(
            f"stale: {', '.join(stale)} — the notebook failed; the site and PDFs keep the previous "
            "version, marked as not updated",
        )
    print(f"build finished in {time.perf_counter() - started:.1f} s")
    return exit_code
