"""A rendered page in headless Chromium: charts drawn, no console message, nothing fetched
from outside the machine. The site is served on 127.0.0.1; Chromium's DOM dump, its
console log (stderr) and its network log are inspected.

Needs the Debian package `chromium`; skipped when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_render_fixtures import PROJECT, make_publication

from ticomex.render import render

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,  # a headless browser per test
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} absent: install the Debian package chromium"),
]

# An axis label of the fixture chart in its locale: no-break space, decimal comma.
FRENCH_LABEL = "1\u00a0000\u00a0000,0"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The fixture publication served over HTTP on 127.0.0.1; yields (folder, base URL)."""
    out = make_publication(tmp_path_factory.mktemp("browser"))
    render(out, PROJECT, pdf=False, engine="builtin")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _read_net_log(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a log cut at exit lacks its closing brackets
        return json.loads(text.rstrip().rstrip(",") + "]}")


def open_page(url: str, workdir: Path, height: int = 900) -> tuple[str, list[str], list[str]]:
    """(DOM after scripts ran, console messages, URLs the page requested); a window
    `height` px tall (a chart turns interactive as it nears the screen)."""
    net_log = workdir / "net.json"
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # Chromium's own services that would otherwise query Google about the page.
            "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
            # Belt and braces: no host but this machine resolves, whatever asks.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={workdir / 'profile'}",
            f"--window-size=1280,{height}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={net_log}",
            url,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    log = _read_net_log(net_log)
    event_types = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    page_site = re.match(r"https?://[^:/]+", url).group(0)
    requested = []
    for event in log["events"]:
        params = event.get("params", {})
        # The page's own requests carry its site in their isolation key; Chromium's
        # background requests (updates, accounts) do not, and cannot resolve anyway.
        if (
            event_types.get(event["type"]) == "URL_REQUEST_START_JOB"
            and "url" in params
            and page_site in params.get("network_isolation_key", "")
        ):
            requested.append(params["url"])
    return result.stdout, console, requested


VOID_ELEMENTS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class ChartContainers(HTMLParser):
    """For each chart (`figure` with a `data-spec`): the tags and texts inside its drawing
    (`div.dessin`: the static image, then the interactive chart the script adds)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.charts: list[dict] = []
        self._depth = 0  # depth inside the current container, 0 when outside
        self.hidden: dict[str, bool] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-filtre" in attrs:
            self.hidden[attrs["data-filtre"]] = "hidden" in attrs
        if tag == "section" and "region" in (attrs.get("class") or ""):
            self.hidden[f"section#{len(self.hidden)}"] = "hidden" in attrs
        if self._depth:
            self._depth += tag not in VOID_ELEMENTS  # no end tag follows these
            self.charts[-1]["tags"].append(tag)
        elif tag == "div" and "dessin" in (attrs.get("class") or "").split():
            self._depth = 1
            self.charts.append({"tags": [], "text": []})

    def handle_startendtag(self, tag, attrs):
        if self._depth:
            self.charts[-1]["tags"].append(tag)

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.charts[-1]["text"].append(data)


def interactive_page(url: str, workdir: Path) -> tuple[int, list[str], list[str]]:
    """The page in Chromium (DevTools protocol), scrolled chart by chart as a reader does
    until each is interactive: (charts made interactive, their texts, resources loaded)."""
    from test_accessibility import load, make_interactive
    from test_notebook_frontends import Browser

    browser = Browser(workdir)
    try:
        browser.call("Page.enable")
        load(browser, url)
        count = make_interactive(browser)
        texts = browser.evaluate("[...document.querySelectorAll('.interactif svg.marks')].map(s => s.textContent)")
        resources = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    finally:
        browser.close()
    return count, texts, resources


def test_department_page_draws_its_charts_offline(served, tmp_path):
    out, base = served
    dom, console, requested = open_page(f"{base}/site/05.html", tmp_path)
    static = ChartContainers((out / "site" / "05.html").read_text(encoding="utf-8")).charts
    assert len(ChartContainers(dom).charts) == len(static) == 1
    assert static[0]["tags"] == ["img"], "before scripts run: the static drawing"
    assert console == []
    assert [u for u in requested if not u.startswith(f"{base}/")] == []
    count, texts, resources = interactive_page(f"{base}/site/05.html", tmp_path / "cdp")
    assert count == 1 and len(texts) == 1
    assert FRENCH_LABEL in texts[0], "axis labels must use the spec's number locale"
    assert "Côte d'Ivoire" in texts[0]
    assert f"{base}/site/assets/vega.js" in resources
    assert [u for u in resources if not u.startswith(f"{base}/")] == []


def test_index_filter_hides_what_does_not_match(served, tmp_path):
    out, base = served
    index = (out / "site" / "index.html").read_text(encoding="utf-8")
    # Type "île" in the box once the page's own scripts are set up.
    typing = (
        "<script>document.addEventListener('DOMContentLoaded', function () {"
        " setTimeout(function () { var box = document.getElementById('filtre');"
        " box.value = 'île'; box.dispatchEvent(new Event('input')); }, 0); });</script></body>"
    )
    (out / "site" / "index-filtre.html").write_text(
        index.replace("</body>", typing), encoding="utf-8"
    )
    dom, console, requested = open_page(f"{base}/site/index-filtre.html", tmp_path)
    hidden = ChartContainers(dom).hidden
    items = {key: value for key, value in hidden.items() if not key.startswith("section#") and " ti-" not in key}
    territories = {key: value for key, value in hidden.items() if " ti-" in key}
    sections = [value for key, value in hidden.items() if key.startswith("section#")]
    assert items == {
        "92 hauts-de-seine ile-de-france": False,
        "04 alpes-de-haute-provence provence-alpes-cote d'azur": True,
        "05 hautes-alpes provence-alpes-cote d'azur": True,
    }
    # The Territoires d'industrie of the published departments are searched the same way:
    # "île", accents ignored, finds those in Île-de-France.
    assert territories and all(value == ("ile" not in key) for key, value in territories.items())
    assert territories["boucle nord de seine ti-1101 92 95 93 hauts-de-seine ile-de-france"] is False
    # Île-de-France shown, Provence-Alpes-Côte d'Azur hidden, the territories shown.
    assert sections == [False, True, False]
    assert console == []
    assert [u for u in requested if not u.startswith(f"{base}/")] == []


def test_harness_sees_console_errors_and_outside_requests(served, tmp_path):
    """The checks above cannot pass by seeing nothing: a bad page trips both."""
    out, base = served
    (out / "canary.html").write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        '<img src="http://example.invalid/logo.png">'
        '<script>console.error("canary");</script></body></html>',
        encoding="utf-8",
    )
    _dom, console, requested = open_page(f"{base}/canary.html", tmp_path)
    assert len(console) == 1 and '"canary"' in console[0]
    assert "http://example.invalid/logo.png" in requested
