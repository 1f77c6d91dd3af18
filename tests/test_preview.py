"""`ticomex preview`: the served pages and their reload script, the rebuild on a template
change and a clean stop on SIGINT."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PROJECT
from ticomex.preview import VERSION_PATH, PreviewServer, default_department, inject_reload_script

MARKER = b"data-ticomex-preview"
PAGE = b"<!DOCTYPE html>\n<html><head><title>05</title></head><body><p>Hautes-Alpes</p></body></html>"


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


@pytest.fixture()
def served(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "05.html").write_bytes(PAGE)
    (site / "index.html").write_bytes(PAGE.replace(b"05", b"index"))
    (site / "data.csv").write_bytes(b"pays,valeur\n</body>\n")
    server = PreviewServer(site, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield site, server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_served_pages_carry_the_reload_script_the_files_do_not(served):
    site, server = served
    base = f"http://127.0.0.1:{server.server_port}"
    status, content_type, body = fetch(f"{base}/05.html")
    assert status == 200 and content_type.startswith("text/html")
    assert MARKER in body and VERSION_PATH.encode() in body
    assert json.dumps(server.version).encode() in body  # the version it was served at
    # Before </body>, the page otherwise intact.
    assert body.index(MARKER) < body.index(b"</body>")
    assert body.replace(body[body.index(b"<script data-ticomex"):body.index(b"</body>")], b"") == PAGE
    assert (site / "05.html").read_bytes() == PAGE
    _, _, index = fetch(f"{base}/")
    assert MARKER in index and b"<title>index</title>" in index
    _, _, csv = fetch(f"{base}/data.csv")
    assert csv == (site / "data.csv").read_bytes()  # only HTML pages get it


def test_version_endpoint_changes_with_each_build(served):
    _, server = served
    url = f"http://127.0.0.1:{server.server_port}{VERSION_PATH}"
    first = fetch(url)[2].decode()
    assert first == server.version
    server.builds += 1
    second = fetch(url)[2].decode()
    assert second != first and second == server.version


def test_injection_without_body_appends_the_script():
    html = b"<p>fragment</p>"
    injected = inject_reload_script(html, "v1")
    assert injected.startswith(html) and MARKER in injected and b'"v1"' in injected
    # The last </body> only: one in a string of the page stays where it is.
    page = b"<body><script>'</body>'</script></BODY>"
    assert inject_reload_script(page, "v1").endswith(b"</script>\n</BODY>")


def test_server_listens_on_loopback_only(served):
    _, server = served
    assert server.server_address[0] == "127.0.0.1"


def test_default_department(tmp_path):
    for name in ("01", "05", "2A"):
        (tmp_path / f"{name}.yaml").write_text("code: x\n")
    assert default_department(tmp_path) == "05"
    (tmp_path / "05.yaml").unlink()
    assert default_department(tmp_path) == "01"


# --- end to end -----------------------------------------------------------------------

NEW_SENTENCE = "Cette phrase a été ajoutée pendant la prévisualisation."
STARTUP_SECONDS = 240  # the first build starts a kernel and the render processes
REBUILD_SECONDS = 90
STOP_SECONDS = 10


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc/*/status (zombies left out)."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if not fields.get("State", "").startswith("Z"):
            children.setdefault(int(fields["PPid"]), []).append(int(status.parent.name))
    return children


def _process_tree(pid: int) -> set[int]:
    tree, todo, children = set(), [pid], _children()
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if pid in {p for ps in _children().values() for p in ps}}


def _copy_project(target: Path) -> Path:
    for relative in ("_quarto.yml", "notebooks/fiche.ipynb", "params/05.yaml",
                     "src/ticomex/render/assets/ticomex.css"):  # fmt: skip
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / relative, target / relative)
    return target


def _append_to_introduction(template: Path, sentence: str) -> None:
    nb = json.loads(template.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "### Introduction" in "".join(c["source"])]
    cell["source"] = "".join(cell["source"]) + f"\n\n{sentence}\n"
    template.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


class Lines:
    """The preview's output, read as it comes (the pipe must not fill up)."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self.queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.seen.append(line)
            self.queue.put(line)

    def wait_for(self, prefix: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line.strip()
        raise AssertionError(f"no line starting with {prefix!r} in {seconds} s:\n{''.join(self.seen)}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the process tree from /proc")
def test_preview_rebuilds_on_a_template_change_and_stops_cleanly(tmp_path, demo_db):
    project = _copy_project(tmp_path / "project")
    command = [sys.executable, "-m", "ticomex.cli", "preview", "05", "--port", "0", "--db", str(demo_db), "--jobs", "1"]
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen_children: set[int] = set()
    try:
        lines = Lines(process.stdout)
        url = lines.wait_for("Preview: http", STARTUP_SECONDS).removeprefix("Preview: ")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/05.html")
        status, _, page = fetch(url)
        assert status == 200 and "Hautes-Alpes" in page.decode() and MARKER in page
        assert NEW_SENTENCE not in page.decode()
        version_url = url.rsplit("/", 1)[0] + VERSION_PATH
        first_version = fetch(version_url)[2]
        on_disk = project / "output" / "site" / "05.html"
        assert MARKER not in on_disk.read_bytes()

        _append_to_introduction(project / "notebooks" / "fiche.ipynb", NEW_SENTENCE)
        deadline = time.monotonic() + REBUILD_SECONDS
        while time.monotonic() < deadline:
            seen_children |= _process_tree(process.pid)
            version = fetch(version_url)[2]
            if version != first_version and NEW_SENTENCE in fetch(url)[2].decode():
                break
            assert process.poll() is None, "".join(lines.seen)
            time.sleep(0.3)
        else:
            raise AssertionError(f"the page did not change in {REBUILD_SECONDS} s:\n{''.join(lines.seen)}")
        assert seen_children, "the rebuild ran in no child process"
        assert NEW_SENTENCE in on_disk.read_text(encoding="utf-8")
        assert MARKER not in on_disk.read_bytes()

        # A second change, stopped while it rebuilds: its kernel and children end too.
        _append_to_introduction(project / "notebooks" / "fiche.ipynb", "Encore une phrase.")
        deadline = time.monotonic() + REBUILD_SECONDS
        while time.monotonic() < deadline and not _process_tree(process.pid):
            time.sleep(0.1)
        time.sleep(1.0)  # let the child start its kernel
        rebuilding = _process_tree(process.pid)
        assert rebuilding, "no rebuild started after the second change"
        seen_children |= rebuilding

        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(STOP_SECONDS) == 0, "".join(lines.seen)
        assert time.monotonic() - started < STOP_SECONDS
        deadline = time.monotonic() + 2
        while _alive(seen_children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(seen_children), f"left behind: {_alive(seen_children)}"
        with pytest.raises(OSError):
            fetch(url)  # the server is closed
        assert "Preview stopped." in "".join(lines.seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in _alive(seen_children):
            os.kill(pid, signal.SIGKILL)
