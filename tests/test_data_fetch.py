"""Download of the official release: unpack and check a local ZIP; never the network."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ticomex.cli import main
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


def test_unreachable_address_is_a_clear_error(tmp_path, monkeypatch, capsys):
    # A file:// address that does not exist fails like an offline machine, without the network.
    missing = (tmp_path / "missing" / "r.zip").as_uri()
    with pytest.raises(TicomexError) as caught:
        fetch_release(None, tmp_path / "officiel", url=missing)
    message = str(caught.value)
    assert message.startswith(f"cannot download {missing} (")
    assert "Offline?" in message and "ticomex data demo" in message and "ticomex data ingest --raw" in message
    assert "TICOMEX_RELEASE_URL" in message
    monkeypatch.setenv("TICOMEX_RELEASE_URL", missing)
    assert main(["data", "fetch", "--out", str(tmp_path / "officiel")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ticomex: cannot download {missing}") and "Traceback" not in err
    assert not (tmp_path / "officiel").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no download folder left over


KIOSQUE = "https://lekiosque.finances.gouv.fr/fichiers/Series/Regional"


def test_default_addresses_and_their_override(monkeypatch):
    monkeypatch.delenv("TICOMEX_RELEASE_URL", raising=False)
    assert release_url(None) == f"{KIOSQUE}/REGIONAL_CPF4PAYS.zip"
    assert release_url(2021) == f"{KIOSQUE}/Regional-2021.zip"
    # The argument wins over the environment variable, which wins over the defaults.
    monkeypatch.setenv("TICOMEX_RELEASE_URL", "https://mirror.example/regional-{year}.zip")
    assert release_url(2019) == "https://mirror.example/regional-2019.zip"
    assert release_url(2019, "file:///tmp/r-{year}.zip") == "file:///tmp/r-2019.zip"
    assert release_url(None, "file:///tmp/r.zip") == "file:///tmp/r.zip"
    with pytest.raises(TicomexError, match="no \\{year\\} placeholder, so --year 2019 cannot be used"):
        release_url(2019, "https://mirror.example/latest.zip")
