"""The self-care plan: the adopted guidance for the likeliest condition(s) and the patient's phase.

Safety wins over self-care: an emergency red flag withholds the plan, and an urgent red flag's
plan overrides (e.g. a bone-stress pattern: stop running) replace the adopted advice for that topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assessment import ConditionResult, Triage
    from .knowledge import KnowledgeBase

# Conditions that share the plan with the leader: likely in their own right and close to it.
SECOND_CONDITION_MIN = 0.3
SECOND_CONDITION_RATIO = 0.6
MAX_PLAN_CONDITIONS = 2


@dataclass
class PlanItem:
    topic: str
    label: str
    stance: str
    advice: str
    conflict: bool
    conflict_type: str | None
    sources: list[str]
    sources_for: list[str]
    sources_against: list[str]
    status: str
    version: int
    approver: str | None
    strength: str
    certainty: str
    condition: str | None = None       # the condition whose override applied, if any
    override_reason: str | None = None
    safety_override: str | None = None  # the red-flag rule that replaced the adopted advice
    needs_review: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "stance": self.stance, "advice": self.advice, "conflict": self.conflict,
            "sources": self.sources, "label": self.label, "conflict_type": self.conflict_type,
            "sources_for": self.sources_for, "sources_against": self.sources_against, "status": self.status,
            "version": self.version, "approver": self.approver, "strength": self.strength,
            "certainty": self.certainty, "condition": self.condition, "override_reason": self.override_reason,
            "safety_override": self.safety_override, "needs_review": self.needs_review,
        }


def plan_conditions(results: list[ConditionResult]) -> list[str]:
    if not results:
        return []
    top = results[0]
    chosen = [top.condition]
    for r in results[1:MAX_PLAN_CONDITIONS]:
        if r.probability >= SECOND_CONDITION_MIN and r.probability >= SECOND_CONDITION_RATIO * top.probability:
            chosen.append(r.condition)
    return chosen


def build_plan(kb: KnowledgeBase, phase: str, conditions: list[str], triage: Triage) -> tuple[list[PlanItem], str | None]:
    """Plan items in topic order, and the reason the plan is withheld (or None)."""
    if triage.level == "emergency":
        actions = "; ".join(dict.fromkeys(r.action for r in triage.reasons if r.level == "emergency"))
        return [], f"Emergency red flag: no self-care plan. {actions}"
    conflicts = kb.conflicts
    review = kb.guidance_needing_review
    rules = {r.id: r for r in kb.red_flags}
    safety: dict[str, tuple[str, Any]] = {}
    for reason in triage.reasons:
        for topic, advice in rules[reason.rule].plan_overrides.items():
            safety.setdefault(topic, (reason.label, advice))

    items = []
    for topic_id, topic in kb.topics.items():
        g = kb.guidance.get(topic_id)
        if g is None or ((g.applies_to and not set(g.applies_to) & set(conditions)) and topic_id not in safety):
            continue
        # `conditions` is ranked, most likely first: the likeliest condition the guidance speaks to
        # decides which advice applies, not the order its overrides are listed in.
        advice, override, condition = g.advice_for_likeliest(phase, conditions)
        safety_label = None
        if topic_id in safety:
            safety_label, advice = safety[topic_id]
        tc = conflicts.get(topic_id)
        items.append(PlanItem(
            topic=topic_id, label=topic.label, stance=advice.stance, advice=advice.advice,
            conflict=bool(tc and tc.conflict), conflict_type=tc.kind if tc else None,
            sources=tc.all_voices() if tc else [],  # one voice per duplicated article
            sources_for=tc.sources_for() if tc else [], sources_against=tc.sources_against() if tc else [],
            status=g.status, version=g.version, approver=g.approver, strength=g.strength, certainty=g.certainty,
            condition=condition, override_reason=override.reason if override else None,
            safety_override=safety_label, needs_review=review.get(topic_id, []),
        ))
    return items, None
