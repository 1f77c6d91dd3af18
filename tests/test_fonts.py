"""The charts' subset font: DejaVu Sans's glyphs and widths under its own family name."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from ticomex import style
from ticomex.render.fonts import CHARACTERS, SUBSETS, chart_font_folder

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    if not all((DEJAVU / name).is_file() for name in SUBSETS):
        pytest.skip(f"{DEJAVU}: DejaVu Sans absent (Debian package fonts-dejavu-core)")
    return chart_font_folder(tmp_path_factory.mktemp("cache"), (DEJAVU,))


def test_subset_is_dejavu_renamed_with_the_same_widths(folder):
    for source_name, subset_name in SUBSETS.items():
        source, subset = TTFont(DEJAVU / source_name), TTFont(folder / subset_name)
        assert subset["name"].getDebugName(1) == style.CHART_FONT
        assert style.FONT not in subset["name"].getDebugName(6)
        source_cmap, subset_cmap = source.getBestCmap(), subset.getBestCmap()
        for char in CHARACTERS:
            code = ord(char)
            assert code in subset_cmap, char
            width = subset["hmtx"][subset_cmap[code]][0]
            assert width == source["hmtx"][source_cmap[code]][0], char
        assert (folder / subset_name).stat().st_size < (DEJAVU / source_name).stat().st_size / 5


def test_subset_keeps_the_licence_and_the_kerning(folder):
    for source_name, subset_name in SUBSETS.items():
        source, subset = TTFont(DEJAVU / source_name), TTFont(folder / subset_name)
        for name_id in (0, 7, 13, 14):  # copyright, trademark, licence, licence URL
            if source["name"].getDebugName(name_id):
                assert subset["name"].getDebugName(name_id) == source["name"].getDebugName(name_id)
        features = {r.FeatureTag for r in subset["GPOS"].table.FeatureList.FeatureRecord}
        assert "kern" in features


def test_subset_is_made_once_and_the_same_bytes_every_time(folder, tmp_path):
    again = chart_font_folder(tmp_path, (DEJAVU,))
    for name in SUBSETS.values():
        assert (again / name).read_bytes() == (folder / name).read_bytes()
    stamp = (folder / next(iter(SUBSETS.values()))).stat().st_mtime_ns
    assert chart_font_folder(folder.parent.parent, (DEJAVU,)) == folder
    assert (folder / next(iter(SUBSETS.values()))).stat().st_mtime_ns == stamp


def test_no_dejavu_no_subset(tmp_path):
    assert chart_font_folder(tmp_path, (tmp_path,)) is None
