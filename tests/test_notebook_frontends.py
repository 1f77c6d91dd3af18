"""An executed notebook in the front ends people open it with: every chart drawn, offline.

None of them draws Vega-Lite v6; each chart output also carries the SVG `show_chart` drew,
as a `text/html` `<img>` with a data URL, which they show instead of the `<chart …>`
placeholder:

- JupyterLab, a real server on 127.0.0.1 (token, temporary Jupyter folders: nothing read
  from or written to ~/.jupyter), the executed notebook opened in headless Chromium driven
  through the DevTools protocol, neither trusted nor run (papermill signs nothing): the
  sanitizer of untrusted HTML keeps an `<img>` and its data URL, while JupyterLab draws no
  `image/svg+xml` output of an untrusted notebook;
- `jupyter nbconvert --to html`: `text/html` first, one SVG image per chart;
- GitHub, which draws `<img>` data URLs of `text/html` outputs: every chart output has one.

Needs the Debian package `chromium` for the JupyterLab test (skipped when absent).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import papermill as pm
import pytest

from conftest import TEMPLATE, html_image, template_chart_names
from ticomex.conventions import CHART_MIMETYPE
from ticomex.params import write_params

CHROMIUM = Path("/usr/bin/chromium")
PLACEHOLDERS = ("<chart ", "<graphique")  # the text/plain of a chart output, and of older ones
pytestmark = pytest.mark.slow  # a kernel, a Jupyter server, a browser
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} absent: install the Debian package chromium"
)
START_SECONDS = 60  # a Jupyter server or a browser up, at most
DRAW_SECONDS = 90  # JupyterLab loaded and the notebook drawn, at most


@pytest.fixture(scope="module")
def executed(demo_db, tmp_path_factory) -> Path:
    """The template executed by papermill for department 05 on the demo database."""
    root = tmp_path_factory.mktemp("frontends")
    params = root / "params"
    write_params(demo_db, params)
    notebook = root / "notebooks" / "05.ipynb"
    notebook.parent.mkdir()
    pm.execute_notebook(
        str(TEMPLATE),
        str(notebook),
        parameters={"department": "05", "db": str(demo_db), "params_dir": str(params), "data_dir": str(root / "data")},
        cwd=str(TEMPLATE.parent),
        progress_bar=False,
    )
    return notebook


def chart_outputs(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [o for c in cells if c["cell_type"] == "code" for o in c["outputs"] if CHART_MIMETYPE in o.get("data", {})]


def test_every_chart_output_carries_an_svg_image_as_github_draws_it(executed):
    outputs = chart_outputs(executed)
    assert len(outputs) == len(template_chart_names())
    for output in outputs:
        alt, svg = html_image(output["data"]["text/html"])
        assert alt and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "image/svg+xml" not in output["data"]  # stored once, in the image


def jupyter_env(root: Path) -> dict[str, str]:
    """An environment whose Jupyter and IPython folders are temporary ones."""
    env = dict(os.environ)
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[variable] = str(root / variable.lower())
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def test_nbconvert_html_draws_every_chart(executed, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--stdout", str(executed)],
        capture_output=True, text=True, timeout=120, env=jupyter_env(tmp_path), check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = result.stdout
    # nbconvert prefers text/html: each chart's <img>, as show_chart wrote it.
    images = re.findall(r'jp-RenderedHTML[^>]*>\s*<img alt="[^"]+" src="data:image/svg\+xml;base64,([^"]+)"', html)
    drawn = [base64.b64decode(image).decode("utf-8") for image in images]
    assert len(drawn) == len(template_chart_names())
    assert all(svg.startswith("<svg") and 'class="marks"' in svg[:300] for svg in drawn)
    assert not any(p.replace("<", "&lt;") in html for p in PLACEHOLDERS)


def stop(process: subprocess.Popen, seconds: float) -> None:
    """End a process this test started: asked first, killed after `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Browser:
    """Headless Chromium driven through the DevTools protocol (one page)."""

    def __init__(self, workdir: Path) -> None:
        import websocket

        self.process = subprocess.Popen(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # nothing outside
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--user-data-dir={workdir / 'profile'}", "--window-size=1280,2000", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + START_SECONDS
        port = None
        while port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            port = match and match.group(1)
        if port is None:
            self.close()
            raise AssertionError("Chromium did not start its DevTools endpoint")
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        stop(self.process, 10)


class JupyterLab:
    """`jupyter lab` on 127.0.0.1, a random token, Jupyter's folders under `workdir`, serving
    `root`; nothing fetched from outside (no update check, no news, no extension listing)."""

    def __init__(self, root: Path, workdir: Path, *options: str) -> None:
        self.env = jupyter_env(workdir)
        self.token = secrets.token_hex(16)
        self.log = (workdir / "jupyterlab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
                "--LabApp.extension_manager=readonly",  # no extension listing from PyPI
                *(["--allow-root"] if os.geteuid() == 0 else []),  # CI and containers run as root
                *options,
            ],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        runtime = Path(self.env["JUPYTER_RUNTIME_DIR"])
        deadline = time.monotonic() + START_SECONDS
        self.url = None
        while self.url is None and time.monotonic() < deadline and self.process.poll() is None:
            for info in runtime.glob("jpserver-*.json"):
                server = json.loads(info.read_text() or "{}")
                if server.get("pid") == self.process.pid:
                    self.url = f"http://127.0.0.1:{server['port']}"
            time.sleep(0.2)
        if self.url is None:
            self.close()
            raise AssertionError(f"JupyterLab did not start: {(workdir / 'jupyterlab.log').read_text()[-2000:]}")

    def page(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def close(self) -> None:
        stop(self.process, 20)  # the server shuts its kernels down first
        self.log.close()


# What the page shows of the notebook's outputs: SVG images drawn, and any placeholder.
OUTPUTS_SCRIPT = """(() => {
  const images = [...document.querySelectorAll('.jp-OutputArea-output img')];
  const text = [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent).join('\\n');
  return {
    cells: document.querySelectorAll('.jp-Notebook .jp-Cell').length,
    svg: images.filter(i => i.src.startsWith('data:image/svg+xml') && i.alt && i.complete && i.naturalWidth > 0).length,
    text: text,
  };
})()"""


def wait_for_charts(browser: Browser, expected: int) -> dict:
    deadline = time.monotonic() + DRAW_SECONDS
    shown = {}
    while time.monotonic() < deadline:
        shown = browser.evaluate(OUTPUTS_SCRIPT) or {}
        if shown.get("svg", 0) >= expected:
            break
        time.sleep(0.5)
    return shown


@needs_chromium
def test_jupyterlab_draws_every_chart_of_an_untrusted_executed_notebook(executed, tmp_path):
    # Opened as a user opens output/notebooks/<code>.ipynb: not run, and not trusted (a
    # new, empty signature database in the temporary Jupyter folders).
    lab = JupyterLab(executed.parent, tmp_path)
    try:
        browser = Browser(tmp_path)
        try:
            browser.call("Page.navigate", url=lab.page(executed.name))
            shown = wait_for_charts(browser, len(template_chart_names()))
            browser.evaluate("document.querySelector('.jp-OutputArea-output img')?.scrollIntoView()")
            browser.screenshot(tmp_path / "jupyterlab.png")  # to look at when it fails
        finally:
            browser.close()
    finally:
        lab.close()
    assert lab.process.returncode is not None and browser.process.returncode is not None  # none left
    assert shown.get("cells", 0) > len(template_chart_names()), shown
    assert shown["svg"] == len(template_chart_names()), f"screenshot: {tmp_path / 'jupyterlab.png'}"
    assert not any(p in shown["text"] for p in PLACEHOLDERS)
    assert "Total des exportations" in shown["text"]  # the Markdown outputs are there too
