"""A headless Chromium driven by Selenium, at a fixed window size, and a sandbox to look at.

The browser is the distribution's (`apt-get install chromium chromium-driver` on Debian):
Selenium is given both paths, so it downloads nothing. Without them the tests fail in CI with
what to install, and are skipped elsewhere with the same words.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests import isolation
from tests.isolation import nothing_written_outside, pytest_sessionfinish  # noqa: F401

# As in the main suite: home, cache, state and temp dir in a folder of this run (the browser's
# profile lands there too), checked and removed at the end (tests/isolation.py).
WATCH = isolation.redirect()
os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver or a browser

WIDTH, HEIGHT = 1280, 900
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
INSTALL = "apt-get install -y chromium chromium-driver; pip install -e '.[browser]'"


def _found() -> tuple[str, str] | str:
    """The browser's and the driver's paths, or what is missing."""
    browser = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package"
    if browser is None or driver is None:
        return "Chromium and its driver (chromium, chromedriver)"
    return browser, driver


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium window of WIDTH x HEIGHT CSS pixels at a device scale of 1."""
    found = _found()
    if isinstance(found, str):
        message = f"the browser tests need {found}: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--lang=en-US",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    try:
        metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        yield driver
    finally:
        driver.quit()
