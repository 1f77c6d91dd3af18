"""What an executed notebook hands to the renderer, and how the batch talks to kernels
(see docs/architecture.md).

Kept free of heavy imports: render workers read it without loading pandas or DuckDB.
"""

# A JSON mimetype: nbformat validates its value as an object, not text.
CHART_MIMETYPE = "application/vnd.vegalite.v6+json"
MARKDOWN_MIMETYPE = "text/markdown"
# Output metadata key of a chart: {CHART_NAME: stable chart name, CHART_DATA_FILES: [files],
# CHART_SUMMARY: its data told in a sentence or two}. Data files are paths relative to the
# department's data folder: a region's or France's charts share theirs (`../region/<code>/…`,
# `../france/…`).
METADATA_KEY = "ticomex"
CHART_NAME = "name"
CHART_DATA_FILES = "data_files"
# The chart in words (one or two French sentences computed from its data): its text alternative.
CHART_SUMMARY = "summary"
# Folders beside the departments' data folders, for the data every department of a region
# (or every department) shares.
REGION_DATA_DIR = "region"
FRANCE_DATA_DIR = "france"
# Written by each notebook in its data folder: the sheet's headline figures (published data).
INDICATORS_FILE = "indicateurs.json"

# The template's papermill parameters (all strings or None, but TOP_N_PARAMETER, an int).
DEPARTMENT_PARAMETER = "department"
YEAR_PARAMETER = "year"
DB_PARAMETER = "db"
PARAMS_DIR_PARAMETER = "params_dir"
DATA_DIR_PARAMETER = "data_dir"
TOP_N_PARAMETER = "top_n"
# Accept a year with fewer than four quarters: passed only when asked, as the string "true".
PARTIAL_YEAR_PARAMETER = "partial_year"
PARAMETERS = (
    DEPARTMENT_PARAMETER, YEAR_PARAMETER, DB_PARAMETER, PARAMS_DIR_PARAMETER, DATA_DIR_PARAMETER, TOP_N_PARAMETER,
    PARTIAL_YEAR_PARAMETER,
)

# Environment variable: DuckDB threads per sheet connection. The batch sets it in the
# environment of the kernels it starts (cores / parallel kernels): kernels side by side,
# not threads inside each.
DUCKDB_THREADS_VARIABLE = "TICOMEX_DUCKDB_THREADS"


def nbformat_text(value) -> str:
    """A text as nbformat stores it (a cell's source, a text output): a list of lines or one string."""
    return "".join(value) if isinstance(value, list) else str(value)


# A Territoire d'industrie's page and PDF: named after the territory, so that a department
# sheet, which knows its territories by name (params/<code>.yaml), links to them directly.
TERRITORY_PAGE_PREFIX = "territoire-"
# The territories' facts, in the params folder beside the <code>.yaml files (not a department).
TERRITORIES_FILE = "territoires.yaml"


# Letters Unicode does not decompose into a base letter and an accent: "coeur" finds "Cœur".
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def fold(text: str) -> str:
    """Lower case without accents nor ligatures: what searching, sorting by name and page
    names compare (assets/ticomex.js folds the search box the same way)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def territory_slug(name: str) -> str:
    """`Plastics Vallée – Oyonnax` → `territoire-plastics-vallee-oyonnax`: the territory's
    page is `<slug>.html`, its PDF `<slug>.pdf`."""
    import re

    words = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")
    return TERRITORY_PAGE_PREFIX + (words or "sans-nom")
