"""What the template notebook calls to open a department and publish its parts.

The notebook stays a readable sequence of cells; checking the parameters, showing
Markdown and charts in the form the renderer reads, and writing the data behind each
chart live here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ticomex import indicators
from ticomex.conventions import CHART_DATA_FILES, CHART_MIMETYPE, CHART_NAME, METADATA_KEY
from ticomex.errors import TicomexError



@dataclass
class Sheet:
    """One department's sheet: its facts, the year and the open database."""

    code: str
    nom: str
    region: str
    region_nom: str
    annee: int
    donnees: str
    territoires: list[str]
    territoires_principaux: bool
    con: object = field(repr=False)
    sortie: Path | None = None

    @property
    def demo(self) -> bool:
        return self.donnees == "demo"


def read_params(parametres: str | Path, departement: str) -> dict:
    """The department's params file, as an editor left it."""
    path = Path(parametres) / f"{departement}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in Path(parametres).glob("*.yaml"))
        hint = f" (départements connus : {', '.join(known)})" if known else ""
        raise TicomexError(f"département inconnu : {departement!r} — {path} absent{hint}")
    try:
        facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TicomexError(f"{path}: YAML illisible : {err}") from None
    missing = {"code", "nom", "region", "region_nom", "territoires"} - set(facts or {})
    if missing:
        raise TicomexError(f"{path}: clés manquantes : {', '.join(sorted(missing))}")
    if str(facts["code"]) != departement:
        raise TicomexError(f"{path}: code {facts['code']!r} différent du nom du fichier")
    return facts


def open_sheet(
    departement: str,
    annee: str | int | None,
    base: str | Path,
    parametres: str | Path,
    sortie: str | Path | None = None,
) -> Sheet:
    """Check every parameter before anything is computed; a clear error otherwise."""
    departement = str(departement)
    facts = read_params(parametres, departement)
    con = indicators.connect(base)
    indicators.department(con, departement)
    year = indicators.check_year(con, annee)
    (donnees,) = con.execute(
        "SELECT coalesce(max(valeur), 'officielles') FROM publication WHERE cle = 'donnees'"
    ).fetchone()
    out = Path(sortie) if sortie else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return Sheet(
        code=departement,
        nom=facts["nom"],
        region=str(facts["region"]),
        region_nom=facts["region_nom"],
        annee=year,
        donnees=donnees,
        territoires=list(facts.get("territoires") or []),
        territoires_principaux=bool(facts.get("territoires_principaux", False)),
        con=con,
        sortie=out,
    )


def md(text: str):
    """A paragraph of the sheet (Markdown)."""
    from IPython.display import Markdown

    return Markdown(text)


def show_chart(spec: dict, nom: str, donnees: list[str] | None = None):
    """Display a chart's Vega-Lite spec as the renderer reads it, naming its data files."""
    from IPython.display import display

    display(
        {CHART_MIMETYPE: spec, "text/plain": f"<graphique {nom}>"},
        raw=True,
        metadata={METADATA_KEY: {CHART_NAME: nom, CHART_DATA_FILES: list(donnees or [])}},
    )


def write_csv(sheet: Sheet, name: str, df: pd.DataFrame) -> str:
    """Write a chart's data (UTF-8, header, comma, whole euros); returns the file name."""
    if sheet.sortie is not None:
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == bool:
                out[col] = out[col].map({True: "true", False: "false"})
        out.to_csv(sheet.sortie / name, index=False, lineterminator="\n", encoding="utf-8")
    return name


def write_indicators(sheet: Sheet, chiffres: dict) -> str:
    """`indicateurs.json`: the headline figures with unrounded percentages."""
    name = "indicateurs.json"
    document = {
        "departement": {"code": sheet.code, "nom": sheet.nom},
        "region": {"code": sheet.region, "nom": sheet.region_nom},
        "annee": sheet.annee,
        "donnees": sheet.donnees,
        **chiffres,
    }
    if sheet.sortie is not None:
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        (sheet.sortie / name).write_text(text, encoding="utf-8")
    return name
