"""What an executed notebook hands to the renderer (see docs/architecture.md).

Kept free of heavy imports: render workers read it without loading pandas or DuckDB.
"""

# A JSON mimetype: nbformat validates its value as an object, not text.
CHART_MIMETYPE = "application/vnd.vegalite.v6+json"
MARKDOWN_MIMETYPE = "text/markdown"
# Output metadata key: {"nom": chart name, "donnees": [data files]}.
METADATA_KEY = "ticomex"
# Environment variable: DuckDB threads per sheet connection. The batch sets it for the kernels
# it starts (cores / parallel kernels): kernels side by side, not threads inside each.
DUCKDB_THREADS_VARIABLE = "TICOMEX_DUCKDB_THREADS"
