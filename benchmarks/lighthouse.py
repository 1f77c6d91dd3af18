"""Lighthouse on the built site (issue 13): performance and accessibility scores of the
index and a department page, mobile settings (Lighthouse's default: a mid-range phone,
slow 4G, CPU slowed 4×), `site/` served as the web root on 127.0.0.1.

    uv run python benchmarks/lighthouse.py [--out output] [--code 05]

Needs a built site (`uv run ticomex build`), Debian's /usr/bin/chromium and Lighthouse from
npm (`npm ci` in benchmarks/lighthouse: a benchmark tool, never a runtime dependency).
Targets: performance ≥ 90, accessibility 100.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "benchmarks" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = Path("/usr/bin/chromium")
TARGETS = {"performance": 90, "accessibility": 100}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def scores(url: str, workdir: Path) -> dict[str, float]:
    report = workdir / "report.json"
    subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
         "--only-categories=performance,accessibility", f"--chrome-flags={CHROME_FLAGS}"],
        check=True, env={"CHROME_PATH": str(CHROMIUM), "PATH": "/usr/bin:/bin", "HOME": str(workdir)},
        timeout=300,
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    result = {name: round(category["score"] * 100) for name, category in data["categories"].items()}
    for audit in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"):
        result[audit] = data["audits"][audit]["displayValue"]
    failed = [a["id"] for a in data["audits"].values() if a.get("score") == 0 and a.get("scoreDisplayMode") == "binary"]
    result["failed audits"] = ", ".join(failed) or "none"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output")
    parser.add_argument("--code", default="05")
    args = parser.parse_args()
    site = args.out / "site"
    for needed, hint in ((LIGHTHOUSE, "run `npm ci` in benchmarks/lighthouse"), (CHROMIUM, "install Debian's chromium"),
                         (site / "index.html", "run `uv run ticomex build`")):
        if not needed.exists():
            print(f"{needed} absent: {hint}", file=sys.stderr)
            return 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ok = True
    try:
        for page in ("index.html", f"{args.code}.html"):
            with tempfile.TemporaryDirectory() as tmp:
                result = scores(f"{base}/{page}", Path(tmp))
            met = all(result[name] >= target for name, target in TARGETS.items())
            ok &= met
            print(f"{page}: " + ", ".join(f"{k} {v}" for k, v in result.items()) + f" — targets {'met' if met else 'NOT met'}")
    finally:
        server.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
