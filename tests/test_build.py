"""`ticomex build` end to end on the demo release."""

from __future__ import annotations

import re
import shutil

import pytest
from pypdf import PdfReader

from conftest import PROJECT, template_chart_names
from ticomex.cli import main

pytestmark = pytest.mark.slow  # kernels and a full render

LINK_TAG = re.compile(r"<a\s[^>]*>", re.I)  # a link is followed by a reader, never fetched
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def built(demo_release, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("build")
    args = ["build", "--raw", str(demo_release), "--db", str(tmp / "t.duckdb"),
            "--out", str(tmp / "out"), "--params", str(tmp / "params"), "--only", "05", "92"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(PROJECT)  # _quarto.yml and the template are found from the project root
        code = main(args)
    return tmp, args, code


def test_build_two_departments(built):
    tmp, _, code = built
    out = tmp / "out"
    assert code == 0
    for dep in ("05", "92"):
        assert (out / "notebooks" / f"{dep}.ipynb").is_file()
        assert (out / "site" / "data" / dep / "indicateurs.json").is_file()
        assert (out / "site" / "pdf" / f"{dep}.pdf").is_file()
    index = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert "Hautes-Alpes" in index and "Hauts-de-Seine" in index
    assert not (out / "failed").exists() or not any((out / "failed").iterdir())


def test_pages_reference_no_external_url(built):
    tmp, _, _ = built
    pages = list((tmp / "out" / "site").rglob("*.html")) + list((tmp / "out" / "site").rglob("*.css"))
    assert len(pages) >= 3
    for page in pages:
        found = EXTERNAL.findall(LINK_TAG.sub("", page.read_text(encoding="utf-8")))
        assert not found, f"{page.name}: {found[:3]}"


def test_pdf_holds_the_seed_total_lines(built, shared):
    tmp, _, _ = built
    for dep, seed in (("05", "000_"), ("92", "004_")):
        (seed_file,) = (shared / "seeds").glob(f"{seed}*.txt")
        expected = [
            line.replace("**", "").strip()
            for line in seed_file.read_text(encoding="utf-8").splitlines()
            if line.replace("**", "").strip().startswith(("Total des", "soit "))
        ]
        reader = PdfReader(tmp / "out" / "site" / "pdf" / f"{dep}.pdf")
        text = re.sub(r"[ \t]+", " ", "\n".join(p.extract_text() for p in reader.pages))
        for line in expected:
            assert line in text, (dep, line)
        assert "démonstration" in text


def test_failing_department_leaves_the_others_and_a_stale_page_says_so(built, capsys):
    """2A fails (a new department: no page); 92 fails after a good build: its previous page
    stays, marked as not updated, and the summary names it."""
    tmp, args, _ = built
    params = tmp / "params"
    broken = params / "2A.yaml"
    shutil.copy(params / "05.yaml", broken)
    broken.write_text(broken.read_text(encoding="utf-8").replace("code: '05'", "code: 2A"),
                      encoding="utf-8")
    good_92 = (params / "92.yaml").read_text(encoding="utf-8")
    (params / "92.yaml").write_text(good_92.replace("territories:", "territories: 5\nformer_territories:"), encoding="utf-8")
    pdf_before = (tmp / "out" / "site" / "pdf" / "05.pdf").read_bytes()
    only = args.index("--only")
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(PROJECT)
            capsys.readouterr()
            code = main([*args[:only], "--only", "05", "2A", "92", "--no-pdf"])
            printed = capsys.readouterr().out
    finally:
        broken.unlink()
        (params / "92.yaml").write_text(good_92, encoding="utf-8")
    assert code != 0
    assert (tmp / "out" / "failed" / "2A.ipynb").is_file()
    assert (tmp / "out" / "site" / "05.html").is_file()
    assert (tmp / "out" / "site" / "pdf" / "05.pdf").read_bytes() == pdf_before
    assert "FAILED 92: TicomexError:" in printed and "92.yaml, line " in printed and "territories should be a list" in printed
    assert "stale: 92 —" in printed and "2A" not in printed.split("stale:")[1]
    assert re.search(r"^build finished in \d+\.\d s$", printed, re.M)
    stale_page = (tmp / "out" / "site" / "92.html").read_text(encoding="utf-8")
    assert "Fiche non mise à jour" in stale_page and "Hauts-de-Seine" in stale_page
    assert "Fiche non mise à jour" not in (tmp / "out" / "site" / "05.html").read_text(encoding="utf-8")
    assert not (tmp / "out" / "site" / "2A.html").exists()

    # Mended: 92 is executed again and its page is no longer marked.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(PROJECT)
        assert main(args) == 0
    assert "Fiche non mise à jour" not in (tmp / "out" / "site" / "92.html").read_text(encoding="utf-8")
    assert not (tmp / "out" / "failed" / "92.ipynb").exists()
    reader = PdfReader(tmp / "out" / "site" / "pdf" / "92.pdf")
    assert "Fiche non mise à jour" not in reader.pages[0].extract_text()


def test_real_page_draws_every_chart_in_chromium(built, tmp_path):
    """A built department page in headless Chromium: every chart drawn, offline, no error."""
    test_browser = pytest.importorskip("test_browser")
    if not test_browser.CHROMIUM.exists():
        pytest.skip(f"{test_browser.CHROMIUM} absent: install the Debian package chromium")
    import threading
    from functools import partial
    from http.server import ThreadingHTTPServer

    out = built[0] / "out"
    handler = partial(test_browser.QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        dom, console, requested = test_browser.open_page(f"{base}/site/92.html", tmp_path)
        count, _, resources = test_browser.interactive_page(f"{base}/site/92.html", tmp_path / "cdp")
    finally:
        server.shutdown()
        server.server_close()
    charts = test_browser.ChartContainers(dom).charts
    static = test_browser.ChartContainers((out / "site" / "92.html").read_text(encoding="utf-8")).charts
    assert len(charts) == len(static) == len(template_chart_names())
    assert all(c["tags"] == ["img"] for c in static), "every chart drawn before any script"
    assert count == len(static), "every chart interactive once on screen"
    assert resources and all(u.startswith(f"{base}/") for u in resources)
    assert console == []
    assert requested and all(u.startswith(f"{base}/") for u in requested)


def _figure_alts(node, found: list[str]) -> list[str]:
    """The alternative texts of the Figure elements of a PDF's structure tree."""
    node = node.get_object()
    if isinstance(node, dict):
        if node.get("/S") == "/Figure" and "/Alt" in node:
            found.append(str(node["/Alt"]))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if hasattr(kid, "get_object"):
                _figure_alts(kid, found)
    return found


def test_pdf_figures_carry_the_chart_summaries(built):
    """Each chart of the PDF is a tagged figure whose alternative text is the summary its
    notebook computed; the PDF is tagged and French."""
    import nbformat

    tmp, _, _ = built
    nb = nbformat.read(tmp / "out" / "notebooks" / "05.ipynb", as_version=4)
    summaries = [o["metadata"]["ticomex"]["summary"] for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []) if "ticomex" in o.get("metadata", {})]
    reader = PdfReader(tmp / "out" / "site" / "pdf" / "05.pdf")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr" and root["/MarkInfo"]["/Marked"]
    alts = _figure_alts(root["/StructTreeRoot"], [])
    assert len(summaries) == len(template_chart_names()) and len(alts) == len(summaries)
    for summary in summaries:
        assert any(alt.endswith(summary) for alt in alts), summary
