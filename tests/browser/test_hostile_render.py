"""Hostile knowledge text in a real browser: a source text, a claim, an editor's advice and rationale
carrying script, an image with an onerror handler, a javascript: link and a 50,000-character line.
Every page must show it as inert text: no dialog, nothing executed, no injected element, layout intact."""

from __future__ import annotations

import contextlib
import hashlib
import re

import pytest
from streamlit_server import EDITOR_PASSPHRASE, StreamlitServer, copy_knowledge, require_browser
from ui_helpers import (
    click_and_wait,
    exceptions_on_page,
    main_text,
    new_page,
    open_app,
    screenshot,
    select_option,
    wait_idle,
    wait_quiet,
)

from hipguide import editorial
from hipguide.knowledge import normalise_text

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
LINK = "[click](javascript:window.__pwned=1)"
EXTRA = '<a href="javascript:window.__pwned=1">a link</a> <svg onload="window.__pwned=1"></svg> <iframe srcdoc="x"></iframe>'
HOSTILE = f"{SCRIPT} {IMG} {LINK} {EXTRA}"
LONG_LINE = "W" * 50_000
SOURCE = "medshun"

# Elements or attributes that would mean the text was interpreted instead of shown.
INJECTED = """() => {
  const out = [];
  if (typeof window.__pwned !== 'undefined') out.push('window.__pwned is set');
  for (const s of document.querySelectorAll('script')) if (s.textContent.includes('__pwned')) out.push('script element');
  for (const img of document.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (src === 'x' || img.hasAttribute('onerror')) out.push('img element src=' + src);
  }
  for (const el of document.querySelectorAll('iframe[srcdoc], svg[onload]')) out.push(el.tagName + ' element');
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value || '';
      if ((a.name.startsWith('on') || ['href', 'src', 'srcdoc', 'action', 'formaction', 'xlink:href'].includes(a.name))
          && (v.includes('__pwned') || /^\\s*javascript:/i.test(v))) out.push(el.tagName + '[' + a.name + ']');
    }
  }
  return out;
}"""

LAYOUT = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const widest = Math.max(0, ...[...document.querySelectorAll('[data-testid="stMarkdownContainer"], [data-testid="stText"]')]
    .map(e => e.getBoundingClientRect().right));
  return {viewport: window.innerWidth, document: document.scrollingElement.scrollWidth,
          main: main ? main.scrollWidth : 0, mainClient: main ? main.clientWidth : 0, widest: widest};
}"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    require_browser()
    tmp = tmp_path_factory.mktemp("hostile")
    root = copy_knowledge(tmp / "knowledge")
    # The source text, as an editor might paste it: the payload and the long line in their own paragraphs.
    text_path = root / "sources" / f"{SOURCE}.txt"
    text = text_path.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{HOSTILE}\n\n{LONG_LINE}\n"
    text_path.write_text(text, encoding="utf-8")
    meta = root / "sources" / f"{SOURCE}.yaml"
    meta_text = meta.read_text(encoding="utf-8")
    meta.write_text(re.sub(r"text_sha256: \w+", f"text_sha256: {hashlib.sha256(text.encode()).hexdigest()}", meta_text),
                    encoding="utf-8")
    # A claim quoting the payload, and the editor's advice and rationale carrying it, through the engine's editor writes.
    editorial.add_claim(root, "ice", {"id": "ice_hostile_payload", "source": SOURCE, "stance": "neutral", "quote": SCRIPT,
                                      "scope": {"phases": [], "target": "general", "population": None}},
                        editor=IMG, base_version=editorial.file_version(root, "claims/ice.yaml"))
    guidance = editorial.load_yaml_text((root / "guidance" / "ice.yaml").read_text(encoding="utf-8"), "ice")
    phases = {p: {"stance": a["stance"], "advice": a["advice"]} for p, a in guidance["phases"].items()}
    phases["acute"]["advice"] = f"{HOSTILE} {phases['acute']['advice']}"
    editorial.save_guidance(root, "ice", {"rationale": f"{HOSTILE}\n{LONG_LINE}\n{guidance['rationale']}", "phases": phases},
                            editor=IMG, base_version=editorial.file_version(root, "guidance/ice.yaml"))
    with StreamlitServer(root, log_dir=tmp) as server:
        yield server


def expand_all(page) -> None:
    for summary in page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary').all():
        if summary.is_visible():
            summary.click()
    wait_quiet(page)


def assert_inert(page, where: str, artifacts, expect_text: bool = True) -> None:
    expand_all(page)
    assert not page.hg_dialogs, f"{where}: a dialog opened: {page.hg_dialogs}"  # type: ignore[attr-defined]
    injected = page.evaluate(INJECTED)
    assert not injected, f"{where}: hostile text became markup: {injected}"
    assert not exceptions_on_page(page), f"{where}: {exceptions_on_page(page)}"
    layout = page.evaluate(LAYOUT)
    limit = layout["viewport"] + 20
    assert layout["document"] <= limit and layout["widest"] <= limit, f"{where}: the page is wider than the window: {layout}"
    assert layout["main"] <= layout["mainClient"] + 20, f"{where}: the main area scrolls sideways: {layout}"
    if expect_text:
        text = normalise_text(main_text(page))
        assert SCRIPT in text, f"{where}: the hostile text is not shown as text"
    screenshot(page, artifacts / f"hostile_{where}.png")


@contextlib.contextmanager
def page_on_ice(browser, url: str, path: str, topic_box: str):
    """A fresh session on one page, with the ice topic (whose texts are hostile) chosen."""
    context, page = new_page(browser)
    try:
        open_app(page, url, path)
        select_option(page, topic_box, "Ice / cold")
        yield page
    finally:
        context.close()
    assert not page.hg_page_errors  # type: ignore[attr-defined]


def test_assessment_page_shows_hostile_advice_as_text(browser, hostile_server, artifacts):
    with page_on_ice(browser, hostile_server.url, "", "Topic in focus") as page:
        assert_inert(page, "assessment", artifacts)


def test_comparison_page_shows_hostile_source_and_rationale_as_text(browser, hostile_server, artifacts):
    with page_on_ice(browser, hostile_server.url, "Compare_sources", "Topic") as page:
        assert_inert(page, "compare", artifacts)
        assert LONG_LINE[:1000] in main_text(page).replace("\n", ""), "the long line is shown (wrapped)"


def test_editor_page_shows_hostile_text_as_text(browser, hostile_server, artifacts):
    with page_on_ice(browser, hostile_server.url, "Editor", "Topic") as page:
        assert_inert(page, "editor_read_only", artifacts)
        page.get_by_label(re.compile("^Who you are")).fill(IMG)
        page.get_by_label("Editor passphrase").fill(EDITOR_PASSPHRASE)
        click_and_wait(page, page.get_by_role("button", name="Sign in"))
        wait_idle(page)
        assert_inert(page, "editor_signed_in", artifacts, expect_text=False)
        history = page.get_by_role("tab", name="History")
        history.click()
        assert_inert(page, "editor_history", artifacts, expect_text=False)
