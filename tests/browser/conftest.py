"""Headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) against a real server.

The server is `python -m api.run` on 127.0.0.1 and a free port, serving a graph built for the session.
Chromium missing is a failure for root (CI; `make test` installs it with tests/browser/setup-chromium.sh)
and a skip with that reason for any other user, whose non-browser tests still run; the end of the run then
says so in its own section. Chromium and ChromeDriver are looked up on PATH (SWAPGRAPH_TEST_CHROMIUM and
SWAPGRAPH_TEST_CHROMEDRIVER name other binaries).
Every page's network requests are recorded from Chromium's performance log so tests can check that
nothing was fetched from another host. Screenshots go to tests/artifacts/ (git-ignored).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("SWAPGRAPH_TEST_CHROMIUM") or shutil.which("chromium")
CHROMEDRIVER = os.environ.get("SWAPGRAPH_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
SKIPPED: list[str] = []  # the reason the browser tests were skipped, for the summary at the end
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A real uvicorn serving a freshly built graph; yields its base URL."""
    from graph.build import SourcePaths, build
    from graph.store import StoreLayout

    data = tmp_path_factory.mktemp("browser-data")
    build(StoreLayout(data), SourcePaths())
    port = _free_port()
    env = {**os.environ, "SWAPGRAPH_DATA_DIR": str(data), "SWAPGRAPH_PORT": str(port), "SWAPGRAPH_WORKERS": "2"}
    log = (tmp_path_factory.mktemp("browser-log") / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "api.run"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: see {log.name}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not start in 120 s")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium through chromedriver. Missing: a skip for a user who cannot install it (not root),
    a failure for root (CI), where `make test` installs it."""
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
               if not path or not Path(path).exists()]
    if missing:
        how = ("`make test` installs the Debian packages chromium and chromium-driver when run as root "
               "(tests/browser/setup-chromium.sh); CI runs as root and runs them")
        if os.geteuid() != 0:
            SKIPPED[:] = [f"browser tests SKIPPED: {' and '.join(missing)} not found on PATH, and this user "
                          f"(uid {os.geteuid()}) is not root, so they cannot be installed; {how}"]
            pytest.skip(f"no Chromium ({' and '.join(missing)} not on PATH, not root): see the section 'browser tests skipped' above")
        pytest.fail(f"{' and '.join(missing)} not found on PATH: {how}", pytrace=False)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,1000")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pytest_terminal_summary(terminalreporter):
    """Say once, at the end of the run, why the browser tests did not run."""
    if SKIPPED:
        terminalreporter.section("browser tests skipped")
        terminalreporter.write_line(SKIPPED[0])


def requested_urls(driver) -> list[str]:
    """URLs the browser asked for since the last call (from the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_no_outside_requests(driver) -> None:
    outside = [u for u in requested_urls(driver)
               if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).hostname != "127.0.0.1"]
    assert not outside, f"requests to other hosts: {outside}"


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
