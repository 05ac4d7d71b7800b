"""What a clinician and an editor see, in a real browser: the assessment, the body map, the source
comparison, an editor's save, and every page opened straight from its address."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect
from pypdf import PdfReader
from streamlit_server import ROOT, StreamlitServer, copy_knowledge
from ui_helpers import (
    click_and_wait,
    click_chart_mark,
    differential_order,
    exceptions_on_page,
    finding_state,
    literal,
    main_text,
    new_page,
    open_app,
    page_not_found_shown,
    page_urls,
    runs,
    screenshot,
    select_option,
    set_finding,
    wait_idle,
    wait_quiet,
)

from hipguide import editorial
from hipguide.assessment import assess
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.knowledge import load_knowledge, normalise_text
from hipguide.pdf import printable

DEEP_ROTATOR_VIGNETTE = "01_runner_deep_buttock_after_hills"
TIMEOUT = 30_000


@pytest.fixture(scope="module")
def kb(knowledge_tmp):
    return load_knowledge(knowledge_tmp)


def test_ticking_findings_shows_triage_differential_and_plan(page, app_server, kb, artifacts):
    vignette = kb.vignettes[DEEP_ROTATOR_VIGNETTE]
    expected = assess(kb, vignette)
    assert expected.differential[0].condition == "deep_hip_rotator_overload"
    open_app(page, app_server.url)
    for fid in vignette.findings:
        set_finding(page, kb, fid, "present")
    for fid in vignette.absent:
        set_finding(page, kb, fid, "absent")
    wait_idle(page)
    wait_quiet(page)

    triage = page.locator('[data-testid="stAlert"]').filter(has_text="Triage:").first
    expect(triage).to_contain_text("Triage: ROUTINE", timeout=TIMEOUT)
    leader = kb.conditions["deep_hip_rotator_overload"].label
    order = differential_order(page, kb)
    assert order is not None, "the differential chart is drawn"
    assert order[:3] == [r.condition for r in expected.differential[:3]], order
    expect(page.get_by_text(literal(leader)).first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Plan — acute phase"))).to_be_visible()
    text = main_text(page)
    assert expected.plan, "the deep rotator case has a self-care plan"
    for item in expected.plan:
        assert item.label in text, f"plan item {item.label!r} is not on the page"
    assert not exceptions_on_page(page)
    screenshot(page, artifacts / "assessment.png")

    # The exports are written when clicked and hold this patient's assessment.
    downloaded = {}
    for label in ("Clinical note", "Clinical note PDF", "Patient handout"):
        with page.expect_download(timeout=TIMEOUT) as info:
            page.get_by_role("button", name=label, exact=True).click()
        downloaded[label] = (info.value.suggested_filename, Path(info.value.path()).read_bytes())
    name, note = downloaded["Clinical note"]
    note = note.decode("utf-8")
    assert name == "hipguide-clinical-note.md"
    assert "## Triage: ROUTINE" in note and md_escape(leader) in note
    assert all(md_escape(kb.findings[f].label) in note for f in vignette.findings)
    name, note_pdf = downloaded["Clinical note PDF"]
    assert name == "hipguide-clinical-note.pdf" and "Triage: ROUTINE" in pdf_text(note_pdf)
    name, handout = downloaded["Patient handout"]
    handout = pdf_text(handout)
    assert name == "hipguide-patient-handout.pdf" and handout.startswith("Your self-care plan")
    advice = next(i for i in expected.plan if i.stance != "neutral").advice
    assert " ".join(printable(advice).split())[:80] in handout


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def test_clicking_the_body_map_sets_the_location_finding(page, app_server, kb, artifacts):
    region = next(r for r in kb.regions if r.finding == "loc_deep_central_buttock")
    open_app(page, app_server.url)
    assert finding_state(page, kb, "loc_deep_central_buttock") is None
    mark = page.locator(f'[data-testid="stVegaLiteChart"] path[aria-label="{region.label}"]').first
    click_chart_mark(page, mark)
    expect(page.get_by_text(re.compile(r"Only 1 finding\(s\) recorded"))).to_be_visible(timeout=TIMEOUT)
    assert finding_state(page, kb, "loc_deep_central_buttock") == "present"
    screenshot(page, artifacts / "body_map.png")

    # The same region again clears it (the map toggles).
    mark = page.locator(f'[data-testid="stVegaLiteChart"] path[aria-label="{region.label}"]').first
    click_chart_mark(page, mark)
    assert finding_state(page, kb, "loc_deep_central_buttock") is None
    assert not exceptions_on_page(page)


def test_comparison_page_for_ice_shows_both_sides_quotes(page, app_server, kb, artifacts):
    open_app(page, app_server.url, "Compare_sources")
    select_option(page, "Topic", kb.topics["ice"].label)
    expect(page.get_by_role("heading", name="What each source says, in context")).to_be_visible()
    text = normalise_text(main_text(page))
    claims = kb.claims["ice"]
    for_quotes = [c.quote for c in claims if c.stance in ("recommend", "conditional")]
    against_quotes = [c.quote for c in claims if c.stance == "advise_against"]
    assert for_quotes and against_quotes, "ice is a conflicting topic in the shipped knowledge"
    assert any(normalise_text(q) in text for q in for_quotes), "no quote for ice is shown"
    assert any(normalise_text(q) in text for q in against_quotes), "no quote against ice is shown"
    assert STANCE_WORDS["recommend"] in text and STANCE_WORDS["advise_against"] in text
    assert not exceptions_on_page(page)
    screenshot(page, artifacts / "compare_ice.png")


def test_editor_signs_in_and_saves_a_decision(page, app_server, knowledge_tmp, artifacts):
    from streamlit_server import EDITOR_PASSPHRASE

    guidance_file = knowledge_tmp / "guidance" / "ice.yaml"
    before = guidance_file.read_text(encoding="utf-8")
    open_app(page, app_server.url, "Editor")
    page.get_by_label(re.compile("^Who you are")).fill("Dr Browser Test")
    page.get_by_label("Editor passphrase").fill(EDITOR_PASSPHRASE)
    click_and_wait(page, page.get_by_role("button", name="Sign in"))
    expect(page.get_by_text("Signed in as editor")).to_be_visible(timeout=TIMEOUT)

    select_option(page, "Topic", "Ice / cold")
    marker = "Browser test: a wrapped cold pack for ten minutes is fine for comfort."
    advice = page.get_by_label("Acute: advice in plain words")
    before_runs = runs(page)
    advice.fill(marker)
    advice.press("Control+Enter")
    wait_idle(page, after=before_runs)
    note = page.get_by_label(re.compile("^Why you changed it"))
    before_runs = runs(page)
    note.fill("browser test save")
    note.press("Enter")
    wait_idle(page, after=before_runs)
    click_and_wait(page, page.get_by_role("button", name=re.compile("Save decision")))
    expect(page.get_by_text(re.compile(r"^Saved .*: version \d+"))).to_be_visible(timeout=TIMEOUT)
    screenshot(page, artifacts / "editor_saved.png")

    after = guidance_file.read_text(encoding="utf-8")
    assert after != before
    saved = yaml.safe_load(after)
    assert normalise_text(saved["phases"]["acute"]["advice"]) == marker
    save = editorial.history(knowledge_tmp, "ice")[0]  # one git commit, the editor its author, the note its message
    assert (save.author_name, save.note, save.files) == ("Dr Browser Test", "browser test save", ["guidance/ice.yaml"])
    assert not exceptions_on_page(page)


@pytest.mark.parametrize(("name", "path"), page_urls(ROOT), ids=[n for n, _ in page_urls(ROOT)])
def test_every_page_opens_from_its_address_on_a_fresh_server(browser, tmp_path, name, path, artifacts):
    knowledge = copy_knowledge(tmp_path / "knowledge")
    with StreamlitServer(knowledge, log_dir=tmp_path) as server:
        context, pg = new_page(browser)
        try:
            open_app(pg, server.url, path)
            pg.wait_for_timeout(500)  # a "Page not found" dialog appears after the first run
            assert not page_not_found_shown(pg), f"{name}: 'Page not found' at /{path}"
            assert not exceptions_on_page(pg), f"{name}: {exceptions_on_page(pg)}"
            assert pg.locator('[data-testid="stMain"] h1').count() >= 1
            assert not pg.hg_page_errors, pg.hg_page_errors  # type: ignore[attr-defined]
            # The sidebar lists the pages in clinic words, and only once (Streamlit's own list is off).
            sidebar = pg.locator('[data-testid="stSidebar"]')
            labels = [text.split("\n")[-1] for text in sidebar.get_by_role("link").all_inner_texts()]  # after the icon
            assert labels == ["Assessment", "Compare sources", "Editor"]
            screenshot(pg, artifacts / f"page_{name}.png")
        finally:
            context.close()
