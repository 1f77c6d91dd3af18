"""`ticomex preview [CODE]`: one department built, served on 127.0.0.1, rebuilt on change.

Like `quarto preview`. The inputs (the template, the department's params file, `_quarto.yml`,
the database and the package's source) are polled every half second; a change runs
`ticomex execute --only CODE` and then `ticomex render` again, each in a child process: it
imports the package afresh, so an edited module takes effect, and the batch and render
caches decide what is stale. After a successful rebuild the build version changes; the
pages the server sends (never the files on disk) carry a script that polls
`/__preview__/version` and reloads when it changes. A failed rebuild leaves the previous
site served. Ctrl-C (SIGINT) or SIGTERM ends the child processes and their kernels and
render workers, closes the server and returns 0.

Standard library only: the heavy imports happen in the child processes.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from urllib.parse import urlsplit

import ticomex
from ticomex.build import BuildOptions
from ticomex.conventions import TERRITORIES_FILE
from ticomex.errors import TicomexError
from ticomex.layout import OutputLayout

HOST = "127.0.0.1"  # never another interface: a preview is for the person editing
DEFAULT_PORT = 4321
DEFAULT_DEPARTMENT = "05"
VERSION_PATH = "/__preview__/version"
POLL_SECONDS = 0.5
STOP_SECONDS = 5.0  # how long child processes get to end before they are killed
PACKAGE_DIR = Path(ticomex.__file__).parent

# Added before `</body>` of every HTML page served; `{version}` is the version served.
RELOAD_SCRIPT = """<script data-ticomex-preview>
(() => {
  const served = {version};
  const poll = async () => {
    try {
      const response = await fetch("%s", {cache: "no-store"});
      if (response.ok && (await response.text()) !== served) {
        location.reload();
        return;
      }
    } catch (error) {}  // the preview is restarting: try again
    setTimeout(poll, 500);
  };
  setTimeout(poll, 500);
})();
</script>
""" % VERSION_PATH


def inject_reload_script(html: bytes, version: str) -> bytes:
    """The page with the reload script before its last `</body>` (at the end if none)."""
    script = RELOAD_SCRIPT.replace("{version}", json.dumps(version)).encode("utf-8")
    end = html.lower().rfind(b"</body>")
    return html + script if end < 0 else html[:end] + script + html[end:]


class _Handler(SimpleHTTPRequestHandler):
    server: PreviewServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == VERSION_PATH:
            self._send(self.server.version.encode("utf-8"), "text/plain; charset=utf-8")
            return
        file = Path(self.translate_path(path))
        if file.is_dir() and path.endswith("/"):
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            self._send(inject_reload_script(file.read_bytes(), self.server.version), "text/html; charset=utf-8")
            return
        super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a rebuilt file must be fetched again
        super().end_headers()

    def log_request(self, code="-", size="-") -> None:
        pass  # one line per request would bury the build's messages


class PreviewServer(ThreadingHTTPServer):
    """Serves `site` on 127.0.0.1 (`port` 0: any free port) with the reload script added."""

    daemon_threads = True

    def __init__(self, site: Path, port: int = DEFAULT_PORT) -> None:
        # The start time: a page left open across two previews reloads too.
        self.token = f"{time.time_ns():x}"
        self.builds = 0
        handler = functools.partial(_Handler, directory=str(site))
        try:
            super().__init__((HOST, port), handler)
        except OSError as err:
            raise TicomexError(f"cannot serve on {HOST}:{port}: {err.strerror} (choose another --port)") from None

    @property
    def version(self) -> str:
        return f"{self.token}-{self.builds}"

    def url(self, page: str = "") -> str:
        return f"http://{HOST}:{self.server_port}/{page}"

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser that went away
            super().handle_error(request, client_address)


def default_department(params_dir: Path) -> str:
    """05 when it has a params file, else the first department of the params folder."""
    codes = sorted(path.stem for path in Path(params_dir).glob("*.yaml") if path.name != TERRITORIES_FILE)
    if DEFAULT_DEPARTMENT in codes or not codes:
        return DEFAULT_DEPARTMENT
    return codes[0]


def watched_files(options: BuildOptions) -> list[Path]:
    """The inputs whose change calls for a rebuild (the package's files as they are now)."""
    (code,) = options.only
    package = sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.relative_to(PACKAGE_DIR).parts
    )
    return [options.template, options.params_dir / f"{code}.yaml", options.project.config, options.db, *package]


def snapshot(paths: list[Path]) -> dict[Path, tuple[int, int] | None]:
    """Modification time and size of each file (None: absent)."""
    state = {}
    for path in paths:
        try:
            stat = path.stat()
            state[path] = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            state[path] = None
    return state


def build_commands(options: BuildOptions) -> list[list[str]]:
    """`ticomex execute` of the department, then `ticomex render` (absolute paths: they run
    in the project folder)."""
    cli = [sys.executable, "-m", "ticomex.cli"]
    out, jobs = ["--out", str(options.out.absolute())], ["--jobs", str(options.jobs)]
    execute = [
        *cli, "execute", "--only", *options.only, "--db", str(options.db.absolute()),
        "--params", str(options.params_dir.absolute()), "--notebook", str(options.template.absolute()),
        *out, *jobs,
    ]  # fmt: skip
    if options.year:
        execute += ["--year", options.year]
    if options.fresh_kernels:
        execute.append("--fresh-kernels")
    render = [*cli, "render", *out, *jobs, *([] if options.pdf else ["--no-pdf"])]
    return [execute, render]


class StopRequest:
    """Set by SIGINT and SIGTERM. The handlers only set a flag: a signal handler that
    took a lock could deadlock against the main thread holding it."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum, frame) -> None:
        self.requested = True

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as a stop is requested."""
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self.requested


def _process_start(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a running process, from /proc (None: gone or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else (int(fields[1]), int(fields[19]))  # proc(5): 3, 4, 22


def children(pid: int) -> list[int]:
    """The child processes of `pid`, from each of its threads' /proc `children` list."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> dict[int, int]:
    """The running processes started under `pid`, however deep, with their start times
    (Linux's /proc; empty elsewhere). Kernels run in sessions of their own: this finds them too."""
    result, todo = {}, [pid]
    while todo:
        for child in children(todo.pop()):
            found = _process_start(child)
            if found and child not in result:
                result[child] = found[1]
                todo.append(child)
    return result


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:  # it ended meanwhile
        pass


def end_process_tree(process: subprocess.Popen) -> None:
    """End a child started in its own process group, and everything it started."""
    started = descendants(process.pid)
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    # Kernels leave when they see their parent gone (within a second); the others now.
    deadline = time.monotonic() + STOP_SECONDS
    alive = started
    while alive:
        alive = {pid: start for pid, start in alive.items() if (_process_start(pid) or (0, None))[1] == start}
        if alive and time.monotonic() > deadline:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        time.sleep(0.05)


def run_child(command: list[str], cwd: Path, stop: StopRequest) -> int | None:
    """The child's exit code; None when stopped before it ended."""
    process = subprocess.Popen(command, cwd=cwd, process_group=0)
    try:
        while True:
            try:
                return process.wait(0.1)
            except subprocess.TimeoutExpired:
                if stop.requested:
                    return None
    finally:
        end_process_tree(process)


def rebuild(options: BuildOptions, server: PreviewServer, stop: StopRequest) -> bool:
    """Execute and render; on success the served version changes (open pages reload)."""
    for command in build_commands(options):
        sys.stdout.flush()
        code = run_child(command, options.project.root, stop)
        if code is None:
            return False
        if code != 0:
            print(
                "Preview: the build failed (above); still serving the previous page. "
                "Waiting for the next change.",
                file=sys.stderr,
                flush=True,
            )
            return False
    server.builds += 1
    return True


def _changed(before: dict, after: dict) -> list[str]:
    names = sorted(set(before) | set(after), key=str)
    return [path.name for path in names if before.get(path) != after.get(path)]


def preview(options: BuildOptions, department: str | None = None, port: int = DEFAULT_PORT) -> int:
    """Build `department` (default: `default_department`), serve the site and rebuild on
    every change until SIGINT or SIGTERM; returns 0 then."""
    code = department or default_department(options.params_dir)
    options = dataclasses.replace(options, only=(code,))
    for path, what, hint in (
        (options.params_dir / f"{code}.yaml", f"no params file for department {code}", "`ticomex params`"),
        (options.template, "template notebook not found", "--notebook"),
        (options.db, "database not found", "`ticomex build` first, or --db"),
    ):
        if not path.is_file():
            raise TicomexError(f"{path}: {what} (see {hint})")
    stop = StopRequest()
    handlers = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    server = PreviewServer(OutputLayout(options.out).site, port)
    serving = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    try:
        built = snapshot(watched_files(options))
        rebuild(options, server, stop)
        if not stop.requested:
            print(f"Preview: {server.url(f'{code}.html')}", flush=True)
            print("Watching the template, params, _quarto.yml, database and package; Ctrl-C to stop.",
                  file=sys.stderr, flush=True)  # fmt: skip
        while not stop.wait(POLL_SECONDS):
            current = snapshot(watched_files(options))
            # Rebuild once the files stay the same for one poll: an editor may save in steps.
            if current == built or stop.wait(POLL_SECONDS) or snapshot(watched_files(options)) != current:
                continue
            print(f"Preview: changed {', '.join(_changed(built, current))}; rebuilding {code}",
                  file=sys.stderr, flush=True)  # fmt: skip
            built = current
            rebuild(options, server, stop)
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    print("Preview stopped.", file=sys.stderr, flush=True)
    return 0
