"""The dashboard in a real browser: Debian's chromium, headless, through selenium and the system's
chromedriver (Selenium Manager never goes to the network). The page logs no console error, each chart drew
its marks, as many as the figures say, and a full-page screenshot at 1280 px of each language is kept in
``$GOVHALL_TEST_ARTIFACTS`` (``test-artifacts/`` at the repository's root unless set), with the page itself.

In CI (``CI=true``) a missing chromium fails; elsewhere it skips.
"""
from __future__ import annotations

import base64
import os
import re
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from govhall_sdk.reports import kpi
from govhall_sdk.reports.dashboard import TOP_BARS, TREND_WEEKS, render_dashboard
from needed import missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH = 1280

#: The marks that say a chart drew something, by chart: a CSS selector inside its figure.
MARKS = {"lights": "path.slice", "by_system": "rect.rect", "by_department": "rect.rect", "by_staff": "rect.rect",
         "weekly": "circle.dot"}

# Elements matching a selector that the browser laid out with a size (drawn, not merely present).
_DRAWN = """return Array.from(document.querySelectorAll(arguments[0]))
    .filter(e => { const box = e.getBoundingClientRect(); return box.width > 0 && box.height > 0; }).length;"""


def artifacts() -> Path:
    """The folder of kept test artifacts."""
    folder = Path(os.environ.get("GOVHALL_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def require_browser() -> None:
    """Skip when chromium or its driver is missing; in CI, fail."""
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if absent:
        missing(f"no browser for the dashboard's tests: {', '.join(absent)} missing (apt-get install chromium "
                "chromium-driver)")


@pytest.fixture(scope="module")
def browser() -> Any:
    """A headless chromium at 1280 px, logging every console message."""
    require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},900",
                     "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()


def open_page(driver: Any, path: Path, html: str) -> list[dict[str, Any]]:
    """Write ``html`` to ``path``, open it, and return the console messages it logged."""
    path.write_text(html, encoding="utf-8")
    driver.get_log("browser")  # forget what came before
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    return driver.get_log("browser")


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def full_page_screenshot(driver: Any) -> bytes:
    """The whole page, 1280 px wide and as tall as the document."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}})
    return base64.b64decode(shot["data"])


def expected_marks(figures: dict[str, Any]) -> dict[str, int]:
    """How many marks each chart must draw, from the figures."""
    found = figures["violations"]
    return {
        "lights": sum(1 for count in figures["lights"].values() if count),
        "by_system": len(found["by_system"]),
        "by_department": min(TOP_BARS, len(found["by_department"])),
        "by_staff": min(TOP_BARS, len(found["by_staff"])),
        "weekly": 3 * min(TREND_WEEKS, len(figures["weekly"])),
    }


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_chromium_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path, ci, outcome):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="chromium missing"):
        require_browser()


def test_the_console_errors_are_seen(browser, tmp_path):
    """The check below is not blind: a page that logs an error is caught."""
    logs = open_page(browser, tmp_path / "error.html", "<script>console.error('broken')</script>")
    assert [entry for entry in logs if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_draws_every_chart_without_a_console_error(browser, demo_data, lang):
    report = demo_data(lang=lang)
    figures = kpi.dashboard_data(report)
    logs = open_page(browser, artifacts() / f"dashboard-{lang}.html", render_dashboard(report))
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
    drawn = {name: browser.execute_script(_DRAWN, f"#chart-{name} {selector}") for name, selector in MARKS.items()}
    assert drawn == expected_marks(figures)
    assert all(count > 0 for count in drawn.values())
    values = browser.execute_script(
        "return Array.from(document.querySelectorAll('#chart-by_system desc.value')).map(e => e.textContent);")
    assert sorted(map(int, values)) == sorted(row["count"] for row in figures["violations"]["by_system"])
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= WIDTH  # no sideways scrolling at 1280 px

    png = full_page_screenshot(browser)
    (artifacts() / f"dashboard-{lang}.png").write_bytes(png)
    shot_width, shot_height = png_size(png)
    assert shot_width == WIDTH
    assert shot_height == browser.execute_script("return document.documentElement.scrollHeight") > 900


def test_the_dashboard_prints(browser, demo_data, tmp_path):
    """Printed (print media, A4 landscape), every chart is still drawn; the PDF is kept with the screenshots."""
    report = demo_data()
    open_page(browser, tmp_path / "dashboard.html", render_dashboard(report))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        drawn = {name: browser.execute_script(_DRAWN, f"#chart-{name} {selector}")
                 for name, selector in MARKS.items()}
        assert drawn == expected_marks(kpi.dashboard_data(report))
        pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) >= 2  # pages, not one long one
    (artifacts() / "dashboard-zh.pdf").write_bytes(pdf)
