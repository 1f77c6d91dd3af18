"""Download of the official release: unpack and check a local ZIP; never the network."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ticomex.cli import main
from ticomex.data.fetch import fetch_release, release_urls, unpack_release
from ticomex.data.release import locate_release
from ticomex.errors import TicomexError


@pytest.fixture(scope="module")
def release_files(tmp_path_factory) -> Path:
    from ticomex.data.demo import write_demo_release

    return write_demo_release(tmp_path_factory.mktemp("release") / "demo", rows=1000)


def make_zip(
    folder: Path, target: Path, *, prefix: str = "", skip: str | None = None, extra: str | None = None
) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            if path.name != skip:
                archive.write(path, prefix + path.name)
        if extra:
            archive.writestr(extra, "x")
    return target


def test_unpack_a_complete_release_even_nested(release_files, tmp_path):
    archive = make_zip(release_files, tmp_path / "r.zip", prefix="Regional/")
    out = unpack_release(archive, tmp_path / "officiel")
    release = locate_release(out)
    assert release.a129 == out / "r" / "Regional" / "Libelle_A129.txt"  # each ZIP in a folder of its name
    assert [f.flow for f in release.data_files] == ["E", "I"]


def test_incomplete_archive_names_the_missing_file_and_keeps_the_previous_release(release_files, tmp_path):
    out = unpack_release(make_zip(release_files, tmp_path / "good.zip"), tmp_path / "officiel")
    before = sorted(p.name for p in out.iterdir())
    bad = make_zip(release_files, tmp_path / "bad.zip", skip="Libelle_PAYS.txt")
    with pytest.raises(
        TicomexError, match=r"bad.zip is not a complete release: .*Libelle_PAYS.txt is missing"
    ):
        unpack_release(bad, out)
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.zip",
        "good.zip",
        "officiel",
    ]  # nothing left over


def test_refuses_paths_outside_the_folder(release_files, tmp_path):
    archive = make_zip(release_files, tmp_path / "evil.zip", extra="../outside.txt")
    with pytest.raises(TicomexError, match="refusing member '../outside.txt'"):
        unpack_release(archive, tmp_path / "officiel")
    assert not (tmp_path / "outside.txt").exists()


def test_not_a_zip(tmp_path):
    (tmp_path / "page.zip").write_text("<html>moved</html>")
    with pytest.raises(TicomexError, match="page.zip: not a ZIP archive"):
        unpack_release(tmp_path / "page.zip", tmp_path / "officiel")


def test_fetch_from_a_local_file_url(release_files, tmp_path):
    archive = make_zip(release_files, tmp_path / "r.zip")
    out = fetch_release(None, tmp_path / "officiel", urls=[archive.as_uri()])
    assert locate_release(out).countries.name == "Libelle_PAYS.txt"


def test_unreachable_address_is_a_clear_error(tmp_path, capsys):
    # A file:// address that does not exist fails like an offline machine, without the network.
    missing = (tmp_path / "missing" / "r.zip").as_uri()
    with pytest.raises(TicomexError) as caught:
        fetch_release(None, tmp_path / "officiel", urls=[missing])
    message = str(caught.value)
    assert message.startswith(f"cannot download {missing} (")
    assert "Offline?" in message and "ticomex data demo" in message and "ticomex data ingest --raw" in message
    assert "sources.yaml" in message
    assert main(["data", "fetch", "--out", str(tmp_path / "officiel"), "--url", missing]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ticomex: cannot download {missing}") and "Traceback" not in err
    assert not (tmp_path / "officiel").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no download folder left over


def test_the_project_sources_file_names_both_flows_of_a_year():
    from conftest import PROJECT

    latest = release_urls(None, PROJECT / "sources.yaml")
    annual = release_urls(2021, PROJECT / "sources.yaml")
    assert len(latest) == 1 and latest[0].endswith(".zip")
    assert len(annual) == 2 and all("2021" in u for u in annual)
    assert any("export" in u for u in annual) and any("import" in u for u in annual)


@pytest.fixture(scope="module")
def annual_zips(tmp_path_factory) -> Path:
    from ticomex.data.demo import write_demo_release

    return write_demo_release(tmp_path_factory.mktemp("annual") / "demo", rows=1000, layout="annual", years=(2024,))


@pytest.fixture
def served(annual_zips):
    """The annual ZIPs served over HTTP on 127.0.0.1 (loopback only)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(annual_zips))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_a_year_downloads_both_flows_from_the_sources_file(served, tmp_path, capsys):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"latest: [{served}/none.zip]\nannual:\n"
        f"  - {served}/202502_regional_{{year}}_export.zip\n  - {served}/202502_regional_{{year}}_import.zip\n",
        encoding="utf-8",
    )
    out = tmp_path / "officiel-2024"
    assert main(["data", "fetch", "--year", "2024", "--sources", str(sources), "--out", str(out)]) == 0
    release = locate_release(out)
    assert sorted(f.flow for f in release.data_files) == ["E", "I"]
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    # Only the export ZIP: refused, the previous release stays.
    assert main(["data", "fetch", "--out", str(out), "--url", f"{served}/202502_regional_2024_export.zip"]) == 1
    assert "Region_2024_Import.txt (the imports of 2024) missing" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
