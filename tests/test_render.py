"""The built-in renderer on hand-built executed notebooks (tests/test_render_fixtures.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from test_render_fixtures import (
    CHART_SUMMARY_TEXT,
    CODE_MARKER,
    DEPARTMENTS,
    HTML_OUTPUT_MARKER,
    MAILTO,
    OUTSIDE_URL,
    PROJECT,
    STREAM_MARKER,
    chart_spec,
    headings,
    make_department,
    make_publication,
    total_lines,
)

from conftest import template_chart_names
from ticomex.errors import TicomexError
from ticomex.render import RenderSession, render
from ticomex.texts import DEMO_NOTICE

A4_POINTS = (595.28, 841.89)  # 210 × 297 mm
DEMO_WORDS = "Données de démonstration"  # the start of texts.DEMO_NOTICE, bold
CODES = [d[0] for d in DEPARTMENTS]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    out = make_publication(tmp_path_factory.mktemp("published"))
    render(out, PROJECT, pdf=True, jobs=1, engine="builtin")
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    def visible_text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def pdf_text(path: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(path).pages]


# --- the site ------------------------------------------------------------------------------


def test_site_has_index_pages_assets_and_data(published):
    site = published / "site"
    assert (site / "index.html").is_file()
    for code in CODES:
        assert (site / f"{code}.html").is_file()
        assert (published / "site" / "pdf" / f"{code}.pdf").is_file()
        source = published / "notebooks" / "data" / code
        assert snapshot(site / "data" / code) == snapshot(source)
    # The Vega bundle is written once and shared by every page; a page loads only the
    # small deferred script, which loads Vega and a chart's spec when the chart nears the screen.
    scripts = sorted(str(p.relative_to(site)) for p in site.rglob("*.js") if p.parent.name == "assets")
    assert scripts == ["assets/carte.js", "assets/ticomex.js", "assets/vega.js"]
    assert "window.vegaEmbed=" in (site / "assets" / "vega.js").read_text(encoding="utf-8")
    for code in CODES:
        tags = Elements((site / f"{code}.html").read_text(encoding="utf-8")).tags
        scripts = [attrs for tag, attrs in tags if tag == "script"]
        assert [(a["src"], "defer" in a) for a in scripts] == [("assets/ticomex.js", True)]
    assert not list(published.glob(".render-*")), "the staging folder must be removed"


def test_page_shows_content_in_order_and_no_code(published):
    html = (published / "site" / "05.html").read_text(encoding="utf-8")
    text = Elements(html).visible_text()
    for marker in (CODE_MARKER, STREAM_MARKER, HTML_OUTPUT_MARKER, "show_chart", "departement ="):
        assert marker not in html
    wanted = [
        "GOUVERNEMENT",
        *headings("Hautes-Alpes"),
        *total_lines("314.9", "Provence-Alpes-Côte d'Azur"),
    ]
    positions = [text.find(piece) for piece in wanted]
    assert -1 not in positions, [w for w, p in zip(wanted, positions) if p == -1]
    # The sheet's sections in order, the total lines after the exports heading.
    assert [text.find(h) for h in headings("Hautes-Alpes")] == sorted(
        text.find(h) for h in headings("Hautes-Alpes")
    )
    assert (
        text.find("Exportations")
        < text.find("Total des exportations")
        < text.find("Informations pratiques")
    )
    assert "La catégorie « autres » comprend l’ensemble des biens – et des pays." in text


def test_page_embeds_each_chart_with_its_spec_and_data_link(published):
    html = (published / "site" / "05.html").read_text(encoding="utf-8")
    tags = Elements(html).tags
    figures = [attrs for tag, attrs in tags if tag == "figure" and "data-spec" in attrs]
    assert len(figures) == 1
    spec_script = (published / "site" / figures[0]["data-spec"]).read_text(encoding="utf-8")
    spec = json.loads(re.fullmatch(r"window\.ticomexSpec && window\.ticomexSpec\(document\.currentScript, (.*)\);\n", spec_script, re.DOTALL).group(1))
    assert spec == json.loads(json.dumps(chart_spec()))  # the notebook's spec, locale included
    (image,) = [attrs for tag, attrs in tags if tag == "img"]
    assert (published / "site" / image["src"]).read_text(encoding="utf-8").startswith("<svg")
    assert image["alt"].startswith("Graphique : ") and image["aria-describedby"] == "resume-pays"
    assert CHART_SUMMARY_TEXT in Elements(html).visible_text()
    links = [
        attrs["href"]
        for tag, attrs in tags
        if tag == "a" and attrs.get("href", "").startswith("data/")
    ]
    assert links == ["data/05/pays.csv"]
    assert (published / "site" / links[0]).is_file()
    assert ["pdf/05.pdf"] == [
        a["href"] for t, a in tags if t == "a" and a.get("href", "").endswith(".pdf")
    ]


def test_demo_note_on_every_demo_page_and_the_index(published):
    site = published / "site"
    for code, *_, demo, _total, _filler in DEPARTMENTS:
        text = Elements((site / f"{code}.html").read_text(encoding="utf-8")).visible_text()
        assert (DEMO_WORDS in text) is demo, code
    assert DEMO_WORDS in Elements((site / "index.html").read_text(encoding="utf-8")).visible_text()
    assert DEMO_NOTICE.startswith(f"**{DEMO_WORDS}**")


def test_index_groups_departments_by_region_with_pages_pdfs_and_filter(published):
    html = (published / "site" / "index.html").read_text(encoding="utf-8")
    sections = re.findall(
        r'<section class="region"[^>]*>\s*<h2[^>]*>(.*?)</h2>(.*?)</section>', html, re.DOTALL
    )
    # Regions by name, accents ignored (Î sorts as I); departments by code.
    assert [name for name, _ in sections] == ["Île-de-France", "Provence-Alpes-Côte d&#39;Azur"]
    hrefs = [re.findall(r'href="([^"]+)"', body) for _, body in sections]
    assert hrefs == [
        ["92.html", "pdf/92.pdf"],
        ["04.html", "pdf/04.pdf", "05.html", "pdf/05.pdf"],
    ]
    tags = Elements(html).tags
    assert (
        "input",
        {
            "type": "search",
            "id": "filtre",
            "autocomplete": "off",
            "aria-describedby": "resultat",
            "placeholder": "ex. Hautes-Alpes, 05, Bretagne, Val de Durance",
        },
    ) in tags
    assert 'data-filtre="05 hautes-alpes provence-alpes-cote d&#39;azur"' in html
    script = (published / "site" / "assets" / "ticomex.js").read_text(encoding="utf-8")
    assert 'getElementById("filtre")' in script


# URLs that make a browser fetch something: any scheme but mailto/tel/data, or `//host`.
EXTERNAL = r"""(?:[a-zA-Z][a-zA-Z0-9+.-]*:(?<!mailto:)(?<!data:)(?<!tel:)|//)"""
ATTRIBUTE_URL = re.compile(
    rf"""\b(?:src|href|srcset|action|poster)\s*=\s*["']?\s*{EXTERNAL}""", re.IGNORECASE
)
CSS_URL = re.compile(rf"""(?:url\(\s*["']?\s*|@import\s+["']){EXTERNAL}""", re.IGNORECASE)


def test_no_external_url_in_any_src_href_or_css(published):
    site = published / "site"
    pages = sorted(site.glob("*.html"))
    territories = [p for p in pages if p.name.startswith("territoire-")]
    # index, accessibility statement, legal notice
    assert territories and len(pages) == len(CODES) + 3 + len(territories)
    for path in [*pages, *site.glob("assets/*.css")]:
        text = re.sub(r"<a\s[^>]*>", "", path.read_text(encoding="utf-8"))  # links are followed, not fetched
        assert not ATTRIBUTE_URL.search(text), (path, ATTRIBUTE_URL.search(text))
        assert not CSS_URL.search(text), (path, CSS_URL.search(text))
    # The self-check: the same patterns do catch outside references.
    assert ATTRIBUTE_URL.search('<script src="https://cdn.example/x.js">')
    assert ATTRIBUTE_URL.search("<link href=//fonts.example/css>")
    assert CSS_URL.search("body { background: url( 'http://example.org/a.png') }")
    assert not ATTRIBUTE_URL.search(f'<a href="{MAILTO}">')
    # The sheet's outside addresses are links (followed, never fetched); mail links too.
    html = (site / "05.html").read_text(encoding="utf-8")
    assert OUTSIDE_URL in Elements(html).visible_text()
    assert f'href="{MAILTO}"' in html


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "[Dossier de presse](https://www.example.org/dossier)",
            '<a class="externe" href="https://www.example.org/dossier">Dossier de presse</a>',
        ),
        ("<https://anct.gouv.fr/a>", '<a class="externe" href="https://anct.gouv.fr/a">https://anct.gouv.fr/a</a>'),
        ("[lien](//cdn.example.org/x)", '<a class="externe" href="//cdn.example.org/x">lien</a>'),
        ("![logo](http://example.org/logo.png)", '<span class="image-externe">logo</span>'),
        ("[écrire](mailto:a@b.fr)", '<a href="mailto:a@b.fr">écrire</a>'),
        ("[Portraits](#)", '<a href="#">Portraits</a>'),
        ("[données](data/05/pays.csv)", '<a href="data/05/pays.csv">données</a>'),
    ],
)
def test_outside_addresses_are_links(markdown, expected):
    from ticomex.render.html import markdown_parser

    assert markdown_parser()(markdown) == f"<p>{expected}</p>\n"


def test_raw_html_reaching_outside_is_refused(tmp_path):
    notebook = make_department(tmp_path, "05", "Hautes-Alpes", "93", "PACA")
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "markdown",
            "id": "x",
            "metadata": {},
            "source": '<img src="https://example.org/logo.png">',
        }
    )
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(TicomexError, match=r"05\.ipynb.*https://example\.org/logo\.png.*offline"):
        render(tmp_path, PROJECT, pdf=False, engine="builtin")
    assert not (tmp_path / "site").exists()


# --- the PDFs ------------------------------------------------------------------------------


def test_pdf_is_a4_with_total_lines_sections_and_french_text(published):
    path = published / "site" / "pdf" / "05.pdf"
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) >= 2  # the filler makes the sheet run over a page
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 1), round(height, 1)) == (
            round(A4_POINTS[0], 1),
            round(A4_POINTS[1], 1),
        )
    text = " ".join(pdf_text(path))
    for line in total_lines("314.9", "Provence-Alpes-Côte d'Azur"):
        assert line in text
    assert "La catégorie « autres » comprend l’ensemble des biens – et des pays." in text
    assert "Liberté Égalité Fraternité" in text
    positions = [text.find(h) for h in headings("Hautes-Alpes")]
    assert -1 not in positions and positions == sorted(positions)
    for marker in (CODE_MARKER, STREAM_MARKER, HTML_OUTPUT_MARKER):
        assert marker not in text


def test_pdf_charts_are_vector_with_their_text(published):
    reader = pypdf.PdfReader(published / "site" / "pdf" / "04.pdf")
    page = reader.pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    subtypes = {xobjects[name].get_object()["/Subtype"] for name in xobjects}
    assert subtypes == {"/Form"}, "the chart must be vector graphics, not a bitmap"
    text = pdf_text(published / "site" / "pdf" / "04.pdf")[0]
    # Axis labels set in the chart's locale (no-break space, decimal comma) and its labels.
    assert "1\u00a0000\u00a0000,0" in text.replace(" ", "\u00a0")
    for country in ("Italie", "États-Unis", "Côte d'Ivoire"):
        assert country in text


def test_pdf_fonts_are_embedded_dejavu(published):
    for code in CODES:
        reader = pypdf.PdfReader(published / "site" / "pdf" / f"{code}.pdf")
        names = set()
        for page in reader.pages:
            fonts = page["/Resources"]["/Font"]
            for key in fonts:
                font = fonts[key].get_object()
                names.add(str(font["/BaseFont"]).split("+")[-1])
                descriptor = (
                    font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                )["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                    code,
                    key,
                )
        assert names and all(name.startswith("DejaVuSans") for name in names), names


def test_pdf_demo_note_heads_every_page_of_demo_sheets_only(published):
    for code, *_, demo, _total, _filler in DEPARTMENTS:
        pages = pdf_text(published / "site" / "pdf" / f"{code}.pdf")
        assert all((DEMO_WORDS in page) is demo for page in pages), code


# --- determinism, cache, parallelism, atomicity --------------------------------------------


def test_same_notebooks_give_identical_files_in_parallel_and_without_cache(published, tmp_path):
    """A fresh output folder (no cache), two worker processes: byte-identical publication."""
    out = make_publication(tmp_path)
    report = render(out, PROJECT, pdf=True, jobs=2, engine="builtin")
    assert sorted(report.rendered) == sorted(CODES)
    assert snapshot(out / "site") == snapshot(published / "site")
    assert snapshot(out / "site" / "pdf") == snapshot(published / "site" / "pdf")


def test_render_workers_started_ahead_publish_the_same_files(published, tmp_path):
    """Workers started before rendering (as `ticomex build` starts them while notebooks run)
    have the Vega bundle ready, and publish the same bytes."""
    from ticomex.render import RenderWorkers

    if shutil.which("quarto"):
        pytest.skip("quarto is on PATH: it renders, and no worker is started ahead")
    out = make_publication(tmp_path)
    with RenderWorkers(out, PROJECT, pdf=True, jobs=2) as workers:
        assert workers.bundle.result().is_file()
        report = render(out, PROJECT, pdf=True, jobs=2, engine="builtin", workers=workers)
    assert sorted(report.rendered) == sorted(CODES)
    assert snapshot(out / "site") == snapshot(published / "site")
    assert snapshot(out / "site" / "pdf") == snapshot(published / "site" / "pdf")


def test_rebuild_renders_only_what_changed(tmp_path):
    out = make_publication(tmp_path)
    first = render(out, PROJECT, pdf=True, engine="builtin")
    assert sorted(first.rendered) == sorted(CODES)
    before = snapshot(out / "site") | {f"pdf/{k}": v for k, v in snapshot(out / "site" / "pdf").items()}

    again = render(out, PROJECT, pdf=True, engine="builtin")
    assert again.rendered == []
    after = snapshot(out / "site") | {f"pdf/{k}": v for k, v in snapshot(out / "site" / "pdf").items()}
    assert after == before

    make_department(out, "05", "Hautes-Alpes", "93", "Provence-Alpes-Côte d'Azur", total="999.9")
    changed = render(out, PROJECT, pdf=True, engine="builtin")
    assert changed.rendered == ["05"]
    assert "Total des exportations : 999.9 millions d'euros" in " ".join(
        pdf_text(out / "site" / "pdf" / "05.pdf")
    )
    assert (out / "site" / "04.html").read_bytes() == before["04.html"]
    # One page and one PDF per department stay in the cache.
    assert len(list((out / ".cache" / "render" / "pages").iterdir())) == len(CODES)
    assert len(list((out / ".cache" / "render" / "pdf").iterdir())) == len(CODES)


def test_failed_render_leaves_previous_publication_intact(tmp_path):
    out = make_publication(tmp_path)
    render(out, PROJECT, pdf=True, engine="builtin")
    site, pdfs = snapshot(out / "site"), snapshot(out / "site" / "pdf")

    make_department(
        out, "04", "Alpes-de-Haute-Provence", "93", "PACA", total="1.0"
    )  # a good change
    corrupt = out / "notebooks" / "92.ipynb"
    corrupt.write_text('{\n "cells": [\n  {"cell_type": "markdown",\n', encoding="utf-8")
    with pytest.raises(TicomexError) as error:
        render(out, PROJECT, pdf=True, engine="builtin")
    message = str(error.value)
    assert str(corrupt) in message and "line" in message and "could not be rendered" in message
    assert snapshot(out / "site") == site
    assert snapshot(out / "site" / "pdf") == pdfs
    assert not list(out.glob(".render-*"))


def test_no_pdf_leaves_pdf_folder_alone_and_links_no_pdf(published, tmp_path):
    out = make_publication(tmp_path)
    (out / "site" / "pdf").mkdir(parents=True)
    (out / "site" / "pdf" / "ancien.pdf").write_bytes(b"%PDF-1.7 previous")
    report = render(out, PROJECT, pdf=False, engine="builtin")
    assert report.pdf is None
    assert [p.name for p in (out / "site" / "pdf").iterdir()] == ["ancien.pdf"]
    for page in (out / "site").glob("*.html"):
        assert ".pdf" not in page.read_text(encoding="utf-8")


# --- bad input -----------------------------------------------------------------------------


def test_missing_notebooks_and_indicators_are_clear_errors(tmp_path):
    with pytest.raises(TicomexError, match="no executed notebook"):
        render(tmp_path, PROJECT, engine="builtin")
    notebook = make_department(tmp_path, "05", "Hautes-Alpes", "93", "PACA")
    (notebook.parent / "data" / "05" / "indicateurs.json").write_text(
        '{"departement": {"code": "05"}', encoding="utf-8"
    )
    with pytest.raises(TicomexError, match=r"indicateurs\.json, line 1: not valid JSON"):
        render(tmp_path, PROJECT, engine="builtin")


def test_chart_naming_a_missing_data_file_is_a_clear_error(tmp_path):
    make_department(tmp_path, "05", "Hautes-Alpes", "93", "PACA")
    (tmp_path / "notebooks" / "data" / "05" / "pays.csv").unlink()
    with pytest.raises(TicomexError, match=r"05\.ipynb.*chart 'pays'.*pays\.csv"):
        render(tmp_path, PROJECT, pdf=False, engine="builtin")


def _project_with(tmp_path: Path, edit) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    text = (PROJECT / "_quarto.yml").read_text(encoding="utf-8")
    css = "src/ticomex/render/assets/ticomex.css"
    (project / css).parent.mkdir(parents=True)
    shutil.copyfile(PROJECT / css, project / css)
    (project / "_quarto.yml").write_text(edit(text), encoding="utf-8")
    return project


def test_options_come_from_quarto_yml(tmp_path):
    project = _project_with(
        tmp_path,
        lambda t: t.replace("papersize: a4", "papersize: a5").replace(
            "text: Tous les départements", "text: Accueil des fiches"
        ),
    )
    out = tmp_path / "out"
    make_department(out, "92", "Hauts-de-Seine", "11", "Île-de-France", demo=False)
    render(out, project, pdf=True, engine="builtin")
    assert ">Accueil des fiches</a>" in (out / "site" / "92.html").read_text(encoding="utf-8")
    box = pypdf.PdfReader(out / "site" / "pdf" / "92.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (420, 595)  # A5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("  typst:\n", "  typst_off:\n"),
            r"_quarto\.yml: option `format\.typst` missing",
        ),
        (
            lambda t: t.replace("    mainfont: DejaVu Sans\n", ""),
            r"`format\.typst\.mainfont` missing",
        ),
        (
            lambda t: t.replace("/usr/share/fonts/truetype/dejavu", "/nowhere/fonts"),
            r"font-paths: /nowhere/fonts not found",
        ),
        (lambda t: t + "\n  bad: [unclosed\n", r"_quarto\.yml, line \d+: not valid YAML"),
    ],
)
def test_bad_quarto_yml_is_a_clear_error(tmp_path, edit, message):
    project = _project_with(tmp_path, edit)
    make_department(tmp_path / "out", "92", "Hauts-de-Seine", "11", "Île-de-France")
    with pytest.raises(TicomexError, match=message):
        render(tmp_path / "out", project, engine="builtin")


def test_quarto_on_path_is_used(tmp_path, monkeypatch):
    """Plumbing only (quarto is not installable here): a stand-in records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$(dirname "$0")/args"\n'
        'out="$4"; mkdir -p "$out"\n'
        'for nb in "$2"/*.ipynb; do c=$(basename "$nb" .ipynb); '
        'echo "<html>$c</html>" > "$out/$c.html"; echo "%PDF $c" > "$out/$c.pdf"; done\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    make_department(out, "92", "Hauts-de-Seine", "11", "Île-de-France")
    report = render(out, PROJECT, pdf=True)
    assert report.engine == "quarto"
    args = (bin_dir / "args").read_text().split()
    assert args[0] == "render" and args[2] == "--output-dir"
    assert (out / "site" / "92.html").read_text() == "<html>92</html>\n"
    assert (out / "site" / "pdf" / "92.pdf").read_text() == "%PDF 92\n"
    assert (out / "site" / "index.html").is_file() and (
        out / "site" / "assets" / "vega.js"
    ).is_file()


def test_a_chart_kind_compiled_once_draws_what_vega_lite_draws():
    """Charts of one kind share one Vega-Lite → Vega compilation: each chart, its own data
    put in, draws the same SVG as a conversion of its whole Vega-Lite spec; a spec seen
    before is not drawn again, and a converter without cache draws it each time."""
    import pandas as pd

    from ticomex import charts
    from ticomex.render.config import load_config
    from ticomex.vega import SvgConverter, vl_converter

    def partners(rows):
        frame = pd.DataFrame(rows, columns=["code_pays", "pays", "importations_eur", "exportations_eur"])
        return frame.assign(solde_eur=frame.exportations_eur - frame.importations_eur)

    specs = [
        charts.partners_chart(partners([("DE", "Allemagne", 5_000_000, 9_000_000)])),
        charts.partners_chart(partners([("IT", "Italie", 7_000_000, 1_000_000), ("ES", "Espagne", 0, 2_500_000)])),
    ]
    converter = SvgConverter(load_config(PROJECT).font_paths)
    drawn = [converter.svg(spec, "pays") for spec in specs]
    assert converter.kinds == 1 and converter.conversions == 2
    assert drawn[0] != drawn[1]
    assert drawn == [vl_converter().vegalite_to_svg(spec) for spec in specs]
    assert converter.svg(json.loads(json.dumps(specs[0])), "pays") == drawn[0]  # an equal spec
    assert converter.conversions == 2
    uncached = SvgConverter(load_config(PROJECT).font_paths, cache_size=0)
    assert [uncached.svg(specs[0], "pays") for _ in range(2)] == [drawn[0]] * 2
    assert uncached.conversions == 2
    small = SvgConverter(load_config(PROJECT).font_paths, cache_size=1)  # the oldest SVG forgotten
    for spec in (specs[0], specs[1], specs[0]):
        small.svg(spec, "pays")
    assert small.conversions == 3


def test_a_pdf_embeds_the_svg_of_the_output_and_converts_only_charts_without_one(tmp_path):
    """The PDF reuses the SVG the kernel drew; a chart without one (an older notebook) is
    converted, as the kernel would have drawn it; one file per distinct SVG."""
    from ticomex.render import pdf
    from ticomex.render.config import load_config
    from ticomex.render.notebook import Chart, read_department
    from ticomex.vega import SvgConverter

    make_publication(tmp_path)
    department = read_department(tmp_path / "notebooks" / "05.ipynb", tmp_path / "notebooks" / "data")
    config = load_config(PROJECT)
    session = RenderSession()
    images = pdf.ChartImages(tmp_path / "cache", config, session)
    spec = {"data": {"values": [{"a": 1}]}, "mark": "point", "encoding": {"x": {"field": "a"}}}
    given = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="10"></svg>'
    path, width = images.get(Chart(spec, "fourni", (), svg=given), department)
    assert (tmp_path / "cache" / path).read_text(encoding="utf-8") == given and width == 150
    assert session.converters == {}  # nothing converted
    path, _ = images.get(Chart(spec, "ancien", ()), department)
    assert (tmp_path / "cache" / path).read_text(encoding="utf-8") == SvgConverter(config.font_paths).svg(spec, "x")
    assert images.get(Chart(spec, "ancien", (), svg=given), department)[0] != path
    assert len(list((tmp_path / "cache" / "svg").iterdir())) == 2


@pytest.mark.parametrize("url", ["https://example.invalid/donnees.csv", "donnees.csv", "/etc/hostname"])
def test_a_pdf_chart_never_reads_data_it_does_not_carry(tmp_path, url):
    """The renderer fetches nothing: a chart pointing at a URL or a file is refused, the error
    naming the notebook and the chart."""
    from ticomex.render import pdf
    from ticomex.render.config import load_config
    from ticomex.render.notebook import Chart, read_department

    make_publication(tmp_path)
    department = read_department(tmp_path / "notebooks" / "05.ipynb", tmp_path / "notebooks" / "data")
    images = pdf.ChartImages(tmp_path / "cache", load_config(PROJECT), RenderSession())
    spec = {"data": {"url": url, "format": {"type": "csv"}}, "mark": "point", "encoding": {"x": {"field": "a"}}}
    with pytest.raises(TicomexError, match=r"05\.ipynb: chart 'externe' could not be drawn"):
        images.get(Chart(spec, "externe", ()), department)


def test_sheet_blocks_go_through_pandoc_once_and_read_as_the_whole_document(tmp_path):
    """Each Markdown block is converted once per render process (the sheets share most of
    their text); the typst is what pandoc gives for the whole document, blank lines aside,
    and a block defining a link reference is converted alone, as the page renders it."""
    from ticomex.render import pdf
    from ticomex.render.config import load_config
    from ticomex.render.html import sheet_title
    from ticomex.render.notebook import Markdown, read_department

    make_publication(tmp_path)
    config = load_config(PROJECT)
    shared = ["## Contexte", "Un paragraphe *commun*, avec un [lien](#ancre).", "- un\n- deux"]
    # A block left open would swallow the next ones in one document: each is read alone.
    unclosed = "```\ncode sans fin"
    reference = "Voir [la source][src].\n\n[src]: https://example.org"
    sheets = {
        code: [Markdown(f"# Fiche {code}"), *map(Markdown, shared), Markdown(reference)]
        for code in ("05", "92")
    }
    inputs: list[str] = []
    convert = pdf.markdown_to_typst
    session = RenderSession(
        pandoc=lambda text, source, **options: inputs.append(text) or convert(text, source, **options)
    )
    images = pdf.ChartImages(tmp_path / "cache", config, session)
    calls_before = {}
    for code, blocks in sheets.items():
        calls_before[code] = len(inputs)
        department = read_department(tmp_path / "notebooks" / f"{code}.ipynb", tmp_path / "notebooks" / "data")
        typst = pdf.sheet_typst(department, blocks, config, "démo", images, session)
        title = sheet_title(department, config)
        whole = pdf._front_matter(department, config, "démo", title) + "\n\n".join(b.text for b in blocks) + "\n"
        expected = convert(whole, department.notebook)
        assert [l for l in typst.splitlines() if l.strip()] == [l for l in expected.splitlines() if l.strip()]
    later = inputs[calls_before["92"] :]  # the second sheet's own heading (and its template)
    assert any("Fiche 92" in text for text in later) and not any("commun" in text for text in later)
    assert sum("[src]:" in text for text in inputs) == 1 and any(
        "[src]:" in text and "Fiche" not in text for text in inputs
    )
    # An open fence: the sheet's other blocks are still converted, each on its own.
    department = read_department(tmp_path / "notebooks" / "05.ipynb", tmp_path / "notebooks" / "data")
    blocks = [Markdown("Avant"), Markdown(unclosed), Markdown("Après *tout*")]
    typst = pdf.sheet_typst(department, blocks, config, "démo", images, session)
    assert "Avant" in typst and "#emph[tout]" in typst and "code sans fin" in typst


def test_vega_bundle_is_built_once_without_printing(tmp_path, capfd):
    """The Vega bundle pages load: vega, vega-lite and vega-embed in one script, built once per
    vl-convert version; vl-convert's bundler says nothing on the terminal."""
    from ticomex.render.assets import vega_bundle

    path = vega_bundle(tmp_path)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    script = path.read_text(encoding="utf-8")
    for name in ("vegaEmbed", "vegaLite"):
        assert f"window.{name}" in script
    stamp = path.stat().st_mtime_ns
    assert vega_bundle(tmp_path) == path and path.stat().st_mtime_ns == stamp


# --- colours and font: one source each ---------------------------------------------------

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def test_colours_are_written_only_in_style_py():
    """The stylesheet and the PDF template name colours; `ticomex.style` gives their values."""
    templates = PROJECT / "src" / "ticomex" / "render"
    for path in (templates / "assets" / "ticomex.css", templates / "templates" / "fiche.typ"):
        assert HEX_COLOUR.findall(path.read_text(encoding="utf-8")) == [], path


def test_published_css_defines_every_colour_and_the_configured_font(published, tmp_path):
    from ticomex import style

    css = (published / "site" / "assets" / "ticomex.css").read_text(encoding="utf-8")
    root = re.match(r"/\*.*?\*/\n:root \{\n(.*?)\n\}\n", css, re.DOTALL)
    assert root, "the custom properties head the published stylesheet"
    defined = dict(re.findall(r"--ticomex-([a-z-]+): (.*?);", root.group(1)))
    used = set(re.findall(r"var\(--ticomex-([a-z-]+)\)", css))
    assert used and used <= set(defined)
    # Values as style.py and _quarto.yml write them.
    assert defined["text"] == style.TEXT_COLOR == "#1f2933"
    assert defined["muted-text"] == style.MUTED_TEXT_COLOR
    assert defined["import"] == style.IMPORT_BLUE and defined["link"] == style.LINK_COLOR
    assert defined["font"] == '"DejaVu Sans"'
    assert "font-family: var(--ticomex-font), " in css
    # Another font in _quarto.yml: the pages follow.
    project = _project_with(tmp_path, lambda t: t.replace("mainfont: DejaVu Sans", "mainfont: DejaVu Serif"))
    out = tmp_path / "out"
    make_department(out, "92", "Hauts-de-Seine", "11", "Île-de-France")
    render(out, project, pdf=False, engine="builtin")
    assert '--ticomex-font: "DejaVu Serif";' in (out / "site" / "assets" / "ticomex.css").read_text(encoding="utf-8")


def test_pdf_template_takes_its_colours_from_style(tmp_path):
    from ticomex import style
    from ticomex.render import pdf
    from ticomex.render.config import load_config
    from ticomex.render.notebook import Markdown, read_department

    make_publication(tmp_path)
    config = load_config(PROJECT)
    session = RenderSession()
    department = read_department(tmp_path / "notebooks" / "05.ipynb", tmp_path / "notebooks" / "data")
    assert department.demo
    images = pdf.ChartImages(tmp_path / "cache", config, session)
    typst = pdf.sheet_typst(department, [Markdown("Texte")], config, "démo", images, session)
    assert f'fill: rgb("{style.DEMO_TEXT}")' in typst  # the demo note heading each page
    assert f'fill: rgb("{style.MUTED_TEXT_COLOR}")' in typst  # the footer
    assert HEX_COLOUR.findall(typst) == [style.DEMO_TEXT, style.MUTED_TEXT_COLOR]


def test_template_chart_names_are_unique_page_ids():
    """Chart names are file and anchor names: each gives its own page id (`_` read as `-`),
    none numbered to tell two apart."""
    from ticomex.render.html import _chart_ids
    from ticomex.render.notebook import Chart

    names = template_chart_names()
    assert names and len(set(names)) == len(names)
    assert _chart_ids([Chart({}, name, ()) for name in names]) == [n.replace("_", "-") for n in names]


def test_tables_scroll_in_boxes_named_once_per_page():
    from ticomex.render.html import scrolling_tables

    used: set[str] = set()
    html = "<h3>Évolution</h3>\n<p>Les <em>produits</em> :</p>\n<table><tr><td>1</td></tr></table><table></table>"
    out = scrolling_tables(html, "Évolution", used) + scrolling_tables("<table></table>", "Évolution", used)
    labels = re.findall(r'<div class="tableau-defilant" role="region" aria-label="([^"]+)" tabindex="0"><table>', out)
    assert labels == ["Tableau : Les produits", "Tableau : Évolution", "Tableau : Évolution (2)"]
    assert out.count("</table></div>") == 3
