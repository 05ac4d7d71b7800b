"""Real-browser fixtures: a `streamlit run` server on a private knowledge copy, and Debian's Chromium.

When /usr/bin/chromium (or Playwright) is missing the browser tests skip with a loud reason, unless
HIPGUIDE_REQUIRE_BROWSER=1 (set by `.ci/run`), where they fail instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from streamlit_server import CHROMIUM, CHROMIUM_ARGS, ROOT, StreamlitServer, copy_knowledge, require_browser

ARTIFACTS = ROOT / "artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def playwright_instance():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def knowledge_tmp(tmp_path_factory) -> Path:
    return copy_knowledge(tmp_path_factory.mktemp("browser") / "knowledge")


@pytest.fixture(scope="session")
def app_server(knowledge_tmp, tmp_path_factory) -> Iterator[StreamlitServer]:
    require_browser()
    server = StreamlitServer(knowledge_tmp, log_dir=tmp_path_factory.mktemp("logs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    from ui_helpers import new_page

    context, pg = new_page(browser)
    yield pg
    problems = pg.hg_page_errors  # type: ignore[attr-defined]
    context.close()
    assert not problems, f"JavaScript errors in the page: {problems}"
