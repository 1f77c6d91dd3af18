"""One department's PDF: Markdown built from the notebook → pandoc → typst → PDF.

Charts go in as vector images (SVG from vl-convert), their text set in the fonts of
`format.typst.font-paths`, which typst embeds. The same inputs give the same bytes: the
document has no date and typst is given only the configured fonts.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path

import yaml

from ticomex.errors import TicomexError
from ticomex.render.cache import write_atomic
from ticomex.render.config import SiteConfig
from ticomex.render.html import sheet_title
from ticomex.render.notebook import Block, Chart, Department

TEMPLATE = Path(__file__).parent / "templates" / "fiche.typ"
LINKS_FILTER = Path(__file__).parent / "templates" / "links.lua"
# CommonMark as Jupyter shows it, without the extensions that would read the sheet's text
# differently from the HTML page ($ as math, ~ and ^ as sub/superscripts, typographic
# quotes): the PDF prints the characters the notebook wrote.
PANDOC_INPUT = (
    "commonmark_x-smart-tex_math_dollars-subscript-superscript-emoji-gfm_auto_identifiers"
    "-implicit_header_references-definition_lists-footnotes-task_lists-alerts-fancy_lists"
)
PANDOC_OUTPUT = "typst-smart"
SVG_DIR = "svg"  # under the render cache: one file per distinct chart spec
PT_PER_PX = 0.75  # Vega draws at 96 px per inch
_SVG_WIDTH = re.compile(r'<svg\b[^>]*?\swidth="([0-9.]+)"')
_registered_fonts: set[Path] = set()


class ChartImages:
    """Vega-Lite specs → SVG files, each distinct spec converted once, kept across runs.

    The region's and France's charts are the same for many departments: the spec's hash
    is the key, so they are converted once per publication, not once per department.
    """

    def __init__(self, cache_root: Path, config: SiteConfig, chart_fonts: Path | None = None):
        self.root = cache_root
        self.config = config
        # The configured fonts, and the charts' subset font (ticomex.render.fonts) when made.
        self.font_paths = (*config.font_paths, *([chart_fonts] if chart_fonts else []))
        self.folder = cache_root / SVG_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        self.salt = (
            f"vl-convert {version('vl-convert-python')} {[str(p) for p in self.font_paths]}"
        )
        self._compiled: dict[str, dict] = {}

    def get(self, chart: Chart, department: Department) -> tuple[str, float]:
        """The SVG's path under the cache root and its natural width in points."""
        canonical = json.dumps(
            chart.spec, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        digest = hashlib.sha256(f"{self.salt}\n{canonical}".encode()).hexdigest()
        path = self.folder / f"{digest}.svg"
        if path.exists():
            svg = path.read_text(encoding="utf-8")
        else:
            svg = self._convert(chart, department)
            write_atomic(path, svg.encode("utf-8"))
        match = _SVG_WIDTH.search(svg)
        if not match:
            raise TicomexError(
                f"{department.notebook}: chart {chart.nom!r} gave an SVG without width"
            )
        return f"{SVG_DIR}/{digest}.svg", float(match.group(1)) * PT_PER_PX

    def _convert(self, chart: Chart, department: Department) -> str:
        import vl_convert

        for folder in self.font_paths:
            if folder not in _registered_fonts:
                vl_convert.register_font_directory(str(folder))
                _registered_fonts.add(folder)
        try:
            # No base URL allowed: a chart must carry its data, the renderer fetches nothing.
            return vl_convert.vega_to_svg(self._vega(chart.spec), allowed_base_urls=[])
        except ValueError as err:  # how vl-convert reports a spec it cannot draw
            raise TicomexError(
                f"{department.notebook}: chart {chart.nom!r} could not be drawn: {err}"
            ) from None


    def _vega(self, spec: dict) -> dict:
        """The Vega spec of a Vega-Lite spec. Charts of one kind differ only by their named
        datasets, which Vega-Lite passes through as the `values` of Vega data: the kind is
        compiled once and each chart's datasets put in its place."""
        import vl_convert

        datasets = spec.get("datasets") or {}
        shape = {key: value for key, value in spec.items() if key != "datasets"}
        key = json.dumps([shape, sorted(datasets)], sort_keys=True, ensure_ascii=False)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = vl_convert.vegalite_to_vega(spec)
        vega = dict(compiled)
        vega["data"] = [
            {**entry, "values": datasets[entry["name"]]}
            if "values" in entry and entry.get("name") in datasets
            else entry
            for entry in compiled.get("data", [])
        ]
        return vega


def sheet_markdown(
    department: Department,
    blocks: list[Block],
    config: SiteConfig,
    demo_note: str,
    images: ChartImages,
) -> str:
    """The whole sheet as one Markdown document, its options in the YAML front matter."""
    metadata = {
        **config.typst,
        "lang": config.lang,
        "pagetitle": sheet_title(department, config),
        "footer": sheet_title(department, config),
    }
    if department.demo:
        metadata["demo-note"] = demo_note
    parts = []
    for block in blocks:
        if isinstance(block, Chart):
            path, width = images.get(block, department)
            parts.append(f'```{{=typst}}\n#chart("/{path}", {width:.2f}pt)\n```')
        else:
            parts.append(block.text)
    front = yaml.safe_dump(metadata, allow_unicode=True, sort_keys=True)
    return f"---\n{front}---\n\n" + "\n\n".join(parts) + "\n"


def markdown_to_typst(markdown: str, source: Path) -> str:
    import pypandoc

    try:
        return pypandoc.convert_text(
            markdown,
            PANDOC_OUTPUT,
            format=PANDOC_INPUT,
            extra_args=[
                "--standalone",
                f"--template={TEMPLATE}",
                f"--lua-filter={LINKS_FILTER}",
                "--wrap=none",
            ],
            verify_format=False,
        )
    except RuntimeError as err:
        raise TicomexError(f"{source}: pandoc could not convert the sheet: {err}") from None


def _compiler(root: Path, font_paths: tuple[Path, ...]):
    """One typst compiler per process: it reads the fonts once, not once per sheet (images
    under `root` are named by their content, so a compiler never sees one change)."""
    import typst

    key = (root, font_paths)
    if key not in _compilers:
        _compilers[key] = typst.Compiler(
            root=str(root),
            font_paths=[str(p) for p in font_paths],
            ignore_system_fonts=True,  # the configured fonts only: same bytes everywhere
        )
    return _compilers[key]


_compilers: dict = {}


def typst_to_pdf(
    typst_source: str, config: SiteConfig, root: Path, source: Path, font_paths: tuple[Path, ...]
) -> bytes:
    import typst

    try:
        pdf, warnings = _compiler(Path(root), tuple(font_paths)).compile_with_warnings(
            input=typst_source.encode("utf-8")
        )
    except typst.TypstError as err:
        raise TicomexError(f"{source}: the PDF could not be typeset: {err}") from None
    for warning in warnings:
        if "font" in warning.message:
            raise TicomexError(
                f"{source}: {warning.message} — fonts are looked up in "
                f"{config.path}: format.typst.font-paths"
            )
    return pdf


def department_pdf(
    department: Department,
    blocks: list[Block],
    config: SiteConfig,
    demo_note: str,
    images: ChartImages,
) -> bytes:
    markdown = sheet_markdown(department, blocks, config, demo_note, images)
    source = markdown_to_typst(markdown, department.notebook)
    return typst_to_pdf(source, config, images.root, department.notebook, images.font_paths)
