"""Every red-flag route of the shipped knowledge: the level, the action, and that it wins over the differential."""

from __future__ import annotations

import pytest

from hipguide.assessment import assess
from hipguide.models import TRIAGE_ORDER, Case

# A clear deep-rotator picture: without flags it is routine; flags must override it.
ROTATOR = ["loc_deep_central_buttock", "onset_day_after_exercise", "aggr_sitting", "aggr_stairs_squats", "tender_deep_buttock"]

ROUTES = [
    (["rf_saddle_anaesthesia"], "emergency", "cauda equina"),
    (["rf_bladder_bowel_change"], "emergency", "cauda equina"),
    (["rf_fever_unwell", "rf_hot_swollen_red"], "emergency", "infect"),
    (["rf_cannot_bear_weight", "rf_major_trauma_or_fall"], "emergency", "fracture"),
    (["rf_cannot_bear_weight", "risk_osteoporosis"], "emergency", "fracture"),
    (["rf_cancer_history", "rf_constant_night_pain"], "urgent", "malignan"),
    (["rf_cancer_history", "rf_unexplained_weight_loss"], "urgent", "malignan"),
    (["rf_progressive_weakness"], "urgent", "progressive"),
    (["tender_focal_bone"], "urgent", "bone stress"),
    (["test_hop_positive"], "urgent", "bone stress"),
    (["worse_with_each_run", "risk_low_energy_availability"], "urgent", "bone stress"),
]


def test_no_flag_is_routine(kb):
    res = assess(kb, Case(findings=ROTATOR))
    assert res.triage.level == "routine" and not res.triage.reasons
    assert res.differential[0].condition == "deep_hip_rotator_overload"


@pytest.mark.parametrize(("flags", "level", "label_word"), ROUTES, ids=lambda v: "+".join(v) if isinstance(v, list) else None)
def test_red_flag_route(kb, flags, level, label_word):
    res = assess(kb, Case(findings=[*ROTATOR, *flags]))
    assert TRIAGE_ORDER[res.triage.level] >= TRIAGE_ORDER[level]
    fired = [r for r in res.triage.reasons if set(r.findings) & set(flags)]
    assert fired, f"no rule names {flags}"
    assert any(label_word in (r.label + " " + r.action).lower() for r in fired)
    assert all(r.action.strip() for r in fired)
    # The differential is still shown, but the triage is the flag's, never the differential's.
    assert res.differential[0].condition


def test_emergency_withholds_self_care(kb):
    res = assess(kb, Case(findings=[*ROTATOR, "rf_saddle_anaesthesia"]))
    assert res.plan == [] and res.plan_withheld


def test_bone_stress_pattern_never_gets_advice_to_run_through_it(kb):
    res = assess(kb, Case(findings=["loc_deep_central_buttock", "worse_with_each_run", "test_hop_positive",
                                    "tender_focal_bone", "risk_low_energy_availability", "night_pain"], phase="recovery"))
    assert res.triage.level == "urgent"
    assert res.differential[0].condition == "bone_stress_injury"
    run = next(i for i in res.plan if i.topic == "run_it_out")
    assert run.stance == "advise_against" and run.safety_override
    assert "stop" in run.advice.lower()
    assert "imaging" in " ".join(r.action.lower() for r in res.triage.reasons)


def test_single_isolated_flag_findings_name_themselves(kb):
    res = assess(kb, Case(findings=["rf_fever_unwell", "rf_hot_swollen_red", "rf_saddle_anaesthesia"]))
    named = {f for r in res.triage.reasons for f in r.findings}
    assert {"rf_fever_unwell", "rf_hot_swollen_red", "rf_saddle_anaesthesia"} <= named
    assert res.triage.reasons[0].level == "emergency"
