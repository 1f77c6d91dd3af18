"""Customs release: demo generation, download, ingest into DuckDB."""
