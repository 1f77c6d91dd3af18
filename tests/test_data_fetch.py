"""Download of the official release: unpack and check a local ZIP; never the network."""

from __future__ import annotations

import urllib.error
import zipfile
from pathlib import Path

import pytest

from ticomex.cli import main
from ticomex.data import fetch
from ticomex.data.fetch import fetch_release, release_url, unpack_release
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
    assert release.a129 == out / "Regional" / "Libelle_A129.txt"
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
    out = fetch_release(None, tmp_path / "officiel", url=archive.as_uri())
    assert locate_release(out).countries.name == "Libelle_PAYS.txt"


def test_offline_is_a_clear_error(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", offline)
    monkeypatch.delenv(fetch.URL_ENVIRONMENT_VARIABLE, raising=False)
    with pytest.raises(
        TicomexError, match="Temporary failure in name resolution.*Offline\\?.*ticomex data demo"
    ):
        fetch_release(None, tmp_path / "officiel")
    assert main(["data", "fetch", "--out", str(tmp_path / "officiel")]) == 1
    err = capsys.readouterr().err
    assert fetch.RELEASE_URLS["latest"] in err and "Traceback" not in err
    assert not (tmp_path / "officiel").exists()


def test_urls_in_one_configurable_place(monkeypatch):
    monkeypatch.delenv(fetch.URL_ENVIRONMENT_VARIABLE, raising=False)
    assert release_url(None) == fetch.RELEASE_URLS["latest"]
    assert release_url(2021) == fetch.RELEASE_URLS["annual"].replace("{year}", "2021")
    monkeypatch.setenv(fetch.URL_ENVIRONMENT_VARIABLE, "https://mirror.example/regional-{year}.zip")
    assert release_url(2019) == "https://mirror.example/regional-2019.zip"
    assert release_url(2019, "file:///tmp/r.zip".replace("r.zip", "r-{year}.zip")) == "file:///tmp/r-2019.zip"
    with pytest.raises(TicomexError, match="no \\{year\\} placeholder"):
        release_url(2019, "https://mirror.example/latest.zip")
