"""Download the official release (a ZIP) from the customs open-data portal, unpack it, check it.

The addresses live here only: `RELEASE_URLS`, overridable with the environment variable
`TICOMEX_RELEASE_URL` (or the `url` argument); `{year}` in an address is replaced by the year
asked for. Offline, the error says so and points to the demo release and to manual download.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ticomex.data.release import locate_release, replace_folder
from ticomex.errors import TicomexError

URL_ENVIRONMENT_VARIABLE = "TICOMEX_RELEASE_URL"
# Customs "Le kiosque" portal, regional and departmental foreign-trade data (Licence Ouverte 2.0):
# the national files of the last quarters, and the annual files of a given year. Not verifiable
# offline: if the portal moves them, set TICOMEX_RELEASE_URL rather than editing code elsewhere.
RELEASE_URLS = {
    "latest": "https://lekiosque.finances.gouv.fr/fichiers/Series/Regional/REGIONAL_CPF4PAYS.zip",
    "annual": "https://lekiosque.finances.gouv.fr/fichiers/Series/Regional/Regional-{year}.zip",
}
TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 20


def release_url(year: int | None, url: str | None = None) -> str:
    """The address to download: the argument, else the environment variable, else the default."""
    template = (
        url
        or os.environ.get(URL_ENVIRONMENT_VARIABLE)
        or RELEASE_URLS["latest" if year is None else "annual"]
    )
    if year is not None and "{year}" not in template:
        raise TicomexError(
            f"release URL {template!r} has no {{year}} placeholder, so --year {year} cannot be used"
        )
    return template.replace("{year}", str(year)) if year is not None else template


def _download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, CHUNK_BYTES)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise TicomexError(
            f"cannot download {url} ({reason}). Offline? Build on the synthetic release with "
            "`ticomex data demo`, or download the ZIP by hand, unpack it in a folder and run "
            f"`ticomex data ingest --raw FOLDER`. Another address can be set with {URL_ENVIRONMENT_VARIABLE}."
        ) from None


def _safe_members(archive: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    """Members of the ZIP, refusing any path that would land outside the target folder."""
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            raise TicomexError(
                f"{source}: refusing member {info.filename!r} (path outside the release folder)"
            )
        members.append(info)
    return members


def unpack_release(archive_path: Path, out: Path) -> Path:
    """Unpack a release ZIP into `out` and check it holds a complete release.

    The folder is replaced only when the archive is complete, so a bad download leaves the
    previous release in place."""
    archive_path, out = Path(archive_path), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        try:
            with zipfile.ZipFile(archive_path) as archive:
                archive.extractall(staging, members=_safe_members(archive, archive_path.name))
        except zipfile.BadZipFile as err:
            raise TicomexError(f"{archive_path.name}: not a ZIP archive ({err})") from None
        try:
            locate_release(staging)
        except TicomexError as err:
            raise TicomexError(
                f"{archive_path.name} is not a complete release: {err}".replace(str(staging), "archive")
            ) from None
        replace_folder(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def fetch_release(year: int | None, out: Path, *, url: str | None = None) -> Path:
    """Download the official release (latest, or the annual one of `year`) into `out`."""
    out = Path(out)
    address = release_url(year, url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download.", dir=out.parent) as folder:
        archive = Path(folder) / "release.zip"
        _download(address, archive)
        return unpack_release(archive, out)
