"""A follow-up visit in real Chromium: upload last visit's FHIR record through the page's file picker, enter
today's pain score, and see the trend chart with its MCID band, the statement, and the record to download.
A hostile record (script in its text) is shown as inert text."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect
from ui_helpers import click_and_wait, exceptions_on_page, main_text, open_app, runs, screenshot, wait_idle, wait_quiet

from hipguide.assessment import assess
from hipguide.fhir import read_visit_record, visit_bundle
from hipguide.knowledge import load_knowledge
from hipguide.outcomes import short_date

TIMEOUT = 30_000
NOV3 = dt.date(2026, 11, 3)
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">"
EARLIER = {"findings": ["loc_deep_central_buttock", "aggr_sitting"], "absent": ["test_slr_positive"],
           "outcomes": {"nprs": 7, "lefs": 50, "psfs": [3], "psfs_activities": [HOSTILE]}}

# Screen positions of a trend chart's marks, by their accessible labels (Vega gives SVG marks an aria-label).
MARKS = """(prefix) => {
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const marks = [...chart.querySelectorAll('path[aria-label]')].filter(e => e.getAttribute('aria-label').startsWith(prefix));
    if (marks.length) return marks.map(e => { const r = e.getBoundingClientRect();
      return {label: e.getAttribute('aria-label'), top: r.top, bottom: r.bottom, height: r.height}; });
  }
  return [];
}"""


@pytest.fixture(scope="module")
def kb(knowledge_tmp):
    return load_knowledge(knowledge_tmp)


def test_an_earlier_record_gives_a_trend_chart_with_the_mcid_band(page, app_server, kb, artifacts, tmp_path):
    record = tmp_path / "visit-2026-11-03.json"
    record.write_text(json.dumps(visit_bundle(kb, assess(kb, EARLIER), NOV3)), encoding="utf-8")
    open_app(page, app_server.url)
    click_and_wait(page, page.get_by_text("Follow-up visit: outcome measures", exact=False))  # drawn when opened
    wait_quiet(page)

    before = runs(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(record))
    wait_idle(page, timeout=TIMEOUT, after=before)
    pain = page.get_by_role("spinbutton", name="Pain now (NPRS)")
    pain.fill("3")
    before = runs(page)
    pain.press("Enter")
    wait_idle(page, timeout=TIMEOUT, after=before)
    wait_quiet(page)

    expect(page.get_by_text("NPRS −4 since 3 Nov: more than the 1.5-point MCID (improved)")).to_be_visible(timeout=TIMEOUT)
    today = short_date(dt.date.today())
    points = page.evaluate(MARKS, "NPRS ")
    by_label = {p["label"]: p for p in points}
    assert {"NPRS 7 on 3 Nov", f"NPRS 3 on {today}"} <= set(by_label), points
    [band] = page.evaluate(MARKS, "NPRS MCID band")
    assert band["label"] == "NPRS MCID band: 5.5 to 8.5 (first visit 7 ± 1.5)"
    first, now = by_label["NPRS 7 on 3 Nov"], by_label[f"NPRS 3 on {today}"]
    middle = lambda p: (p["top"] + p["bottom"]) / 2  # noqa: E731
    assert band["top"] < middle(first) < band["bottom"], "the first visit sits inside its MCID band"
    assert middle(now) > band["bottom"], "today's lower pain is drawn below the band: a clinically important change"
    lefs = page.evaluate(MARKS, "LEFS ")
    assert [p["label"] for p in lefs if "band" not in p["label"]] == ["LEFS 50 on 3 Nov"]  # not entered today

    # The earlier record's own text (a PSFS activity carrying script) is shown as text, never run.
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert "<script>window.__pwned=1</script>" in main_text(page)
    assert not page.hg_dialogs  # type: ignore[attr-defined]
    assert not exceptions_on_page(page)
    screenshot(page, artifacts / "follow_up.png")

    # Today's record, downloaded from the page, reads back with today's score.
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="Visit record (FHIR)").click()  # made on click, no rerun
    assert re.fullmatch(r"hipguide-visit-\d{4}-\d{2}-\d{2}\.json", info.value.suggested_filename)
    with open(info.value.path(), "rb") as downloaded:
        again = read_visit_record(kb, downloaded.read())
    assert again.outcomes is not None and again.outcomes.nprs == 3 and again.date == dt.date.today()
