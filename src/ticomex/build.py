"""`ticomex build`: release → DuckDB → params → executed notebooks → site and PDFs.

Each step is skipped when its inputs have not changed, so a rebuild costs only what
changed: the demo release carries a stamp of the generator, the database the
fingerprint of the release it was loaded from, each notebook and page its own key.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from ticomex.cli import DEFAULT_DEMO

DEMO_STAMP = ".ticomex-demo"


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

    print(f"Génération de la publication de démonstration dans {folder}", file=sys.stderr)
    write_demo_release(folder)
    stamp.write_text(version)
    return folder


def ensure_database(raw: Path, db: Path) -> None:
    """Ingest the release unless the database was loaded from these very files."""
    from ticomex.data.ingest import ingest, recorded_fingerprint, release_fingerprint

    if recorded_fingerprint(db) == release_fingerprint(raw):
        return
    report = ingest(raw, db)
    print(report.text(), file=sys.stderr)


def build(args: argparse.Namespace) -> int:
    from ticomex.batch import execute, print_summary
    from ticomex.params import write_params
    from ticomex.render import RenderWorkers, render

    raw = Path(args.raw) if args.raw else ensure_demo_release(DEFAULT_DEMO)
    db = Path(args.db)
    ensure_database(raw, db)
    written = write_params(db, Path(args.params))
    if written:
        print(f"{len(written)} fichiers de paramètres écrits dans {args.params}", file=sys.stderr)
    workers: list[RenderWorkers] = []

    def start_render_workers(_count: int) -> None:
        # Started while the notebooks execute (see RenderWorkers); not for a rebuild that
        # executes nothing.
        workers.append(RenderWorkers(Path(args.out), Path("."), pdf=not args.no_pdf, jobs=args.jobs or 1))

    try:
        results = execute(
            notebook=Path(args.notebook),
            params_dir=Path(args.params),
            db=db,
            out=Path(args.out),
            only=args.only,
            annee=args.annee,
            jobs=args.jobs,
            fresh_kernels=args.fresh_kernels,
            before_executing=start_render_workers,
        )
        report = render(
            out=Path(args.out),
            project=Path("."),
            pdf=not args.no_pdf,
            jobs=args.jobs,
            workers=workers[0] if workers else None,
        )
    finally:
        for started in workers:
            started.close()
    print(report.text(), file=sys.stderr)
    return print_summary(results)
