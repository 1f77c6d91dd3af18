"""Number formats and the total/share lines, against the published sheets."""

from __future__ import annotations

import re

import pytest

from ticomex import indicators, texts
from ticomex.texts import EXPORT, IMPORT


@pytest.mark.parametrize(
    "euros, expected",
    [
        (1_070_949_999, "1 070.9"),
        (1_070_950_000, "1 071.0"),  # half up
        (314_850_000, "314.9"),
        (580_354_500_000, "580 354.5"),
        (49_999, "0.0"),
        (50_000, "0.1"),
        (0, "0.0"),
        (1_234_567_890_123, "1 234 567.9"),
    ],
)
def test_millions(euros, expected):
    assert texts.millions(euros) == expected


@pytest.mark.parametrize(
    "part, whole, decimals, expected",
    [
        (196, 10_000, 1, "2"),  # 1.96 % → 2.0 → "2"
        (5, 10_000, 2, "0.05"),
        (1_124, 100_000, 1, "1.1"),
        (1_150, 100_000, 1, "1.2"),  # exactly half: up
        (1_149_999, 100_000_000, 1, "1.1"),
        (3, 10_000, 2, "0.03"),
        (0, 10, 2, "0"),
        (7, 0, 1, "0"),
        (1, 1, 2, "100"),
    ],
)
def test_share(part, whole, decimals, expected):
    assert texts.share(part, whole, decimals) == expected


def test_lines_wording():
    assert texts.total_line(EXPORT, 314_900_000) == "Total des exportations : 314.9 millions d'euros"
    assert texts.total_line(IMPORT, 1_268_700_000) == "Total des importations : 1 268.7 millions d'euros"
    assert (
        texts.region_share_line(IMPORT, 2, 100, "Grand Est")
        == "soit 2% de la valeur importée par la région Grand Est"
    )
    assert (
        texts.national_share_line(EXPORT, 5, 10_000)
        == "soit 0.05% de la valeur exportée au niveau national"
    )


def test_territories_block():
    plain = texts.territories_markdown(["A", "B"], main=False)
    assert "Territoires d'Industrie du département\n\n- [A](territoire-a.html)\n- [B](territoire-b.html)" in plain
    assert "Principaux" not in plain and "retirés" not in plain
    star = texts.territories_markdown(["A"], main=True)
    assert "Principaux Territoires d'Industrie du département\\*" in star
    assert star.endswith("ont été retirés")
    assert texts.NO_TERRITORY in texts.territories_markdown([], main=False)


LINE = re.compile(r"^(Total des (?:ex|im)portations : .*|soit .*)$")


def seed_lines(text: str) -> list[str]:
    """The total and share lines a published sheet prints, in order, markup removed."""
    lines = []
    for raw in text.splitlines():
        line = raw.replace("**", "").strip()
        if LINE.match(line):
            lines.append(line)
    return lines


def test_seed_lines_on_demo_release(shared, demo_db):
    """The five seed departments, computed on the demo release, print the seeds' lines."""
    con = indicators.connect(demo_db)
    year = indicators.check_year(con, None)
    assert year == 2024
    seeds = sorted((shared / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    for seed in seeds:
        text = seed.read_text(encoding="utf-8")
        nom = re.search(r"Territoires d'industrie - (.+)", text).group(1).strip()
        (code,) = con.execute("SELECT code FROM departements WHERE nom = ?", [nom]).fetchone()
        dep = indicators.department(con, code)
        h = indicators.headline(con, indicators.Scope.department(code), year)
        e, i = h["exportations"], h["importations"]
        ours = [
            texts.total_line(EXPORT, e["total_eur"]),
            texts.region_share_line(EXPORT, e["total_eur"], e["region_total_eur"], dep["region_name"]),
            texts.national_share_line(EXPORT, e["total_eur"], e["france_total_eur"]),
            texts.total_line(EXPORT, e["region_total_eur"]),
            texts.total_line(EXPORT, e["france_total_eur"]),
            texts.total_line(IMPORT, i["total_eur"]),
            texts.region_share_line(IMPORT, i["total_eur"], i["region_total_eur"], dep["region_name"]),
            texts.national_share_line(IMPORT, i["total_eur"], i["france_total_eur"]),
            texts.total_line(IMPORT, i["region_total_eur"]),
            texts.total_line(IMPORT, i["france_total_eur"]),
        ]
        assert ours == seed_lines(text), seed.name
