"""The built chapters in a real browser (Debian's Chromium through its ChromeDriver), opened from disk with the
network cut: every explorer draws with no kernel, a slider moved from the keyboard redraws its figure with the
settings' embedded rows, the saved widgets render from the book's own copy of their manager, and no request leaves
the page. Each move's redraw time is printed (measured in the page); `benchmarks/web_explorers.py` times them."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from conftest import CHAPTERS, ROOT

from ddd_utils.notebook.web.explorer import MAX_PAYLOAD_BYTES

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
REQUIRED = os.environ.get("DDD_REQUIRE_BROWSER") == "1"  # .ci/run sets it: there a missing browser is a failure
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

if not (CHROMIUM and CHROMEDRIVER):
    if REQUIRED:
        raise RuntimeError("DDD_REQUIRE_BROWSER=1 but chromium or chromedriver is missing: install Debian's "
                           "chromium and chromium-driver")
    pytest.skip("needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver); .ci/run "
                "installs them", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # every request would fail
                 "--disable-background-networking", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def requested(driver) -> list[str]:
    """Every URL the page asked for since the last call (from the browser's network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def page_of(built_html, chapter):
    """The built page of `chapter` (a notebook path)."""
    return built_html / chapter.relative_to(ROOT).with_suffix(".html")


def open_chapter(driver, built_html, chapter):
    driver.get(page_of(built_html, chapter).as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "const all = [...document.querySelectorAll('.ddd-explorer')];"
        "return all.length > 0 && all.every(e => e.classList.contains('ddd-explorer-live') || e.dataset.error);"))
    return driver.find_elements(By.CSS_SELECTOR, ".ddd-explorer")


def redrawn_after(explorer, redraws: int):
    """A wait condition: the explorer has redrawn more than `redraws` times (its page counts them)."""
    return lambda _: int(explorer.get_attribute("data-redraws")) > redraws


def figure(explorer) -> str:
    return explorer.find_element(By.CSS_SELECTOR, ".ddd-explorer-chart svg").get_attribute("outerHTML")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_explorer_draws_and_follows_its_first_slider_with_no_kernel_and_no_network(browser, built_html,
                                                                                         chapter):
    requested(browser)  # empty the log
    explorers = open_chapter(browser, built_html, chapter)
    assert all(not e.get_attribute("data-error") for e in explorers), [e.get_attribute("data-error")
                                                                     for e in explorers]
    times = []
    for explorer in explorers:
        sliders = explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
        for slider in sliders:
            label = explorer.find_element(By.CSS_SELECTOR, f"label[for='{slider.get_attribute('id')}']")
            assert label.text, "every slider has a visible label"
        # the first that can move: a slider of one value (a sweep that ran one noise level) has nowhere to go
        slider = next(s for s in sliders if s.get_attribute("max") != "0")
        before, redraws = figure(explorer), int(explorer.get_attribute("data-redraws"))
        at_end = slider.get_attribute("value") == slider.get_attribute("max")
        slider.send_keys(Keys.ARROW_LEFT if at_end else Keys.ARROW_RIGHT)  # the keyboard moves it
        WebDriverWait(browser, 10).until(redrawn_after(explorer, redraws))
        assert figure(explorer) != before, "the figure changed with the slider"
        times.append(float(explorer.get_attribute("data-redraw-ms")))
    print(f"{chapter.name}: redraw after a slider move, ms: {times}")
    leaving = [url for url in requested(browser) if not url.startswith(LOCAL_SCHEMES)]
    assert not leaving, f"requests that left the page: {leaving}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_a_moved_slider_shows_the_rows_embedded_for_its_new_setting(browser, built_html, chapter):
    explorer = open_chapter(browser, built_html, chapter)[0]
    payload = json.loads(explorer.find_element(By.CSS_SELECTOR, "script.ddd-explorer-data")
                         .get_attribute("textContent"))
    sliders = explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
    index = {s["name"]: s["start"] for s in payload["sliders"]}
    for slider, spec in zip(sliders, payload["sliders"], strict=True):
        if spec["start"] == 0 and len(spec["values"]) > 1:
            slider.send_keys(Keys.ARROW_RIGHT)
            index[spec["name"]] = 1
    WebDriverWait(browser, 10).until(lambda _: all(int(s.get_attribute("value")) == index[n] for s, n in
                                                   zip(sliders, index, strict=True)))
    browser.execute_script("return arguments[0].dddView.runAsync().then(() => null)", explorer)
    for name, table in payload["tables"].items():
        segments = table["entries"][",".join(str(index[s]) for s in table["by"])]
        shown = browser.execute_script("return arguments[0].dddView.data(arguments[1])", explorer, name)
        expected = sum(max([len(v) for v in s.values() if isinstance(v, list)] + [1]) for s in segments)
        assert len(shown) == expected, name
        ys = [segment["y"] for segment in segments if isinstance(segment.get("y"), list)]
        if ys:
            assert [row.get("y") for row in shown[:len(ys[0])]] == ys[0], name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_a_chapters_embedded_data_stays_within_its_budget(built_html, chapter):
    page = page_of(built_html, chapter).read_text()
    embedded = re.findall(r'<script type="application/json" class="ddd-explorer-data">(.*?)</script>', page, re.S)
    assert embedded and sum(len(data.encode()) for data in embedded) <= MAX_PAYLOAD_BYTES


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_saved_widgets_render_offline_and_give_way_to_the_live_explorer(browser, built_html, chapter):
    page = page_of(built_html, chapter).read_text()
    remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page)
    assert not remote, f"scripts or styles loaded from the network: {remote}"
    open_chapter(browser, built_html, chapter)
    if "application/vnd.jupyter.widget-state+json" in page:
        WebDriverWait(browser, 30).until(lambda d: d.execute_script(
            "return document.querySelectorAll('.tag_kernel-explorer .widget-slider, "
            ".tag_kernel-explorer .widget-dropdown').length > 0"))
    hidden = browser.execute_script(
        "return [...document.querySelectorAll('.tag_static-figure, .tag_kernel-explorer .cell_output')]"
        ".map(e => getComputedStyle(e).display)")
    assert hidden and set(hidden) == {"none"}, "on screen the live explorer replaces the widget and static figure"

