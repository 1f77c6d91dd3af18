"""What the renderer reads from one executed notebook (conventions: docs/architecture.md).

Markdown cells and `text/markdown` outputs are content, Vega-Lite outputs are charts (with
the SVG beside them, if any, for the PDF); code, streams and every other output are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ticomex.conventions import (
    CHART_DATA_FILES,
    CHART_MIMETYPE,
    CHART_NAME,
    CHART_SUMMARY,
    INDICATORS_FILE,
    MARKDOWN_MIMETYPE,
    METADATA_KEY,
    nbformat_text,
)
from ticomex.errors import TicomexError
from ticomex.vega import HTML_MIMETYPE, SVG_MIMETYPE, image_svg

DISPLAY_OUTPUTS = ("display_data", "execute_result")


@dataclass(frozen=True)
class Department:
    """A sheet to publish (a department's; a region's or France's when `level` says so):
    its executed notebook, its chart data and its facts."""

    code: str
    name: str
    region_code: str
    region_name: str
    year: int
    demo: bool
    notebook: Path
    data_dir: Path
    stale: bool = False  # its notebook failed at the last build: this is the previous one
    level: str = "department"  # `indicators.Level`: department, region or france

    @property
    def is_department(self) -> bool:
        return self.level == "department"


@dataclass(frozen=True)
class Markdown:
    text: str


@dataclass(frozen=True)
class Chart:
    spec: dict
    name: str
    data_files: tuple[str, ...]  # its data, in the department's data folder
    svg: str | None = None  # the output's SVG (`ticomex.vega`), None when it has none
    summary: str = ""  # the chart told in a sentence or two (`show_chart(..., summary=...)`)


Block = Markdown | Chart


def read_department(notebook: Path, data_root: Path) -> Department:
    """The department of `<notebooks>/<code>.ipynb`, from `<data_root>/<code>/indicateurs.json`."""
    code = notebook.stem
    data_dir = data_root / code
    path = data_dir / INDICATORS_FILE
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TicomexError(
            f"{path}: missing — the notebook {notebook} must write its chart data there"
        ) from None
    except json.JSONDecodeError as err:
        raise TicomexError(f"{path}, line {err.lineno}: not valid JSON ({err.msg})") from None
    try:
        level = str(facts.get("perimetre", "department"))
        place = facts["departement" if level == "department" else "fiche"]
        region = facts.get("region") or {"code": "", "nom": ""}  # France's sheet has none
        department = Department(
            code=str(place["code"]),
            name=str(place["nom"]),
            region_code=str(region["code"]),
            region_name=str(region["nom"]),
            year=int(facts["annee"]),
            demo=facts["donnees"] == "demo",
            notebook=notebook,
            data_dir=data_dir,
            level=level,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise TicomexError(f"{path}: missing or malformed field {err}") from None
    if department.code != code:
        raise TicomexError(
            f"{path}: department {department.code!r} but the notebook is {notebook.name}"
        )
    return department


def chart_svg(bundle: dict) -> str | None:
    """A chart output's SVG: in its HTML image (`show_chart`), or as `image/svg+xml`."""
    if HTML_MIMETYPE in bundle:
        svg = image_svg(nbformat_text(bundle[HTML_MIMETYPE]))
        if svg is not None:
            return svg
    return nbformat_text(bundle[SVG_MIMETYPE]) if SVG_MIMETYPE in bundle else None


def read_blocks(notebook: Path) -> list[Block]:
    """The sheet's content in order: Markdown paragraphs and charts."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise TicomexError(
            f"{notebook}, line {err.lineno}: not a readable notebook (invalid JSON: {err.msg})"
        ) from None
    except UnicodeDecodeError as err:
        raise TicomexError(
            f"{notebook}: not a readable notebook (not UTF-8: {err.reason})"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TicomexError(f"{notebook}: not a Jupyter notebook (no list of cells)")

    blocks: list[Block] = []
    for number, cell in enumerate(nb["cells"], start=1):
        where = f"{notebook}, cell {number}"
        if not isinstance(cell, dict):
            raise TicomexError(f"{where}: malformed cell")
        if cell.get("cell_type") == "markdown":
            blocks.append(Markdown(nbformat_text(cell.get("source", ""))))
            continue
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in DISPLAY_OUTPUTS:
                continue
            bundle = output.get("data", {})
            if CHART_MIMETYPE in bundle:
                spec = bundle[CHART_MIMETYPE]
                if isinstance(spec, str):  # some writers store JSON mimetypes as text
                    try:
                        spec = json.loads(spec)
                    except json.JSONDecodeError as err:
                        raise TicomexError(
                            f"{where}: chart spec is not valid JSON ({err.msg})"
                        ) from None
                if not isinstance(spec, dict):
                    raise TicomexError(f"{where}: the chart output is not a Vega-Lite object")
                meta = output.get("metadata", {}).get(METADATA_KEY, {})
                blocks.append(
                    Chart(
                        spec=spec,
                        name=str(meta.get(CHART_NAME) or f"graphique-{len(blocks) + 1}"),
                        data_files=tuple(str(name) for name in meta.get(CHART_DATA_FILES, [])),
                        svg=chart_svg(bundle),
                        summary=str(meta.get(CHART_SUMMARY) or ""),
                    )
                )
            elif MARKDOWN_MIMETYPE in bundle:
                blocks.append(Markdown(nbformat_text(bundle[MARKDOWN_MIMETYPE])))
    return blocks
