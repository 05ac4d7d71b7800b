"""Helpers for driving the Streamlit app in Chromium: wait for a script run, find widgets, check a page."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from ui.assessment_data import finding_controls

# Counts finished script runs: the stApp element's data-test-script-state goes back to "notRunning".
INSTRUMENT = """
(() => {
  window.__hg = {runs: 0, states: []};
  const observer = new MutationObserver((mutations) => {
    for (const m of mutations) {
      const value = m.target.getAttribute('data-test-script-state');
      window.__hg.states.push([performance.now(), value]);
      if (value === 'notRunning' && m.oldValue !== 'notRunning') {
        window.__hg.runs += 1;
        if (window.__hgNotify) window.__hgNotify(window.__hg.runs);  // a push to the test, when it listens
      }
    }
  });
  observer.observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                              attributeFilter: ['data-test-script-state']});
})();
"""

# The time of the last change anywhere in the page (charts mount asynchronously after a run).
QUIET_INSTRUMENT = """
(() => {
  window.__hgLastChange = performance.now();
  new MutationObserver(() => { window.__hgLastChange = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""

IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
      && !document.querySelector('[data-testid="stStatusWidget"]');
}"""

VIEWPORT = {"width": 1400, "height": 1000}


def new_page(browser, viewport: dict | None = None):
    """A fresh context (its own cookies, so its own Streamlit session) and page, instrumented."""
    context = browser.new_context(viewport=viewport or VIEWPORT)
    context.add_init_script(INSTRUMENT)
    context.add_init_script(QUIET_INSTRUMENT)
    page = context.new_page()
    _count_finished_runs(page)
    page.hg_page_errors = []  # type: ignore[attr-defined]
    page.hg_dialogs = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.hg_page_errors.append(str(exc)))  # type: ignore[attr-defined]

    def on_dialog(dialog):
        page.hg_dialogs.append(f"{dialog.type}: {dialog.message}")  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, page


def _count_finished_runs(page) -> None:
    """Count the server's "script finished" messages on the page's WebSocket.

    The page's run state is the usual signal that a rerun has finished, but when a run is short the
    frontend can apply "started" and "finished" in one render, so the state never visibly flips.
    The message from the server is always there.
    """
    page.hg_finished = 0  # type: ignore[attr-defined]
    interrupted = ForwardMsg.FINISHED_EARLY_FOR_RERUN

    def on_frame(payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        msg = ForwardMsg()
        try:
            msg.ParseFromString(bytes(payload))
        except Exception:  # not a ForwardMsg: nothing to count
            return
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished != interrupted:
            page.hg_finished += 1  # type: ignore[attr-defined]

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))


@dataclass(frozen=True)
class RunMark:
    """How many script runs a page had finished at one moment, by both signals."""

    seen: int      # run-state flips seen in the page
    finished: int  # "script finished" messages from the server


def runs(page) -> RunMark:
    return RunMark(page.evaluate("() => window.__hg ? window.__hg.runs : 0"), getattr(page, "hg_finished", 0))


def wait_idle(page, timeout: float = 30_000, after: RunMark | None = None) -> None:
    """Wait until the app has finished its script run (and, with `after`, finished a run since that mark)."""
    if after is not None:
        deadline = time.monotonic() + timeout / 1000
        while True:
            now = runs(page)
            if now.seen > after.seen or now.finished > after.finished:
                break
            if time.monotonic() > deadline:
                raise PlaywrightTimeoutError(f"no script run finished within {timeout / 1000:.0f} s (since {after})")
            page.wait_for_timeout(20)  # lets Playwright deliver the WebSocket events meanwhile
    page.wait_for_function(IDLE, timeout=timeout)


def wait_quiet(page, quiet_ms: int = 400, timeout: float = 15_000) -> None:
    """Wait until nothing in the page has changed for `quiet_ms` (charts finished mounting)."""
    page.wait_for_function(f"() => window.__hgLastChange !== undefined && performance.now() - window.__hgLastChange > {quiet_ms}",
                           timeout=timeout, polling=100)


def open_app(page, base_url: str, path: str = "", timeout: float = 45_000) -> None:
    before = runs(page)
    page.goto(f"{base_url}/{path.lstrip('/')}", wait_until="domcontentloaded", timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    wait_idle(page, timeout=timeout, after=RunMark(0, before.finished))  # the new page counts from zero
    page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] h2', timeout=timeout)


def click_and_wait(page, locator, timeout: float = 30_000, **click_kwargs) -> None:
    before = runs(page)
    locator.click(**click_kwargs)
    wait_idle(page, timeout=timeout, after=before)


def click_chart_mark(page, locator, timeout: float = 30_000) -> None:
    """Click an SVG mark of a chart (force: SVG paths fail Playwright's hit test), centred on screen so
    Streamlit's sticky header cannot be on top of it, and wait for the rerun."""
    wait_quiet(page)
    locator.evaluate("e => e.scrollIntoView({block: 'center', inline: 'center'})")
    click_and_wait(page, locator, timeout=timeout, force=True)


def screenshot(page, path, max_height: int = 7000) -> None:
    """The whole page as one image: Streamlit scrolls inside its main container, so the viewport is made
    as tall as the content for the shot, then put back."""
    size = page.viewport_size or VIEWPORT
    height = page.evaluate("""() => {
      const main = document.querySelector('[data-testid="stMain"]');
      return Math.max(main ? main.scrollHeight : 0, document.documentElement.scrollHeight);
    }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    try:
        wait_quiet(page)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)


def exceptions_on_page(page) -> list[str]:
    return [e.inner_text() for e in page.locator('[data-testid="stException"]').all()]


def page_not_found_shown(page) -> bool:
    return page.get_by_text(re.compile("Page not found", re.I)).count() > 0


def checkbox(page, label: str):
    """A Streamlit checkbox by its visible label (the click target is the label element)."""
    return page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first


def name_pattern(label: str) -> re.Pattern[str]:
    """An accessible name equal to `label`, allowing Markdown escapes (`\\(`) before punctuation."""
    return re.compile("^" + "".join(_js_escape(ch, optional_backslash=True) for ch in label) + "$")


_REGEX_SPECIAL = set("\\^$.|?*+()[]{}/")


def _js_escape(ch: str, optional_backslash: bool = False) -> str:
    # Escapes that mean the same in Python and in a JavaScript unicode regex (no "\ " or "\—").
    if ch.isalnum() or ch.isspace() or ord(ch) > 127:
        return ch
    escaped = "\\" + ch if ch in _REGEX_SPECIAL else ch
    return ("\\\\?" + escaped) if optional_backslash else escaped


def literal(text: str) -> re.Pattern[str]:
    return re.compile("".join(_js_escape(ch) for ch in text))


def tab_of_control(kb) -> dict[str, str]:
    """finding id -> the title of the tab the assessment page shows its control in (the red-flag tab also
    holds the risk factors its rules use)."""
    return {control.id: title for _group, title, controls in finding_controls(kb) for control in controls}


def open_tab(page, title: str) -> None:
    """Open a tab of findings (only the open tab's controls are drawn: opening one reruns the page)."""
    tab = page.get_by_role("tab", name=re.compile(literal(title).pattern + "$")).first
    if tab.get_attribute("aria-selected") != "true":
        click_and_wait(page, tab)


# Each finding is a two-option segmented control: present first, absent second (neither = not assessed).
STATE_OPTIONS = ("present", "absent")


def finding_group(page, kb, finding_id: str):
    """A finding's control (a radio group), its tab opened first."""
    open_tab(page, tab_of_control(kb)[finding_id])
    group = page.get_by_role("radiogroup", name=name_pattern(kb.findings[finding_id].label))
    group.wait_for()
    return group


def set_finding(page, kb, finding_id: str, state: str) -> None:
    """Record a finding as "present" or "absent" on the assessment page (its tab, then its control)."""
    option = finding_group(page, kb, finding_id).get_by_role("radio").nth(STATE_OPTIONS.index(state))
    if option.get_attribute("aria-checked") == "true":
        return
    click_and_wait(page, option)


def finding_state(page, kb, finding_id: str) -> str | None:
    group = finding_group(page, kb, finding_id)
    for i, state in enumerate(STATE_OPTIONS):
        if group.get_by_role("radio").nth(i).get_attribute("aria-checked") == "true":
            return state
    return None


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def select_option(page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label` (a combobox input) in the main area."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name=name_pattern(label)).first
    if box.input_value() == option:
        return
    box.click()
    before = runs(page)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page, after=before)


def page_urls(root) -> list[tuple[str, str]]:
    """(name, url path) of every page: the entry point at "/", each pages/ file at its name without the number."""
    out = [("dashboard", "")]
    for path in sorted((root / "pages").glob("*.py")):
        out.append((path.stem, re.sub(r"^\d+_", "", path.stem)))
    return out


DIFFERENTIAL_ORDER = """(labels) => {
  // The differential chart is the one whose marks are labelled with every condition (the label, maybe
  // followed by more words: "Sciatica — 12%"); its bars run top to bottom.
  const byLength = [...labels].sort((a, b) => b.length - a.length);
  const labelOf = (name) => byLength.find(l => name === l || (name.startsWith(l) && !/[A-Za-z0-9]/.test(name[l.length])));
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const tops = {};
    for (const el of chart.querySelectorAll('path[aria-label]')) {
      const label = labelOf(el.getAttribute('aria-label'));
      if (label && !(label in tops)) tops[label] = el.getBoundingClientRect().top;
    }
    if (Object.keys(tops).length === labels.length) {
      return Object.entries(tops).sort((a, b) => a[1] - b[1]).map(e => e[0]);
    }
  }
  return null;
}"""


def differential_order(page, kb) -> list[str] | None:
    """Condition ids as the differential chart ranks them on screen (top first), or None if it is not drawn."""
    by_label = {c.label: cid for cid, c in kb.conditions.items()}
    order = page.evaluate(DIFFERENTIAL_ORDER, list(by_label))
    return None if order is None else [by_label[label] for label in order]
