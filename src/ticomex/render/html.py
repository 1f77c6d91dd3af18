"""The HTML site: one page per department and the index by region.

Pages load nothing from another host: outside addresses in the sheet's text are shown
as text, not links (see `OfflineLinksRenderer`), and `check_offline` refuses a page that
would still reference one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from ticomex.errors import TicomexError
from ticomex.texts import STALE_NOTICE
from ticomex.layout import DATA_DIR
from ticomex.render.assets import ASSETS_DIR, SCRIPT, TERRITORIES_CSS, VEGA_BUNDLE
from ticomex.render.config import SiteConfig
from ticomex.render.notebook import Block, Chart, Department

TEMPLATES = Path(__file__).parent / "templates"
PDF_HREF = "../pdf/{code}.pdf"  # pdf/ sits beside site/ in the output folder

# No request may leave the machine: any absolute or protocol-relative address counts,
# except schemes that fetch nothing.
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
            if value is None:
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
    """Outside addresses a browser would fetch or follow from this page."""
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


def markdown_parser():
    """The Markdown parser of the pages: one per page (built in 0.1 ms, not kept)."""
    import mistune

    class OfflineLinksRenderer(mistune.HTMLRenderer):
        """Outside addresses become visible text: readers copy them, the page fetches nothing."""

        def link(self, text: str, url: str, title: str | None = None) -> str:
            if not is_external(url):
                return super().link(text, url, title)
            address = escape(url)
            shown = f'<span class="adresse-externe">{address}</span>'
            return shown if text in (url, address) else f"{text} ({shown})"

        def image(self, text: str, url: str, title: str | None = None) -> str:
            if not is_external(url):
                return super().image(text, url, title)
            return f'<span class="image-externe">{escape(text)}</span>'

    return mistune.create_markdown(
        escape=False,  # the notebook's own HTML is content; check_offline guards it
        renderer=OfflineLinksRenderer(escape=False),
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


def _spec_json(spec: dict) -> str:
    """The spec as JSON safe inside <script>: `<`, `>`, `&` only occur in strings there."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _chart_ids(blocks: list[Block]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for block in blocks:
        if isinstance(block, Chart):
            slug = re.sub(r"[^a-z0-9-]+", "-", _fold(block.name)).strip("-") or "graphique"
            seen[slug] = seen.get(slug, 0) + 1
            ids.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return ids


def sheet_title(department: Department, config: SiteConfig) -> str:
    """The page's and the PDF's title."""
    return f"{department.name} ({department.code}) — {config.title}"


def _common(config: SiteConfig, demo_note: str, to_html) -> dict:
    return {
        "lang": config.lang,
        "site_title": config.title,
        "navbar": config.navbar,
        "footer_html": to_html(config.page_footer) if config.page_footer else "",
        "demo_html": to_html(demo_note),
        "css": [*(f"{ASSETS_DIR}/{path.name}" for path in config.css), f"{ASSETS_DIR}/{TERRITORIES_CSS}"],
        "script": f"{ASSETS_DIR}/{SCRIPT}",
    }


def department_page(
    department: Department, blocks: list[Block], config: SiteConfig, demo_note: str, pdf: bool
) -> str:
    """`site/<code>.html`: the sheet's content, its charts as live Vega-Lite, no code."""
    for block in blocks:
        if isinstance(block, Chart):
            for name in block.data_files:
                if not (department.data_dir / name).is_file():
                    raise TicomexError(
                        f"{department.notebook}: chart {block.name!r} names the data file "
                        f"{name}, absent from {department.data_dir}"
                    )
    ids = iter(_chart_ids(blocks))
    to_html = markdown_parser()
    items = []
    for block in blocks:
        if isinstance(block, Chart):
            items.append(
                {
                    "chart": True,
                    "id": next(ids),
                    "spec": _spec_json(block.spec),
                    "data_files": [
                        (name, f"{DATA_DIR}/{department.code}/{name}") for name in block.data_files
                    ],
                }
            )
        else:
            items.append({"chart": False, "html": to_html(block.text)})
    page = (
        _templates()
        .get_template("page.html.j2")
        .render(
            **_common(config, demo_note, to_html),
            department=department,
            breadcrumbs=department_breadcrumbs(department),
            stale_html=to_html(STALE_NOTICE),
            title=sheet_title(department, config),
            items=items,
            vega=f"{ASSETS_DIR}/{VEGA_BUNDLE}",
            pdf_href=PDF_HREF.format(code=department.code) if pdf else None,
        )
    )
    check_offline(page, department.notebook)
    return page


def department_breadcrumbs(department: Department) -> list[tuple[str, str | None]]:
    """France › region (its section of the index) › department."""
    return [
        ("France", "index.html"),
        (department.region_name, f"index.html#region-{department.region_code}"),
        (f"{department.name} ({department.code})", None),
    ]


def _fold(text: str) -> str:
    """Lower case without accents: what the filter box and the sort compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def index_page(
    departments: list[Department], config: SiteConfig, demo_note: str, pdf: bool, finder: dict | None = None
) -> str:
    """`site/index.html`: the departments grouped by customs region, with a filter box;
    `finder`: the map, territories and ranking (`render.finder.index_context`)."""
    regions: dict[str, dict] = {}
    for department in sorted(departments, key=lambda d: d.code):
        region = regions.setdefault(
            department.region_code,
            {"code": department.region_code, "name": department.region_name, "departments": []},
        )
        region["departments"].append(
            {
                "code": department.code,
                "name": department.name,
                "href": f"{department.code}.html",
                "pdf_href": PDF_HREF.format(code=department.code) if pdf else None,
                "filter": _fold(f"{department.code} {department.name} {department.region_name}"),
            }
        )
    ordered = sorted(regions.items(), key=lambda item: (_fold(item[1]["name"]), item[0]))
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
        )
    )
    check_offline(page, "site/index.html")
    return page
