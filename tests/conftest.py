"""Shared fixtures: the read-only material of ../shared and a demo database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# TICOMEX_SHARED: the read-only material elsewhere (a worktree beside the project, say).
SHARED = Path(os.environ.get("TICOMEX_SHARED") or PROJECT.parent / "shared")


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} absent: the read-only reference material is needed for this test")
    return SHARED


@pytest.fixture(scope="session")
def demo_release(tmp_path_factory) -> Path:
    from ticomex.data.demo import write_demo_release

    return write_demo_release(tmp_path_factory.mktemp("raw") / "demo")


@pytest.fixture(scope="session")
def demo_db(demo_release, tmp_path_factory) -> Path:
    from ticomex.data.ingest import ingest

    db = tmp_path_factory.mktemp("db") / "demo.duckdb"
    ingest(demo_release, db)
    return db


TEMPLATE = PROJECT / "notebooks" / "fiche.ipynb"


def template_chart_names(template: Path = TEMPLATE) -> list[str]:
    """The names of the charts the template shows, in order: the name argument of each
    `show_chart(...)` call of its code cells (second positional, or `name=`). Tests that need
    the number or the list of charts count them here instead of writing them down."""
    import ast
    import json

    names = []
    for cell in json.loads(template.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_chart":
                arguments = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "name")]
                names += [ast.literal_eval(argument) for argument in arguments[:1]]
    return names


def html_image(text: str | list[str]) -> tuple[str, str]:
    """The alt text and the SVG of a chart output's HTML: one `<img>` whose source is a
    base64 SVG data URL (read with the standard library's HTML parser)."""
    import base64
    from html.parser import HTMLParser

    images = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            images.append((tag, dict(attrs)))

    Images().feed("".join(text) if isinstance(text, list) else text)
    assert len(images) == 1 and images[0][0] == "img", images
    attrs = images[0][1]
    prefix = "data:image/svg+xml;base64,"
    assert attrs["src"].startswith(prefix)
    return attrs["alt"], base64.b64decode(attrs["src"][len(prefix):], validate=True).decode("utf-8")


# Departments of every kind: Alps, Paris region, overseas, Corsica.
SAMPLE_DEPARTMENTS = ("05", "92", "9A", "20")
# The sheets of 05's region and of France, from the same template.
SAMPLE_AREAS = ("region-21", "france-entiere")


@pytest.fixture(scope="session")
def sample_site(demo_release, tmp_path_factory) -> Path:
    """`ticomex build` of the sample departments on the demo release: the output folder."""
    from ticomex.cli import main

    tmp = tmp_path_factory.mktemp("site")
    args = ["build", "--raw", str(demo_release), "--db", str(tmp / "t.duckdb"), "--out", str(tmp / "out"),
            "--params", str(tmp / "params"), "--only", *SAMPLE_DEPARTMENTS, *SAMPLE_AREAS]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(PROJECT)  # _quarto.yml and the template are found from the project root
        assert main(args) == 0
    return tmp / "out"


@pytest.fixture(scope="session")
def served_site(sample_site):
    """The sample build's `site/` served as the web root on 127.0.0.1: its base URL."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(sample_site / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
