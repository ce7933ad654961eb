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
from tests.leaderboard.fixtures import ARTIFACTS, make_submissions, verified_entry

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
    make_submissions(root / "submissions", injection=injection)
    return _site(root)


def _site(root: Path) -> Path:
    """``root/site`` built from ``root/submissions``."""
    assert main(["leaderboard", "build", "--submissions", str(root / "submissions"), "--out", str(root / "site"), "--no-progress"]) == 0
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


def screenshot(driver, name: str, width: int = 1400) -> None:
    """The whole page at ``width`` CSS px, saved as ``artifacts/NAME``."""
    driver.set_window_size(width, 1000)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 120, 12000))
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))
    driver.set_window_size(1400, 1000)


KINDS = ("verified", "reference", "reported")


def rows(scope, kind: str) -> list:
    """The ``kind`` rows of every track's table (``scope``: the page) or of one (a table)."""
    return scope.find_elements(By.CSS_SELECTOR, f'tbody.rows[data-kind="{kind}"] tr[data-slug]')


def all_rows(driver) -> list:
    return [row for kind in KINDS for row in rows(driver, kind)]


def table(driver, track: str):
    return driver.find_element(By.CSS_SELECTOR, f'table.board[data-track="{track}"]')


def header(scope, label: str):
    return next(th for th in scope.find_elements(By.CSS_SELECTOR, "thead th") if th.text.startswith(label))


def column(scope, label: str) -> int:
    ths = scope.find_elements(By.CSS_SELECTOR, "thead th")
    return next(i for i, th in enumerate(ths) if th.text.startswith(label))


def column_values(scope, kind: str, index: int) -> list[str]:
    return [r.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-value") for r in rows(scope, kind)]


def severe(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def no_page_overflow(driver) -> bool:
    """No horizontal scroll of the page itself (wide tables and plots scroll in their own box)."""
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_table_sorts_and_filters(browser, clean_site):
    open_page(browser, clean_site / "index.html")
    slugs = sorted(p.name for p in (clean_site / "entries").iterdir())
    assert sorted({r.get_attribute("data-slug") for r in all_rows(browser)}) == slugs
    assert all(r.is_displayed() for r in all_rows(browser))
    # one table per track with entries; the oracle made from text is a reference row of each;
    # the reported entries are in a table of their own, after the tracks
    assert [t.get_attribute("data-track") for t in browser.find_elements(By.CSS_SELECTOR, "table.board[data-track]")] == ["espeak-v1", "elevenlabs-v3"]
    reported_table = browser.find_element(By.CSS_SELECTOR, 'table.board[data-section="reported"]')
    assert rows(table(browser, "elevenlabs-v3"), "reported") == [] and len(rows(reported_table, "reported")) == 3
    assert [r.get_attribute("data-slug") for r in rows(browser, "reference")] == ["oracle-plain", "oracle-plain"]
    assert column_values(browser, "reference", 0) == ["", ""]  # a reference row holds no rank
    espeak, paper = table(browser, "espeak-v1"), table(browser, "elevenlabs-v3")
    ranks = [int(v) for v in column_values(espeak, "verified", 0)]
    assert ranks == sorted(ranks) and len(ranks) == 5 and rows(paper, "verified") == []

    wer, wer_col = header(espeak, "WER"), column(espeak, "WER")
    wer.find_element(By.TAG_NAME, "button").click()  # lower is better: best first
    assert wer.get_attribute("aria-sort") == "ascending"
    values = [float(v) for v in column_values(espeak, "verified", wer_col)]
    assert values == sorted(values)
    assert header(paper, "WER").get_attribute("aria-sort") == "none"  # each table sorts on its own
    header(reported_table, "WER").find_element(By.TAG_NAME, "button").click()
    reported = [float(v) for v in column_values(reported_table, "reported", column(reported_table, "WER"))]
    assert reported == sorted(reported) and header(paper, "WER").get_attribute("aria-sort") == "none"  # each table sorts on its own
    wer.find_element(By.TAG_NAME, "button").click()
    assert wer.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in column_values(espeak, "verified", wer_col)] == sorted(values, reverse=True)

    header(espeak, "ENTRY").find_element(By.TAG_NAME, "button").click()
    names = column_values(espeak, "verified", 1)
    assert names == sorted(names, key=str.lower)
    headline = header(espeak, "POS. F1")
    headline.find_element(By.TAG_NAME, "button").click()  # higher is better: best first
    assert headline.get_attribute("aria-sort") == "descending"
    assert column_values(espeak, "verified", 0) == [str(r) for r in ranks]

    form = browser.find_element(By.ID, "filters")
    assert form.is_displayed()
    form.find_element(By.CSS_SELECTOR, 'input[value="reported"]').click()
    assert not any(r.is_displayed() for r in rows(browser, "reported"))
    assert all(r.is_displayed() for r in rows(browser, "verified"))
    assert not browser.find_element(By.CSS_SELECTOR, 'tbody.section[data-kind="reported"]').is_displayed()
    assert browser.find_element(By.ID, "shown").text == "showing 7 of 10 rows"  # the oracle is in both tables
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="gt10"]').click()
    assert [r.get_attribute("data-slug") for r in rows(browser, "verified") if r.is_displayed()] == ["sys-large"]
    # the reference section has no entry of that size: its header goes too
    assert not browser.find_element(By.CSS_SELECTOR, 'tbody.section[data-kind="reference"]').is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, 'tbody.section[data-kind="verified"]').is_displayed()
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="unknown"]').click()
    shown = {r.get_attribute("data-slug") for r in rows(browser, "verified") + rows(browser, "reference") if r.is_displayed()}
    assert shown == {"sys-unsized", "oracle-plain"}
    assert browser.find_element(By.CSS_SELECTOR, 'tbody.section[data-kind="reference"]').is_displayed()
    form.find_element(By.CSS_SELECTOR, 'select[name="size"] option[value="all"]').click()
    form.find_element(By.CSS_SELECTOR, 'input[value="reported"]').click()
    assert all(r.is_displayed() for r in all_rows(browser))
    assert all(s.is_displayed() for s in browser.find_elements(By.CSS_SELECTOR, "tbody.section"))
    assert severe(browser) == []


@pytest.mark.parametrize("width", [390, 1400])
def test_no_page_level_horizontal_scroll(browser, clean_site, width):
    pages = [clean_site / "index.html", clean_site / "entries/sys-mid/index.html", clean_site / "entries/paper-evoxtral-rl/index.html"]
    browser.set_window_size(width, 900)
    try:
        for page in pages:
            open_page(browser, page)
            assert no_page_overflow(browser), (width, page)
        open_page(browser, clean_site / "index.html")
        wrap = browser.find_element(By.CSS_SELECTOR, ".table-wrap")
        if width == 390:  # the table is wider than a phone: it scrolls inside its own box
            assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", wrap)
        assert severe(browser) == []
    finally:
        browser.set_window_size(1400, 1000)


def test_every_plot_point_is_labelled_and_inside_the_figure(browser, clean_site):
    slugs = sorted(p.name for p in (clean_site / "entries").iterdir() if (p / "results.json").exists())
    open_page(browser, clean_site / "plots/espeak-v1/wer_vs_tag_f1.svg")
    ids = browser.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
    assert sorted(i.removeprefix("point-") for i in ids if i.startswith("point-")) == slugs
    assert sorted(i.removeprefix("label-") for i in ids if i.startswith("label-")) == slugs
    open_page(browser, clean_site / "plots/espeak-v1/forest_tag_f1.svg")
    outside = browser.execute_script(
        """const svg = document.documentElement.getBoundingClientRect();
        return Array.from(document.querySelectorAll('[id^="forest-label-"]')).map(e => {
          const r = e.getBoundingClientRect();
          return [e.id, r.left >= svg.left - 0.5 && r.right <= svg.right + 0.5 && r.width > 0];
        });"""
    )
    assert sorted(i.removeprefix("forest-label-") for i, _ in outside) == slugs
    assert all(inside for _, inside in outside), outside  # no label cut off by the figure's edge


def test_pages_render_without_errors_and_screenshots(browser, clean_site):
    open_page(browser, clean_site / "index.html")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".plots img")) == 6  # three per track
    for image in browser.find_elements(By.CSS_SELECTOR, ".plots img"):
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
    screenshot(browser, "leaderboard-index.png")
    open_page(browser, clean_site / "entries/sys-mid/index.html")
    assert browser.find_elements(By.CSS_SELECTOR, ".sample del, .sample ins")
    screenshot(browser, "leaderboard-entry.png")
    open_page(browser, clean_site / "entries/paper-evoxtral-rl/index.html")
    notice = browser.find_element(By.CLASS_NAME, "notice").text
    assert "Reported, not verified." in notice and "per-utterance (paper) averaging" in notice and "on 50 test utterances" in notice
    footer = browser.find_element(By.CSS_SELECTOR, "footer.site").text
    assert "carry no scoring signature" in footer and "Every score on this page carries" not in footer
    notes = browser.find_elements(By.CSS_SELECTOR, "dd.prose p")
    assert notes and all("`" not in p.text and "\n" not in p.text for p in notes)
    assert severe(browser) == []


def test_no_injected_script_runs(browser, hostile_site):
    pages = [hostile_site / "index.html", *sorted((hostile_site / "entries").glob("*/index.html")), *sorted((hostile_site / "compare").glob("*.html"))]
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
        assert len(all_rows(browser)) == 10
        assert all(r.is_displayed() for r in all_rows(browser))
        assert not browser.find_element(By.ID, "filters").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


PLOT_TEXT_MIN_PX = 9


def _plot_text_px(driver, page: Path, width: int) -> dict[str, float]:
    """src -> the smallest text of each plot on ``page`` as rendered at ``width`` CSS px: every
    <text>'s font size times its screen scale in the SVG opened on its own, times the image's
    rendered width over its natural width."""
    driver.set_window_size(width, 1000)
    open_page(driver, page)
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('.plots img')).map(i => [i.currentSrc, i.getBoundingClientRect().width, i.naturalWidth])"
    )
    out = {}
    for src, rendered, natural in shown:
        driver.get(src)
        smallest = driver.execute_script(
            """return Math.min(...Array.from(document.querySelectorAll('text')).filter(t => t.textContent.trim()).map(t => {
                 const m = t.getScreenCTM();
                 return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
               }));"""
        )
        out[src] = smallest * rendered / natural
    return out


def _boxes(driver, svg: str, prefix: str) -> dict[str, tuple[float, float, float, float]]:
    driver.get(svg)
    return {
        k: tuple(v)
        for k, v in driver.execute_script(
            "const o = {}; document.querySelectorAll(`[id^='${arguments[0]}']`).forEach(e => { const r = e.getBoundingClientRect(); "
            "o[e.id] = [r.left, r.top, r.right, r.bottom]; }); return o;",
            prefix,
        ).items()
    }


@pytest.mark.parametrize("width", [390, 1400])
def test_plots_are_legible_at_phone_and_desktop_width(browser, clean_site, width):
    """Every plot's smallest text renders at >= 9 CSS px; a phone gets the narrow rendering and
    the heat map is not cut off; screenshots of the index, an entry and the compare view."""
    try:
        sizes = _plot_text_px(browser, clean_site / "index.html", width)
        assert len(sizes) == 6 and all(src.endswith(".narrow.svg") == (width == 390) for src in sizes), sizes
        assert all(px >= PLOT_TEXT_MIN_PX for px in sizes.values()), sizes
        open_page(browser, clean_site / "index.html")
        heatmaps = browser.find_elements(By.CSS_SELECTOR, "figure.wide .scroll")
        assert heatmaps and all(browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", h) for h in heatmaps)
        for page, name in (
            ("index.html", "index"),
            ("entries/sys-mid/index.html", "entry"),
            ("compare/espeak-v1.html", "compare"),
        ):
            browser.set_window_size(width, 1000)
            open_page(browser, clean_site / page)
            assert no_page_overflow(browser), (width, page)
            screenshot(browser, f"leaderboard-{name}-{width}.png", width)
        assert severe(browser) == []
    finally:
        browser.set_window_size(1400, 1000)


def test_scatter_labels_do_not_overlap_and_stay_inside(browser, clean_site):
    for name in ("wer_vs_tag_f1.svg", "wer_vs_tag_f1.narrow.svg"):
        svg = (clean_site / "plots/espeak-v1" / name).as_uri()
        labels = _boxes(browser, svg, "label-")
        frame = browser.execute_script("const r = document.documentElement.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];")
        assert len(labels) == 6  # five ranked entries and the oracle made from text
        for key, (x0, y0, x1, y1) in labels.items():
            assert frame[0] <= x0 and x1 <= frame[2] and frame[1] <= y0 and y1 <= frame[3], (name, key)
        items = sorted(labels.items())
        for i, (a, ba) in enumerate(items):
            for b, bb in items[i + 1 :]:
                apart = ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]
                assert apart, (name, a, b)
    for name in ("forest_tag_f1.svg", "forest_tag_f1.narrow.svg"):
        svg = (clean_site / "plots/espeak-v1" / name).as_uri()
        ticks = _boxes(browser, svg, "forest-label-")
        frame = browser.execute_script("const r = document.documentElement.getBoundingClientRect(); return [r.left, r.right];")
        assert len(ticks) == 6 and all(frame[0] - 0.5 <= x0 and x1 <= frame[1] + 0.5 for x0, _, x1, _ in ticks.values()), (name, ticks)


def test_compare_view_is_linked_and_matches_the_ranks(browser, clean_site):
    open_page(browser, clean_site / "entries/sys-mid/index.html")
    link = browser.find_element(By.CSS_SELECTOR, ".compare-links a")
    assert link.get_attribute("href").endswith("compare/espeak-v1.html#row-sys-mid")
    link.click()
    assert browser.execute_script("return document.readyState") == "complete"
    target = browser.execute_script("return document.querySelector(':target') && document.querySelector(':target').id")
    assert target == "row-sys-mid"
    matrix = browser.find_element(By.CSS_SELECTOR, "table.matrix")
    ranks = {}
    for row in matrix.find_elements(By.CSS_SELECTOR, "tbody tr"):
        worse = row.find_elements(By.CSS_SELECTOR, "td.sig-worse")
        ranks[row.get_attribute("data-slug")] = 1 + len(worse)
    open_page(browser, clean_site / "index.html")
    shown = {r.get_attribute("data-slug"): int(r.find_element(By.CSS_SELECTOR, "td.rank").get_attribute("data-value")) for r in rows(table(browser, "espeak-v1"), "verified")}
    assert ranks == shown  # rank = 1 + the entries significantly better, read off the matrix
    assert severe(browser) == []


@pytest.fixture(scope="module")
def floor_site(tmp_path_factory) -> Path:
    """Three ranked entries, the weakest named its track's floor (baseline: text-prior)."""
    root = tmp_path_factory.mktemp("floor")
    verified_entry(root / "submissions", "strong", 1, tag_drop=0.1)
    verified_entry(root / "submissions", "close", 2, tag_drop=0.8)
    verified_entry(root / "submissions", "prior", 3, tag_drop=0.8, baseline="text-prior")
    return _site(root)


@pytest.mark.parametrize("width", [390, 1400])
def test_rank_intervals_and_the_floor_are_readable(browser, floor_site, width):
    browser.set_window_size(width, 900)
    try:
        open_page(browser, floor_site / "index.html")
        assert no_page_overflow(browser) and severe(browser) == []
        cells = browser.find_elements(By.CSS_SELECTOR, 'tbody.rows[data-kind="verified"] td.rank')
        assert len(cells) == 3
        for cell in cells:  # each rank shows its interval under it, inside its cell, at a readable size
            interval = cell.find_element(By.CSS_SELECTOR, ".ci")
            assert interval.is_displayed() and interval.text
            inside = browser.execute_script(
                "const c = arguments[0].getBoundingClientRect(), i = arguments[1].getBoundingClientRect();"
                "return i.left >= c.left - 0.5 && i.right <= c.right + 0.5 && i.top >= c.top - 0.5 && i.bottom <= c.bottom + 0.5",
                cell, interval,
            )
            assert inside and float(interval.value_of_css_property("font-size").removesuffix("px")) >= 11
        floor = browser.find_element(By.CSS_SELECTOR, 'tr.floor[data-slug="prior"]')
        assert floor.find_element(By.CSS_SELECTOR, ".badge.floor").is_displayed()
        assert floor.value_of_css_property("border-top-style") in ("dashed", "none")  # the line is on its cells
        assert floor.find_element(By.CSS_SELECTOR, "td").value_of_css_property("border-top-style") == "dashed"
        mark = browser.find_element(By.CSS_SELECTOR, 'tr[data-slug="close"] .badge.floor-mark')
        assert mark.is_displayed() and mark.text.lower() == "not above floor"
        assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-slug="strong"] .badge.floor-mark') == []
        assert "Floor:" in browser.find_element(By.CSS_SELECTOR, ".track-floor").text
    finally:
        browser.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    """45 ranked entries on one track: more than the compare matrix (40) and the figures (30) show."""
    root = tmp_path_factory.mktemp("big")
    for i in range(45):
        verified_entry(root / "submissions", f"sys-{i:02d}", seed=i, tag_drop=(i % 15) / 15)
    return _site(root)


@pytest.mark.parametrize("width", [390, 1400])
def test_a_big_track_keeps_its_pages_readable(browser, big_site, width):
    from evoxtral_bench.leaderboard.pairwise import MATRIX_MAX
    from evoxtral_bench.leaderboard.plots import PLOT_MAX

    browser.set_window_size(width, 900)
    try:
        open_page(browser, big_site / "compare/espeak-v1.html")
        assert no_page_overflow(browser) and severe(browser) == []
        matrix = browser.find_element(By.CSS_SELECTOR, "table.matrix")
        assert len(matrix.find_elements(By.CSS_SELECTOR, "tbody tr")) == MATRIX_MAX
        assert len(matrix.find_elements(By.CSS_SELECTOR, "thead th.col")) == MATRIX_MAX
        following = browser.find_elements(By.CSS_SELECTOR, "table.neighbours tbody tr")
        assert len(following) == 45
        for slug in (p.name for p in (big_site / "entries").iterdir()):  # every entry's link from its page lands on a row
            assert len(browser.find_elements(By.ID, f"row-{slug}")) == 1, slug
        screenshot(browser, f"leaderboard-compare-big-{width}.png", width)
        open_page(browser, big_site / "index.html")
        assert no_page_overflow(browser) and severe(browser) == []
        assert len(browser.find_elements(By.CSS_SELECTOR, "ol.plot-key li")) == PLOT_MAX
        assert f"the best {PLOT_MAX} of the 45 ranked entries" in browser.find_element(By.CSS_SELECTOR, ".plots h3").text
    finally:
        browser.set_window_size(1400, 1000)
