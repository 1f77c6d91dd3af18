"""RGAA basics, checked with axe-core in headless Chromium on every kind of page of a real
build (index, department sheets of every kind, accessibility statement, legal notice):
no violation of the WCAG 2.x A/AA rules nor of axe's best practices, before and after the
interactive charts replace the drawings; and what axe cannot see: the skip link, the
announced filter results, the summaries' place.

axe-core comes from the npm registry, pinned in tests/browser/package.json (`npm ci` in
tests/browser, as .ci/run does). Skipped with the reason when Chromium, node or axe-core
is absent on this machine; CI installs them.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from conftest import PROJECT, SAMPLE_AREAS, SAMPLE_DEPARTMENTS

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} absent: install the Debian package chromium"),
    pytest.mark.skipif(shutil.which("node") is None, reason="node absent: install Debian's nodejs and npm"),
    pytest.mark.skipif(not AXE.exists(), reason=f"{AXE} absent: run `npm ci` in tests/browser"),
]
SHEETS = [f"{code}.html" for code in (*SAMPLE_DEPARTMENTS, *SAMPLE_AREAS)]
PAGES = ["index.html", "accessibilite.html", "mentions-legales.html", *SHEETS]
PHONE = {"width": 375, "height": 812}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
LOAD_SECONDS = 30


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from test_notebook_frontends import Browser

    browser = Browser(tmp_path_factory.mktemp("chromium"))
    browser.call("Page.enable")
    yield browser
    browser.close()


def load(browser, url: str, width: int = 1280, height: int = 900) -> None:
    browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 600)
    browser.call("Page.navigate", url=url)
    deadline = time.monotonic() + LOAD_SECONDS
    while browser.evaluate("document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{url} did not load"
        time.sleep(0.1)


def axe_violations(browser) -> list[dict]:
    browser.evaluate(AXE.read_text(encoding="utf-8"))
    result = browser.evaluate(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}, resultTypes: ['violations']}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
    return result


def make_interactive(browser) -> int:
    """Scroll to each chart in turn, as a reader does, until every one is interactive;
    their number."""
    figures = browser.evaluate("document.querySelectorAll('figure[data-spec]').length")
    deadline = time.monotonic() + LOAD_SECONDS
    for index in range(figures):
        browser.evaluate(f"document.querySelectorAll('figure[data-spec]')[{index}].scrollIntoView()")
        while not browser.evaluate(f"!!document.querySelectorAll('figure[data-spec]')[{index}].querySelector('.interactif svg')"):
            assert time.monotonic() < deadline, f"chart {index + 1} of {figures} did not become interactive"
            time.sleep(0.1)
    return figures


@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_violation(browser, served_site, page):
    load(browser, f"{served_site}/{page}")
    assert axe_violations(browser) == []
    if page in SHEETS:
        assert make_interactive(browser) >= 8
        assert axe_violations(browser) == [], "once the charts are interactive"
        # Each drawing the interactive chart replaced is gone from the screen (not shown twice).
        shown = browser.evaluate("[...document.querySelectorAll('.dessin img[hidden]')]"
                                 ".filter(i => getComputedStyle(i).display !== 'none').length")
        assert shown == 0
        # The charts' menus are named; the drawn marks are not read one by one.
        names = browser.evaluate("[...document.querySelectorAll('.interactif summary')].map(s => s.getAttribute('aria-label'))")
        assert names and all(names)
        assert browser.evaluate("document.querySelectorAll('.interactif svg [role], .interactif svg [aria-label]').length") == 0


@pytest.mark.parametrize("page", ["index.html", "05.html", "region-21.html"])
def test_axe_finds_no_violation_on_a_phone(browser, served_site, page):
    """At 375 px wide the tables scroll sideways in boxes the keyboard reaches."""
    load(browser, f"{served_site}/{page}", **PHONE)
    assert axe_violations(browser) == []


def test_the_index_map_and_ranking_get_their_script(browser, served_site):
    load(browser, f"{served_site}/index.html")
    deadline = time.monotonic() + 5
    while browser.evaluate("document.querySelector('form.carte-indicateur').hidden"):
        assert time.monotonic() < deadline, "assets/carte.js did not show the map's indicator choice"
        time.sleep(0.1)
    names = "[...document.querySelectorAll('.tableau-classement tbody th')].map(t => t.dataset.valeur)"
    before = browser.evaluate(names)
    browser.evaluate("document.querySelector('.tableau-classement thead th button').click()")  # by name
    after = browser.evaluate(names)
    assert sorted(after) == sorted(before) and after != before
    assert browser.evaluate(f"(n => n.every((v, i) => i === 0 || n[i - 1].localeCompare(v, 'fr') <= 0))({names})")
    assert browser.evaluate("document.querySelector('.tableau-classement thead th').getAttribute('aria-sort')") == "ascending"


def test_axe_sees_violations(browser, served_site, sample_site):
    """The check cannot pass by seeing nothing: a page with an unnamed image and low
    contrast text trips it."""
    canary = sample_site / "site" / "canary.html"
    canary.write_text(
        '<!DOCTYPE html><html lang="fr"><head><title>t</title></head><body><main>'
        '<img src="charts/none.svg"><p style="color:#aaa">pâle</p></main></body></html>',
        encoding="utf-8",
    )
    try:
        load(browser, f"{served_site}/canary.html")
        found = {v["id"] for v in axe_violations(browser)}
    finally:  # the site is shared with the other tests: leave it as built
        canary.unlink()
    assert {"image-alt", "color-contrast"} <= found


def test_axe_finds_no_violation_on_territory_pages(browser, served_site, sample_site):
    pages = sorted(p.name for p in (sample_site / "site").glob("territoire-*.html"))
    assert pages, "the sample build has no territory page"
    for page in pages[:3]:
        load(browser, f"{served_site}/{page}")
        assert axe_violations(browser) == [], page


def test_phone_width_has_no_horizontal_scroll_and_charts_fit(browser, served_site):
    for page in ("index.html", "05.html", "9A.html"):
        load(browser, f"{served_site}/{page}", width=375, height=812)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375, page
        if page != "index.html":
            make_interactive(browser)
            widths = browser.evaluate(
                "[...document.querySelectorAll('.dessin img, .interactif svg')].filter(e => !e.hidden)"
                ".map(e => e.getBoundingClientRect().right)"
            )
            assert widths and max(widths) <= 375, page
            assert browser.evaluate("document.documentElement.scrollWidth") <= 375, page


def test_skip_link_comes_first_and_reaches_the_content(browser, served_site):
    load(browser, f"{served_site}/05.html")
    browser.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    browser.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
    focused = browser.evaluate("[document.activeElement.textContent, document.activeElement.getAttribute('href'),"
                               " document.activeElement.getBoundingClientRect().top >= 0,"
                               " getComputedStyle(document.activeElement).outlineStyle]")
    assert focused == ["Aller au contenu", "#contenu", True, "solid"]
    browser.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13)
    browser.call("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter", windowsVirtualKeyCode=13)
    time.sleep(0.2)
    assert browser.evaluate("document.activeElement.id") == "contenu"


def test_filter_result_is_announced(browser, served_site):
    load(browser, f"{served_site}/index.html")
    assert browser.evaluate("document.getElementById('resultat').getAttribute('aria-live')") == "polite"
    browser.evaluate("(() => { const box = document.getElementById('filtre'); box.value = 'alpes';"
                     " box.dispatchEvent(new Event('input')); })()")
    deadline = time.monotonic() + 5
    while "correspond" not in (text := browser.evaluate("document.getElementById('resultat').textContent")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    departments = browser.evaluate(
        "document.querySelectorAll('section.region:not(.territoires) li[data-filtre]:not([hidden])').length")
    territories = browser.evaluate("document.querySelectorAll('.territoires li[data-filtre]:not([hidden])').length")
    assert departments == 1 and territories >= 1  # Hautes-Alpes, and its territories
    plural = "Territoire d'industrie" if territories == 1 else "Territoires d'industrie"
    assert text == f"1 département et {territories} {plural} correspondent à la recherche."
