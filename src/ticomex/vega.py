"""Vega-Lite → SVG with vl-convert: the one conversion of the kernel and the renderer.

`sheet.show_chart` puts each chart's SVG in its notebook output, beside the Vega-Lite spec,
as a `text/html` image (`svg_image`): front ends that draw no Vega-Lite v6 (JupyterLab 4,
VS Code, nbconvert, GitHub) show it, JupyterLab even in an untrusted notebook (its
sanitizer keeps an `<img>` with a data URL, while it draws no `image/svg+xml` output
there). The PDF embeds that same SVG (`image_svg` reads it back, `render.pdf.ChartImages`),
converting only charts that come without one. vl-convert is set to fetch nothing (a chart carries its data) and
measures text with the fonts of `_quarto.yml` `format.typst.font-paths`, the fonts the PDF
embeds, so an SVG is the same wherever it was made.

Standard library and PyYAML only; vl-convert is imported on the first conversion.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import yaml

from ticomex.errors import TicomexError
from ticomex.project import config_option, find_project

SVG_MIMETYPE = "image/svg+xml"
HTML_MIMETYPE = "text/html"
SVG_DATA_URL = "data:image/svg+xml;base64,"
SVG_IMAGE = re.compile(r'<img alt="[^"]*" src="' + re.escape(SVG_DATA_URL) + r'([A-Za-z0-9+/=]+)">')
FONT_PATHS_KEY = ("format", "typst", "font-paths")
# SVGs an `SvgConverter` keeps: a sheet's region and France charts (4 of its 8) recur for
# each department of its region; 128 SVGs are about 6 MB.
SVG_CACHE_SIZE = 128


def vl_converter():
    """vl-convert, set to fetch nothing: a chart must carry its data (setting it is free)."""
    import vl_convert

    vl_convert.configure(allowed_base_urls=[], base_url=False)
    return vl_convert


def resolve_font_paths(folders: str | list, config: Path) -> tuple[Path, ...]:
    """The folders of `format.typst.font-paths` (one or a list, relative to the
    configuration file's folder); a clear error for one that is not there."""
    resolved = []
    for folder in folders if isinstance(folders, list) else [folders]:
        path = (Path(config).parent / str(folder)).resolve()
        if not path.is_dir():
            raise TicomexError(
                f"{config}: {'.'.join(FONT_PATHS_KEY)}: {folder} not found "
                "(on Debian the DejaVu fonts come with the package fonts-dejavu-core)"
            )
        resolved.append(path)
    return tuple(resolved)


def configured_font_paths(config: Path) -> tuple[Path, ...]:
    """The font folders a `_quarto.yml` names (`resolve_font_paths`)."""
    try:
        node = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise TicomexError(f"{config}: unreadable ({err})") from None
    return resolve_font_paths(config_option(node, ".".join(FONT_PATHS_KEY), config, "the charts' fonts"), config)


def svg_image(svg: str, alt: str) -> str:
    """The SVG as an HTML image: every front end draws it, none runs a script it holds."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="{SVG_DATA_URL}{data}">'


def image_svg(image: str) -> str | None:
    """The SVG of an image `svg_image` made; None for any other HTML."""
    match = SVG_IMAGE.fullmatch(image.strip())
    if match is None:
        return None
    try:
        return base64.b64decode(match.group(1), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def spec_digest(spec: dict) -> str:
    """The hash of a spec's canonical JSON: equal specs, equal digests."""
    canonical = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SvgConverter:
    """Vega-Lite specs → SVG, drawn by vl-convert with the fonts of `font_paths`
    (None: the project's `_quarto.yml`, read on the first chart).

    One per process is enough: vl-convert's settings and fonts belong to the process (a
    folder given to one converter is known to all). It keeps, per process:

    - the Vega compilation of each chart kind: charts of one kind differ only by their
      named datasets, which Vega-Lite passes through as the `values` of Vega data, so a
      kind is compiled once and each chart's datasets put in (5-25 ms a chart);
    - the folders already given to vl-convert (about 6 ms each time);
    - the last `cache_size` SVGs by spec digest (0: none): a warm kernel draws the same
      region and France charts for each department of a region (about 15 ms a chart).
    `clear()` forgets the compilations and SVGs.
    """

    def __init__(self, font_paths: Iterable[Path] | None = None, cache_size: int = SVG_CACHE_SIZE) -> None:
        self._font_paths = None if font_paths is None else tuple(Path(p) for p in font_paths)
        self.cache_size = cache_size
        self.conversions = 0  # SVGs drawn, cached ones not counted
        self._registered: set[Path] = set()
        self._vega_by_kind: dict[str, dict] = {}
        self._svgs: OrderedDict[str, str] = OrderedDict()

    @property
    def font_paths(self) -> tuple[Path, ...]:
        if self._font_paths is None:
            self._font_paths = configured_font_paths(find_project().config)
        return self._font_paths

    def register_fonts(self) -> None:
        """Give vl-convert the font folders it was not given yet."""
        missing = [folder for folder in self.font_paths if folder not in self._registered]
        if missing:
            vl_convert = vl_converter()
            for folder in missing:
                vl_convert.register_font_directory(str(folder))
                self._registered.add(folder)

    def svg(self, spec: dict, name: str) -> str:
        """The chart's SVG; a TicomexError naming the chart when vl-convert cannot draw
        it (a spec it does not read, data it may not fetch)."""
        digest = spec_digest(spec) if self.cache_size else None
        if digest in self._svgs:
            self._svgs.move_to_end(digest)
            return self._svgs[digest]
        self.register_fonts()
        try:
            svg = vl_converter().vega_to_svg(self.vega(spec))
        except (ValueError, PermissionError) as err:  # vl-convert: a spec it cannot draw, data it may not read
            raise TicomexError(f"chart {name!r} could not be drawn: {err}") from None
        self.conversions += 1
        if digest is not None:
            self._svgs[digest] = svg
            while len(self._svgs) > self.cache_size:
                self._svgs.popitem(last=False)
        return svg

    def vega(self, spec: dict) -> dict:
        """The Vega spec of a Vega-Lite spec, its kind compiled once (see the class)."""
        datasets = spec.get("datasets") or {}
        shape = {key: value for key, value in spec.items() if key != "datasets"}
        key = json.dumps([shape, sorted(datasets)], sort_keys=True, ensure_ascii=False)
        compiled = self._vega_by_kind.get(key)
        if compiled is None:
            compiled = self._vega_by_kind[key] = vl_converter().vegalite_to_vega(spec)
        vega = dict(compiled)
        vega["data"] = [
            {**entry, "values": datasets[entry["name"]]}
            if "values" in entry and entry.get("name") in datasets
            else entry
            for entry in compiled.get("data", [])
        ]
        return vega

    @property
    def kinds(self) -> int:
        """Chart kinds compiled so far."""
        return len(self._vega_by_kind)

    def clear(self) -> None:
        self._vega_by_kind.clear()
        self._svgs.clear()
