"""Every red-flag route of the shipped knowledge: which rule fires, its level and its action; the age
boundaries; checks that cannot be made without the age; and that the plan obeys the triage."""

from __future__ import annotations

import pytest

from hipguide.assessment import assess
from hipguide.exports import clinical_note, md_escape, patient_handout
from hipguide.models import TRIAGE_ORDER, Case

# A clear deep-rotator picture: without flags it is routine; flags must override it.
# (No weight-bearing aggravator: with a cancer history that is a flag of its own.)
ROTATOR = ["loc_deep_central_buttock", "onset_day_after_exercise", "aggr_sitting", "aggr_driving", "tender_deep_buttock"]
ACTIVE_KINDS = {"thermal", "manual", "stretch", "loading"}

# (findings, age, rule that must fire, its level, a word its action must contain)
ROUTES = [
    (["rf_saddle_anaesthesia"], 40, "cauda_equina", "emergency", "emergency"),
    (["rf_bladder_bowel_change"], 40, "cauda_equina", "emergency", "emergency"),
    (["rf_bilateral_leg_symptoms"], 40, "bilateral_leg_symptoms", "emergency", "cauda equina"),
    (["rf_hot_swollen_red", "rf_fever_unwell"], 40, "septic_arthritis_infection", "emergency", "aspiration"),
    (["rf_hot_swollen_red", "risk_prosthetic_hip"], 70, "septic_arthritis_infection", "emergency", "prosthetic"),
    (["rf_hot_swollen_red", "risk_recent_infection_or_immunosuppression"], 40, "septic_arthritis_infection", "emergency", "septic"),
    (["rf_cannot_bear_weight", "rf_major_trauma_or_fall"], 40, "fracture_after_trauma", "emergency", "radiograph"),
    (["rf_cannot_bear_weight", "risk_osteoporosis"], 40, "fracture_after_trauma", "emergency", "radiograph"),
    (["rf_major_trauma_or_fall", "risk_osteoporosis"], 45, "hip_fracture_fall_fragile_bone", "emergency", "mri"),
    (["rf_major_trauma_or_fall"], 84, "hip_fracture_fall_older", "emergency", "walk"),
    (["rf_major_trauma_or_fall", "test_patellar_pubic_percussion_positive"], 30, "fracture_percussion_sign", "emergency", "radiograph"),
    (["limp", "loc_anterior_thigh"], 13, "slipped_capital_femoral_epiphysis", "emergency", "non-weight-bearing"),
    (["loc_knee"], 12, "slipped_capital_femoral_epiphysis", "emergency", "both hips"),
    (["limp", "rf_fever_unwell"], 5, "child_limp_with_fever", "emergency", "septic"),
    (["rf_pulsatile_abdominal_mass"], 70, "abdominal_aortic_aneurysm", "emergency", "aneurysm"),
    (["rf_fever_unwell"], 40, "fever_unwell", "urgent", "infection"),
    (["rf_hot_swollen_red"], 40, "hot_swollen_joint", "urgent", "24-48"),
    (["rf_cannot_bear_weight"], 40, "cannot_bear_weight", "urgent", "radiograph"),
    (["rf_cancer_history", "rf_constant_night_pain"], 40, "malignancy_cancer_history", "urgent", "do not start treatment"),
    (["rf_cancer_history", "rf_unexplained_weight_loss"], 40, "malignancy_cancer_history", "urgent", "do not start treatment"),
    (["rf_cancer_history", "aggr_walking"], 40, "malignancy_weight_bearing_pain", "urgent", "pathological fracture"),
    (["rf_cancer_history"], 63, "malignancy_cancer_history_over_50", "urgent", "do not start treatment"),
    (["rf_unexplained_weight_loss", "rf_constant_night_pain"], 40, "weight_loss_night_pain", "urgent", "do not start treatment"),
    (["rf_unexplained_weight_loss"], 60, "weight_loss_over_50", "urgent", "do not start treatment"),
    (["rf_constant_night_pain"], 60, "constant_night_pain_over_50", "urgent", "do not start treatment"),
    (["rf_progressive_weakness"], 40, "progressive_weakness", "urgent", "mri"),
    (["tender_focal_bone"], 30, "bone_stress_signs", "urgent", "stop running"),
    (["test_hop_positive"], 30, "bone_stress_signs", "urgent", "stop running"),
    (["test_patellar_pubic_percussion_positive"], 30, "bone_stress_signs", "urgent", "imaging"),
    (["worse_with_each_run", "risk_low_energy_availability"], 30, "bone_stress_pattern", "urgent", "stop running"),
    (["loc_groin", "risk_low_energy_availability", "recent_training_increase"], 22, "femoral_neck_stress_fracture", "urgent", "do not hop-test"),
    (["loc_groin", "pain_on_impact", "pain_end_range_hip_ir"], 30, "femoral_neck_stress_fracture", "urgent", "displace"),
    (["loc_groin", "risk_low_energy_availability"], 19, "femoral_neck_stress_fracture_low_energy", "urgent", "do not hop-test"),
    (["limp", "loc_knee"], 6, "perthes_disease", "urgent", "paediatric"),
    (["rf_cancer_history"], 40, "cancer_history_alone", "routine", "safety-netting"),
    (["rf_unexplained_weight_loss"], 40, "weight_loss_alone", "routine", "review"),
    (["rf_constant_night_pain"], 40, "night_pain_alone", "routine", "review"),
    (["loc_lateral_hip"], 55, "new_pain_over_50", "routine", "safety-net"),
    (["rf_major_trauma_or_fall"], 40, "fall_onto_hip", "routine", "percussion"),
    (["inflammatory_back_pain_features"], 30, "inflammatory_back_pain", "routine", "rheumatology"),
]


def test_no_flag_is_routine(kb):
    res = assess(kb, Case(findings=ROTATOR, age=35))
    assert res.triage.level == "routine" and not res.triage.reasons and not res.triage.not_assessed
    assert res.differential[0].condition == "deep_hip_rotator_overload"


def test_every_rule_has_a_route_here(kb):
    assert {rule.id for rule in kb.red_flags} == {route[2] for route in ROUTES}


@pytest.mark.parametrize(("flags", "age", "rule", "level", "action_word"), ROUTES, ids=[f"{r[2]}:{'+'.join(r[0])}" for r in ROUTES])
def test_red_flag_route(kb, flags, age, rule, level, action_word):
    res = assess(kb, Case(findings=[*ROTATOR, *flags], age=age))
    fired = {r.rule: r for r in res.triage.reasons}
    assert rule in fired, f"{rule} did not fire; fired: {sorted(fired)}"
    assert fired[rule].level == level
    assert action_word in fired[rule].action.lower()
    assert set(fired[rule].findings) <= set(flags) | set(ROTATOR)
    assert res.triage.level == max((r.level for r in res.triage.reasons), key=TRIAGE_ORDER.__getitem__)
    # The differential is still shown, but the triage is the flag's, never the differential's.
    assert res.differential[0].condition


# (rule, findings, first age at which it fires, first age at which it no longer fires or None)
AGE_BOUNDARIES = [
    ("hip_fracture_fall_older", ["rf_major_trauma_or_fall"], 65, None),
    ("malignancy_cancer_history_over_50", ["rf_cancer_history"], 50, None),
    ("weight_loss_over_50", ["rf_unexplained_weight_loss"], 50, None),
    ("constant_night_pain_over_50", ["rf_constant_night_pain"], 50, None),
    ("new_pain_over_50", ["loc_lateral_hip"], 50, None),
    ("slipped_capital_femoral_epiphysis", ["limp"], 8, 17),
    ("perthes_disease", ["limp"], 3, 11),
    ("child_limp_with_fever", ["limp", "rf_fever_unwell"], 0, 16),
]


@pytest.mark.parametrize(("rule", "findings", "first", "after"), AGE_BOUNDARIES, ids=[b[0] for b in AGE_BOUNDARIES])
def test_age_thresholds(kb, rule, findings, first, after):
    def fires(age: int) -> bool:
        return rule in {r.rule for r in assess(kb, Case(findings=findings, age=age)).triage.reasons}

    assert fires(first)
    if first > 0:
        assert not fires(first - 1)
    if after is not None:
        assert fires(after - 1) and not fires(after)


def test_the_84_year_old_faller_who_can_walk_is_an_emergency_without_a_plan(kb):
    res = assess(kb, Case(findings=["loc_lateral_hip", "loc_groin", "rf_major_trauma_or_fall", "risk_osteoporosis",
                                    "tender_greater_trochanter", "test_single_leg_stance_pain"],
                          absent=["rf_cannot_bear_weight"], age=84, sex="female"))
    assert res.triage.level == "emergency"
    assert {"hip_fracture_fall_fragile_bone", "hip_fracture_fall_older"} <= {r.rule for r in res.triage.reasons}
    assert res.plan == [] and "walk" in res.plan_withheld
    assert "test_hop_positive" in res.cautions
    assert all(q.finding != "test_hop_positive" for q in res.next_questions)


def test_without_the_age_the_age_checks_are_not_assessed_and_hold_back_active_self_care(kb):
    res = assess(kb, Case(findings=["loc_groin", "rf_major_trauma_or_fall", *ROTATOR]))
    unchecked = {u.rule: u for u in res.triage.not_assessed}
    assert {"hip_fracture_fall_older", "slipped_capital_femoral_epiphysis"} <= set(unchecked)
    assert unchecked["hip_fracture_fall_older"].needs == ("age",)
    note = res.triage.not_assessed_note()
    assert "age" in note and "not negative" in note and "hip fracture" in note.lower()
    assert res.triage.level == "routine"  # nothing has fired, but nothing is counted as negative either
    kinds = {kb.topics[item.topic].kind for item in res.plan}
    assert not kinds & ACTIVE_KINDS, "active self-care is held until the age is recorded"
    assert res.withheld and all(w.needs == ("age",) for w in res.withheld)
    # Once the age is recorded, the checks are made.
    young = assess(kb, Case(findings=["loc_groin", "rf_major_trauma_or_fall", *ROTATOR], age=35))
    assert not young.triage.not_assessed and not young.withheld


def test_a_check_that_could_not_raise_the_level_is_not_asked_for(kb):
    res = assess(kb, Case(findings=["rf_saddle_anaesthesia", "loc_lateral_hip"]))
    assert res.triage.level == "emergency"
    assert all(TRIAGE_ORDER[u.level] > TRIAGE_ORDER["emergency"] for u in res.triage.not_assessed)


def test_a_sex_gated_rule_is_not_assessed_without_the_sex(tmp_path):
    from minikb import write_mini_kb

    from hipguide.knowledge import load_knowledge

    mini_kb_dir = write_mini_kb(tmp_path / "kb")
    path = mini_kb_dir / "red_flags.yaml"
    path.write_text(path.read_text().replace("red_flags:\n", "red_flags:\n- id: sex_rule\n  label: Sex rule\n  level: urgent\n"
                                              "  all_of: [sharp_onset]\n  sex: female\n  action: Act.\n  reference: Ref\n"
                                              "  withhold: []\n", 1))
    kb = load_knowledge(mini_kb_dir)
    assert [u.needs for u in assess(kb, Case(findings=["sharp_onset"])).triage.not_assessed] == [("sex",)]
    assert "sex_rule" in {r.rule for r in assess(kb, Case(findings=["sharp_onset"], sex="female")).triage.reasons}
    male = assess(kb, Case(findings=["sharp_onset"], sex="male"))
    assert "sex_rule" not in {r.rule for r in male.triage.reasons} and not male.triage.not_assessed


def test_single_weak_flags_give_safety_netting_with_a_review_date_not_silence(kb):
    for flag in ("rf_unexplained_weight_loss", "rf_constant_night_pain", "rf_cancer_history"):
        res = assess(kb, Case(findings=[*ROTATOR, flag], age=35))
        assert res.triage.level == "routine"
        nets = res.triage.safety_nets
        assert nets and all(r.review_within_weeks for r in nets), flag
        assert "review" in patient_handout(kb, res).lower()


def test_combinations_raise_the_level(kb):
    single = assess(kb, Case(findings=["rf_unexplained_weight_loss"], age=35)).triage.level
    both = assess(kb, Case(findings=["rf_unexplained_weight_loss", "rf_constant_night_pain"], age=35)).triage.level
    assert (single, both) == ("routine", "urgent")
    # Once referred, a weak flag's review date is not shown beside the referral.
    res = assess(kb, Case(findings=["rf_cancer_history", "rf_unexplained_weight_loss"], age=35))
    assert res.triage.level == "urgent" and not [r for r in res.triage.safety_nets if r.review_within_weeks]


def test_emergency_withholds_self_care(kb):
    res = assess(kb, Case(findings=[*ROTATOR, "rf_saddle_anaesthesia"], age=40))
    assert res.plan == [] and res.plan_withheld
    handout = patient_handout(kb, res)
    assert "today" in handout and "## Your plan" not in handout


def test_do_not_start_treatment_withholds_every_active_self_care_in_page_note_and_handout(kb):
    res = assess(kb, Case(findings=[*ROTATOR, "rf_cancer_history", "rf_unexplained_weight_loss"], age=45, phase="recovery"))
    assert res.triage.level == "urgent"
    assert "do not start treatment" in res.triage.reasons[0].action.lower()
    offered = {item.topic: item for item in res.plan}
    for topic in ("heat", "stretching", "strengthening", "run_it_out"):
        assert topic not in offered or offered[topic].stance == "advise_against", topic
    withheld = {w.topic for w in res.withheld}
    assert {"heat", "stretching", "strengthening"} <= withheld
    assert all("do not start treatment" in w.reason.lower() for w in res.withheld)
    note, handout = clinical_note(kb, res), patient_handout(kb, res)
    plan_part = handout.split("## Your plan")[1].split("## Not for now")[0] if "## Your plan" in handout else ""
    for label in (md_escape(kb.topics[t].label) for t in ("heat", "stretching", "strengthening")):
        assert label not in plan_part
        assert label in handout.split("## Not for now")[1]
        assert f"**{label}** — not offered" in note
    assert "see a doctor soon" in handout


def test_bone_stress_pattern_never_gets_advice_to_run_through_it(kb):
    res = assess(kb, Case(findings=["loc_deep_central_buttock", "worse_with_each_run", "test_hop_positive",
                                    "tender_focal_bone", "risk_low_energy_availability", "night_pain"], phase="recovery", age=24))
    assert res.triage.level == "urgent"
    assert res.differential[0].condition == "bone_stress_injury"
    run = next(i for i in res.plan if i.topic == "run_it_out")
    assert run.stance == "advise_against" and run.safety_override
    assert "stop" in run.advice.lower()
    assert "imaging" in " ".join(r.action.lower() for r in res.triage.reasons)


def test_a_permissive_override_cannot_bring_back_what_another_flag_withholds(kb):
    # The bone-stress rule allows gentle stretching; being unable to bear weight withholds stretching.
    res = assess(kb, Case(findings=["tender_focal_bone", "rf_cannot_bear_weight", *ROTATOR], age=30))
    assert "stretching" not in {i.topic for i in res.plan if i.stance in ("recommend", "conditional")}
    assert "stretching" in {w.topic for w in res.withheld}


def test_the_hop_test_is_never_suggested_when_it_could_harm(kb):
    res = assess(kb, Case(findings=["loc_groin", "risk_low_energy_availability", "recent_training_increase"], age=22))
    caution = res.cautions["test_hop_positive"]
    assert "do not hop-test" in caution.warning.lower()
    assert "femoral_neck_stress_fracture" in caution.because
    assert all(q.finding != "test_hop_positive" for q in res.next_questions)
    assert md_escape(caution.warning) in clinical_note(kb, res)


def test_single_isolated_flag_findings_name_themselves(kb):
    res = assess(kb, Case(findings=["rf_fever_unwell", "rf_hot_swollen_red", "rf_saddle_anaesthesia"]))
    named = {f for r in res.triage.reasons for f in r.findings}
    assert {"rf_fever_unwell", "rf_hot_swollen_red", "rf_saddle_anaesthesia"} <= named
    assert res.triage.reasons[0].level == "emergency"
