"""Follow-up visits on the assessment page, through AppTest: outcome entry, the FHIR record to download,
earlier records uploaded (good, several, hostile), New patient, and nothing written to disk."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from page_driver import ASSESSMENT_PAGE, downloads, finding_control
from privacy import disk_writes
from streamlit.testing.v1 import AppTest

from hipguide.assessment import assess
from hipguide.exports import md_escape
from hipguide.fhir import MAX_RECORD_BYTES, OUTCOME_SYSTEM, read_visit_record, visit_bundle
from hipguide.knowledge import KnowledgeBase
from ui.follow_up import SECTION_KEY

NOV3, NOV17 = dt.date(2026, 11, 3), dt.date(2026, 11, 17)
EARLIER = {"findings": ["loc_deep_central_buttock", "aggr_sitting"], "absent": ["test_slr_positive"],
           "outcomes": {"nprs": 7, "lefs": 52, "psfs": [3], "psfs_activities": ["Sitting through a film"]}}


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app(app):
    """The assessment page with its follow-up section opened (it is drawn only when open)."""
    app.session_state[SECTION_KEY] = True
    return rerun(app)


def test_the_follow_up_section_is_drawn_when_opened_and_stays_open_while_it_holds_this_visits_data(page_kb):
    at = rerun(AppTest.from_file(ASSESSMENT_PAGE, default_timeout=30))
    assert not at.file_uploader  # closed: nothing of it drawn
    assert "pt.o.nprs" not in [n.key for n in at.number_input]
    at.session_state[SECTION_KEY] = True
    rerun(at)
    at.number_input(key="pt.o.nprs").set_value(6)
    rerun(at)
    at.session_state[SECTION_KEY] = False  # the clinician folds it while an outcome is entered
    rerun(at)
    assert at.number_input(key="pt.o.nprs").value == 6  # still open, and the score is kept
    upload(at, record_file(page_kb))
    at.number_input(key="pt.o.nprs").set_value(None)
    at.session_state[SECTION_KEY] = False
    rerun(at)
    assert at.file_uploader, "with an earlier record held, the section (and its uploader) stays open"


def record_file(kb: KnowledgeBase, case: dict = EARLIER, day: dt.date = NOV3, name: str | None = None) -> tuple[str, bytes, str]:
    raw = json.dumps(visit_bundle(kb, assess(kb, case), day)).encode()
    return (name or f"visit-{day}.json", raw, "application/json")


def enter_outcomes(at: AppTest, nprs: int | None = None, lefs_item: int | None = None, psfs: list[tuple[str, int]] = ()) -> None:
    if nprs is not None:
        at.number_input(key="pt.o.nprs").set_value(nprs)
    if lefs_item is not None:
        at.segmented_control(key="pt.o.panel").set_value("lefs")
        rerun(at)  # the item controls are drawn when their panel is open
        for i in range(1, 21):
            at.segmented_control(key=f"pt.o.lefs.{i:02d}").set_value(lefs_item)
    if psfs:
        if lefs_item is not None:
            rerun(at)
        at.segmented_control(key="pt.o.panel").set_value("psfs")
        rerun(at)
    for i, (name, score) in enumerate(psfs, start=1):
        at.text_input(key=f"pt.o.psfs.name.{i}").set_value(name)
        at.number_input(key=f"pt.o.psfs.score.{i}").set_value(score)
    rerun(at)


def upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader[0].set_value(list(files))
    return rerun(at)


def walk(node) -> Iterator:
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from walk(children[key])


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def trend_charts(at: AppTest) -> list:
    return [e for e in walk(at.main) if getattr(e, "type", None) == "vega_lite_chart" and "band_aria" in e.proto.spec]


# --- entry ----------------------------------------------------------------------------------------

def test_entering_the_lefs_items_computes_the_total_and_the_record_holds_every_score(app, page_kb, monkeypatch):
    made = downloads(monkeypatch)
    finding_control(app, "aggr_sitting").set_value("present")
    finding_control(app, "test_slr_positive").set_value("absent")
    app.date_input(key="pt.o.visit_date").set_value(NOV17)
    enter_outcomes(app, nprs=4, lefs_item=3, psfs=[("Sitting through a film", 6), ("Running 5 km", 2)])
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"LEFS total": "60/80", "PSFS mean": "4/10"}

    name = "hipguide-visit-2026-11-17.json"
    assert name in made, list(made)
    record = read_visit_record(page_kb, made[name]().encode())
    assert record.date == NOV17
    assert (record.findings, record.absent) == (("aggr_sitting",), ("test_slr_positive",))
    o = record.outcomes
    assert (o.nprs, o.lefs, o.lefs_items, o.psfs, o.psfs_activities) == (4, 60, [3] * 20, [6, 2], ["Sitting through a film", "Running 5 km"])
    note = made["hipguide-clinical-note.md"]()
    assert "## Outcome measures" in note and "**Pain now \\(NPRS\\)**: 4/10" in note and "60/80" in note


def test_a_partly_answered_lefs_gives_no_total_and_closing_the_panel_keeps_the_answers(app):
    app.segmented_control(key="pt.o.panel").set_value("lefs")
    rerun(app)
    app.segmented_control(key="pt.o.lefs.01").set_value(4)
    rerun(app)
    assert {m.label: m.value for m in app.metric}["LEFS total"] == "—"
    assert "LEFS items (1 of 20 answered)" in app.segmented_control(key="pt.o.panel").options
    enter_outcomes(app, lefs_item=2)
    app.segmented_control(key="pt.o.panel").set_value(None)
    rerun(app)
    assert not [c for c in app.segmented_control if c.key == "pt.o.lefs.01"]  # the panel is closed
    assert {m.label: m.value for m in app.metric}["LEFS total"] == "40/80"


def test_each_measure_shows_its_mcid_and_reference(app, page_kb):
    text = "\n".join(c.value for c in app.caption)
    for m in page_kb.outcome_measures.values():
        assert md_escape(m.mcid.reference[:30]) in text, m.id


# --- upload ---------------------------------------------------------------------------------------

def test_an_earlier_record_shows_progress_against_the_mcid_a_trend_and_findings_beside_todays(app, page_kb):
    finding_control(app, "loc_deep_central_buttock").set_value("present")
    finding_control(app, "aggr_sitting").set_value("absent")
    app.date_input(key="pt.o.visit_date").set_value(dt.date(2026, 12, 1))
    enter_outcomes(app, nprs=4, lefs_item=3, psfs=[("Sitting through a film", 6)])
    upload(app, record_file(page_kb))
    text = markdown(app)
    assert md_escape("LEFS +8 since 3 Nov: less than the 9-point MCID, not a clinically important change") in text
    assert md_escape("NPRS −3 since 3 Nov: more than the 1.5-point MCID (improved)") in text
    assert md_escape("PSFS +3 since 3 Nov: more than the 1.3-point MCID (improved)") in text
    assert ":green[" + md_escape("NPRS −3") in text and ":gray[" + md_escape("LEFS +8") in text
    assert len(trend_charts(app)) == 3
    table = app.dataframe[-1].value
    assert list(table.columns) == ["finding", "3 Nov", "Today", "changed"]
    sitting = table[table["finding"] == page_kb.findings["aggr_sitting"].label].iloc[0]
    assert (sitting["3 Nov"], sitting["Today"], bool(sitting["changed"])) == ("Present", "Absent", True)
    slr = table[table["finding"] == page_kb.findings["test_slr_positive"].label].iloc[0]
    assert (slr["3 Nov"], slr["Today"]) == ("Absent", "—")  # not assessed today: never shown as absent


def test_several_records_are_ordered_by_date_and_compared_with_the_first_and_the_last(app, page_kb):
    app.date_input(key="pt.o.visit_date").set_value(dt.date(2026, 12, 1))
    enter_outcomes(app, lefs_item=4)  # LEFS 80
    later = {**EARLIER, "outcomes": {"lefs": 70}}
    upload(app, record_file(page_kb, later, NOV17), record_file(page_kb))
    text = markdown(app)
    assert md_escape("LEFS +28 since 3 Nov: more than the 9-point MCID (improved)") in text
    assert md_escape("LEFS +10 since 17 Nov: more than the 9-point MCID (improved)") in text
    assert text.index("3 Nov 2026") < text.index("17 Nov 2026")
    assert list(app.dataframe[-1].value.columns) == ["finding", "3 Nov", "17 Nov", "Today", "changed"]


HOSTILE = [
    ("notes.json", b'{"resourceType": "Patient", "name": [{"text": "x"}]}', "expected a FHIR Bundle, found 'Patient'"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("big.json", b" " * (MAX_RECORD_BYTES + 10), "too large"),
    ("photo.json", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
]


@pytest.mark.parametrize(("name", "raw", "problem"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_bad_upload_gets_a_clear_message_and_the_session_continues(app, page_kb, name, raw, problem):
    finding_control(app, "aggr_sitting").set_value("present")
    enter_outcomes(app, nprs=5)
    upload(app, (name, raw, "application/json"), record_file(page_kb))
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and errors[0].startswith(f"**{md_escape(name)}** was not read:") and md_escape(problem) in errors[0]
    assert finding_control(app, "aggr_sitting").value == "present"  # nothing lost
    assert app.number_input(key="pt.o.nprs").value == 5
    assert md_escape("NPRS −2 since 3 Nov") in markdown(app)  # the good record beside it is still read


def test_a_record_with_a_huge_text_field_is_refused(app, page_kb):
    name, raw, mime = record_file(page_kb)
    bundle = json.loads(raw)
    bundle["entry"][0]["resource"]["summary"] = "A" * 200_000
    upload(app, (name, json.dumps(bundle).encode(), mime))
    [error] = [e.value for e in app.error]
    assert md_escape("a text field is too long (200,000 characters; at most 4,000)") in error
    assert not trend_charts(app)


def test_a_record_from_another_knowledge_version_names_the_unknown_ids(app, page_kb):
    name, raw, mime = record_file(page_kb)
    bundle = json.loads(raw)
    bundle["meta"]["tag"][1]["code"] = "f" * 64
    bundle["entry"][1]["resource"]["code"]["coding"][0]["code"] = "loc_new_region"
    upload(app, (name, json.dumps(bundle).encode(), mime))
    [error] = [e.value for e in app.error]
    assert "different knowledge version" in error and md_escape("loc_new_region") in error


def test_script_in_an_uploaded_record_is_shown_as_text(app, page_kb):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    upload(app, record_file(page_kb, {**EARLIER, "outcomes": {"psfs": [3], "psfs_activities": [hostile]}}))
    text = markdown(app)
    assert md_escape(hostile) in text  # escaped: Streamlit shows it as the literal text
    shown = [line for line in text.splitlines() if "alert" in line]
    assert shown and not any(re.search(r"(?<!\\)<", line) for line in shown), "an unescaped tag would reach the browser"


def test_new_patient_forgets_the_outcomes_and_the_uploaded_records(app, page_kb):
    enter_outcomes(app, nprs=5, lefs_item=2, psfs=[("Stairs", 4)])
    upload(app, record_file(page_kb))
    assert trend_charts(app)
    next(b for b in app.button if b.label == "New patient").click()
    rerun(app)
    assert app.number_input(key="pt.o.nprs").value is None
    assert {m.label: m.value for m in app.metric} == {"LEFS total": "—", "PSFS mean": "—"}
    app.segmented_control(key="pt.o.panel").set_value("lefs")
    rerun(app)
    assert all(app.segmented_control(key=f"pt.o.lefs.{i:02d}").value is None for i in range(1, 21))
    app.segmented_control(key="pt.o.panel").set_value("psfs")
    rerun(app)
    assert app.text_input(key="pt.o.psfs.name.1").value in (None, "")
    assert not trend_charts(app) and "since 3 Nov" not in markdown(app)
    assert app.file_uploader[0].value in (None, [])


def test_uploading_records_writes_nothing_to_disk(app, page_kb, tmp_path, monkeypatch):
    """Privacy: the upload, its reading and the page's rerun open no file for writing."""
    enter_outcomes(app, nprs=5)
    with disk_writes() as writes:
        upload(app, record_file(page_kb), ("deep.json", b"[" * 50_000, "application/json"))
        assert trend_charts(app)
    assert writes == [], writes


def test_the_trend_chart_template_holds_no_patient_data(app, page_kb):
    from ui.follow_up import trend_spec

    upload(app, record_file(page_kb))
    m = page_kb.outcome_measures["lefs"]
    spec = json.dumps(trend_spec(m.short, m.min, m.max, m.better))
    assert '"datasets"' not in spec and '"values"' not in spec and "Sitting through a film" not in spec


def test_the_record_download_names_no_patient(app, page_kb, monkeypatch):
    made = downloads(monkeypatch)
    enter_outcomes(app, nprs=3)
    bundle = json.loads(next(v for k, v in made.items() if k.startswith("hipguide-visit-"))())
    text = json.dumps(bundle)
    assert '"Patient"' not in text and '"identifier"' not in text
    assert any(c["system"] == OUTCOME_SYSTEM and c["code"] == "nprs"
               for e in bundle["entry"] for c in e["resource"].get("code", {}).get("coding", []))
