"""A page and a PDF per Territoire d'industrie, `site/<slug>.html` and `site/pdf/<slug>.pdf`.

Its departments side by side (`ticomex.territories.DepartmentRow`, read from what their
notebooks published), a chart comparing them drawn to static SVG when rendering (the
partners chart's diverging bars, one row per department) with its summary and its data
(`site/data/territoires/<slug>.csv`), and the methodological caveat.
No notebook runs for a territory. Each page and PDF is kept in the render cache under a
key of what it shows (its rows, the territory's facts) and of the renderer: a build
renders again only the territories whose departments' published figures changed.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ticomex import texts
from ticomex.errors import TicomexError
from ticomex.layout import DATA_DIR, PDF_DIR, SITE_DIR, write_atomic
from ticomex.render.config import SiteConfig
from ticomex.render.session import RenderSession
from ticomex.territories import DepartmentRow, Territory

if TYPE_CHECKING:
    from ticomex.render.pool import RenderWorkers

TERRITORIES_MODULE = Path(__file__).parents[1] / "territories.py"  # shapes the rows: in the key
CACHE_PAGES, CACHE_PDF = "territory-pages", "territory-pdf"
TASK_SIZE = 16  # territories per task: each costs a few tens of milliseconds
CHART_NAME = "departements"
INDEX_TERRITORIES = "index.html#territoires"
DATA_FOLDER = "territoires"  # under site/data/: each territory's chart data
CSV_COLUMNS = {"code_pays": "code_departement", "pays": "departement"}  # the chart's frame → its CSV


@dataclass(frozen=True)
class TerritorySheet:
    """What the PDF machinery (`pdf.sheet_typst`) reads of a sheet, for a territory."""

    code: str  # the page's name
    name: str
    demo: bool
    stale: bool
    notebook: Path  # the territories' file: errors name it


@dataclass(frozen=True)
class TerritoryPage:
    territory: Territory
    rows: tuple[DepartmentRow, ...]
    year: int
    demo: bool
    stale: bool  # one of its departments' notebooks failed: its figures are the previous ones
    html: Path  # in the render cache
    pdf: Path


@dataclass(frozen=True)
class TerritoryTask:
    pages: tuple[TerritoryPage, ...]
    pdf: bool
    config: SiteConfig
    demo_note: str
    cache: Path
    source: Path  # params/territoires.yaml


def territory_title(territory: Territory, config: SiteConfig) -> str:
    return f"{territory.name} — {config.title}"


def page_key(fingerprint: str, page_inputs: str, kind: str) -> str:
    return hashlib.sha256(f"{fingerprint}\n{page_inputs}\n{kind}".encode()).hexdigest()[:32]


def plan_pages(
    territories: list[Territory],
    rows: dict[str, DepartmentRow],
    stale: set[str],
    demo: bool,
    year: int,
    fingerprint: str,
    cache: Path,
    pdf: bool,
) -> list[TerritoryPage]:
    """Each territory's page and where its cached outputs are (key: what the page shows)."""
    module = hashlib.sha256(TERRITORIES_MODULE.read_bytes()).hexdigest()
    pages = []
    for territory in territories:
        its_rows = tuple(rows[code] for code in territory.codes)
        is_stale = any(code in stale for code in territory.codes)
        inputs = f"{module}\n{territory!r}\n{its_rows!r}\n{year} demo={demo} stale={is_stale}"
        pages.append(
            TerritoryPage(
                territory,
                its_rows,
                year,
                demo,
                is_stale,
                cache / CACHE_PAGES / f"{territory.slug}.{page_key(fingerprint, inputs, f'html pdf-link={pdf}')}.html",
                cache / CACHE_PDF / f"{territory.slug}.{page_key(fingerprint, inputs, 'pdf')}.pdf",
            )
        )
    return pages


def _meur(euros: int | None) -> str:
    return texts.NOT_PUBLISHED if euros is None else texts.millions(euros)


def table_rows(rows: tuple[DepartmentRow, ...]) -> list[dict]:
    """Each department's cells as printed (French formats of the sheets)."""
    cells = []
    for row in rows:
        cells.append(
            {
                "code": row.code,
                "label": f"{row.name} ({row.code})",
                "published": row.published,
                "area_share": texts.with_percent_sign(texts.share(round(row.area_share * 100), 100, 0)),
                "exports": _meur(row.exports_eur),
                "imports": _meur(row.imports_eur),
                "balance": _meur(row.balance_eur),
                "balance_negative": row.published and row.balance_eur < 0,
                "region": row.region_name,
                "region_share": texts.with_percent_sign(
                    texts.share(row.exports_eur, row.region_exports_eur, texts.REGION_SHARE_DECIMALS)
                )
                if row.published
                else texts.NOT_PUBLISHED,
                "first_partner": row.first_partner or "—",
                "first_product": row.first_product or "—",
            }
        )
    return cells


def chart_frame(page: TerritoryPage):
    """The departments compared, as `charts.partners_chart` reads partners."""
    import pandas as pd

    published = [row for row in page.rows if row.published]
    frame = pd.DataFrame(
        {
            "code_pays": [row.code for row in published],
            "pays": [f"{row.name} ({row.code})" for row in published],
            "importations_eur": [row.imports_eur for row in published],
            "exportations_eur": [row.exports_eur for row in published],
            "solde_eur": [row.balance_eur for row in published],
        },
        columns=["code_pays", "pays", "importations_eur", "exportations_eur", "solde_eur"],
    )
    return frame


def chart_spec(page: TerritoryPage) -> dict:
    """The departments compared: imports left, exports right, the balance in colour."""
    from ticomex.charts import partners_chart

    return partners_chart(chart_frame(page), texts.TERRITORY_CHART_TITLE.format(year=page.year))


def chart_summary(page: TerritoryPage) -> str:
    from ticomex.charts.describe import departments_summary

    return departments_summary(chart_frame(page), page.year)


def data_href(page: TerritoryPage) -> str:
    return f"{DATA_DIR}/{DATA_FOLDER}/{page.territory.slug}.csv"


def chart_csv(page: TerritoryPage) -> bytes:
    return chart_frame(page).rename(columns=CSV_COLUMNS).to_csv(index=False, lineterminator="\n").encode("utf-8")


def accessible_svg(svg: str, label: str) -> str:
    """vl-convert's SVG as a described image inside the page."""
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def territory_page(page: TerritoryPage, svg: str, config: SiteConfig, demo_note: str, pdf: bool) -> str:
    from html import escape

    from ticomex.render.html import HOME, PDF_HREF, _common, _templates, check_offline, markdown_parser

    territory = page.territory
    to_html = markdown_parser()
    count = texts.department_word(len(page.rows))
    html = (
        _templates()
        .get_template("territory.html.j2")
        .render(
            **_common(config, demo_note, to_html),
            title=territory_title(territory, config),
            heading=texts.TERRITORY_HEADING.format(name=territory.name),
            breadcrumbs=[(HOME, "index.html"), (texts.TERRITORIES_INDEX_TITLE, INDEX_TERRITORIES), (territory.name, None)],
            demo=page.demo,
            stale=page.stale,
            stale_html=to_html(texts.STALE_NOTICE),
            intro=texts.TERRITORY_INTRO.format(count=count, year=page.year),
            caveat_html=to_html(texts.TERRITORY_CAVEAT),
            caption=texts.TERRITORY_TABLE_CAPTION.format(year=page.year),
            columns=texts.TERRITORY_COLUMNS,
            rows=table_rows(page.rows),
            pdf_href=PDF_HREF.format(code=territory.slug) if pdf else None,
            pdf_hrefs={row.code: PDF_HREF.format(code=row.code) for row in page.rows} if pdf else {},
            chart_svg=accessible_svg(svg, escape(texts.TERRITORY_CHART_TITLE.format(year=page.year))),
            chart_summary=chart_summary(page),
            chart_data=data_href(page),
        )
    )
    check_offline(html, f"{territory.slug}.html")
    return html


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_table(page: TerritoryPage) -> str:
    """The departments' table for the PDF, as raw typst (Markdown's pipe tables give
    pandoc's equal columns and justified cells): figures right-aligned, names unjustified."""
    columns = texts.TERRITORY_COLUMNS
    keys = ["label", "area_share", "exports", "imports", "balance", "region_share", "first_partner", "first_product"]
    header = [columns["department"], *(columns[k] for k in keys[1:])]
    cells = [f"[*#{_typst_string(text)}*]" for text in header]
    for row in table_rows(page.rows):
        label = row["label"] + (f" — {row['region']}" if row["region"] else "")
        cells += [f"[#{_typst_string(label)}]", *(f"[#{_typst_string(row[k])}]" for k in keys[1:])]
    return "\n".join(
        [
            "```{=typst}",
            "#block(width: 100%)[",
            "#set par(justify: false)",
            "#set text(size: 0.85em, hyphenate: true)",  # narrow columns: French hyphenation
            "#table(",
            "  columns: (1.7fr, 0.9fr, 1fr, 1fr, 0.9fr, 1fr, 1.1fr, 1.8fr),",
            "  align: (left, right, right, right, right, right, left, left),",
            "  stroke: (x: none, y: 0.5pt + luma(200)),",
            "  inset: 4pt,",
            "  " + ",\n  ".join(cells) + ",",
            ")",
            "]",
            "```",
        ]
    )


def territory_markdown(page: TerritoryPage) -> list[str]:
    territory = page.territory
    return [
        f"# {texts.TERRITORY_HEADING.format(name=territory.name)}",
        texts.TERRITORY_INTRO.format(count=texts.department_word(len(page.rows)), year=page.year),
        texts.TERRITORY_CAVEAT,
        f"**{texts.TERRITORY_TABLE_CAPTION.format(year=page.year)}**",
        typst_table(page),
    ]


def render_territory_task(task: TerritoryTask, session: RenderSession) -> list[tuple[str, str | None]]:
    """Render and cache each territory of the task: (slug, error or None) for each."""
    from ticomex.render.notebook import Chart, Markdown
    from ticomex.render.pdf import ChartImages, convert_blocks, sheet_typst, typst_to_pdf

    converter = session.converter(task.config.font_paths)
    images = ChartImages(task.cache, task.config, session) if task.pdf else None
    if images:  # every territory's text in one pandoc run
        try:
            everything = [text for page in task.pages for text in territory_markdown(page)]
            convert_blocks(everything, task.source, session)
        except Exception:  # noqa: BLE001 - each territory reports its own error below
            pass
    results = []
    for page in task.pages:
        slug = page.territory.slug
        try:
            spec = chart_spec(page)
            svg = converter.svg(spec, CHART_NAME)
            if not page.html.exists():
                write_atomic(page.html, territory_page(page, svg, task.config, task.demo_note, task.pdf).encode("utf-8"))
            if images and not page.pdf.exists():
                sheet = TerritorySheet(slug, page.territory.name, page.demo, page.stale, task.source)
                chart = Chart(spec, CHART_NAME, (), svg, summary=chart_summary(page))
                blocks = [*(Markdown(text) for text in territory_markdown(page)), chart]
                source = sheet_typst(
                    sheet, blocks, task.config, task.demo_note, images, session,
                    title=territory_title(page.territory, task.config),
                )  # fmt: skip
                write_atomic(page.pdf, typst_to_pdf(source, task.config, images.root, task.source, session))
            results.append((slug, None))
        except TicomexError as err:
            results.append((slug, str(err)))
        except Exception as err:  # noqa: BLE001 - one territory's bug must name it, not stop the others
            results.append((slug, f"{task.source} ({page.territory.name}): {type(err).__name__}: {err}"))
    return results


def render_territories(
    pages: list[TerritoryPage],
    config: SiteConfig,
    cache: Path,
    staging: Path,
    pdf: bool,
    jobs: int,
    source: Path,
    demo_note: str,
    workers: RenderWorkers | None = None,
) -> list[str]:
    """Render the territories whose cached outputs are missing, copy every page (and PDF)
    into `staging/site/` (`staging/pdf/`); the slugs rendered."""
    from ticomex.render.pool import run_tasks

    for folder in (CACHE_PAGES, CACHE_PDF):
        (cache / folder).mkdir(parents=True, exist_ok=True)
    stale = [p for p in pages if not p.html.exists() or (pdf and not p.pdf.exists())]
    if stale:
        tasks = [
            TerritoryTask(tuple(stale[i : i + TASK_SIZE]), pdf, config, demo_note, cache, source)
            for i in range(0, len(stale), TASK_SIZE)
        ]
        run_tasks(render_territory_task, tasks, len(stale), "territories", jobs, config.font_paths, workers)
    data = staging / SITE_DIR / DATA_DIR / DATA_FOLDER
    data.mkdir(parents=True, exist_ok=True)
    for page in pages:
        shutil.copyfile(page.html, staging / SITE_DIR / f"{page.territory.slug}.html")
        (data / f"{page.territory.slug}.csv").write_bytes(chart_csv(page))
        if pdf:
            shutil.copyfile(page.pdf, staging / SITE_DIR / PDF_DIR / f"{page.territory.slug}.pdf")
    keep = {p.html for p in pages} | {p.pdf for p in pages}
    for folder in (CACHE_PAGES, CACHE_PDF) if pdf else (CACHE_PAGES,):
        for path in (cache / folder).iterdir():
            if path not in keep:
                path.unlink(missing_ok=True)
    return [p.territory.slug for p in stale]


@dataclass(frozen=True)
class PublishedTerritories:
    finder: dict  # the index's map, territories and ranking (`render.finder.index_context`)
    published: list[str]  # page names
    rendered: list[str]


def publish_territories(
    departments: list,
    config: SiteConfig,
    layout,
    staging: Path,
    pdf: bool,
    jobs: int,
    workers: RenderWorkers | None,
    params_dirs: list[Path],
) -> PublishedTerritories:
    """Every territory with a published department gets its page (and PDF) in `staging`,
    from the first of `params_dirs` holding `territoires.yaml` (the build's params folder,
    then the project's); without one, none (said on standard error)."""
    import dataclasses
    import sys

    from ticomex.conventions import TERRITORIES_FILE
    from ticomex.render.cache import fingerprint
    from ticomex.render.finder import index_context
    from ticomex.render.html import PDF_HREF
    from ticomex.territories import department_row, read_territories_file
    from ticomex.texts import DEMO_NOTICE

    rows = {d.code: department_row(d.code, 1.0, d.data_dir, d.name) for d in departments}
    candidates = [folder / TERRITORIES_FILE for folder in params_dirs]
    source = next((path for path in candidates if path.is_file()), candidates[0])
    territories: list[Territory] = []
    if source.is_file():
        territories = [t for t in read_territories_file(source) if any(code in rows for code in t.codes)]
    else:
        print(f"{source}: not found — no Territoires d'industrie pages (write it with `ticomex params`)", file=sys.stderr)
    finder = index_context(list(rows.values()), territories, PDF_HREF if pdf else None)
    if not territories:
        return PublishedTerritories(finder, [], [])
    shares = {
        t.id: {code: dataclasses.replace(rows[code], area_share=share) if code in rows else DepartmentRow(code, code, share)
               for code, share in t.departments}
        for t in territories
    }  # fmt: skip
    key = fingerprint(config, DEMO_NOTICE)
    stale = {d.code for d in departments if d.stale}
    demo, year = any(d.demo for d in departments), max(d.year for d in departments)
    pages = [
        page
        for territory in territories
        for page in plan_pages([territory], shares[territory.id], stale, demo, year, key, layout.render_cache, pdf)
    ]
    (staging / SITE_DIR).mkdir(exist_ok=True)
    if pdf:
        (staging / SITE_DIR / PDF_DIR).mkdir(parents=True, exist_ok=True)
    rendered = render_territories(pages, config, layout.render_cache, staging, pdf, jobs, source, DEMO_NOTICE, workers)
    return PublishedTerritories(finder, [p.territory.slug for p in pages], rendered)
