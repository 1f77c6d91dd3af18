"""The HTML site: one page per department and the index by region.

Pages load nothing from another host: `check_offline` refuses a page with an outside
address in anything a browser fetches (`src`, a stylesheet, CSS `url()`...). Links a
reader follows (`<a href>`) are not fetched: the sheet's web and mail addresses are links.

Each chart is in the page before any script runs: its drawing (the SVG of its notebook
output, a file shared by every page that shows it), an accessible name (the heading
above it), the summary its notebook computed, its data as a table and as CSV. The
interactive chart (tooltips, menu) replaces the drawing when the script runs
(assets/ticomex.js).
"""

from __future__ import annotations

import csv
import json
import posixpath
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from ticomex.conventions import TERRITORY_PAGE_PREFIX, fold
from ticomex.errors import TicomexError
from ticomex.texts import CELL_VALUES, COLUMN_LABELS, SEARCH_ALIASES, STALE_NOTICE, millions
from ticomex.layout import DATA_DIR, PDF_DIR
from ticomex.render.assets import ASSETS_DIR, SCRIPT, TERRITORIES_CSS, VEGA_BUNDLE
from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Block, Chart, Department

TEMPLATES = Path(__file__).parent / "templates"
HOME = "Accueil"  # the index, first in every breadcrumb trail
FRANCE_LABEL = "France"
PDF_HREF = PDF_DIR + "/{code}.pdf"

# No request may leave the machine: any absolute or protocol-relative address counts,
# except schemes that fetch nothing; a link (`<a href>`) is followed, never fetched.
_SCHEME = re.compile(r"^\s*(?:([a-zA-Z][a-zA-Z0-9+.-]*):|//)")
_LOCAL_SCHEMES = {"mailto", "tel", "data"}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]*)|@import\s+['"]([^'"]*)""")


def is_external(url: str) -> bool:
    match = _SCHEME.match(url)
    return bool(match) and (match.group(1) or "").lower() not in _LOCAL_SCHEMES


def _external_in_css(css: str) -> list[str]:
    return [u for pair in _CSS_URL.findall(css) for u in pair if u and is_external(u)]


class _ReferenceFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None or (tag == "a" and name == "href"):
                continue
            if name in ("src", "href", "action", "poster", "data") and is_external(value):
                self.found.append(value)
            elif name == "srcset":
                self.found += [
                    u.split()[0] for u in value.split(",") if u.strip() and is_external(u)
                ]
            elif name == "style":
                self.found += _external_in_css(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += _external_in_css(data)


def external_references(html: str) -> list[str]:
    """Outside addresses a browser would fetch from this page."""
    finder = _ReferenceFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def check_offline(html: str, source: Path | str) -> None:
    found = external_references(html)
    if found:
        raise TicomexError(
            f"{source}: the page would reference {found[0]} outside the machine; the site "
            "must work offline (remove that raw HTML or image from the notebook)"
        )


_SHEET_LINK = re.compile(r"^([A-Za-z0-9-]+)\.html$")


def markdown_parser(published: frozenset[str] | None = None):
    """The Markdown parser of the pages: one per page (built in 0.1 ms, not kept). Given
    the sheets `published`, a link to another sheet (`<code>.html`) not among them keeps
    its text only (a partial build, `--only`)."""
    import mistune

    class OfflineRenderer(mistune.HTMLRenderer):
        """Outside images become their text: the page fetches nothing. Outside links stay
        links (a reader follows them; nothing is loaded), marked as such."""

        def link(self, text: str, url: str, title: str | None = None) -> str:
            sheet = _SHEET_LINK.match(url)
            if (published is not None and sheet and sheet.group(1) not in published
                    and not sheet.group(1).startswith(TERRITORY_PAGE_PREFIX)):  # territories: pages of their own
                return text
            html = super().link(text, url, title)
            if is_external(url):
                html = html.replace("<a ", '<a class="externe" ', 1)
            return html

        def image(self, text: str, url: str, title: str | None = None) -> str:
            if not is_external(url):
                return super().image(text, url, title)
            return f'<span class="image-externe">{escape(text)}</span>'

    return mistune.create_markdown(
        escape=False,  # the notebook's own HTML is content; check_offline guards it
        renderer=OfflineRenderer(escape=False),
        plugins=["table", "strikethrough"],
    )


def _templates():
    """The page templates (read again for each page: 5 ms, not worth keeping)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def spec_script(spec: dict) -> str:
    """A chart's spec as a script that hands it to the page's script (a script loads from
    file:// too, where a JSON request would be refused)."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"window.ticomexSpec && window.ticomexSpec(document.currentScript, {text});\n"


def _chart_ids(blocks: list[Block]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for block in blocks:
        if isinstance(block, Chart):
            slug = re.sub(r"[^a-z0-9-]+", "-", fold(block.name)).strip("-") or "graphique"
            seen[slug] = seen.get(slug, 0) + 1
            ids.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return ids


def sheet_title(department: Department, config: SiteConfig) -> str:
    """The page's and the PDF's title (a department's with its code)."""
    if not department.is_department:
        return f"{department.name} — {config.title}"
    return f"{department.name} ({department.code}) — {config.title}"


# The site's own pages beside the sheets, linked from every footer: (file, title, source).
PAGES_DIR = Path(__file__).parent / "pages"
TEXT_PAGES = (
    ("accessibilite.html", "Accessibilité : non conforme", "accessibilite.md"),
    ("mentions-legales.html", "Mentions légales", "mentions-legales.md"),
)
DESCRIPTION = (
    "Fiches départementales du commerce extérieur (données des Douanes) pour les "
    "Territoires d'industrie : chiffres clés, pays partenaires, activités et flux."
)


def _common(config: SiteConfig, demo_note: str, to_html) -> dict:
    return {
        "lang": config.lang,
        "description": DESCRIPTION,
        "footer_links": [{"href": href, "text": title} for href, title, _ in TEXT_PAGES],
        "site_title": config.title,
        "navbar": config.navbar,
        "footer_html": to_html(config.page_footer) if config.page_footer else "",
        "demo_html": to_html(demo_note),
        "css": [*(f"{ASSETS_DIR}/{path.name}" for path in config.css), f"{ASSETS_DIR}/{TERRITORIES_CSS}"],
        "script": f"{ASSETS_DIR}/{SCRIPT}",
    }


_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MARKDOWN_MARKS = re.compile(r"\\(?=[^\w\s])|[*_`]")


def last_heading(text: str) -> str | None:
    """The text of a Markdown block's last heading, without its marks."""
    headings = _HEADING.findall(text)
    return _MARKDOWN_MARKS.sub("", headings[-1]).strip() if headings else None


def chart_label(heading: str | None, name: str) -> str:
    """A chart's accessible name: the heading it sits under."""
    return f"Graphique : {heading or name}"


def _cell(column: str, value: str) -> tuple[str, bool]:
    """(text, numeric) of a data cell as the table shows it."""
    if column.endswith("_eur") and re.fullmatch(r"-?\d+", value):
        return millions(int(value)).replace("-", "\u2212"), True
    return CELL_VALUES.get(value, value), False


_BEFORE_TABLE = re.compile(r"<(p|h[1-6])>((?:(?!</?(?:p|h[1-6])>).)*?)</\1>\s*(?=<table>)|<table>", re.S)


def scrolling_tables(html: str, heading: str | None, used: set[str]) -> str:
    """Each table of a paragraph in a box that scrolls sideways on a phone: reachable with
    the keyboard (RGAA: a scrolling region is focusable), named after the paragraph just
    before it, else the heading above it; names made unique on the page (`used`)."""
    parts, last, before = [], 0, None
    for match in _BEFORE_TABLE.finditer(html):
        if match.group(0) != "<table>":
            before = re.sub(r"<[^>]+>", "", match.group(2)).strip().rstrip(" :")
            continue
        label = f"Tableau : {before or heading}" if (before or heading) else "Tableau"
        name, count = label, 1
        while name in used:
            count += 1
            name = f"{label} ({count})"
        used.add(name)
        parts += [html[last : match.start()],
                  f'<div class="tableau-defilant" role="region" aria-label="{escape(name)}" tabindex="0"><table>']
        last, before = match.end(), None
    parts.append(html[last:])
    return "".join(parts).replace("</table>", "</table></div>")


def data_table(path: Path, caption: str) -> str:
    """A chart's data file as an HTML table (figures as the sheet prints them)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise TicomexError(f"{path}: empty data file (a header line at least)")
    header, body = rows[0], rows[1:]
    head = "".join(f'<th scope="col">{escape(COLUMN_LABELS.get(c, c))}</th>' for c in header)
    lines = []
    for row in body:
        cells = []
        for column, value in zip(header, row):
            text, numeric = _cell(column, value)
            cells.append(f'<td class="nombre">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def department_page(
    department: Department,
    blocks: list[Block],
    config: SiteConfig,
    demo_note: str,
    pdf: bool,
    charts,
    published: frozenset[str] = frozenset(),
) -> str:
    """`site/<code>.html`: the sheet's content, each chart as a static drawing with its
    name, summary, data table and CSV (`charts`: a `render.pdf.ChartImages`, which gives
    each chart's drawing and spec files), no code."""
    for block in blocks:
        if isinstance(block, Chart):
            if not block.data_files:
                raise TicomexError(
                    f"{department.notebook}: chart {block.name!r} has no data file (show_chart's data_files)"
                )
            if not block.summary:
                raise TicomexError(
                    f"{department.notebook}: chart {block.name!r} has no summary (show_chart(..., summary=...))"
                )
            for name in block.data_files:
                if not (department.data_dir / name).is_file():
                    raise TicomexError(
                        f"{department.notebook}: chart {block.name!r} names the data file "
                        f"{name}, absent from {department.data_dir}"
                    )
    ids = iter(_chart_ids(blocks))
    to_html = markdown_parser(published or None)
    table_names: set[str] = set()
    items = []
    heading = None
    for block in blocks:
        if isinstance(block, Chart):
            drawing, width, height = charts.drawing(block, department)
            label = chart_label(heading, block.name)
            files = [
                (posixpath.basename(name), posixpath.normpath(f"{DATA_DIR}/{department.code}/{name}"))
                for name in block.data_files
            ]
            items.append(
                {
                    "chart": True,
                    "id": next(ids),
                    "label": label,
                    "summary": block.summary,
                    "drawing": drawing,
                    "width": round(width),
                    "height": round(height),
                    "spec": charts.spec_script(block),
                    "table": data_table(department.data_dir / block.data_files[0], f"Données du graphique : {heading or block.name}"),
                    "table_label": f"Tableau des données : {heading or block.name}",
                    "data_files": files,
                }
            )
        else:
            heading = last_heading(block.text) or heading
            items.append({"chart": False, "html": scrolling_tables(to_html(block.text), heading, table_names)})
    page = (
        _templates()
        .get_template("page.html.j2")
        .render(
            **_common(config, demo_note, to_html),
            department=department,
            breadcrumbs=department_breadcrumbs(department, published),
            stale_html=to_html(STALE_NOTICE),
            title=sheet_title(department, config),
            items=items,
            vega=f"{ASSETS_DIR}/{VEGA_BUNDLE}",
            pdf_href=PDF_HREF.format(code=department.code) if pdf else None,
        )
    )
    check_offline(page, department.notebook)
    return page


def department_breadcrumbs(department: Department, published: frozenset[str] = frozenset()) -> list[tuple[str, str | None]]:
    """Index › France › region › department: the France and region sheets when `published`,
    else the index and the region's section of it."""
    from ticomex.params import FRANCE_SHEET, REGION_SHEET

    region_sheet = REGION_SHEET.format(code=department.region_code)
    trail = [(HOME, "index.html")]
    if FRANCE_SHEET in published:
        trail.append((FRANCE_LABEL, f"{FRANCE_SHEET}.html"))
    if department.level == "france":
        return [*trail[:1], (FRANCE_LABEL, None)]
    if department.level == "region":
        return [*trail, (department.name, None)]
    region_href = f"{region_sheet}.html" if region_sheet in published else f"index.html#region-{department.region_code}"
    return [*trail, (department.region_name, region_href), (f"{department.name} ({department.code})", None)]


def index_page(
    departments: list[Department], config: SiteConfig, demo_note: str, pdf: bool, finder: dict | None = None
) -> str:
    """`site/index.html`: the departments grouped by customs region, with a filter box, and
    the links to the region and France sheets among `departments` (`level`);
    `finder`: the map, territories and ranking (`render.finder.index_context`)."""
    from ticomex.params import FRANCE_SHEET, REGION_SHEET

    areas = {d.code: d for d in departments if not d.is_department}
    departments = [d for d in departments if d.is_department]

    def sheet_links(code: str) -> dict | None:
        return {"href": f"{code}.html", "pdf_href": PDF_HREF.format(code=code) if pdf else None} if code in areas else None

    regions: dict[str, dict] = {}
    for department in sorted(departments, key=lambda d: d.code):
        region = regions.setdefault(
            department.region_code,
            {"code": department.region_code, "name": department.region_name, "departments": [],
             "sheet": sheet_links(REGION_SHEET.format(code=department.region_code))},
        )
        region["departments"].append(
            {
                "code": department.code,
                "name": department.name,
                "href": f"{department.code}.html",
                "pdf_href": PDF_HREF.format(code=department.code) if pdf else None,
                "filter": fold(" ".join(filter(None, (department.code, department.name, department.region_name,
                                                      SEARCH_ALIASES.get(department.code))))),
            }
        )
    ordered = sorted(regions.items(), key=lambda item: (fold(item[1]["name"]), item[0]))
    page = (
        _templates()
        .get_template("index.html.j2")
        .render(
            **_common(config, demo_note, markdown_parser()),
            regions=[region for _, region in ordered],
            years=sorted({d.year for d in departments}),
            demo=any(d.demo for d in departments),
            count=len(departments),
            finder=finder,
            france_sheet=sheet_links(FRANCE_SHEET),
        )
    )
    check_offline(page, "site/index.html")
    return page


def text_pages(config: SiteConfig, demo_note: str, demo: bool) -> dict[str, str]:
    """The site's own pages (`TEXT_PAGES`), by file name: their Markdown under `pages/`."""
    pages = {}
    for href, title, source in TEXT_PAGES:
        to_html = markdown_parser()
        body = (PAGES_DIR / source).read_text(encoding="utf-8")
        page = (
            _templates()
            .get_template("text.html.j2")
            .render(**_common(config, demo_note, to_html), title=title, body_html=to_html(body), demo=demo)
        )
        check_offline(page, PAGES_DIR / source)
        pages[href] = page
    return pages
