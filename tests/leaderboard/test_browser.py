"""The built site in real headless Chromium: rows, sorting, filters, no errors, no injected script.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; without them
the tests are skipped, unless ``CI`` is set (then they fail). Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from evoxtral_bench.cli.app import main
from tests.leaderboard.fixtures import ARTIFACTS, make_submissions

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

if os.environ.get("CI"):
    from selenium import webdriver
else:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"not installed: {', '.join(missing)} (apt-get install chromium chromium-driver)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _build(root: Path, *, injection: bool) -> Path:
    submissions = make_submissions(root / "submissions", injection=injection)
    assert main(["leaderboard", "build", "--submissions", str(submissions), "--out", str(root / "site"), "--no-progress"]) == 0
    return root / "site"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("hostile"), injection=True)


@pytest.fixture(scope="module")
def clean_site(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("clean"), injection=False)


def open_page(driver, path: Path) -> None:
    driver.get(path.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def screenshot(driver, name: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(height + 120, 6000))
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))
    driver.set_window_size(1400, 1000)


def rows(driver, kind: str) -> list:
    return driver.find_elements(By.CSS_SELECTOR, f'tbody.rows[data-kind="{kind}"] tr[data-slug]')


def column_values(driver, kind: str, column: int) -> list[str]:
    return [r.find_elements(By.TAG_NAME, "td")[column].get_attribute("data-value") for r in rows(driver, kind)]


def header(driver, label: str):
    return next(th for th in driver.find_elements(By.CSS_SELECTOR, "thead th") if th.text.startswith(label))


def severe(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_table_sorts_and_filters(browser, clean_site):
    open_page(browser, clean_site / "index.html")
    slugs = sorted(p.name for p in (clean_site / "entries").iterdir())
    assert sorted(r.get_attribute("data-slug") for r in rows(browser, "verified") + rows(browser, "reported")) == slugs
    assert all(r.is_displayed() for r in rows(browser, "verified") + rows(browser, "reported"))
    ranks = [int(v) for v in column_values(browser, "verified", 0)]
    assert ranks == sorted(ranks) and len(ranks) == 6

    wer = header(browser, "WER")
    wer.find_element(By.TAG_NAME, "button").click()  # lower is better: best first
    assert wer.get_attribute("aria-sort") == "ascending"
    values = [float(v) for v in column_values(browser, "verified", 3)]
    assert values == sorted(values)
    reported = [float(v) for v in column_values(browser, "reported", 3)]
    assert reported == sorted(reported)  # each kind sorts within its own section
    wer.find_element(By.TAG_NAME, "button").click()
    assert wer.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in column_values(browser, "verified", 3)] == sorted(values, reverse=True)

    header(browser, "ENTRY").find_element(By.TAG_NAME, "button").click()
    names = column_values(browser, "verified", 1)
    assert names == sorted(names, key=str.lower)
    f1 = header(browser, "TAG F1")
    f1.find_element(By.TAG_NAME, "button").click()  # higher is better: best first, undefined last
    assert f1.get_attribute("aria-sort") == "descending"
    assert column_values(browser, "verified", 0) == [str(r) for r in ranks]

    form = browser.find_element(By.ID, "filters")
    assert form.is_displayed()
    form.find_element(By.CSS_SELECTOR, 'input[value="reported"]').click()
    assert not any(r.is_displayed() for r in rows(browser, "reported"))
    assert all(r.is_displayed() for r in rows(browser, "verified"))
    assert not browser.find_element(By.CSS_SELECTOR, 'tbody.section[data-kind="reported"]').is_displayed()
    assert browser.find_element(By.ID, "shown").text == "showing 6 of 9 entries"
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="gt10"]').click()
    assert [r.get_attribute("data-slug") for r in rows(browser, "verified") if r.is_displayed()] == ["sys-large"]
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="unknown"]').click()
    assert {r.get_attribute("data-slug") for r in rows(browser, "verified") if r.is_displayed()} == {"sys-unsized", "oracle-plain"}
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="all"]').click()
    form.find_element(By.CSS_SELECTOR, 'input[value="reported"]').click()
    assert all(r.is_displayed() for r in rows(browser, "reported"))
    assert severe(browser) == []


def test_pages_render_without_errors_and_screenshots(browser, clean_site):
    open_page(browser, clean_site / "index.html")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".plots img")) == 3
    for image in browser.find_elements(By.CSS_SELECTOR, ".plots img"):
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
    screenshot(browser, "leaderboard-index.png")
    open_page(browser, clean_site / "entries/sys-mid/index.html")
    assert browser.find_elements(By.CSS_SELECTOR, ".sample del, .sample ins")
    screenshot(browser, "leaderboard-entry.png")
    open_page(browser, clean_site / "entries/paper-evoxtral-rl/index.html")
    assert "Reported, not verified." in browser.find_element(By.CLASS_NAME, "notice").text
    assert severe(browser) == []


def test_no_injected_script_runs(browser, hostile_site):
    pages = [hostile_site / "index.html", *sorted((hostile_site / "entries").glob("*/index.html"))]
    for page in pages:
        open_page(browser, page)
        assert browser.execute_script("return window.__pwned === undefined"), page
        for button in browser.find_elements(By.CSS_SELECTOR, "thead button")[:4]:
            button.click()
        assert browser.execute_script("return window.__pwned === undefined"), page
    open_page(browser, hostile_site / "index.html")
    assert "window.__pwned=1" in browser.find_element(By.CSS_SELECTOR, 'tr[data-slug="hostile"]').text  # shown as text
    screenshot(browser, "leaderboard-hostile.png")
    assert severe(browser) == []


def test_table_is_complete_with_javascript_off(browser, clean_site):
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(browser, clean_site / "index.html")
        assert len(rows(browser, "verified") + rows(browser, "reported")) == 9
        assert all(r.is_displayed() for r in rows(browser, "verified") + rows(browser, "reported"))
        assert not browser.find_element(By.ID, "filters").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
