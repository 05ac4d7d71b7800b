"""The guided interview's order: the red-flag screen first, then the next best question, re-ranked
after each answer, then everything still unassessed; skipped questions come back last."""

from __future__ import annotations

from hipguide import interview
from hipguide.assessment import assess, next_questions, red_flag_screen_findings


def red_flags(kb) -> list[str]:
    return red_flag_screen_findings(kb)


def test_the_red_flag_screen_comes_first_whatever_else_is_recorded(kb):
    result = assess(kb, {"findings": ["loc_deep_central_buttock", "aggr_sitting"]})
    step = interview.interview_step(kb, result)
    assert step.stage == interview.RED_FLAG_SCREEN
    assert step.finding == red_flags(kb)[0]
    assert step.red_flags_open == len(red_flags(kb))


def test_after_the_red_flag_screen_the_next_best_question_is_asked_and_re_ranked_after_each_answer(kb):
    case = {"findings": ["loc_deep_central_buttock"], "absent": red_flags(kb)}
    result = assess(kb, case)
    step = interview.interview_step(kb, result)
    assert step.stage == interview.BEST_QUESTION and step.red_flags_open == 0
    assert step.finding == result.next_questions[0].finding  # the engine's best question
    assert step.question is not None and step.question.if_present
    # Answer it: the next question is the best one for the new picture, never the one just answered.
    answered = assess(kb, {**case, "findings": [*case["findings"], step.finding]})
    after = interview.interview_step(kb, answered)
    assert after.finding != step.finding
    assert after.finding == next_questions(kb, answered.case, answered.differential, limit=1,
                                           unsafe=set(answered.cautions))[0].finding
    assert after.answered == step.answered + 1


def test_a_skipped_question_stays_not_assessed_and_comes_back_only_at_the_end(kb):
    result = assess(kb, {"findings": []})
    first = interview.interview_step(kb, result)
    skipped = interview.interview_step(kb, result, skipped=[first.finding])
    assert skipped.finding != first.finding and skipped.stage == interview.RED_FLAG_SCREEN
    assert first.finding not in result.case.absent  # skipping records nothing
    everything_else = [f for f in kb.findings if f != first.finding]
    last = interview.interview_step(kb, assess(kb, {"absent": everything_else}), skipped=[first.finding])
    assert last.finding == first.finding and last.stage == interview.SKIPPED_AGAIN


def test_the_whole_assessment_can_be_run_from_the_interview(kb):
    """Answering every question in turn reaches every finding, then says there is nothing left."""
    present, absent, seen = [], [], []
    for i in range(len(kb.findings) + 1):
        step = interview.interview_step(kb, assess(kb, {"findings": present, "absent": absent}))
        if step.finding is None:
            break
        assert step.finding not in seen
        seen.append(step.finding)
        (present if i % 3 == 0 and step.finding not in red_flags(kb) else absent).append(step.finding)
    assert sorted(seen) == sorted(kb.findings)
    assert step.finding is None and step.answered == step.total == len(kb.findings)


def test_jumping_to_a_finding_asks_it_now_even_when_already_answered(kb):
    result = assess(kb, {"findings": ["aggr_driving"]})
    step = interview.interview_step(kb, result, focus="test_slump_positive")
    assert step.finding == "test_slump_positive" and step.stage == interview.CHOSEN
    again = interview.interview_step(kb, result, focus="aggr_driving")
    assert again.finding == "aggr_driving"
    assert interview.interview_step(kb, result, focus="no_such_finding").stage == interview.RED_FLAG_SCREEN
