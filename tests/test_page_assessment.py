"""The assessment page (dashboard.py) as a clinician uses it, driven through Streamlit's AppTest.

Each test clicks findings the way a user would and checks what the page then shows: the triage banner,
the differential, the plan cards, the downloads. Expected wording comes from the knowledge base and the
engine, so the tests follow the knowledge while still failing when the page shows the wrong thing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from page_driver import downloads, finding_control, open_tab_of
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from hipguide.assessment import assess, red_flag_screen_findings
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.knowledge import KnowledgeBase
from ui.assessment_data import finding_controls, label_escape
from ui.assessment_state import EXPLAIN_KEY
from ui.assessment_view import WHY_TABLE_KEY

# A driver with deep central buttock pain on sitting, positive piriformis tests, lumbar and nerve screens
# negative: deep hip rotator overload alone (no day-after-exercise onset, which would bring in DOMS).
DEEP_ROTATOR_PRESENT = ["loc_deep_central_buttock", "aggr_driving", "aggr_sitting", "aggr_sitting_on_foot",
                        "aggr_stairs_squats", "tender_deep_buttock", "test_seated_piriformis_stretch_positive",
                        "test_fair_positive"]
DEEP_ROTATOR_ABSENT = ["loc_low_back", "test_lumbar_movement_reproduces", "test_slr_positive", "numbness_tingling_leg"]


def finding(at: AppTest, finding_id: str):
    return finding_control(at, finding_id)


def record(at: AppTest, present: list[str] = (), absent: list[str] = ()) -> AppTest:
    for fid in present:
        finding(at, fid).set_value("present")
    for fid in absent:
        finding(at, fid).set_value("absent")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_why_table(at: AppTest) -> AppTest:
    """Open "Likelihood ratios, grouping and references" (drawn only while open)."""
    at.session_state[WHY_TABLE_KEY] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def walk(node) -> Iterator:
    """Every element of the page in the order a user reads it."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from walk(children[key])


ALERTS = ("error", "warning", "info", "success")


def alerts(at: AppTest) -> list:
    return [e for e in walk(at.main) if getattr(e, "type", None) in ALERTS]


def banner(at: AppTest):
    """The triage banner: the first alert on the page."""
    found = alerts(at)
    assert found, "no triage banner"
    return found[0]


def texts(at: AppTest) -> list[str]:
    return [e.value for e in walk(at.main) if isinstance(getattr(e, "value", None), str)]


def plan_card_header(at: AppTest, kb: KnowledgeBase, topic: str) -> str | None:
    """The first line of a plan card: the topic in bold, then its badges (stance and marks)."""
    label = f"**{md_escape(kb.topics[topic].label)}**"
    return next((m.value for m in at.markdown if m.value.startswith(label) and "-badge[" in m.value), None)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# --- a routine case ------------------------------------------------------------------------------

def test_deep_rotator_case_is_routine_ranks_deep_rotator_first_and_advises_against_ice(app, page_kb):
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)

    top = banner(app)
    assert top.type in ("info", "success")
    assert "Triage: ROUTINE" in top.value

    leading = next(t for t in texts(app) if t.startswith("**Most likely:**"))
    assert leading.startswith(f"**Most likely:** 1. {md_escape(page_kb.conditions['deep_hip_rotator_overload'].label)} ")
    why = next(t for t in texts(app) if t.startswith("**") and "pre-test" in t and "→ post-test" in t)
    assert why.startswith(f"**{md_escape(page_kb.conditions['deep_hip_rotator_overload'].label)}**")

    ice = plan_card_header(app, page_kb, "ice")
    assert ice is not None, "the plan has no ice card"
    assert STANCE_WORDS["advise_against"] in ice
    assert "Sources disagree" in ice


def test_the_why_shows_each_recorded_finding_with_its_likelihood_ratio(app, page_kb):
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)
    app.selectbox(key=EXPLAIN_KEY).set_value("deep_hip_rotator_overload").run()
    assert not app.dataframe, "the table is drawn only when asked for"
    table = open_why_table(app).dataframe[0].value
    active = page_kb.findings["aggr_stairs_squats"].label
    row = table[table["finding"] == active].iloc[0]
    lr = page_kb.likelihood_ratios["deep_hip_rotator_overload"]["aggr_stairs_squats"]
    assert row["recorded"] == "Present" and row["lr"] == pytest.approx(lr.lr_positive)
    assert row["provenance"] == ("published" if lr.provenance == "published" else "clinical estimate")
    assert row["counted"] == "Counted" and row["effect"] > 0


def test_the_why_counts_correlated_tests_once_and_says_which_were_not_counted(app, page_kb):
    """Martin's combined rule stands for the two piriformis tests; FAIR (same group) is not counted on top."""
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)
    app.selectbox(key=EXPLAIN_KEY).set_value("deep_gluteal_syndrome").run()
    table = open_why_table(app).dataframe[0].value
    rule = next(r for r in page_kb.composite_rules if r.id == "martin_combined_piriformis_tests")
    rule_row = table[table["finding"].str.startswith(rule.label)].iloc[0]
    assert rule_row["counted"] == "Counted" and rule_row["lr"] == pytest.approx(4.57)
    assert rule_row["provenance"] == "published"
    seated = table[table["finding"] == page_kb.findings["test_seated_piriformis_stretch_positive"].label].iloc[0]
    assert seated["counted"].startswith("Not counted: part of") and seated["effect"] == 0
    fair = table[table["finding"] == page_kb.findings["test_fair_positive"].label].iloc[0]
    assert fair["counted"].startswith("Not counted") and fair["effect"] == 0
    assert fair["group"] == page_kb.dependence_groups["piriformis_provocation"].label
    sitting = table[table["group"] == page_kb.dependence_groups["sitting_intolerance"].label]
    assert (sitting["counted"] == "Counted").sum() == 1, "sitting, driving and sitting on the foot count once"
    assert (table["effect"] > 0).any() and (table["effect"] < 0).any()  # for and against are both shown
    result = assess(page_kb, {"findings": DEEP_ROTATOR_PRESENT, "absent": DEEP_ROTATOR_ABSENT})
    dgs = next(r for r in result.differential if r.condition == "deep_gluteal_syndrome")
    assert table["effect"].sum() == pytest.approx(dgs.log_odds - dgs.log_odds_prior, abs=0.01)


def test_none_fits_replaces_the_ranking_with_what_to_examine_or_refer_for(app, page_kb):
    case = page_kb.vignettes["74_groin_pain_on_coughing_man_45"]
    app.number_input(key="pt.age").set_value(case.age).run()
    record(app, case.findings, case.absent)
    warning = next(w.value for w in app.warning if "None of these fits" in w.value)
    assert "hernia" in warning and "Examine the inguinal canal" in warning
    assert any(e.label.startswith("The ranking anyway") for e in app.expander)
    assert any("No condition on the list fits" in i.value for i in app.info), "no self-care plan is offered"


def test_sex_and_age_set_the_pre_test_probability_and_say_so(app, page_kb):
    record(app, ["loc_lateral_hip", "tender_greater_trochanter"])
    assert any("Age not recorded" in c.value for c in app.caption)
    app.number_input(key="pt.age").set_value(58).run()
    app.segmented_control(key="pt.sex").set_value("female").run()
    assert not any("Age not recorded" in c.value for c in app.caption)
    summary = next(m.value for m in app.markdown if "pre-test" in m.value and "post-test" in m.value)
    assert "age 50–120, female" in summary


def test_too_few_findings_says_so_and_suggests_next_questions(app):
    record(app, ["loc_deep_central_buttock"])
    assert any("Not enough to rank yet" in t for t in texts(app))
    assert any("if positive →" in t and "if negative →" in t for t in texts(app))


def test_exam_tests_explain_how_to_test_and_what_counts_as_positive(app, page_kb):
    for fid, f in page_kb.findings.items():
        if f.group == "examination" and f.how_to and f.positive_if:
            help_text = finding(app, fid).help
            assert md_escape(f.how_to) in help_text and md_escape(f.positive_if) in help_text


def test_not_assessed_is_the_default_and_does_not_count_as_negative(app, page_kb):
    assert all(finding(app, fid).value is None for fid in page_kb.findings)
    red_flags = len(red_flag_screen_findings(page_kb))
    assert f"{red_flags} of {red_flags} red-flag questions not yet asked" in banner(app).value


# --- red flags -----------------------------------------------------------------------------------

def test_saddle_anaesthesia_puts_an_emergency_banner_on_top_and_withholds_the_plan(app, page_kb):
    record(app, [*DEEP_ROTATOR_PRESENT, "rf_saddle_anaesthesia"], DEEP_ROTATOR_ABSENT)

    top = banner(app)
    assert top.type == "error"
    assert "Triage: EMERGENCY" in top.value
    assert md_escape(page_kb.findings["rf_saddle_anaesthesia"].label) in top.value  # which finding fired it
    rule = next(r for r in page_kb.red_flags if "rf_saddle_anaesthesia" in r.any_of + r.all_of)
    assert md_escape(rule.action) in top.value  # and what to do

    elements = list(walk(app.main))
    first_heading = next(i for i, e in enumerate(elements) if getattr(e, "type", None) in ("subheader", "header"))
    assert elements.index(top) < first_heading, "the red flag must sit above everything else"

    assert any(e.value.startswith("**Plan withheld.**") for e in app.error)
    assert plan_card_header(app, page_kb, "ice") is None
    assert not [b for b in app.selectbox if b.key == "ui.compare_pick"]


def test_an_urgent_red_flag_gives_a_warning_banner_with_its_reason(app, page_kb):
    record(app, ["rf_fever_unwell"])
    top = banner(app)
    assert top.type == "warning"
    assert "Triage: URGENT" in top.value and md_escape(page_kb.findings["rf_fever_unwell"].label) in top.value


def test_without_the_age_the_banner_names_the_checks_not_made_and_the_age_then_makes_them(app, page_kb):
    record(app, ["loc_groin", "rf_major_trauma_or_fall"])
    top = banner(app)
    assert top.type == "warning" and "Triage: ROUTINE" in top.value
    assert "Not assessed without the age" in top.value and "Record the age" in top.value
    older = next(r for r in page_kb.red_flags if r.id == "hip_fracture_fall_older")
    assert md_escape(older.label) in top.value
    assert not plan_card_header(app, page_kb, "strengthening"), "active self-care waits for the age"

    app.number_input(key="pt.age").set_value(84).run()
    top = banner(app)
    assert top.type == "error" and "Triage: EMERGENCY" in top.value and md_escape(older.action) in top.value
    assert "Not assessed" not in top.value


def test_do_not_start_treatment_leaves_active_self_care_out_of_the_plan_and_says_why(app, page_kb):
    record(app, ["loc_deep_central_buttock", "aggr_sitting", "rf_cancer_history", "rf_unexplained_weight_loss"])
    app.number_input(key="pt.age").set_value(47).run()
    assert "Triage: URGENT" in banner(app).value
    for topic in ("heat", "stretching", "strengthening"):
        assert plan_card_header(app, page_kb, topic) is None, topic
    held = next(w.value for w in app.warning if w.value.startswith("**Not offered until the red flag"))
    for topic in ("heat", "stretching", "strengthening"):
        assert md_escape(page_kb.topics[topic].label) in held
    assert "do not start treatment" in held


def test_a_test_that_could_harm_carries_its_warning_where_it_is_shown(app, page_kb):
    record(app, ["loc_groin", "risk_low_energy_availability", "recent_training_increase"])
    warning = md_escape(page_kb.findings["test_hop_positive"].caution.warning)
    open_tab_of(app, "test_hop_positive").run()  # where the hop test's control is
    assert any(warning in w.value for w in app.warning), "the hop test must say not to hop-test"
    assert "Triage: URGENT" in banner(app).value


def test_sex_is_recorded_and_cleared_with_the_patient(app):
    app.segmented_control(key="pt.sex").set_value("female").run()
    assert app.segmented_control(key="pt.sex").value == "female"
    button(app, "New patient").click().run()
    assert app.segmented_control(key="pt.sex").value is None


# --- phase, new patient, downloads ---------------------------------------------------------------

def test_changing_the_phase_changes_the_plan_advice(app, page_kb):
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)
    case = {"findings": DEEP_ROTATOR_PRESENT, "absent": DEEP_ROTATOR_ABSENT}
    advice = {phase: next(i.advice for i in assess(page_kb, {**case, "phase": phase}).plan if i.topic == "strengthening")
              for phase in ("acute", "prevention")}
    assert advice["acute"] != advice["prevention"], "the knowledge should give different strengthening advice"

    assert any(md_escape(advice["acute"]) in t for t in texts(app))
    app.segmented_control(key="pt.phase").set_value("prevention").run()
    shown = texts(app)
    page = "\n".join(shown)
    assert md_escape(advice["prevention"]) in page and md_escape(advice["acute"]) not in page
    assert any(t.startswith("Plan — prevention phase") for t in shown)


def test_new_patient_clears_every_finding_the_phase_and_the_age(app, page_kb):
    record(app, [*DEEP_ROTATOR_PRESENT, "rf_fever_unwell"], DEEP_ROTATOR_ABSENT)
    app.segmented_control(key="pt.phase").set_value("recovery")
    app.number_input(key="pt.age").set_value(52)
    app.run()
    assert "Triage: URGENT" in banner(app).value

    button(app, "New patient").click().run()
    assert not app.exception
    assert all(finding(app, fid).value is None for fid in page_kb.findings)
    assert app.segmented_control(key="pt.phase").value == "acute"
    assert app.number_input(key="pt.age").value is None
    assert "Triage: ROUTINE" in banner(app).value


def test_downloads_hold_this_patients_note_and_handout(app, page_kb, monkeypatch):
    registered = downloads(monkeypatch)
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)

    assert {b.label for b in app.get("download_button")} >= {"Clinical note", "Clinical note PDF", "Patient handout"}
    made = {name: make() for name, make in registered.items()}  # what a click would download
    note = made["hipguide-clinical-note.md"]
    assert "Triage: ROUTINE" in note
    assert md_escape(page_kb.findings["test_seated_piriformis_stretch_positive"].label) in note
    assert md_escape(page_kb.conditions["deep_hip_rotator_overload"].label) in note
    note_pdf = pdf_text(made["hipguide-clinical-note.pdf"])
    assert "HipGuide assessment note" in note_pdf and "Triage: ROUTINE" in note_pdf
    assert page_kb.findings["test_seated_piriformis_stretch_positive"].label in note_pdf
    handout = pdf_text(made["hipguide-patient-handout.pdf"])
    assert handout.startswith("Your self-care plan")
    for heading in ("Your plan", "What to avoid", "When to seek care", "What this plan is based on"):
        assert heading in handout
    assert "piriformis stretch test" not in handout.lower()  # plain words for the patient, no exam findings


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def test_the_sidebar_names_the_pages_in_clinic_words(app):
    links = [(link.proto.label, link.proto.page) for link in app.sidebar.get("page_link")]
    assert links == [("Assessment", ""), ("Compare sources", "Compare_sources"), ("Editor", "Editor")]


def test_page_states_that_it_supports_clinical_judgement(app):
    assert any("does not replace, clinical judgement" in c.value for c in app.caption)


def test_compare_sources_on_a_plan_card_brings_that_topic_into_focus_beside_the_assessment(app, page_kb):
    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)
    plan = assess(page_kb, {"findings": DEEP_ROTATOR_PRESENT, "absent": DEEP_ROTATOR_ABSENT}).plan
    assert app.selectbox(key="ui.focus_topic").value == plan[0].topic
    assert "run_it_out" in [i.topic for i in plan] and plan[0].topic != "run_it_out"
    pick = app.selectbox(key="ui.compare_pick")
    assert f"⚡ {page_kb.topics['ice'].label}" in pick.options  # the sources disagree on ice: marked
    run_it_out = next(i for i in plan if i.topic == "run_it_out")
    assert ("⚡ " if run_it_out.conflict else "") + page_kb.topics["run_it_out"].label in pick.options
    pick.set_value("run_it_out").run()
    assert app.selectbox(key="ui.focus_topic").value == "run_it_out"
    assert f"**{md_escape(page_kb.topics['run_it_out'].label)}**" in texts(app)  # the comparison panel's heading


def test_chart_templates_are_shared_unchanged_and_hold_no_patient_data(app, page_kb):
    """The globally cached chart specs are templates: a patient's rows never end up in them."""
    import json

    import streamlit as st

    from ui import charts

    record(app, DEEP_ROTATOR_PRESENT, DEEP_ROTATOR_ABSENT)
    geometry = page_kb.file_hashes["body_map.yaml"]
    used = {"differential": charts.differential_spec(), "contribution": charts.contribution_spec(),
            "body map": charts.body_map_spec(geometry, page_kb)}
    used_json = {name: json.dumps(spec, sort_keys=True) for name, spec in used.items()}
    st.cache_resource.clear()
    fresh = {"differential": charts.differential_spec(), "contribution": charts.contribution_spec(),
             "body map": charts.body_map_spec(geometry, page_kb)}
    for name, spec in fresh.items():
        assert used_json[name] == json.dumps(spec, sort_keys=True), f"the {name} template was changed by a render"
        assert "data" not in spec, f"the {name} template carries rows"
    label = page_kb.findings["test_seated_piriformis_stretch_positive"].label
    assert all(label not in text for text in used_json.values())
    assert "Pain marked" not in used_json["body map"]


# --- the guided interview and the pain drawing ---------------------------------------------------

def interview_question(at: AppTest) -> str:
    """The question the interview asks now (its heading)."""
    return next(m.value.split("\n### ", 1)[1] for m in at.markdown if "\n### " in m.value)


def answer(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.key == f"ui.interview.{label.lower()}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_interview_runs_the_red_flag_screen_first_and_answers_in_place(app, page_kb):
    red_flags = red_flag_screen_findings(page_kb)
    assert interview_question(app) == label_escape(page_kb.findings[red_flags[0]].label)
    assert any(m.value.startswith("**How:**") for m in app.markdown)  # how to ask it, in place
    answer(app, "No")
    assert finding(app, red_flags[0]).value == "absent"  # the same state as the control in its tab
    answer(app, "Yes")
    assert finding(app, red_flags[1]).value == "present"
    expected = assess(page_kb, {"findings": [red_flags[1]], "absent": [red_flags[0]]}).triage.level
    assert f"Triage: {expected.upper()}" in banner(app).value  # the banner follows the answer
    answer(app, "Skip")
    assert finding(app, red_flags[2]).value is None  # skipped: still not assessed
    assert "Triage" in banner(app).value


def test_after_the_red_flags_the_interview_asks_the_next_best_question_with_its_effect(app, page_kb):
    red_flags = red_flag_screen_findings(page_kb)
    record(app, ["loc_deep_central_buttock"], red_flags)
    expected = assess(page_kb, {"findings": ["loc_deep_central_buttock"], "absent": red_flags}).next_questions[0]
    heading = label_escape(page_kb.findings[expected.finding].label)
    assert interview_question(app) == heading
    assert any("if positive →" in c.value for c in app.caption)
    answer(app, "Yes")
    assert finding(app, expected.finding).value == "present"
    assert interview_question(app) != heading  # re-ranked: the next question is another one


def test_jump_to_any_finding_asks_it_next(app, page_kb):
    app.selectbox(key="pt.interview.jump").set_value("test_slump_positive").run()
    assert not app.exception
    assert interview_question(app) == label_escape(page_kb.findings["test_slump_positive"].label)
    answer(app, "Yes")
    assert finding(app, "test_slump_positive").value == "present"


def finding_keys_drawn(at: AppTest) -> set[str]:
    return {c.key for c in at.segmented_control if c.key and c.key.startswith("pt.f.")}


def test_jump_to_any_finding_opens_its_tab_so_its_control_is_in_view(app, page_kb):
    assert "pt.f.test_slump_positive" not in finding_keys_drawn(app)  # another tab is open
    app.selectbox(key="pt.interview.jump").set_value("test_slump_positive").run()
    assert "pt.f.test_slump_positive" in finding_keys_drawn(app)


def test_only_the_open_tab_is_drawn_and_answers_in_other_tabs_still_count(app, page_kb):
    """A click redraws one group of controls; what was recorded in another tab stays recorded and counted."""
    record(app, ["loc_deep_central_buttock", "aggr_sitting"])
    aggravators = next(controls for _g, _t, controls in finding_controls(page_kb) if any(c.id == "aggr_sitting" for c in controls))
    assert finding_keys_drawn(app) == {f"pt.f.{c.id}" for c in aggravators}  # the tab last used, and only it
    assert "pt.f.loc_deep_central_buttock" not in finding_keys_drawn(app)
    summary = next(c.value for c in app.caption if c.value.startswith("**Present:**"))
    for fid in ("loc_deep_central_buttock", "aggr_sitting"):  # listed, whichever tab holds it
        assert label_escape(page_kb.findings[fid].label) in summary.splitlines()[0]
    case = {"findings": ["loc_deep_central_buttock", "aggr_sitting"]}
    assert leading_text(app).startswith(f"**Most likely:** 1. {md_escape(page_kb.conditions[assess(page_kb, case).differential[0].condition].label)}")
    assert finding(app, "loc_deep_central_buttock").value == "present"  # back in its tab, as recorded


def test_pain_drawing_complete_counts_unmarked_regions_as_absent(app, page_kb):
    record(app, ["loc_deep_central_buttock"])
    note_before = leading_text(app)
    app.checkbox(key="pt.pain_drawing_complete").check().run()
    assert not app.exception
    counted = next(c.value for c in app.caption if c.value.startswith("Counted as absent"))
    assert md_escape(page_kb.findings["loc_low_back"].label) in counted
    assert md_escape(page_kb.findings["loc_deep_central_buttock"].label) not in counted
    assert leading_text(app) != note_before  # the engine used them: the differential moved
    app.checkbox(key="pt.pain_drawing_complete").uncheck().run()
    assert not any(c.value.startswith("Counted as absent") for c in app.caption)
    assert leading_text(app) == note_before


def leading_text(at: AppTest) -> str:
    return next(t for t in texts(at) if t.startswith("**Most likely:**"))


def test_the_red_flag_tab_holds_the_new_questions_and_the_risk_factors_the_rules_use(app, page_kb):
    screen = red_flag_screen_findings(page_kb)
    for fid in ("rf_pulsatile_abdominal_mass", "risk_prosthetic_hip", "risk_recent_infection_or_immunosuppression",
                "risk_osteoporosis", "rf_bilateral_leg_symptoms"):
        assert fid in screen
    tab = app.tabs[0]
    assert "Red flags" in tab.label
    keys = {w.key for w in tab.segmented_control}
    assert {f"pt.f.{fid}" for fid in screen} == keys
    record(app, absent=screen)
    assert banner(app).type == "success"
    record(app, ["risk_prosthetic_hip"])
    assert "no rule fired" in banner(app).value and banner(app).type == "info"


def test_a_cleared_answer_is_not_assessed_again_in_every_view(app, page_kb):
    """Clicking the selected option again clears it: not in the record, the summary or the engine's case."""
    record(app, ["aggr_sitting", "aggr_driving"])
    finding(app, "aggr_sitting").set_value(None).run()
    assert not app.exception
    summary = next(c.value for c in app.caption if c.value.startswith("**Present:**"))
    assert label_escape(page_kb.findings["aggr_sitting"].label) not in summary
    assert label_escape(page_kb.findings["aggr_driving"].label) in summary
    assert finding(app, "aggr_sitting").value is None
    # The interview's answer to a finding whose control is in view shows in that control at once.
    app.selectbox(key="pt.interview.jump").set_value("aggr_sitting").run()
    answer(app, "No")
    assert finding(app, "aggr_sitting").value == "absent"
