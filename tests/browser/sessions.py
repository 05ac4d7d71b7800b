"""Many browser sessions at once (Playwright's async API, in a thread of its own): each session opens
the assessment, records its own findings and reads back the differential. Used by the concurrency
test and the benchmark."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from streamlit_server import CHROMIUM, CHROMIUM_ARGS
from ui_helpers import DIFFERENTIAL_ORDER, INSTRUMENT, STATE_OPTIONS, VIEWPORT, literal, name_pattern, tab_of_control

from hipguide.knowledge import KnowledgeBase
from ui.assessment_data import FINDING_GROUPS

TABS = dict(FINDING_GROUPS)


# Twenty pages on a small machine: share a few renderer processes and composite in software.
LOAD_ARGS = ["--disable-gpu-compositing"]

# The findings the page lists as recorded present, whichever tab holds them: the caption that starts
# "Present:" (ui.assessment_data.recorded_summary), its first line, names separated by " · ".
RECORDED_PRESENT = """() => {
  for (const el of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    const text = el.innerText.trim();
    if (text.startsWith('Present:')) {
      const names = text.split('\\n')[0].slice('Present:'.length).trim();
      return names === 'none' ? [] : names.split(' · ').map(n => n.trim());
    }
  }
  return null;
}"""

# The controls drawn (the open tab's) whose first option (present) is chosen, by accessible name
# (Markdown escapes removed).
PRESENT_CONTROLS = """() => [...document.querySelectorAll('[role="radiogroup"]')]
  .filter(g => { const first = g.querySelector('[role="radio"]'); return first && first.getAttribute('aria-checked') === 'true'; })
  .map(g => (g.getAttribute('aria-label') || '').replace(/\\\\(.)/g, '$1'))"""

# The percentage each differential bar is labelled with, when the chart labels its marks "Label — 12%".
SHOWN_PERCENT = """(labels) => {
  const out = {};
  for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"] path[aria-label]')) {
    const name = el.getAttribute('aria-label');
    for (const l of labels) {
      if (name.startsWith(l + ' — ') && !(l in out)) {
        const m = name.slice(l.length).match(/^ — ([≤≥]?\\d+%)/);
        if (m) out[l] = m[1];
      }
    }
  }
  return out;
}"""


@dataclass
class SessionResult:
    index: int
    findings: list[str]
    order: list[str] | None = None
    shown: dict[str, str] = field(default_factory=dict)
    present: list[str] | None = field(default_factory=list)  # findings the page lists as recorded present
    present_controls: list[str] = field(default_factory=list)  # accessible names of drawn controls showing "present"
    latencies: list[float] = field(default_factory=list)  # seconds, click -> finished rerun
    load_time: float = 0.0
    errors: list[str] = field(default_factory=list)


class _Runs:
    """Finished script runs of one page, pushed from the page (no polling: twenty pages stay cheap)."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Condition()

    async def notify(self, count: int) -> None:
        async with self.changed:
            self.count = max(self.count, int(count))
            self.changed.notify_all()

    async def wait_past(self, before: int, timeout: float) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.count > before), timeout / 1000)


async def _click_until_checked(page, runs: _Runs, option, timeout: float) -> None:
    """Click a finding's option and wait for the rerun it causes; a click that lands while the element
    is being replaced is lost, so it is repeated until the option shows as chosen."""
    deadline = time.perf_counter() + timeout / 1000
    while True:
        before = runs.count
        await option.click(timeout=timeout)
        try:
            await runs.wait_past(before, 5_000)
            break
        except TimeoutError:
            if await option.get_attribute("aria-checked") == "true" or time.perf_counter() > deadline:
                break
    if await option.get_attribute("aria-checked") != "true":
        raise AssertionError("the finding did not become present")


PHASES: dict[str, float] = {}  # seconds from the start: every session open, every finding recorded, done


class _Gate:
    """Every session arrives (failed ones too) before any goes on: all sessions are alive at once."""

    def __init__(self, parties: int):
        self.parties, self.arrived, self.open = parties, 0, asyncio.Event()
        self.opened_at: float | None = None

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.opened_at = time.perf_counter()
            self.open.set()
        await self.open.wait()


async def _session(browser, url: str, kb: KnowledgeBase, index: int, findings: list[str], timeout: float,
                   gates: tuple[_Gate, _Gate], stagger_s: float, viewport: dict | None = None,
                   tabs: dict[str, str] | None = None) -> SessionResult:
    result = SessionResult(index, findings)
    context = await browser.new_context(viewport=viewport or VIEWPORT, reduced_motion="reduce")
    runs = _Runs()
    await context.expose_function("__hgNotify", runs.notify)
    await context.add_init_script(INSTRUMENT)
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.errors.append(f"page error: {exc}"))
    page.on("dialog", lambda d: result.errors.append(f"dialog: {d.message}"))

    def fail(exc: BaseException) -> None:
        result.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    try:
        # 1. Arrive, a little apart (a clinic's sessions do not all open in the same millisecond).
        try:
            await asyncio.sleep(index * stagger_s)
            t0 = time.perf_counter()
            await page.goto(url, wait_until="domcontentloaded", timeout=timeout)
            await runs.wait_past(0, timeout)
            result.load_time = time.perf_counter() - t0
        except Exception as exc:
            fail(exc)
        await gates[0].arrive()
        # 2. All sessions open: each records its own findings, at the same time as the others.
        if not result.errors:
            try:
                for fid in findings:
                    finding = kb.findings[fid]
                    # The tab that shows the control: the red-flag tab also holds the risk factors its rules use.
                    title = tabs[finding.group] if tabs is not None else tab_of_control(kb)[fid]
                    tab = page.get_by_role("tab", name=re.compile(literal(title).pattern + "$")).first
                    if await tab.get_attribute("aria-selected") != "true":
                        await tab.click(timeout=timeout)
                    group = page.get_by_role("radiogroup", name=name_pattern(finding.label))
                    option = group.get_by_role("radio").nth(STATE_OPTIONS.index("present"))
                    await option.wait_for(timeout=timeout)
                    t1 = time.perf_counter()
                    await _click_until_checked(page, runs, option, timeout)
                    result.latencies.append(time.perf_counter() - t1)
            except Exception as exc:
                fail(exc)
        await gates[1].arrive()
        # 3. Still all open: each reads back its differential.
        if not result.errors:
            try:
                labels = [c.label for c in kb.conditions.values()]
                by_label = {c.label: cid for cid, c in kb.conditions.items()}
                # Charts mount after the run; wait until the differential is drawn with every condition.
                await page.wait_for_function(f"() => ({DIFFERENTIAL_ORDER})({labels!r}) !== null", timeout=timeout, polling=100)
                await page.wait_for_timeout(300)
                order = await page.evaluate(DIFFERENTIAL_ORDER, labels)
                result.order = None if order is None else [by_label[label] for label in order]
                result.present = await page.evaluate(RECORDED_PRESENT)
                result.present_controls = await page.evaluate(PRESENT_CONTROLS)
                shown = await page.evaluate(SHOWN_PERCENT, labels)
                result.shown = {by_label[label]: value for label, value in shown.items()}
                exceptions = await page.locator('[data-testid="stException"]').all_inner_texts()
                result.errors += [f"exception on page: {e[:200]}" for e in exceptions]
            except Exception as exc:
                fail(exc)
    finally:
        await context.close()
    return result


async def _drive(url: str, kb: KnowledgeBase, cases: list[list[str]], timeout_ms: float, viewport: dict | None,
                 stagger_s: float, tabs: dict[str, str] | None) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + LOAD_ARGS, headless=True)
        gates = (_Gate(len(cases)), _Gate(len(cases)))
        try:
            t0 = time.perf_counter()
            results = await asyncio.gather(*[_session(browser, url, kb, i, f, timeout_ms, gates, stagger_s, viewport, tabs)
                                             for i, f in enumerate(cases)])
            PHASES.update(all_open=(gates[0].opened_at or t0) - t0, all_recorded=(gates[1].opened_at or t0) - t0,
                          done=time.perf_counter() - t0)
            return results
        finally:
            await browser.close()


def run_sessions(url: str, kb: KnowledgeBase, cases: list[list[str]], budget_s: float = 60.0,
                 viewport: dict | None = None, stagger_s: float = 0.5,
                 tabs: dict[str, str] | None = None) -> tuple[list[SessionResult], float]:
    """One browser context per case, all open at once (they arrive `stagger_s` apart, then record their
    findings at the same time), in a thread of its own; (results, wall seconds). `kb` needs only findings
    (label, group) and conditions (label); `tabs` maps a finding group to its tab's title."""
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["results"] = asyncio.run(asyncio.wait_for(_drive(url, kb, cases, budget_s * 1000, viewport, stagger_s, tabs), budget_s))
        except BaseException as exc:
            box["error"] = exc

    t0 = time.perf_counter()
    thread = threading.Thread(target=worker, name="browser-sessions", daemon=True)
    thread.start()
    thread.join(budget_s + 15)
    wall = time.perf_counter() - t0
    if thread.is_alive():
        raise TimeoutError(f"{len(cases)} browser sessions did not finish within {budget_s:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["results"], wall


def distinct_cases(kb: KnowledgeBase, n: int, per_case: int = 2) -> list[list[str]]:
    """n different sets of present findings, each from one group (one tab), taking turns over the groups."""
    groups: dict[str, list[str]] = {}
    for fid, f in kb.findings.items():
        if f.group != "red_flag":
            groups.setdefault(f.group, []).append(fid)
    usable = [g for g in groups.values() if len(g) >= per_case]
    cases: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    k = 0
    while len(cases) < n:
        pool = usable[k % len(usable)]
        offset = k // len(usable)
        chosen = [pool[(offset + j * (offset + 1)) % len(pool)] for j in range(per_case)]
        if len(set(chosen)) == per_case and frozenset(chosen) not in seen:
            seen.add(frozenset(chosen))
            cases.append(chosen)
        k += 1
        if k > 100 * n:
            raise ValueError("not enough findings for that many distinct cases")
    return cases
