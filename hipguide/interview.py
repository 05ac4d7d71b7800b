"""The guided interview: which finding to ask about next, in the order a consultation should run.

First the red-flag screen (every red-flag question, and the risk factors the rules use, not yet
answered, in the engine's order: red flags always come first), then the next best question (the unassessed finding that would move
the leading conditions most, re-ranked after every answer), then whatever is still unassessed, group
by group, so the whole assessment can be run from the interview. A skipped question is asked again
only once everything else has been asked; it stays not assessed, never negative. A test with an
examination caution for this patient is never the next best question; it comes last, with its caution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .assessment import next_questions, red_flag_screen_findings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .assessment import Assessment, NextQuestion
    from .knowledge import KnowledgeBase

RED_FLAG_SCREEN, BEST_QUESTION, REMAINING, SKIPPED_AGAIN = "red_flag_screen", "best_question", "remaining", "skipped"
CHOSEN = "chosen"
STAGE_WORDS = {
    CHOSEN: "Chosen by you",
    RED_FLAG_SCREEN: "Red-flag screen",
    BEST_QUESTION: "Next best question",
    REMAINING: "Still not assessed",
    SKIPPED_AGAIN: "Skipped earlier",
}
# The order the remaining findings are asked in once no question moves the differential.
GROUP_ORDER = ("red_flag", "location", "onset", "aggravator", "nerve", "examination", "risk")


@dataclass(frozen=True)
class InterviewStep:
    """The question to ask now, why it comes now, and how far the interview has got."""

    finding: str | None          # None: every finding has been answered
    stage: str                   # one of RED_FLAG_SCREEN, BEST_QUESTION, REMAINING, SKIPPED_AGAIN
    question: NextQuestion | None  # the expected shifts, when the finding is a next best question
    red_flags_open: int          # red-flag questions not yet answered (skipped ones included)
    answered: int
    total: int


def _in_group_order(kb: KnowledgeBase, ids: Iterable[str]) -> list[str]:
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    order = {fid: i for i, fid in enumerate(kb.findings)}
    return sorted(ids, key=lambda f: (rank.get(kb.findings[f].group, len(rank)), order[f]))


def interview_step(kb: KnowledgeBase, result: Assessment, skipped: Iterable[str] = (), focus: str | None = None) -> InterviewStep:
    """The next question for this assessment. `skipped`: findings the clinician passed over this
    session; `focus`: a finding the clinician jumped to, asked now whatever its rank."""
    case = result.case
    answered = set(case.findings) | set(case.absent)
    # A test that could harm this patient (an examination caution) waits with the skipped ones, at the end.
    unsafe = set(getattr(result, "cautions", {}) or {})
    skipped = (set(skipped) | unsafe) - answered
    open_red = [f for f in red_flag_screen_findings(kb) if f not in answered]
    counts = {"red_flags_open": len(open_red), "answered": len(answered), "total": len(kb.findings)}

    if focus in kb.findings:  # also an answered one: the clinician may want to change it
        stage = RED_FLAG_SCREEN if focus in open_red else CHOSEN
        question = next((q for q in result.next_questions if q.finding == focus), None)
        return InterviewStep(focus, stage, question, **counts)
    for fid in open_red:
        if fid not in skipped:
            return InterviewStep(fid, RED_FLAG_SCREEN, None, **counts)
    # Re-ranked on every answer: the engine's expected shift over the leading conditions, all candidates.
    for q in next_questions(kb, case, result.differential, limit=len(kb.findings), unsafe=unsafe):
        if q.finding not in skipped:
            return InterviewStep(q.finding, BEST_QUESTION, q, **counts)
    unasked = [f for f in kb.findings if f not in answered]
    for fid in _in_group_order(kb, unasked):
        if fid not in skipped:
            return InterviewStep(fid, REMAINING, None, **counts)
    for fid in _in_group_order(kb, unasked):
        return InterviewStep(fid, SKIPPED_AGAIN, None, **counts)
    return InterviewStep(None, REMAINING, None, **counts)
