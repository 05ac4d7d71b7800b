"""The self-care plan: the adopted guidance for the likeliest condition(s) and the patient's phase.

Safety wins over self-care, and the plan obeys the triage: an emergency red flag withholds the whole
plan; an urgent red flag withholds the kinds of self-care that contradict its action (a "do not start
treatment" flag withholds heat, manual therapy, stretching and exercise), and its plan overrides (e.g. a
bone-stress pattern: stop running) replace the adopted advice for that topic. Each withheld topic is
reported with the rule that withheld it, so the page, the note and the handout can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import ACTIVE_TOPIC_KINDS

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


WITHHELD_HEADING = "Not offered until the red flag has been dealt with"


@dataclass(frozen=True)
class WithheldTopic:
    """A self-care topic left out of the plan because it contradicts the triage action."""

    topic: str
    label: str
    rule: str
    rule_label: str
    action: str
    needs: tuple[str, ...] = ()  # set when the rule could not be checked: held until these are recorded

    @property
    def reason(self) -> str:
        if self.needs:
            facts = " and ".join(f"the {n}" for n in self.needs)
            return f"Held until {facts} is recorded: the check for “{self.rule_label}” could not be made without it."
        return f"Withheld because of “{self.rule_label}”: {self.action}"

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "label": self.label, "rule": self.rule, "reason": self.reason,
                "pending": list(self.needs)}


def plan_conditions(results: list[ConditionResult]) -> list[str]:
    if not results:
        return []
    top = results[0]
    chosen = [top.condition]
    for r in results[1:MAX_PLAN_CONDITIONS]:
        if r.probability >= SECOND_CONDITION_MIN and r.probability >= SECOND_CONDITION_RATIO * top.probability:
            chosen.append(r.condition)
    return chosen


def build_plan(kb: KnowledgeBase, phase: str, conditions: list[str],
               triage: Triage) -> tuple[list[PlanItem], str | None, list[WithheldTopic]]:
    """Plan items in topic order, the reason the whole plan is withheld (or None), and the withheld topics."""
    if triage.level == "emergency":
        actions = "; ".join(dict.fromkeys(r.action for r in triage.reasons if r.level == "emergency"))
        return [], f"Emergency red flag: no self-care plan. {actions}", []
    conflicts = kb.conflicts
    review = kb.guidance_needing_review
    rules = {r.id: r for r in kb.red_flags}
    safety: dict[str, tuple[str, Any]] = {}
    withholding: dict[str, Any] = {}  # topic kind -> the first (highest-level) rule that withholds it
    for reason in triage.reasons:
        rule = rules[reason.rule]
        for topic, advice in rule.plan_overrides.items():
            safety.setdefault(topic, (reason.label, advice))
        for kind in rule.withhold or []:
            withholding.setdefault(kind, (rule, ()))
    # A serious check that could not be made (no age, say) is not negative: until the fact is recorded,
    # hold back the self-care it would withhold (all active self-care for a possible emergency).
    for unchecked in triage.not_assessed:
        rule = rules[unchecked.rule]
        kinds = ACTIVE_TOPIC_KINDS if rule.level == "emergency" else (rule.withhold or [])
        for kind in kinds:
            withholding.setdefault(kind, (rule, unchecked.needs))

    items, withheld = [], []
    for topic_id, topic in kb.topics.items():
        g = kb.guidance.get(topic_id)
        if g is None or ((g.applies_to and not set(g.applies_to) & set(conditions)) and topic_id not in safety):
            continue
        # An override may keep a withheld topic in the plan only to advise against it.
        permissive = topic_id in safety and safety[topic_id][1].stance in ("recommend", "conditional")
        if topic.kind in withholding and (topic_id not in safety or permissive):
            rule, needs = withholding[topic.kind]
            withheld.append(WithheldTopic(topic_id, topic.label, rule.id, rule.label, rule.action, needs))
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
    return items, None, withheld
