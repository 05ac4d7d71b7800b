"""Properties of the assessment engine on the shipped knowledge, for any combination of findings.

A finding is present, checked and absent, or not assessed; Hypothesis draws any such assignment
(present and absent are disjoint by construction) plus a phase, an optional age and an optional sex.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hipguide.assessment import PROBABILITY_CEIL, PROBABILITY_FLOOR, assess, logit
from hipguide.models import PHASES, TRIAGE_ORDER, Case

# The autouse cache-clearing fixture is function-scoped; it does not touch the engine, so examples may share it.
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def finding_ids(kb) -> list[str]:
    return sorted(kb.findings)


@pytest.fixture(scope="module")
def red_flag_ids(kb) -> list[str]:
    return sorted(f for f, finding in kb.findings.items() if finding.group == "red_flag")


def cases(kb) -> st.SearchStrategy[Case]:
    ids = sorted(kb.findings)
    return st.builds(
        lambda states, phase, age, sex: Case(
            findings=[f for f, present in states.items() if present],
            absent=[f for f, present in states.items() if not present],
            phase=phase, age=age, sex=sex,
        ),
        st.dictionaries(st.sampled_from(ids), st.booleans(), max_size=len(ids)),
        st.sampled_from(PHASES),
        st.none() | st.integers(min_value=0, max_value=120),
        st.none() | st.sampled_from(["female", "male"]),
    )


def test_the_shipped_knowledge_has_red_flag_findings(red_flag_ids):
    assert len(red_flag_ids) >= 5


@SETTINGS
@given(data=st.data())
def test_probabilities_are_probabilities(kb, data):
    case = data.draw(cases(kb))
    result = assess(kb, case)
    assert {r.condition for r in result.differential} == set(kb.conditions)
    for r in result.differential:
        assert 0.0 <= r.probability <= 1.0
        assert PROBABILITY_FLOOR <= r.probability <= PROBABILITY_CEIL
        assert math.isfinite(r.log_odds)
    log_odds = [r.log_odds for r in result.differential]
    assert log_odds == sorted(log_odds, reverse=True), "the differential is sorted, most likely first"


@SETTINGS
@given(data=st.data())
def test_contributions_add_up_to_the_change_from_the_prior(kb, data):
    case = data.draw(cases(kb))
    for r in assess(kb, case).differential:
        assert math.isclose(r.log_odds_prior, logit(kb.conditions[r.condition].prior_for(case.age, case.sex)[0]))
        total = math.fsum(c.effect for c in r.contributions)
        assert math.isclose(total, r.log_odds - r.log_odds_prior, rel_tol=1e-9, abs_tol=1e-9)
        assessed = set(case.findings) | set(case.absent)
        single = [c for c in r.contributions if not c.rule]
        assert {c.finding for c in single} <= assessed, "a finding not assessed never contributes"
        for c in single:
            assert c.present == (c.finding in case.findings)
        for c in r.contributions:
            if not c.counted:
                assert c.effect == 0.0 and c.instead, "a finding not counted adds nothing and names what counted"
        # Evidence counts once: per dependence group at most one counted finding for and one against.
        for group in {c.group for c in r.contributions if c.group}:
            counted = [c for c in r.contributions if c.group == group and c.counted]
            assert sum(c.effect > 0 for c in counted) <= 1 and sum(c.effect < 0 for c in counted) <= 1


@SETTINGS
@given(data=st.data())
def test_adding_a_red_flag_never_lowers_the_triage_level(kb, red_flag_ids, data):
    case = data.draw(cases(kb))
    flag = data.draw(st.sampled_from(red_flag_ids))
    assume(flag not in case.findings)
    before = assess(kb, case)
    more = Case(findings=[*case.findings, flag], absent=[f for f in case.absent if f != flag],
                phase=case.phase, age=case.age, sex=case.sex)
    after = assess(kb, more)
    assert TRIAGE_ORDER[after.triage.level] >= TRIAGE_ORDER[before.triage.level]
    assert {r.rule for r in before.triage.red_flags} <= {r.rule for r in after.triage.red_flags}
    if after.triage.level == before.triage.level:
        assert {r.rule for r in before.triage.reasons} <= {r.rule for r in after.triage.reasons}
    if after.triage.level == "emergency":
        assert after.plan == [] and after.plan_withheld


@SETTINGS
@given(data=st.data())
def test_the_plan_never_offers_self_care_a_fired_rule_withholds(kb, data):
    """Triage and the plan: no urgent result recommends what its action rules out, for any case."""
    case = data.draw(cases(kb))
    result = assess(kb, case)
    rules = {r.id: r for r in kb.red_flags}
    withheld_kinds = {k for r in result.triage.reasons for k in (rules[r.rule].withhold or [])}
    for item in result.plan:
        if kb.topics[item.topic].kind in withheld_kinds:
            assert item.stance in ("advise_against", "neutral") and item.safety_override, item
    if result.triage.level != "routine":
        assert not result.triage.safety_nets or all(not r.review_within_weeks for r in result.triage.safety_nets)


@SETTINGS
@given(data=st.data())
def test_the_order_findings_were_ticked_in_does_not_matter(kb, data):
    case = data.draw(cases(kb))
    shuffled = data.draw(st.permutations(case.findings))
    a = assess(kb, case).to_dict()
    b = assess(kb, Case(findings=list(shuffled), absent=list(reversed(case.absent)), phase=case.phase, age=case.age,
                        sex=case.sex)).to_dict()
    assert a == b
    json.dumps(a)  # the result is plain JSON


@given(data=st.data())
@SETTINGS
def test_a_suggested_question_shows_what_recording_its_answer_would_show(kb, data):
    """"If positive → x %, if negative → y %": recording that answer gives exactly those probabilities."""
    case = data.draw(cases(kb))
    result = assess(kb, case)
    for question in result.next_questions:
        for answer, shown in (("present", question.if_present), ("absent", question.if_absent)):
            answered = case.model_copy(update={
                "findings": [*case.findings, question.finding] if answer == "present" else case.findings,
                "absent": [*case.absent, question.finding] if answer == "absent" else case.absent})
            after = {r.condition: r.probability for r in assess(kb, answered).differential}
            for condition, probability in shown.items():
                assert probability == pytest.approx(after[condition], abs=1e-9), (question.finding, answer, condition)
