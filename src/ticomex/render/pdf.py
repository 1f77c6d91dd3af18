"""One department's PDF: the notebook's Markdown blocks → pandoc → typst → PDF.

Each block is converted on its own and once per render process (`sheet_typst`, the
`RenderSession` keeps the result); pandoc fills the typst template with the sheet's options.

Charts go in as vector images: the SVG of each chart's notebook output (`ticomex.vega`),
its text set in the fonts of `format.typst.font-paths`, which typst embeds. The same inputs give the same bytes: the
document has no date and typst is given only the configured fonts.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from ticomex.errors import TicomexError
from ticomex.layout import write_atomic
from ticomex.render.config import SiteConfig
from ticomex.render.html import chart_label, last_heading, sheet_title
from ticomex.render.notebook import Block, Chart, Department
from ticomex.render.session import RenderSession
from ticomex.style import COLOURS
from ticomex.texts import STALE_NOTICE

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
SVG_DIR = "svg"  # under the render cache: one file per distinct chart SVG
SPEC_DIR = "specs"  # under the render cache: one script per distinct chart spec
PT_PER_PX = 0.75  # Vega draws at 96 px per inch
_SVG_WIDTH = re.compile(r'<svg\b[^>]*?\swidth="([0-9.]+)"')
_SVG_HEIGHT = re.compile(r'<svg\b[^>]*?\sheight="([0-9.]+)"')


class ChartImages:
    """The charts' SVG files for typst, one per distinct SVG, named by its content.

    A chart's SVG is the one its notebook output carries (`show_chart` drew it in the
    kernel); a chart without one (a notebook executed before outputs carried SVG) is
    converted here, with the same converter. The region's and France's charts are the
    same for many departments: one file serves them all.
    """

    def __init__(self, cache_root: Path, config: SiteConfig, session: RenderSession):
        self.root = cache_root
        self.config = config
        self.session = session
        self.folder = cache_root / SVG_DIR
        self.folder.mkdir(parents=True, exist_ok=True)

    def _svg(self, chart: Chart, department: Department) -> tuple[str, str]:
        """(digest, SVG text) of the chart's drawing, its file written in the cache."""
        svg = chart.svg
        if svg is None:
            try:
                svg = self.session.converter(self.config.font_paths).svg(chart.spec, chart.name)
            except TicomexError as err:
                raise TicomexError(f"{department.notebook}: {err}") from None
        data = svg.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self.folder / f"{digest}.svg"
        if not path.exists():
            write_atomic(path, data)
        return digest, svg

    @staticmethod
    def _size(svg: str, pattern: re.Pattern, chart: Chart, department: Department) -> float:
        match = pattern.search(svg)
        if not match:
            raise TicomexError(
                f"{department.notebook}: chart {chart.name!r} gave an SVG without width or height"
            )
        return float(match.group(1))

    def get(self, chart: Chart, department: Department) -> tuple[str, float]:
        """The SVG's path under the cache root and its natural width in points."""
        digest, svg = self._svg(chart, department)
        return f"{SVG_DIR}/{digest}.svg", self._size(svg, _SVG_WIDTH, chart, department) * PT_PER_PX

    def drawing(self, chart: Chart, department: Department) -> tuple[str, float, float]:
        """The page's drawing of the chart: its path under site/ and its size in px."""
        from ticomex.render.assets import CHARTS_DIR

        digest, svg = self._svg(chart, department)
        width = self._size(svg, _SVG_WIDTH, chart, department)
        height = self._size(svg, _SVG_HEIGHT, chart, department)
        return f"{CHARTS_DIR}/{digest}.svg", width, height

    def spec_script(self, chart: Chart) -> str:
        """The chart's spec as a script (`html.spec_script`): its path under site/."""
        from ticomex.render.assets import CHARTS_DIR
        from ticomex.render.html import spec_script

        data = spec_script(chart.spec).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / SPEC_DIR / f"{digest}.js"
        if not path.exists():
            write_atomic(path, data)
        return f"{CHARTS_DIR}/{digest}.js"


def _front_matter(department: Department, config: SiteConfig, demo_note: str, title: str) -> str:
    """The sheet's options for the typst template, as YAML front matter; the colours as
    `colour.<name>`, their hex digits without `#` (Markdown would escape it)."""
    metadata = {
        **config.typst,
        "lang": config.lang,
        "pagetitle": title,
        "footer": title,
        "colour": {name: value.removeprefix("#") for name, value in COLOURS.items()},
    }
    if department.demo:
        metadata["demo-note"] = demo_note
    if department.stale:
        metadata["stale-note"] = STALE_NOTICE
    return "---\n" + yaml.safe_dump(metadata, allow_unicode=True, sort_keys=True) + "---\n\n"


# Lines pandoc copies as they are (raw typst), marking where each block's typst begins.
_MARK = "// ticomex:"
_START, _END = f"{_MARK}start", f"{_MARK}end"
# The template is filled once per set of options, the sheet's title left as this token (raw
# typst in the metadata), replaced by the title's own typst.
_TITLE_TOKEN = "ticomexSheetTitle"
# A link reference definition applies to the whole document it is in: such a block is
# converted alone, as the page renders it alone.
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)
# Text that Markdown would not read as one plain paragraph (a heading, a list, a quote...).
_NOT_A_PARAGRAPH = re.compile(r"^\s*(?:[#>*+=_-]|\d+[.)]|`{3}|~{3})|\n")


def _raw(line: str) -> str:
    return f"```{{=typst}}\n{line}\n```"


def convert_blocks(texts: list[str], source: Path, session: RenderSession) -> None:
    """Convert the Markdown blocks not converted yet, in one pandoc run (a render task calls
    it with all its sheets' blocks); a block left open (a fence, a comment) would swallow the
    next ones: then, and for a block defining a link reference, each block is read alone."""
    converted = session.typst_by_markdown
    missing = [text for text in dict.fromkeys(texts) if text not in converted]
    together = [text for text in missing if not _REFERENCE_DEFINITION.search(text)]
    if together:
        try:
            converted.update(zip(together, _pandoc(session, "", together, source, standalone=False)[1]))
        except _MarkersLost:
            pass
    for text in missing:
        if text not in converted:
            converted[text] = _run_pandoc(session, text, source, standalone=False).strip("\n")


def sheet_typst(
    department: Department,
    blocks: list[Block],
    config: SiteConfig,
    demo_note: str,
    images: ChartImages,
    session: RenderSession,
    title: str | None = None,
) -> str:
    """The sheet in typst: the template filled by pandoc, each Markdown block converted on
    its own (as the page renders it) and once per render process — the sheets share most of
    their text, and pandoc's time grows with the text and with each run. `title`: the
    department sheet's unless given (a territory's page)."""
    source = department.notebook
    title = title or sheet_title(department, config)
    texts = [block.text for block in blocks if not isinstance(block, Chart)]
    plain_title = not _NOT_A_PARAGRAPH.search(title)
    convert_blocks([*texts, *([title] if plain_title else [])], source, session)
    converted, templates = session.typst_by_markdown, session.typst_templates
    if plain_title and "\n" not in converted[title]:
        token = f"`{_TITLE_TOKEN}`{{=typst}}"
        front = _front_matter(department, config, demo_note, token)
        if front not in templates:
            templates[front] = _pandoc(session, front, [], source)[0]
        before, after = (
            [line.replace(_TITLE_TOKEN, converted[title]) for line in lines] for lines in templates[front]
        )
    else:  # the title as pandoc reads it in the metadata
        front = _front_matter(department, config, demo_note, title)
        before, after = _pandoc(session, front, [], source)[0]
    parts = []
    heading = None
    for block in blocks:
        if isinstance(block, Chart):
            path, width = images.get(block, department)
            alt = f"{chart_label(heading, block.name)}. {block.summary}".strip()
            parts.append(f'#chart("/{path}", {width:.2f}pt, {_typst_string(alt)})')
        else:
            heading = last_heading(block.text) or heading
            if converted[block.text]:
                parts.append(converted[block.text])
    return "\n".join([*before, *"\n\n".join(parts).split("\n"), *after])


def _typst_string(text: str) -> str:
    """A typst string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _pandoc(
    session: RenderSession, front: str, texts: list[str], source: Path, standalone: bool = True
) -> tuple[tuple[list[str], list[str]], list[str]]:
    """One pandoc run on `texts` as one document: the template's lines before and after the
    body, and each text's typst."""
    body = [_raw(_START)]
    for index, text in enumerate(texts):
        body += [_raw(f"{_MARK}{index}"), text]
    body.append(_raw(_END))
    typst = _run_pandoc(session, front + "\n\n".join(body) + "\n", source, standalone=standalone)
    lines = typst.split("\n")
    try:
        start, end = lines.index(_START), lines.index(_END)
    except ValueError:
        raise _MarkersLost from None
    converted, current = [], None
    for line in lines[start + 1 : end]:
        if line.startswith(_MARK):
            if current is not None:
                converted.append("\n".join(current).strip("\n"))
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        converted.append("\n".join(current).strip("\n"))
    if len(converted) != len(texts) or lines.count(_END) != 1:
        raise _MarkersLost
    return (lines[:start], lines[end + 1 :]), converted


class _MarkersLost(Exception):
    pass


def _run_pandoc(session: RenderSession, markdown: str, source: Path, standalone: bool) -> str:
    return (session.pandoc or markdown_to_typst)(markdown, source, standalone=standalone)


def markdown_to_typst(markdown: str, source: Path, standalone: bool = True) -> str:
    """pandoc: Markdown → typst, a whole document in the sheet's template or a fragment."""
    import pypandoc

    template = ["--standalone", f"--template={TEMPLATE}"] if standalone else []
    try:
        return pypandoc.convert_text(
            markdown,
            PANDOC_OUTPUT,
            format=PANDOC_INPUT,
            extra_args=[*template, f"--lua-filter={LINKS_FILTER}", "--wrap=none"],
            verify_format=False,
        )
    except RuntimeError as err:
        raise TicomexError(f"{source}: pandoc could not convert the sheet: {err}") from None


def _compiler(session: RenderSession, root: Path, font_paths: tuple[Path, ...]):
    """One typst compiler per process: it reads the fonts once, not once per sheet (images
    under `root` are named by their content, so a compiler never sees one change)."""
    import typst

    key = (root, font_paths)
    if key not in session.compilers:
        session.compilers[key] = typst.Compiler(
            root=str(root),
            font_paths=[str(p) for p in font_paths],
            ignore_system_fonts=True,  # the configured fonts only: same bytes everywhere
        )
    return session.compilers[key]


def typst_to_pdf(
    typst_source: str, config: SiteConfig, root: Path, source: Path, session: RenderSession
) -> bytes:
    import typst

    try:
        pdf, warnings = _compiler(session, Path(root), config.font_paths).compile_with_warnings(
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
    session: RenderSession,
) -> bytes:
    source = sheet_typst(department, blocks, config, demo_note, images, session)
    return typst_to_pdf(source, config, images.root, department.notebook, session)
