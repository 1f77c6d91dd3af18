"""Customs release: demo generation, download, ingest into DuckDB.

- `release`: the file names of a release and how to find them in a folder;
- `demo.write_demo_release(out, rows=None)`: the synthetic release (`ticomex data demo`);
- `fetch.fetch_release(year, out)`: the official release (`ticomex data fetch`);
- `ingest.ingest(raw, db, skip_bad_lines=False)`: release -> DuckDB (`ticomex data ingest`),
  with `release_fingerprint(raw)` / `recorded_fingerprint(db)` to skip an unchanged ingest;
- `labels`: reading the label files as customs publish them; `problems`: bad lines and their error.

Naming: Python names are English; the names of the published data stay French (the official
files and their fields, the DuckDB tables and columns, the CSV files and their columns). Messages
are English and name the file, the line and the reason.
"""
