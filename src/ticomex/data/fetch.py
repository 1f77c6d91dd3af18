"""Download an official release (one ZIP, or one ZIP per flow), check it, unpack it.

The addresses live in one file a user edits, the project's `sources.yaml` (beside `_quarto.yml`:
versioned with the project, found by every command, no code to touch when the portal moves):
`latest` for the latest quarters, `annual` for a year (`{year}` replaced). `--url` gives ZIPs
by hand. Every ZIP is checked (complete download, a ZIP, safe member paths) and the unpacked
release must hold both flows before the previous release folder is replaced.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from ticomex.data.release import locate_release, replace_folder, unzip
from ticomex.errors import TicomexError

SOURCES_FILE = "sources.yaml"
TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 20


def release_urls(year: int | None, sources: Path) -> list[str]:
    """The addresses of the latest release, or of the annual release of `year`, from `sources`."""
    try:
        tree = yaml.safe_load(Path(sources).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TicomexError(f"{sources}: not found (the addresses of the releases; or pass --url)") from None
    except yaml.YAMLError as err:
        raise TicomexError(f"{sources}: not valid YAML ({getattr(err, 'problem', err)})") from None
    key = "latest" if year is None else "annual"
    urls = tree.get(key) if isinstance(tree, dict) else None
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise TicomexError(f"{sources}: `{key}` must be a list of addresses")
    if year is not None and not all("{year}" in u for u in urls):
        raise TicomexError(f"{sources}: every `annual` address needs a {{year}} placeholder")
    return [u.replace("{year}", str(year)) if year is not None else u for u in urls]


def _download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, target.open("wb") as out:
            expected = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            shutil.copyfileobj(response, out, CHUNK_BYTES)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise TicomexError(
            f"cannot download {url} ({reason}). Offline? Build on the synthetic release with "
            "`ticomex data demo`, or download the ZIP by hand, drop it in a folder and run "
            f"`ticomex data ingest --raw FOLDER`. The addresses are in {SOURCES_FILE}; --url gives one by hand."
        ) from None
    size = target.stat().st_size
    if size == 0 or (expected and expected.isdigit() and int(expected) != size):
        raise TicomexError(f"{url}: incomplete download ({size} bytes, expected {expected or 'more than 0'})")


def unpack_release(archives: Path | list[Path], out: Path) -> Path:
    """Unpack release ZIPs into `out` and check they make one complete release (both flows).

    The folder is replaced only then, so a bad download leaves the previous release in place."""
    archives = [Path(archives)] if isinstance(archives, (str, Path)) else [Path(a) for a in archives]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for archive in archives:
            unzip(archive, staging / archive.stem, archive.name)
        try:
            locate_release(staging)
        except TicomexError as err:
            shown = " + ".join(a.name for a in archives)
            raise TicomexError(f"{shown} is not a complete release: {err}".replace(str(staging), "archive")) from None
        replace_folder(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def fetch_release(
    year: int | None, out: Path, *, urls: list[str] | None = None, sources: Path | None = None
) -> Path:
    """Download the release (latest, or the annual one of `year`) into `out`: `urls` if given,
    else the addresses of `sources`."""
    out = Path(out)
    if not urls:
        if sources is None:
            from ticomex.project import find_project

            sources = find_project().root / SOURCES_FILE
        urls = release_urls(year, sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download.", dir=out.parent) as folder:
        archives = []
        for index, url in enumerate(urls):
            name = url.rstrip("/").rsplit("/", 1)[-1] or f"release-{index}.zip"
            archive = Path(folder) / f"{index}-{name}"
            _download(url, archive)
            archives.append(archive)
        return unpack_release(archives, out)
