"""What the template notebook calls to open a department and publish its parts.

The notebook stays a readable sequence of cells; checking the parameters, showing
Markdown and charts in the form the renderer reads (a chart's SVG made here, once), and
writing the data behind each chart live here.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ticomex import indicators, texts
from ticomex.conventions import (
    CHART_DATA_FILES, CHART_MIMETYPE, CHART_NAME, CHART_SUMMARY, FRANCE_DATA_DIR, INDICATORS_FILE, METADATA_KEY,
    PARAMETERS, REGION_DATA_DIR,
)  # fmt: skip
from ticomex.errors import TicomexError
from ticomex.layout import write_atomic
from ticomex.project import find_project
from ticomex.vega import HTML_MIMETYPE, SvgConverter, svg_image

INJECTED_HEADER = "# Parameters"  # the first line of the cell papermill injects (Python)
DEMO = "demo"  # `publication.donnees` of a demo release ("officielles" otherwise)
OFFICIAL = "officielles"

# Keys of a params file, with their type (docs/architecture.md).
PARAMS_KEYS: dict[str, type | tuple[type, ...]] = {
    "code": str,
    "name": str,
    "region": str,
    "region_name": str,
    "territories": list,
}
OPTIONAL_PARAMS_KEYS: dict[str, type | tuple[type, ...]] = {"main_territories": bool, "level": str}
# `level` of a params file: a department's sheet (the default), a customs region's, France's.
LEVELS = tuple(level.value for level in indicators.Level)


@dataclass
class Sheet:
    """One sheet (a department's, a customs region's or France's): its facts, the year and
    an open database connection."""

    code: str  # the params file's name: a department's code, `region-<code>`, `france`
    name: str
    region: str  # the department's region, the region itself; "" for France
    region_name: str
    year: int
    source: str  # DEMO or OFFICIAL: which release the figures come from
    territories: list[str]
    main_territories: bool
    con: indicators.Connection = field(repr=False)
    data_dir: Path | None = None
    top_n: int = indicators.TOP_N  # partners, products and countries drawn
    quarters: list[int] = field(default_factory=lambda: [1, 2, 3, 4])  # of `year` in the data
    missing_flows: list[str] = field(default_factory=list)  # flows the release lacks for `year`
    level: str = indicators.Level.DEPARTMENT.value

    @property
    def scope(self) -> indicators.Scope:
        """The place the sheet's figures are computed for."""
        if self.level == indicators.Level.REGION:
            return indicators.Scope.region(self.region)
        if self.level == indicators.Level.FRANCE:
            return indicators.Scope.france()
        return indicators.Scope.department(self.code)

    @property
    def is_department(self) -> bool:
        return self.level == indicators.Level.DEPARTMENT

    @property
    def within_region(self) -> bool:
        """Whether the sheet compares its place with its region (a department's sheet)."""
        return self.is_department

    @property
    def within_france(self) -> bool:
        """Whether the sheet compares its place with France (all but France's own)."""
        return self.level != indicators.Level.FRANCE

    @property
    def places(self) -> list[tuple[str, indicators.Scope]]:
        """The sheet's place, then those it lies in, as the comparison tables head them."""
        return [
            (self.place.column, self.scope),
            *([(self.region_name, indicators.Scope.region(self.region))] if self.within_region else []),
            *([(texts.FRANCE, indicators.Scope.france())] if self.within_france else []),
        ]

    @property
    def place(self) -> texts.Place:
        """How the sheet's text names its place ("le département", "la région"...)."""
        return texts.PLACES[self.level]

    @property
    def demo(self) -> bool:
        return self.source == DEMO

    @property
    def notes(self) -> str:
        """What the reader must know about the data behind this sheet (overseas scope, partial
        year, absent flow), as Markdown paragraphs each preceded by a blank line; "" if none."""
        if self.level == indicators.Level.REGION:
            overseas = indicators.region(self.con, self.region)["overseas"]
        else:
            overseas = self.code in indicators.OVERSEAS_DEPARTMENTS
        return texts.data_notes(self.year, self.quarters, self.missing_flows, overseas)


def department_code(department: str | int) -> str:
    """The department's code as the release writes it: papermill's `-p department 5`
    gives the integer 5, which is department "05"."""
    if isinstance(department, bool) or not isinstance(department, (str, int)):
        raise TicomexError(f"department {department!r}: expected a code such as '05' or '2A'")
    return f"{department:02d}" if isinstance(department, int) else department.strip()


def injected_names(sources: list[str]) -> list[str]:
    """The names assigned by the last cell papermill injected among the cells run, in order."""
    injected = [source for source in sources if source.split("\n", 1)[0].strip() == INJECTED_HEADER]
    if not injected:
        return []
    try:
        tree = ast.parse(injected[-1])
    except SyntaxError:
        return []
    return [target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def check_injected_parameters() -> None:
    """A parameter papermill injected that the template does not have is an error, not a
    warning followed by the default department's sheet (`-p departement 43`)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    sources = shell.user_ns.get("In", []) if shell is not None else []
    unknown = [name for name in injected_names(list(sources)) if name not in PARAMETERS]
    if unknown:
        names = ", ".join(f"`{name}`" for name in unknown)
        raise TicomexError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {names}; "
            f"the template's parameters are {', '.join(PARAMETERS)}"
        )


def read_params(params_dir: str | Path, department: str) -> dict:
    """The department's params file, as an editor left it; file, line and reason otherwise."""
    path = Path(params_dir) / f"{department}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in Path(params_dir).glob("*.yaml"))
        hint = f" (known departments: {', '.join(known)})" if known else ""
        raise TicomexError(f"unknown department {department!r}: {path} not found{hint}")
    try:
        facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        # The parser notices some errors a line later (an unclosed bracket): name both.
        lines = sorted({m.line + 1 for m in (getattr(err, "context_mark", None), getattr(err, "problem_mark", None)) if m})
        where = str(path) if not lines else f"{path}, line {lines[0]}" if len(lines) == 1 else f"{path}, lines {lines[0]}–{lines[-1]}"
        reason = getattr(err, "problem", None) or str(err)
        raise TicomexError(f"{where}: not valid YAML ({reason})") from None
    if not isinstance(facts, dict):
        raise TicomexError(f"{path}: expected a mapping of keys ({', '.join(PARAMS_KEYS)})")
    missing = [key for key in PARAMS_KEYS if key not in facts]
    if missing:
        raise TicomexError(f"{path}: missing key(s): {', '.join(missing)}")
    for key, kind in {**PARAMS_KEYS, **OPTIONAL_PARAMS_KEYS}.items():
        if key in facts and not isinstance(facts[key], kind):
            line = _key_line(path, key)
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise TicomexError(
                f"{path}, line {line}: {key} should be a {expected}, not {type(facts[key]).__name__} "
                f"({facts[key]!r}; quote codes such as '05')"
            )
    if facts.get("level", LEVELS[0]) not in LEVELS:
        raise TicomexError(
            f"{path}, line {_key_line(path, 'level')}: level {facts['level']!r}, expected one of {', '.join(LEVELS)}"
        )
    if facts["code"] != department:
        raise TicomexError(f"{path}, line {_key_line(path, 'code')}: code {facts['code']!r} differs from the file name")
    return facts


def _key_line(path: Path, key: str) -> int | str:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return "?"


def open_sheet(
    department: str | int,
    year: str | int | None = None,
    db: str | Path | None = None,
    params_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    top_n: int | None = None,
    partial_year: bool | str = False,
) -> Sheet:
    """Check every parameter before anything is computed, and that papermill injected no
    unknown one; a clear error otherwise.

    `partial_year` (True, or "true" as the batch passes it) accepts a `year` with fewer than
    four quarters in the data.

    `db` and `params_dir` default to the project's (found from the working folder, then
    from the package), so the template runs from anywhere; `data_dir` None writes nothing;
    `top_n` None draws `indicators.TOP_N` items.
    """
    check_injected_parameters()
    code = department_code(department)
    if top_n is None:
        top_n = indicators.TOP_N
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise TicomexError(f"top_n {top_n!r}: expected a whole number of at least 1")
    if db is None or params_dir is None:
        project = find_project()
        db = project.db if db is None else db
        params_dir = project.params_dir if params_dir is None else params_dir
    facts = read_params(params_dir, code)
    con = indicators.connect(db)
    level = facts.get("level", indicators.Level.DEPARTMENT.value)
    if level == indicators.Level.DEPARTMENT:
        indicators.department(con, code)
    elif level == indicators.Level.REGION:
        indicators.region(con, facts["region"])
    if isinstance(partial_year, str):
        if partial_year.strip().lower() not in ("true", "false", ""):
            raise TicomexError(f"partial_year {partial_year!r}: expected true or false")
        partial_year = partial_year.strip().lower() == "true"
    checked_year = indicators.check_year(con, year, partial=bool(partial_year))
    (source,) = con.execute(
        "SELECT coalesce(max(valeur), ?) FROM publication WHERE cle = 'donnees'", [OFFICIAL]
    ).fetchone()
    out = Path(data_dir) if data_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return Sheet(
        code=code,
        name=facts["name"],
        region=facts["region"],
        region_name=facts["region_name"],
        year=checked_year,
        source=source,
        territories=list(facts["territories"]),
        main_territories=bool(facts.get("main_territories", False)),
        con=con,
        data_dir=out,
        top_n=top_n,
        quarters=indicators.quarters(con, checked_year),
        missing_flows=indicators.missing_flows(con, checked_year),
        level=level,
    )


def md(text: str):
    """A paragraph of the sheet (Markdown)."""
    from IPython.display import Markdown

    return Markdown(text)


# The kernel's SVG converter: a warm kernel draws the same region and France charts for
# each department of a region, converted once (`ticomex.vega.SvgConverter`).
SVGS = SvgConverter()


def show_chart(
    spec: dict, name: str, data_files: list[str], *, summary: str, svgs: SvgConverter = SVGS
):
    """Display a chart: its Vega-Lite spec, as the renderer and browsers read it, and its
    SVG, drawn once here, as an HTML image (alt: the spec's title, else the chart's name)
    for the front ends that draw no Vega-Lite v6, untrusted notebooks included, and for
    the page and the PDF; the output's metadata names the chart, its data files (at least
    one: the page offers the data as a table and as CSV) and its `summary`, the sentence or
    two that tell the chart to a reader who cannot see it (`ticomex.charts.describe`)."""
    from IPython.display import display

    if not data_files:
        raise TicomexError(f"chart {name!r}: no data file; write its data with write_csv and pass the name")
    if not isinstance(summary, str) or not summary.strip():
        raise TicomexError(f"chart {name!r}: no summary; pass summary=... (ticomex.charts.describe)")
    title = spec.get("title")
    alt = str(title.get("text", name) if isinstance(title, dict) else title or name)
    display(
        {
            CHART_MIMETYPE: spec,
            HTML_MIMETYPE: svg_image(svgs.svg(spec, name), alt),
            "text/plain": f"<chart {name}>",
        },
        raw=True,
        metadata={
            METADATA_KEY: {CHART_NAME: name, CHART_DATA_FILES: list(data_files), CHART_SUMMARY: summary.strip()}
        },
    )


def _csv_bytes(df: pd.DataFrame) -> bytes:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_csv(sheet: Sheet, name: str, df: pd.DataFrame, shared: str | None = None) -> str:
    """Write a chart's data (UTF-8, header, comma, whole euros); returns its path relative
    to the department's data folder, as `show_chart` takes it.

    `shared`: None for the department's own data; "region" or "france" for a chart every
    department of the region (or every department) shows: written once beside the
    departments' folders, `../region/<code>/<name>` or `../france/<name>` (same bytes from
    every kernel, written atomically)."""
    if shared is None:
        relative = name
    elif shared == REGION_DATA_DIR:
        relative = f"../{REGION_DATA_DIR}/{sheet.region}/{name}"
    elif shared == FRANCE_DATA_DIR:
        relative = f"../{FRANCE_DATA_DIR}/{name}"
    else:
        raise TicomexError(f"write_csv {name!r}: shared={shared!r}, expected None, 'region' or 'france'")
    if sheet.data_dir is not None:
        path = sheet.data_dir / relative
        data = _csv_bytes(df)
        if not (path.is_file() and path.read_bytes() == data):
            write_atomic(path, data)
    return relative


def write_indicators(sheet: Sheet, figures: dict) -> str:
    """`indicateurs.json`: the headline figures with unrounded percentages (published data:
    French keys, docs/architecture.md)."""
    place = {"code": sheet.code, "nom": sheet.name}
    document = {
        "perimetre": sheet.level,
        **({"departement": place} if sheet.is_department else {"fiche": place}),
        **({"region": {"code": sheet.region, "nom": sheet.region_name}} if sheet.region else {}),
        "annee": sheet.year,
        "donnees": sheet.source,
        **figures,
    }
    if sheet.data_dir is not None:
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        (sheet.data_dir / INDICATORS_FILE).write_text(text, encoding="utf-8")
    return INDICATORS_FILE
