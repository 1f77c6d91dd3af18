"""The charts' font for the PDF: DejaVu Sans cut to the characters charts print.

vl-convert opens and maps the font file again for every character it measures, and the cost
of each opening grows with the file: converting a sheet's charts to SVG is about twice as fast
with this subset (19 KB: no hinting, which neither the charts' measures nor a PDF use, and only
the English names) as with DejaVu Sans's 750 KB. The subset keeps DejaVu Sans's glyphs and
advance widths under its own family name (`style.CHART_FONT`, never confused with the full
font; DejaVu's licence asks modified fonts to be renamed). The charts name it first and
DejaVu Sans next, so a character outside the subset, a browser or a notebook without it,
all draw DejaVu Sans with the same metrics.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

from ticomex import style

# Source file in a folder of `format.typst.font-paths` → subset file.
SUBSETS = {
    "DejaVuSans.ttf": "DejaVuSansTicomex.ttf",
    "DejaVuSans-Bold.ttf": "DejaVuSansTicomex-Bold.ttf",
}
# What the charts print: French text (every label of the release's nomenclatures is written
# with these), figures, units, arrows of the axis title. Fewer glyphs, faster measuring
# (~15% from Latin-1 to this set); anything else is drawn with DejaVu Sans.
CHARACTERS = (
    "".join(map(chr, range(0x20, 0x7F)))
    + "àâäæçéèêëîïôöœùûüÿÀÂÄÆÇÉÈÊËÎÏÔÖŒÙÛÜŸ"
    + "\u00a0\u202f«»‘’“”–—…•·°€−←→"
)
# Names kept: copyright, family and style, version, PostScript name, trademark, licence.
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 13, 14, 16, 17]
FOLDER = "polices"  # under the render cache


def _sources(font_paths: tuple[Path, ...]) -> dict[str, Path] | None:
    found = {}
    for name in SUBSETS:
        for folder in font_paths:
            if (folder / name).is_file():
                found[name] = folder / name
                break
    return found if len(found) == len(SUBSETS) else None


def chart_font_folder(cache: Path, font_paths: tuple[Path, ...]) -> Path | None:
    """The folder holding the subset fonts, written once per source fonts and subsetter;
    None when DejaVu Sans is not among the configured fonts (the charts then use it, or
    what replaces it, in full)."""
    sources = _sources(font_paths)
    if sources is None:
        return None
    # Keyed on the sources, the subsetter and this module (characters, options, names).
    digest = hashlib.sha256(f"{version('fonttools')}\n{style.CHART_FONT}\n".encode())
    digest.update(Path(__file__).read_bytes())
    for name in sorted(sources):
        digest.update(sources[name].read_bytes())
    folder = cache / FOLDER / digest.hexdigest()[:16]
    if all((folder / subset).is_file() for subset in SUBSETS.values()):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".polices-", dir=folder.parent))
    try:
        for name, subset in SUBSETS.items():
            _write_subset(sources[name], work / subset)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _write_subset(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]  # kerning and ligatures: the widths measured
    options.name_IDs = NAME_IDS
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["FFTM", "MATH"]  # FontForge's timestamps; formulas
    font = TTFont(str(source), recalcTimestamp=False)  # same bytes from the same sources
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(char) for char in CHARACTERS])
    subsetter.subset(font)
    family, postscript = style.FONT, style.FONT.replace(" ", "")
    for record in font["name"].names:
        text = record.toUnicode()
        if record.nameID == 6:
            record.string = text.replace(postscript, style.CHART_FONT.replace(" ", ""))
        elif record.nameID in (1, 3, 4, 16):
            record.string = text.replace(family, style.CHART_FONT)
    font.save(str(target))
