"""params/<code>.yaml: the five seed departments come out as their sheets print them."""

from __future__ import annotations

import re

import yaml

from ticomex.params import read_territories, write_params


def seed_territories(text: str) -> tuple[list[str], bool]:
    """The territories a published sheet lists, and whether it uses the footnote form."""
    block = re.search(r"Territoires d'Industrie du département(.*?)Contexte", text, re.S).group(1)
    names = [
        re.sub(r"^[-\s]+", "", line).strip()
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith(("\\*", "*", "#"))
    ]
    footnote = "comptant moins de 5 communes" in block
    return names, footnote


def test_seed_departments(shared, demo_db, tmp_path):
    table = shared / "reference" / "territoires_industrie_departements.csv"
    everything = write_params(demo_db, tmp_path, territories=table)
    written = [p for p in everything if "level" not in yaml.safe_load(p.read_text(encoding="utf-8"))]
    assert len(written) == 100
    assert not (tmp_path / "99.yaml").exists()
    # A sheet for each region of those departments, and one for France.
    regions = {(f["region"], f["region_name"]) for f in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in written)}
    areas = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in everything if p not in written]
    assert sorted((a["region"], a["name"]) for a in areas if a["level"] == "region") == sorted(regions)
    assert [a["name"] for a in areas if a["level"] == "france"] == ["France entière"]
    assert all(a["code"] == p.stem for a, p in zip(areas, (p for p in everything if p not in written)))
    for seed in sorted((shared / "seeds").glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        nom = re.search(r"Territoires d'industrie - (.+)", text).group(1).strip()
        matches = [p for p in written if yaml.safe_load(p.read_text(encoding="utf-8"))["name"] == nom]
        assert len(matches) == 1, nom
        params = yaml.safe_load(matches[0].read_text(encoding="utf-8"))
        names, footnote = seed_territories(text)
        assert params["territories"] == names, nom
        assert params["main_territories"] is footnote, nom


def test_paris_has_none_and_overseas_have_some(shared, demo_db, tmp_path):
    table = shared / "reference" / "territoires_industrie_departements.csv"
    write_params(demo_db, tmp_path, territories=table)
    paris = yaml.safe_load((tmp_path / "75.yaml").read_text(encoding="utf-8"))
    assert paris["territories"] == [] and paris["region_name"] == "Ile-de-France"
    assert yaml.safe_load((tmp_path / "9A.yaml").read_text(encoding="utf-8"))["territories"]
    corse = yaml.safe_load((tmp_path / "20.yaml").read_text(encoding="utf-8"))
    assert corse["code"] == "20" and len(corse["territories"]) == 2


def test_existing_files_are_kept(demo_db, tmp_path):
    tmp_path.joinpath("05.yaml").write_text("edited by hand\n", encoding="utf-8")
    written = write_params(demo_db, tmp_path, territories=None)
    assert tmp_path.joinpath("05.yaml").read_text(encoding="utf-8") == "edited by hand\n"
    departments = [p for p in written if "level" not in yaml.safe_load(p.read_text(encoding="utf-8"))]
    assert tmp_path / "05.yaml" not in written and len(departments) == 99
    tmp_path.joinpath("region-21.yaml").write_text("edited by hand\n", encoding="utf-8")
    assert tmp_path / "region-21.yaml" not in write_params(demo_db, tmp_path, territories=None)
    assert tmp_path.joinpath("region-21.yaml").read_text(encoding="utf-8") == "edited by hand\n"


def test_threshold(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(
        "id_territoire,nom_territoire,code_departement,part_surface\n"
        "a,Zèbre,01,0.15\nb,Abeille,01,0.9\nc,Sliver,01,0.149\n",
        encoding="utf-8",
    )
    assert read_territories(table) == {"01": ["Abeille", "Zèbre"]}
