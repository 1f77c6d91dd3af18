"""The published site as a whole, as it is deployed: `site/` holds everything it links to,
each link and resource resolving both with `site/` as the web root (a real HTTP server on
127.0.0.1) and from file:// (relative paths, files present)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SAMPLE_AREAS, SAMPLE_DEPARTMENTS
from ticomex.render.html import is_external

pytestmark = pytest.mark.slow  # a build of the sample departments


class References(HTMLParser):
    """Every href and src of a page (links followed and resources loaded)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.ids: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.found.append(value)
            if name == "id":
                self.ids.add(value)


def local_references(page: Path) -> list[str]:
    """The page's href/src that stay on the site (no scheme: not mailto:, data:, https:)."""
    refs = References(page.read_text(encoding="utf-8")).found
    return [r for r in refs if not is_external(r) and not r.startswith(("mailto:", "data:"))]


def test_every_reference_of_every_page_is_served(sample_site, served_site):
    site = sample_site / "site"
    pages = sorted(site.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "accessibilite.html", "mentions-legales.html",
                                       *(f"{code}.html" for code in SAMPLE_DEPARTMENTS)}
    fetched = set()
    for page in pages:
        for ref in local_references(page):
            url = urllib.parse.urljoin(f"{served_site}/{page.name}", ref)
            url, _, fragment = url.partition("#")
            if url in fetched:
                continue
            with urllib.request.urlopen(url, timeout=10) as response:  # raises on 404
                assert response.status == 200, (page.name, ref)
            fetched.add(url)
    kinds = {Path(urllib.parse.urlparse(u).path).suffix for u in fetched}
    assert {".html", ".pdf", ".csv", ".svg", ".js", ".css"} <= kinds, kinds
    assert len(fetched) > 50


def test_every_reference_resolves_from_file_urls(sample_site):
    """Opened from disk: each reference is relative, to a file under site/, and each
    in-page anchor (`#…`) names an element of its page."""
    site = (sample_site / "site").resolve()
    for page in sorted(site.glob("*.html")):
        parsed = References(page.read_text(encoding="utf-8"))
        for ref in local_references(page):
            path, _, fragment = ref.partition("#")
            assert not path.startswith("/"), f"{page.name}: {ref} is absolute: not found from file://"
            if not path:
                assert fragment in parsed.ids, f"{page.name}: #{fragment} names no element"
                continue
            target = (page.parent / urllib.parse.unquote(path)).resolve()
            assert target.is_relative_to(site), f"{page.name}: {ref} leaves site/"
            assert target.is_file(), f"{page.name}: {ref} → {target} missing"


def test_shared_data_is_written_once(sample_site):
    """The region's and France's chart data: one folder each, not in the departments'."""
    data = sample_site / "site" / "data"
    assert sorted(p.name for p in (data / "france").iterdir()) == ["flux_export_france.csv", "flux_import_france.csv"]
    regions = sorted(p.name for p in (data / "region").iterdir())
    assert len(regions) == len(SAMPLE_DEPARTMENTS)  # the four sample departments lie in four regions
    for code in SAMPLE_DEPARTMENTS:
        assert not list((data / code).glob("*_france.csv")) and not list((data / code).glob("*_region.csv"))
    page = (sample_site / "site" / "05.html").read_text(encoding="utf-8")
    assert 'href="data/france/flux_export_france.csv"' in page
    assert "datasets" not in page  # the specs are files of their own, loaded on demand


def test_every_page_is_two_clicks_from_the_index(sample_site):
    """Departments, the region and France sheets, territories: at most two links away."""
    site = sample_site / "site"
    pages = {p.name for p in site.glob("*.html")}
    assert {f"{code}.html" for code in SAMPLE_AREAS} <= pages
    reached, frontier = {"index.html"}, {"index.html"}
    for _ in range(2):
        frontier = {
            Path(ref.partition("#")[0]).name
            for page in frontier
            for ref in local_references(site / page)
            if ref.partition("#")[0].endswith(".html")
        } - reached
        reached |= frontier
    assert pages <= reached, sorted(pages - reached)


def test_breadcrumbs_lead_through_france_and_the_region(sample_site):
    page = (sample_site / "site" / "05.html").read_text(encoding="utf-8")
    trail = page[page.index('class="fil-ariane"'):page.index("</nav>", page.index('class="fil-ariane"'))]
    hrefs = [ref for ref in References(trail).found]
    assert hrefs == ["index.html", "france-entiere.html", "region-21.html"]
    # 92's region has no sheet in this build: its crumb is the region's section of the index.
    page = (sample_site / "site" / "92.html").read_text(encoding="utf-8")
    assert 'href="index.html#region-' in page and "region-21.html" not in page


def test_france_pdf_ranking_continues_on_the_next_pages(sample_site):
    """France's 100-department table breaks across pages, not stacked on one."""
    from pypdf import PdfReader

    reader = PdfReader(sample_site / "site" / "pdf" / "france-entiere.pdf")
    page = (sample_site / "site" / "france-entiere.html").read_text(encoding="utf-8")
    ranked = set(re.findall(r"\((\w\w)\)</(?:a|td)>", page))
    assert len(ranked) >= 100
    per_page = [sum(f"({code})" in (p.extract_text() or "") for code in ranked) for p in reader.pages]
    assert sum(per_page) >= len(ranked) and max(per_page) <= 60, per_page


def test_department_pages_link_their_territories(sample_site):
    """The sheet's list of Territoires d'industrie: each name a link to its page."""
    import yaml

    from ticomex.conventions import territory_slug

    for code in SAMPLE_DEPARTMENTS:
        names = yaml.safe_load((sample_site.parent / "params" / f"{code}.yaml").read_text(encoding="utf-8"))["territories"]
        page = (sample_site / "site" / f"{code}.html").read_text(encoding="utf-8")
        for name in names:
            assert f'href="{territory_slug(name)}.html"' in page, (code, name)
            assert (sample_site / "site" / f"{territory_slug(name)}.html").is_file()
