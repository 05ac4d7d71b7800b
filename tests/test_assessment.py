"""The assessment engine: red flags first, transparent Bayes, absent versus not assessed, the plan."""

from __future__ import annotations

import math

import pytest
from minikb import write_mini_kb

from hipguide.assessment import AssessmentError, assess, logit
from hipguide.knowledge import load_knowledge
from hipguide.models import Case


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return load_knowledge(write_mini_kb(tmp_path_factory.mktemp("mini") / "knowledge"))


def result_for(res, condition):
    return next(r for r in res.differential if r.condition == condition)


def test_contributions_add_up_to_the_change_from_the_prior(mini):
    res = assess(mini, Case(findings=["loc_buttock", "test_x"], absent=["sharp_onset"]))
    over = result_for(res, "overload")
    assert math.isclose(sum(c.effect for c in over.contributions), over.log_odds - logit(0.2))
    expected = 0.2 / 0.8 * 3.0 * 5.0  # LR- of 1.0 for sharp_onset: absence says nothing
    assert math.isclose(over.probability, expected / (1 + expected))
    assert {c.finding for c in over.contributions} == {"loc_buttock", "test_x"}


def test_absent_is_not_the_same_as_not_assessed(mini):
    not_assessed = result_for(assess(mini, Case(findings=["loc_buttock"])), "overload")
    absent = result_for(assess(mini, Case(findings=["loc_buttock"], absent=["test_x"])), "overload")
    assert absent.probability < not_assessed.probability
    effect = next(c for c in absent.contributions if c.finding == "test_x")
    assert not effect.present and math.isclose(effect.effect, math.log(0.5))


def test_differential_is_sorted_most_likely_first(mini):
    res = assess(mini, Case(findings=["sharp_onset"]))
    assert [r.condition for r in res.differential] == ["tear", "overload"]
    probs = [r.probability for r in res.differential]
    assert probs == sorted(probs, reverse=True)


def test_unknown_finding_is_a_clear_error(mini):
    with pytest.raises(AssessmentError, match="unknown finding id\\(s\\): not_a_finding"):
        assess(mini, {"findings": ["loc_buttock", "not_a_finding"]})


def test_malformed_case_is_a_clear_error(mini):
    with pytest.raises(AssessmentError, match="malformed case: phase"):
        assess(mini, {"findings": [], "phase": "chronic"})
    with pytest.raises(AssessmentError, match="both present and absent"):
        assess(mini, {"findings": ["test_x"], "absent": ["test_x"]})


def test_red_flag_sets_triage_whatever_the_differential(mini):
    res = assess(mini, Case(findings=["loc_buttock", "test_x", "rf_saddle"]))
    assert res.differential[0].condition == "overload"
    assert res.triage.level == "emergency"
    assert res.triage.reasons[0].rule == "ces" and res.triage.reasons[0].findings == ("rf_saddle",)
    assert res.plan == [] and res.plan_withheld.startswith("Emergency red flag")


def test_combinations_matter_and_every_fired_flag_is_named(mini):
    fever = assess(mini, Case(findings=["rf_fever"]))
    assert fever.triage.level == "urgent"
    both = assess(mini, Case(findings=["rf_fever", "rf_joint"]))
    assert both.triage.level == "emergency"
    assert [r.rule for r in both.triage.reasons] == ["septic", "fever"]


def test_urgent_flag_overrides_self_care_advice(mini):
    res = assess(mini, Case(findings=["rf_fever", "loc_buttock"]))
    item = next(i for i in res.plan if i.topic == "strengthening")
    assert item.stance == "advise_against" and item.safety_override == "Fever"


def test_too_few_findings_says_information_is_insufficient(mini):
    res = assess(mini, Case(findings=["loc_buttock"]))
    assert not res.sufficient and "too little" in res.sufficiency_note


def test_next_question_prefers_the_informative_test(mini):
    res = assess(mini, Case(findings=["loc_buttock"]))
    assert res.next_questions[0].finding == "test_x"
    q = res.next_questions[0]
    assert q.if_present["overload"] > result_for(res, "overload").probability > q.if_absent["overload"]


def test_plan_carries_conflict_flag_and_sources(mini):
    res = assess(mini, Case(findings=["loc_buttock", "test_x"], phase="prevention"))
    ice = next(i for i in res.plan if i.topic == "ice")
    assert ice.conflict and ice.conflict_type == "direct"
    assert ice.sources_for == ["b"] and ice.sources_against == ["a"]  # a2 is the same article: one voice
    assert ice.advice == "ice advice for prevention." and ice.status == "draft"


def test_json_result_has_the_contract_shape(mini):
    d = assess(mini, Case(findings=["loc_buttock"], age=40)).to_dict()
    assert set(d) >= {"triage", "differential", "plan", "phase"}
    assert set(d["triage"]) >= {"level", "reasons"}
    row = d["differential"][0]
    assert set(row) >= {"condition", "probability", "contributions"}
    assert set(row["contributions"][0]) >= {"finding", "effect"}
    assert set(d["plan"][0]) >= {"topic", "stance", "advice", "conflict", "sources"}
