"""The files every page shares, under `site/assets/`, and each department's chart data.

- `vega.js`: Vega, Vega-Lite and vega-embed in one script (vl-convert ships them),
  built once per vl-convert version into the render cache;
- `ticomex.js`: draws the charts, filters the index;
- the stylesheets of `format.html.css`, each headed by the colours of `ticomex.style.COLOURS`
  and the font of `format.typst.mainfont` as CSS custom properties (`site_css`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from ticomex.conventions import FRANCE_DATA_DIR, REGION_DATA_DIR
from ticomex.errors import TicomexError
from ticomex.layout import DATA_DIR, write_atomic
from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Department
from ticomex.style import COLOURS

PACKAGE_ASSETS = Path(__file__).parent / "assets"
ASSETS_DIR = "assets"  # under site/
VEGA_BUNDLE = "vega.js"  # Vega + Vega-Lite + vega-embed, from vl-convert
SCRIPT = "ticomex.js"  # draws the charts, filters the index
TERRITORIES_CSS = "territoires.css"  # after the stylesheets of _quarto.yml
MAP_SCRIPT = "carte.js"  # the index's map indicator and ranking sort (render/finder.py)
CHARTS_DIR = "charts"  # under site/: the charts' drawings and specs, named by their content
CSS_PROPERTY_PREFIX = "--ticomex-"


def vega_bundle_path(cache: Path) -> Path:
    return cache / f"vega-{version('vl-convert-python')}.js"


def vega_bundle(cache: Path) -> Path:
    """The Vega bundle in the render cache, built unless it is there."""
    path = vega_bundle_path(cache)
    if not path.exists():
        import vl_convert

        cache.mkdir(parents=True, exist_ok=True)
        # The default snippet sets window.vegaEmbed, window.vega and window.vegaLite.
        with _stderr_kept_aside() as said:
            try:
                bundle = vl_convert.javascript_bundle()
            except Exception as err:
                raise TicomexError(f"the Vega bundle could not be built: {err}\n{said()}") from None
        write_atomic(path, bundle.encode("utf-8"))
    return path


@contextmanager
def _stderr_kept_aside():
    """vl-convert's bundler prints its passes on the process's standard error (file
    descriptor 2, below Python): kept aside, and given back as text on demand."""
    sys.stderr.flush()
    saved = os.dup(2)
    kept = tempfile.TemporaryFile()
    os.dup2(kept.fileno(), 2)

    def said() -> str:
        kept.seek(0)
        return kept.read().decode("utf-8", "replace").strip()

    try:
        yield said
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        kept.close()


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def css_properties(config: SiteConfig) -> str:
    """`:root { --ticomex-<colour>: …; --ticomex-font: … }`, what the stylesheets use."""
    lines = [f"  {CSS_PROPERTY_PREFIX}{name}: {value};" for name, value in COLOURS.items()]
    lines.append(f"  {CSS_PROPERTY_PREFIX}font: {_css_string(config.font)};")
    return (
        "/* Written by ticomex: the colours of ticomex.style.COLOURS, the font of _quarto.yml"
        " (format.typst.mainfont). */\n:root {\n" + "\n".join(lines) + "\n}\n"
    )


def site_css(path: Path, config: SiteConfig) -> str:
    """A stylesheet of `format.html.css` as published: the custom properties, then the file."""
    return css_properties(config) + path.read_text(encoding="utf-8")


def write_css(config: SiteConfig, folder: Path, project: Path | None = None) -> None:
    """Each stylesheet into `folder`: by name, or at its place under `project` if given."""
    for css in config.css:
        target = folder / (css.relative_to(project.resolve()) if project else css.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(site_css(css, config), encoding="utf-8")


# A page's chart files: `charts/<sha256>.svg` (drawing) and `charts/<sha256>.js` (spec).
_CHART_FILE = re.compile(rf'"{CHARTS_DIR}/([0-9a-f]{{64}})\.(svg|js)"')
CACHE_FOLDERS = {"svg": "svg", "js": "specs"}  # where the render cache keeps them


def write_assets(
    site: Path, config: SiteConfig, bundle: Path, departments: list[Department], cache: Path
) -> None:
    """The shared assets; each department's chart data, `site/data/<code>/`, and the data
    the departments share (`site/data/region/<code>/`, `site/data/france/`, written once);
    the charts' drawings and specs the pages name, `site/charts/`, one file each."""
    assets = site / ASSETS_DIR
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle, assets / VEGA_BUNDLE)
    shutil.copyfile(PACKAGE_ASSETS / SCRIPT, assets / SCRIPT)
    shutil.copyfile(PACKAGE_ASSETS / MAP_SCRIPT, assets / MAP_SCRIPT)  # the index's map and ranking
    write_css(config, assets)
    # The pages the renderer adds to the sheets (breadcrumbs, territories, the index's map).
    (assets / TERRITORIES_CSS).write_text(site_css(PACKAGE_ASSETS / TERRITORIES_CSS, config), encoding="utf-8")
    shared = set()
    for department in departments:
        shutil.copytree(department.data_dir, site / DATA_DIR / department.code)
        shared |= {department.data_dir.parent / REGION_DATA_DIR, department.data_dir.parent / FRANCE_DATA_DIR}
    for folder in sorted(shared):
        if folder.is_dir():
            shutil.copytree(folder, site / DATA_DIR / folder.name)
    charts = site / CHARTS_DIR
    charts.mkdir(exist_ok=True)
    for page in site.glob("*.html"):
        for digest, kind in set(_CHART_FILE.findall(page.read_text(encoding="utf-8"))):
            target = charts / f"{digest}.{kind}"
            if not target.exists():
                source = cache / CACHE_FOLDERS[kind] / f"{digest}.{kind}"
                if not source.is_file():
                    raise TicomexError(f"{page}: {source} is missing from the render cache")
                shutil.copyfile(source, target)
