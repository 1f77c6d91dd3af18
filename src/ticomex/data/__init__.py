"""Customs release: demo generation, download, ingest into DuckDB.

- `release`: the layouts of a release (national, annual per flow, ZIPs) and how to find them;
- `demo.write_demo_release(out, rows=None, layout=, years=)`: the synthetic release (`ticomex data demo`);
- `fetch.fetch_release(year, out, urls=, sources=)`: the official release (`ticomex data fetch`),
  addresses in the project's `sources.yaml`;
- `ingest.ingest(raw or [raws], db, skip_bad_lines=False, allow_one_flow=False)`: releases ->
  DuckDB (`ticomex data ingest`),
  with `release_fingerprint(raw)` / `recorded_fingerprint(db)` to skip an unchanged ingest;
- `labels`: reading the label files as customs publish them; `problems`: bad lines and their error.

Naming: Python names are English; the names of the published data stay French (the official
files and their fields, the DuckDB tables and columns, the CSV files and their columns). Messages
are English and name the file, the line and the reason.
"""
