"""The whole caseload: age- and sex-dependent priors, evidence counted once, "none of these fits",
plan scope, the accuracy report, and the validation of every new knowledge field."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hipguide.accuracy import accuracy
from hipguide.assessment import assess, logit
from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, load_knowledge
from hipguide.yamlio import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture
def copy(tmp_path):
    return Path(shutil.copytree(DEFAULT_KNOWLEDGE_DIR, tmp_path / "knowledge"))


def problems(root) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    return [str(p) for p in info.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def result_for(kb, condition, **case):
    return next(r for r in assess(kb, case).differential if r.condition == condition)


# --- priors ----------------------------------------------------------------------------------------

def test_priors_follow_age_and_sex(kb):
    oa = kb.conditions["hip_osteoarthritis"]
    assert oa.prior_for(13, None)[0] < 0.01 < oa.prior_for(70, None)[0]
    young = result_for(kb, "gluteal_tendinopathy", findings=["loc_lateral_hip"], age=13)
    older_woman = result_for(kb, "gluteal_tendinopathy", findings=["loc_lateral_hip"], age=58, sex="female")
    older_man = result_for(kb, "gluteal_tendinopathy", findings=["loc_lateral_hip"], age=58, sex="male")
    assert young.prior < 0.01 and older_woman.prior > older_man.prior
    assert older_woman.prior_basis == "age 50–120, female (odds ×1.5)"
    bone = kb.conditions["bone_stress_injury"]
    assert bone.prior_for(19, None)[0] != bone.prior_for(84, None)[0]


def test_age_not_recorded_uses_the_all_ages_prior_and_says_so(kb):
    result = assess(kb, {"findings": ["loc_groin"]})
    oa = next(r for r in result.differential if r.condition == "hip_osteoarthritis")
    assert oa.prior == kb.conditions["hip_osteoarthritis"].prior
    assert "age not recorded" in oa.prior_basis
    assert any(n.startswith("Age not recorded") for n in result.notes)
    assert any(n.startswith("Sex not recorded") for n in result.notes)
    assert not assess(kb, {"findings": ["loc_groin"], "age": 50, "sex": "male"}).notes


def test_a_thirteen_year_old_is_not_given_adult_tendinopathy_first(kb):
    result = assess(kb, {"findings": ["loc_lateral_hip", "limp"], "age": 13})
    assert result.differential[0].condition != "gluteal_tendinopathy"


# --- evidence counted once ---------------------------------------------------------------------------

PIRIFORMIS = ["test_seated_piriformis_stretch_positive", "test_active_piriformis_positive", "test_fair_positive"]


def test_three_piriformis_tests_count_as_one_piece_of_evidence(kb):
    one = result_for(kb, "deep_gluteal_syndrome", findings=["test_active_piriformis_positive"], age=40)
    three = result_for(kb, "deep_gluteal_syndrome", findings=PIRIFORMIS, age=40)
    change = three.log_odds - three.log_odds_prior
    assert math.isclose(change, math.log(4.57)), "Martin's combined rule, not 5.22 × 3.9 × FAIR"
    rule = next(c for c in three.contributions if c.rule)
    assert rule.finding == "martin_combined_piriformis_tests" and rule.counted
    assert {c.finding for c in three.contributions if not c.counted} == set(PIRIFORMIS)
    assert one.log_odds < three.log_odds or math.isclose(one.log_odds, three.log_odds) or one.log_odds > 0


def test_both_piriformis_tests_negative_rule_out_with_the_combined_lr(kb):
    r = result_for(kb, "deep_gluteal_syndrome", absent=PIRIFORMIS[:2], age=40)
    assert math.isclose(r.log_odds - r.log_odds_prior, math.log(0.11))


def test_one_negative_piriformis_test_alone_counts_on_its_own(kb):
    r = result_for(kb, "deep_gluteal_syndrome", absent=["test_active_piriformis_positive"], age=40)
    assert math.isclose(r.log_odds - r.log_odds_prior, math.log(0.27)), "the rule is undetermined"


def test_four_lateral_hip_findings_count_once(kb):
    four = ["loc_lateral_hip", "tender_greater_trochanter", "test_single_leg_stance_pain", "aggr_lying_on_side"]
    r = result_for(kb, "gluteal_tendinopathy", findings=four, age=55, sex="female")
    assert math.isclose(r.log_odds - r.log_odds_prior, math.log(12.0)), "only single-leg stance counts, not ×300"
    assert sum(c.counted for c in r.contributions) == 1


def test_a_group_counts_its_strongest_for_and_its_strongest_against(kb):
    r = result_for(kb, "gluteal_tendinopathy", findings=["tender_greater_trochanter", "aggr_lying_on_side"],
                   absent=["loc_lateral_hip"], age=55)
    counted = sorted(c.likelihood_ratio for c in r.contributions if c.counted)
    assert counted == [0.1, 2.5]


def test_sutlive_rule_tiers_and_rule_out(kb):
    items = ["aggr_stairs_squats", "active_hip_flexion_lateral_pain", "test_scour_positive",
             "active_hip_extension_pain", "hip_ir_le_25deg"]
    three = result_for(kb, "hip_osteoarthritis", findings=items[:3], age=66)
    four = result_for(kb, "hip_osteoarthritis", findings=items[:4], age=66)
    ruled_out = result_for(kb, "hip_osteoarthritis", findings=items[:2], absent=items[2:], age=66)
    assert math.isclose(three.log_odds - three.log_odds_prior, math.log(5.2))
    assert math.isclose(four.log_odds - four.log_odds_prior, math.log(24.3))
    assert math.isclose(ruled_out.log_odds - ruled_out.log_odds_prior, math.log(0.33))


def test_what_if_a_same_group_finding_were_positive_adds_nothing_once_a_stronger_one_counted(kb):
    from hipguide.assessment import _evidence_model
    from hipguide.assessment import _shift_if as shift

    case = assess(kb, {"findings": ["test_single_leg_stance_pain"], "age": 60, "sex": "female"}).case
    model, present, absent = _evidence_model(kb)["gluteal_tendinopathy"], frozenset(case.findings), frozenset(case.absent)

    def _shift_if(kb, r, finding, ratio, case, present_now):
        return shift(model, r, finding, ratio, present, absent, present_now)
    gt = result_for(kb, "gluteal_tendinopathy", findings=["test_single_leg_stance_pain"], age=60, sex="female")
    lr = kb.likelihood_ratios["gluteal_tendinopathy"]["tender_greater_trochanter"]
    assert _shift_if(kb, gt, "tender_greater_trochanter", lr.lr_positive, case, True) == pytest.approx(gt.log_odds)
    assert _shift_if(kb, gt, "tender_greater_trochanter", lr.lr_negative, case, False) < gt.log_odds
    # ... and the shortcut agrees with working the condition out again
    again = result_for(kb, "gluteal_tendinopathy", findings=["test_single_leg_stance_pain"],
                       absent=["tender_greater_trochanter"], age=60, sex="female")
    assert _shift_if(kb, gt, "tender_greater_trochanter", lr.lr_negative, case, False) == pytest.approx(again.log_odds)


# --- none of these fits --------------------------------------------------------------------------------

def test_findings_against_every_condition_say_none_fits_and_name_what_to_consider(kb):
    result = assess(kb, {"findings": ["loc_knee", "loc_anterior_thigh", "limp", "onset_gradual_no_trigger"], "age": 13})
    assert result.none_fits and not result.sufficient
    assert result.consider[0].cause == "scfe_or_perthes"
    assert result.plan_conditions == [] and result.plan == []
    assert result.to_dict()["none_fits"] is True


def test_a_typical_presentation_is_not_called_none_fits(kb):
    result = assess(kb, kb.vignettes["60_gluteal_tendinopathy_woman_58"])
    assert not result.none_fits and result.differential[0].condition == "gluteal_tendinopathy"


def test_age_limited_causes_are_kept_when_age_is_not_recorded(kb):
    result = assess(kb, {"findings": ["loc_knee", "loc_anterior_thigh", "limp", "onset_gradual_no_trigger"]})
    if result.none_fits:
        assert "scfe_or_perthes" in {o.cause for o in result.consider}


# --- the plan obeys its scope ----------------------------------------------------------------------------

def test_hip_osteoarthritis_never_gets_muscle_overload_self_care(kb):
    result = assess(kb, kb.vignettes["40_hip_oa_woman_68_groin_and_stiff_rotation"])
    assert result.plan_conditions == ["hip_osteoarthritis"]
    assert result.plan == [], "every shipped topic's general advice was written for muscle pain"
    assert any("NICE NG226" in note for note in result.plan_notes)


def test_muscle_conditions_still_get_their_plan(kb):
    result = assess(kb, kb.vignettes["60_gluteal_tendinopathy_woman_58"])
    assert result.plan_conditions[0] == "gluteal_tendinopathy" and result.plan


# --- accuracy -----------------------------------------------------------------------------------------------

def test_accuracy_report_counts_every_vignette_with_a_diagnosis(kb):
    report = accuracy(kb, kb.vignettes)
    assert report.with_diagnosis >= 40 and report.vignettes == len(kb.vignettes)
    assert report.top1 <= report.top2 <= report.top3 <= report.with_diagnosis
    assert sum(b.pairs for b in report.bands) == report.with_diagnosis * len(kb.conditions)
    covered = {c for c, (cases, _, _) in report.by_condition.items() if cases}
    assert covered == set(kb.conditions), "every condition has at least one vignette"


def test_accuracy_cli_json():
    out = subprocess.run([sys.executable, "-m", "hipguide", "accuracy", "--json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"top1_rate", "top3_rate", "calibration", "by_condition"} <= set(data)


def test_assess_rejects_an_unknown_sex(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("findings: [loc_groin]\nsex: other\n")
    out = subprocess.run([sys.executable, "-m", "hipguide", "assess", str(case), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("error: malformed case: sex:")


# --- validation of the new files and fields ------------------------------------------------------------------

def test_every_published_ratio_has_a_reference_and_every_estimate_a_reason(kb):
    for cond, rows in kb.likelihood_ratios.items():
        for fid, lr in rows.items():
            assert lr.reference if lr.provenance == "published" else lr.reason, (cond, fid)
            assert "kappa" not in (lr.reference or "").lower()


def test_the_fair_bedside_test_and_martin_figures_are_attributed_correctly(kb):
    for cond, rows in kb.likelihood_ratios.items():
        fair = rows.get("test_fair_positive")
        assert fair is None or fair.provenance == "clinical_estimate", cond
        for fid in ("test_seated_piriformis_stretch_positive", "test_active_piriformis_positive"):
            row = rows.get(fid)
            if row is not None and row.provenance == "published":
                assert cond == "deep_gluteal_syndrome" and "Martin" in row.reference


def test_age_bands_with_a_gap_are_an_error(copy):
    edit(copy / "conditions.yaml", "{ages: [16, 34], prior: 0.11", "{ages: [17, 34], prior: 0.11")
    [problem] = problems(copy)
    assert problem.startswith("knowledge/conditions.yaml:") and "band 2 starts at 17, expected 16" in problem


def test_sex_ratios_need_a_reason(copy):
    text = (copy / "conditions.yaml").read_text()
    start = text.index("    sex_reason: \"Women outnumber men")
    end = text.index("\n", start) + 1
    (copy / "conditions.yaml").write_text(text[:start] + text[end:])
    [problem] = problems(copy)
    assert "sex_reason" in problem


def test_a_clinical_estimate_without_a_reason_is_an_error(copy):
    edit(copy / "likelihood_ratios.yaml", '      reason: "Muscle overload causes ache, not paraesthesia; tingling points to a nerve"\n', "")
    [problem] = problems(copy)
    assert problem.startswith("knowledge/likelihood_ratios.yaml:") and "reason: a clinical estimate needs" in problem


def test_a_finding_in_two_dependence_groups_and_unknown_ids_are_errors(copy):
    edit(copy / "evidence_rules.yaml", "findings: [aggr_sitting, aggr_driving, aggr_sitting_on_foot]",
         "findings: [aggr_sitting, aggr_driving, test_fair_positive, no_such_finding]")
    found = problems(copy)
    assert any("'test_fair_positive' is already in group 'piriformis_provocation'" in p for p in found)
    assert any("unknown finding 'no_such_finding'" in p for p in found)
    assert all(p.startswith("knowledge/evidence_rules.yaml:") for p in found)


def test_a_composite_rule_names_a_known_condition(copy):
    edit(copy / "evidence_rules.yaml", "    condition: deep_gluteal_syndrome\n", "    condition: no_such_condition\n")
    [problem] = problems(copy)
    assert problem.startswith("knowledge/evidence_rules.yaml:") and "unknown condition 'no_such_condition'" in problem


def test_a_composite_rule_tier_must_fit_its_findings(copy):
    edit(copy / "evidence_rules.yaml", "      - {at_least: 4, lr_positive: 24.3}", "      - {at_least: 9, lr_positive: 24.3}")
    [problem] = problems(copy)
    assert "tiers: at_least 9 must lie above 3 and at most 5" in problem


def test_outside_causes_are_checked(copy):
    edit(copy / "outside_causes.yaml", "when_any: [aggr_sitting]", "when_any: [no_such_finding]")
    [problem] = problems(copy)
    assert problem.startswith("knowledge/outside_causes.yaml:") and "unknown finding 'no_such_finding'" in problem


def test_a_vignette_diagnosis_must_be_a_known_condition(copy):
    edit(copy / "vignettes" / "60_gluteal_tendinopathy_woman_58.yaml", "diagnosis: gluteal_tendinopathy",
         "diagnosis: trochanteric_bursitis")
    [problem] = problems(copy)
    assert "unknown condition 'trochanteric_bursitis'" in problem


def test_contributions_still_add_up_with_rules_and_groups(kb):
    for v in kb.vignettes.values():
        for r in assess(kb, v).differential:
            assert math.isclose(r.log_odds_prior, logit(r.prior))
            assert math.isclose(math.fsum(c.effect for c in r.contributions), r.log_odds - r.log_odds_prior,
                                abs_tol=1e-9)
