"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver, via Selenium).

One browser for the module (starting Chromium is the expensive part). Each page is loaded
over a real ``WebServer`` on the fixture database (tests/webdata.py), checked through the
DOM as the browser built it, and screenshotted into the test's temporary directory. The
browser's console is read too: a Content-Security-Policy violation (an inline style or
script the policy blocks) shows there, so the pages are known to work under their policy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.web.server import WebServer
from tests import webdata
from tests.waits import wait_until

CHROMIUM = os.environ.get("PANTAU_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PANTAU_CHROMEDRIVER", "/usr/bin/chromedriver")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
    pytest.skip(
        f"Chromium not found ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver",
        allow_module_level=True,
    )

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions"):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(20)
    try:
        yield drv
    finally:
        drv.quit()


def _load(drv: webdriver.Chrome, url: str, shot: Path | None = None) -> str:
    drv.get(url)
    _no_alert(drv)
    if shot is not None:
        height = drv.execute_script("return document.documentElement.scrollHeight")
        width = drv.get_window_size()["width"]
        drv.set_window_size(width, min(max(600, height + 120), 3000))
        drv.save_screenshot(str(shot))
    return drv.find_element(By.TAG_NAME, "body").text


def _submit(drv: webdriver.Chrome, box: Any) -> str:
    """Submit the form of ``box`` and return the URL the browser went to. ``submit`` does
    not wait for the navigation: reading ``current_url`` at once could still give the page
    before (CI met it: the search page without its query, so no hits to highlight)."""
    before = drv.current_url
    box.submit()
    return wait_until(lambda: drv.current_url != before and drv.current_url, 10, "the form's page")


def _no_alert(drv: webdriver.Chrome) -> None:
    try:
        text = drv.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f"a script ran: alert({text!r})")


def _console_problems(drv: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


PAGES = [
    ("stories", "/", webdata.FLOOD),
    ("alerts", "/alerts?since=30d", "HTTP 429: rate limited"),
    ("topics", "/topics", 'banjir OR "air pasang"'),
    ("feeds", "/feeds", "HTTP 503: Service Unavailable"),
    ("search", "/search?q=rob+OR+banjir", "Rob setinggi lutut"),
]


@pytest.mark.parametrize(("name", "path", "expect"), PAGES, ids=[p[0] for p in PAGES])
def test_each_page_renders_the_fixtures(
    browser: webdriver.Chrome, site: str, tmp_path: Path, name: str, path: str, expect: str
) -> None:
    browser.set_window_size(1280, 900)
    browser.get_log("browser")  # drop what earlier pages logged
    text = _load(browser, site + path, tmp_path / f"{name}.png")
    assert expect in text
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert browser.execute_script("return document.scripts.length") == 0
    # the stylesheet loaded under the CSP (a blocked one leaves the header unstyled)
    bg = browser.execute_script(
        "return getComputedStyle(document.querySelector('header.top')).backgroundColor"
    )
    assert bg == "rgb(21, 32, 43)"
    assert _console_problems(browser) == []


def test_story_page_shows_the_timeline_and_every_item(
    browser: webdriver.Chrome, site: str, fixture_db: webdata.Fixture, tmp_path: Path
) -> None:
    browser.set_window_size(1280, 900)
    _load(browser, f"{site}/story/{fixture_db.flood_story}", tmp_path / "story.png")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.items tbody tr")
    outlets = [r.find_element(By.CSS_SELECTOR, "td.o").text for r in rows]
    assert outlets == ["Kabar Nusantara", "Suara Pesisir", "Warta Timur"]
    delays = [r.find_element(By.CSS_SELECTOR, "td.dl").text for r in rows]
    assert delays == ["first", "+14m", "+2h 05m"]
    links = [r.find_element(By.CSS_SELECTOR, "td.ti a").get_attribute("href") for r in rows]
    assert links[0] == "https://kabar.example/banjir-rob"
    dots = browser.find_elements(By.CSS_SELECTOR, "svg.timeline circle")
    assert len(dots) == 3
    xs = [float(d.get_attribute("cx")) for d in dots]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    utc = browser.find_element(By.CSS_SELECTOR, "p.meta time").get_attribute("title")
    assert utc.endswith(" UTC")


def test_hostile_titles_are_text_and_never_run(
    browser: webdriver.Chrome, site: str, fixture_db: webdata.Fixture, tmp_path: Path
) -> None:
    browser.set_window_size(1280, 900)
    paths = (f"/story/{fixture_db.hostile_story}", "/", "/alerts?since=30d", "/search?q=gempa~")
    for n, path in enumerate(paths):
        text = _load(browser, site + path, tmp_path / f"hostile-{n}.png")
        _no_alert(browser)
        assert browser.execute_script("return document.querySelectorAll('img').length") == 0
        assert browser.execute_script("return document.scripts.length") == 0
        assert "onerror=alert(1)" in text or '<script>alert("pwned")</script>' in text, path
    _load(browser, f"{site}/story/{fixture_db.hostile_story}")
    assert browser.find_element(By.CSS_SELECTOR, "h1.headline").text == webdata.HOSTILE_IMG
    heads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.items td.ti")]
    assert any(h.startswith(webdata.HOSTILE_SCRIPT) for h in heads)
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]
    _load(browser, site + "/alerts?since=30d")
    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td.dv .err")]
    assert webdata.HOSTILE_ERROR in errors
    assert browser.find_elements(By.CSS_SELECTOR, "td.dv b") == []


def test_search_from_the_form_finds_and_highlights(
    browser: webdriver.Chrome, site: str, tmp_path: Path
) -> None:
    browser.set_window_size(1280, 900)
    _load(browser, site + "/search")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys('"air pasang" OR rob')
    text = _load(browser, _submit(browser, box), tmp_path / "search-form.png")
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "ol.hits mark")]
    assert "Rob" in marks and "Air pasang" in marks and "rob" in marks
    assert "Harga cabai" not in text
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.clear()
    box.send_keys("banjir AND rob OR gempa")
    _load(browser, _submit(browser, box), tmp_path / "search-error.png")
    err = browser.find_element(By.CSS_SELECTOR, ".qerr")
    assert "Query error at position 15" in err.text
    assert err.find_element(By.TAG_NAME, "mark").text == "O"


def test_phone_width_fits_without_sideways_scrolling(
    browser: webdriver.Chrome, site: str, fixture_db: webdata.Fixture, tmp_path: Path
) -> None:
    try:
        for name, path in (("stories", "/"), ("alerts", "/alerts?since=30d"),
                           ("story", f"/story/{fixture_db.flood_story}"), ("feeds", "/feeds")):  # fmt: skip
            browser.set_window_size(390, 844)
            _load(browser, site + path, tmp_path / f"phone-{name}.png")
            over = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert over <= 2, (path, over)
    finally:
        browser.set_window_size(1280, 900)


def test_auth_off_loopback_in_the_browser(
    browser: webdriver.Chrome, fixture_db: webdata.Fixture, tmp_path: Path
) -> None:
    cfg = webdata.loaded(fixture_db.url).config
    with WebServer("0.0.0.0:0", fixture_db.url, lambda: cfg, auth=webdata.SECRET) as srv:
        _load(browser, f"http://127.0.0.1:{srv.port}/alerts?since=30d", tmp_path / "auth-401.png")
        assert webdata.FLOOD not in browser.page_source  # headless Chromium cancels the prompt
        text = _load(browser, f"http://desk:{webdata.SECRET}@127.0.0.1:{srv.port}/alerts?since=30d",
                     tmp_path / "auth-ok.png")  # fmt: skip
        assert webdata.FLOOD in text


def test_events_pages_once_the_database_has_events(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    fx = webdata.build(f"sqlite:///{tmp_path / 'events.db'}")
    webdata.add_events(fx)
    cfg = webdata.loaded(fx.url).config
    browser.set_window_size(1280, 900)
    with WebServer("127.0.0.1:0", fx.url, lambda: cfg) as srv:
        text = _load(browser, srv.url, tmp_path / "events.png")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Events"
        titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.ti > a")]
        assert titles == [webdata.HOSTILE_IMG, webdata.EVENT]  # newest first, hostile as text
        assert browser.execute_script("return document.querySelectorAll('img').length") == 0
        assert "Kabar Nusantara" in text
        _load(browser, srv.url + "event/7", tmp_path / "event.png")
        stories = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.stories-of a")]
        assert stories == ["Harga cabai rawit turun di pasar induk", webdata.FLOOD]
        rows = browser.find_elements(By.CSS_SELECTOR, "table.items tbody tr")
        assert (
            len(rows) == 4
            and len(browser.find_elements(By.CSS_SELECTOR, "svg.timeline circle")) == 4
        )
