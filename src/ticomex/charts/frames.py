"""The frames the charts read: their columns, the two flows, checks with clear errors.

Column names are the published data's (French); a builder checks its frame before
laying it out, so that a wrong frame fails with the builder's name and the row.
"""

from __future__ import annotations

import pandas as pd

from ticomex.errors import TicomexError
from ticomex.texts import EXPORT, FLOWS, IMPORT

# The `flux` values of the activities frame ("import", "export") and how charts name them.
IMPORT_FLUX = FLOWS[IMPORT]["name"]
EXPORT_FLUX = FLOWS[EXPORT]["name"]
FLOW_LABELS = {IMPORT_FLUX: "Importations", EXPORT_FLUX: "Exportations"}

PARTNERS_COLUMNS = ["code_pays", "pays", "importations_eur", "exportations_eur", "solde_eur"]
ACTIVITIES_COLUMNS = ["flux", "code_a129", "produit", "valeur_eur"]
LINKS_VALUE_COLUMNS = ["valeur_eur", "rouge"]  # beside the two label columns


def require_columns(df: pd.DataFrame, columns: list[str], builder: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TicomexError(f"{builder}: missing columns {missing} (columns given: {list(df.columns)})")


def require_non_negative(values: pd.Series, builder: str) -> None:
    negative = values[values < 0]
    if not negative.empty:
        raise TicomexError(
            f"{builder}: negative value at row {negative.index[0]} ({negative.iloc[0]} €); "
            "an area, a length or a thickness cannot be negative"
        )


def require_unique(values: pd.Series, builder: str, what: str) -> None:
    duplicated = values[values.duplicated()]
    if not duplicated.empty:
        raise TicomexError(f"{builder}: duplicate {what} at row {duplicated.index[0]}: {duplicated.iloc[0]!r}")


def check_activities(activities: pd.DataFrame, builder: str) -> None:
    require_columns(activities, ACTIVITIES_COLUMNS, builder)
    unknown = activities[~activities["flux"].isin(FLOW_LABELS)]
    if not unknown.empty:
        raise TicomexError(
            f"{builder}: row {unknown.index[0]}: flux {unknown['flux'].iloc[0]!r} "
            f"(expected: {' or '.join(FLOW_LABELS)})"
        )
    require_non_negative(activities["valeur_eur"], builder)


def check_links(links: pd.DataFrame, left: str, right: str, builder: str) -> pd.DataFrame:
    """The links to draw (positive values), after checking the frame."""
    if left == right:
        raise TicomexError(f"{builder}: left and right name the same column {left!r}")
    require_columns(links, [left, right, *LINKS_VALUE_COLUMNS], builder)
    if not pd.api.types.is_bool_dtype(links["rouge"]):
        raise TicomexError(f"{builder}: column rouge must be boolean (got {links['rouge'].dtype})")
    require_non_negative(links["valeur_eur"], builder)
    pairs = links[[left, right]]
    duplicated = pairs[pairs.duplicated()]
    if not duplicated.empty:
        row = duplicated.iloc[0]
        raise TicomexError(
            f"{builder}: duplicate link at row {duplicated.index[0]}: {row[left]} → {row[right]}"
        )
    return links[links["valeur_eur"] > 0]
