"""The assessment: red-flag triage first, then a transparent Bayesian differential and what to ask next.

Each condition is its own yes/no hypothesis (they can coexist), so each gets its own post-test
probability: prior odds × the likelihood ratio of every finding that was assessed. A finding present
multiplies by LR+, a finding checked and absent by LR−, a finding not assessed counts for nothing.
Each finding's contribution is reported on the log-odds scale, so the contributions of a condition
add up exactly to the change from its prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .bodymap import apply_pain_drawing
from .models import TRIAGE_ORDER, Case, RedFlagRule

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .plan import PlanItem, WithheldTopic

# Below this many assessed findings, or without a clear leader, the page says the picture is incomplete.
MIN_FINDINGS_FOR_RANKING = 3
CLEAR_LEAD_PROBABILITY = 0.5
# Findings are combined as if independent, which overstates certainty when they are correlated (sitting
# and driving, say). Probabilities are therefore shown within [1%, 95%]: never more certain than that.
PROBABILITY_FLOOR, PROBABILITY_CEIL = 0.01, 0.95


class AssessmentError(ValueError):
    """A case the engine cannot assess: an unknown id, or a malformed case."""


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


@dataclass(frozen=True)
class Contribution:
    finding: str
    present: bool
    likelihood_ratio: float
    effect: float  # natural-log odds
    provenance: str
    reference: str | None


@dataclass
class ConditionResult:
    condition: str
    prior: float
    probability: float
    log_odds_prior: float
    log_odds: float
    contributions: list[Contribution]
    clamped: bool = False

    @property
    def supporting(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.effect > 0), key=lambda c: -c.effect)

    @property
    def against(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.effect < 0), key=lambda c: c.effect)


# What each level asks of the clinician, in the contract's words.
TRIAGE_HEADLINES = {
    "emergency": "Same-day emergency care",
    "urgent": "Medical review or imaging within days; stop the aggravating load",
    "routine": "Physiotherapy management",
}
NEEDED_WORDS = {"age": "the age", "sex": "the sex"}


@dataclass(frozen=True)
class TriageReason:
    rule: str
    label: str
    level: str
    findings: tuple[str, ...]
    action: str
    reference: str
    review_within_weeks: int | None = None

    @property
    def safety_net(self) -> bool:
        """A single weak flag: routine care with safety-netting (or a referral), not a red flag."""
        return self.level == "routine"


@dataclass(frozen=True)
class UncheckedRule:
    """A rule whose findings are present but which needs a fact the case does not give (age, sex)."""

    rule: str
    label: str
    level: str
    findings: tuple[str, ...]
    needs: tuple[str, ...]


@dataclass
class Triage:
    level: str
    reasons: list[TriageReason]
    not_assessed: list[UncheckedRule] = field(default_factory=list)

    @property
    def red_flag(self) -> bool:
        return any(not r.safety_net for r in self.reasons)

    @property
    def red_flags(self) -> list[TriageReason]:
        return [r for r in self.reasons if not r.safety_net]

    @property
    def safety_nets(self) -> list[TriageReason]:
        return [r for r in self.reasons if r.safety_net]

    @property
    def headline(self) -> str:
        return TRIAGE_HEADLINES[self.level]

    def missing_facts(self) -> list[str]:
        """The facts to record so every rule can be checked: "age", "sex"."""
        return sorted({n for u in self.not_assessed for n in u.needs})

    def not_assessed_note(self) -> str | None:
        """One sentence for the clinician: which checks could not be made, and what to record."""
        if not self.not_assessed:
            return None
        facts = " and ".join(NEEDED_WORDS.get(n, n) for n in self.missing_facts())
        checks = "; ".join(f"{u.label} ({u.level})" for u in self.not_assessed)
        return f"Not assessed without {facts}: {checks}. Record {facts} so these checks can be made; not assessed is not negative."


@dataclass(frozen=True)
class ExaminationCaution:
    finding: str
    warning: str
    because: tuple[str, ...]  # the findings or red-flag rules that make the test unsafe


@dataclass(frozen=True)
class NextQuestion:
    finding: str
    score: float
    if_present: dict[str, float]  # condition -> probability if found present
    if_absent: dict[str, float]   # condition -> probability if checked and absent


@dataclass
class Assessment:
    case: Case
    triage: Triage
    differential: list[ConditionResult]
    next_questions: list[NextQuestion]
    plan: list[PlanItem]
    plan_conditions: list[str]
    sufficient: bool
    sufficiency_note: str
    plan_withheld: str | None = None
    withheld: list[WithheldTopic] = field(default_factory=list)
    cautions: dict[str, ExaminationCaution] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON result (plus extra keys; none of the contract's is renamed)."""
        return {
            "triage": {
                "level": self.triage.level,
                "headline": self.triage.headline,
                "reasons": [
                    {"finding": ", ".join(r.findings), "action": r.action, "rule": r.rule, "label": r.label,
                     "level": r.level, "reference": r.reference, "safety_net": r.safety_net,
                     "review_within_weeks": r.review_within_weeks}
                    for r in self.triage.reasons
                ],
                "not_assessed": [
                    {"rule": u.rule, "label": u.label, "level": u.level, "findings": list(u.findings), "needs": list(u.needs)}
                    for u in self.triage.not_assessed
                ],
                "not_assessed_note": self.triage.not_assessed_note(),
            },
            "differential": [
                {
                    "condition": r.condition,
                    "probability": round(r.probability, 4),
                    "prior": r.prior,
                    "log_odds_change": round(r.log_odds - r.log_odds_prior, 4),
                    "capped": r.clamped,
                    "contributions": [
                        {"finding": c.finding, "effect": round(c.effect, 4), "present": c.present,
                         "likelihood_ratio": c.likelihood_ratio, "provenance": c.provenance, "reference": c.reference}
                        for c in r.contributions
                    ],
                }
                for r in self.differential
            ],
            "plan": [item.to_dict() for item in self.plan],
            "plan_conditions": self.plan_conditions,
            "plan_withheld": self.plan_withheld,
            "withheld": [w.to_dict() for w in self.withheld],
            "examination_cautions": [
                {"finding": c.finding, "warning": c.warning, "because": list(c.because)} for c in self.cautions.values()
            ],
            "phase": self.case.phase,
            "pain_drawing_complete": self.case.pain_drawing_complete,
            # As assessed: with "pain drawing complete", the unmarked locations are listed as absent.
            "assessed": {"present": sorted(self.case.findings), "absent": sorted(self.case.absent)},
            "sufficient_information": self.sufficient,
            "sufficiency_note": self.sufficiency_note,
            "next_questions": [
                {"finding": q.finding, "score": round(q.score, 4),
                 "if_present": {k: round(v, 3) for k, v in q.if_present.items()},
                 "if_absent": {k: round(v, 3) for k, v in q.if_absent.items()}}
                for q in self.next_questions
            ],
        }


def check_case(kb: KnowledgeBase, case: Case) -> None:
    unknown = sorted({f for f in [*case.findings, *case.absent] if f not in kb.findings})
    if unknown:
        raise AssessmentError(f"unknown finding id(s): {', '.join(unknown)}")


def _findings_match(rule: RedFlagRule, present: frozenset[str]) -> tuple[str, ...] | None:
    """The findings that satisfy the rule's finding conditions, or None."""
    if not all(f in present for f in rule.all_of):
        return None
    hits = [f for f in rule.any_of if f in present]
    if rule.any_of and len(hits) < rule.min_any:
        return None
    return (*rule.all_of, *hits)


def _patient_matches(rule: RedFlagRule, age: int | None, sex: str | None) -> bool | None:
    """Whether the patient's age and sex meet the rule; None when a fact the rule needs is missing."""
    if rule.age_at_least is not None or rule.age_below is not None:
        if age is None:
            return None
        if rule.age_at_least is not None and age < rule.age_at_least:
            return False
        if rule.age_below is not None and age >= rule.age_below:
            return False
    if rule.sex is not None:
        if sex is None:
            return None
        if sex != rule.sex:
            return False
    return True


def rule_fires(rule: RedFlagRule, present: frozenset[str], age: int | None, sex: str | None = None) -> tuple[str, ...] | None:
    """The findings that fire a red-flag rule, or None when it does not fire (or cannot be checked)."""
    fired = _findings_match(rule, present)
    if fired is None or not _patient_matches(rule, age, sex):
        return None
    return fired


def triage(kb: KnowledgeBase, case: Case) -> Triage:
    present = frozenset(case.findings)
    reasons, unchecked = [], []
    for rule in kb.red_flags:
        fired = _findings_match(rule, present)
        if fired is None:
            continue
        patient = _patient_matches(rule, case.age, case.sex)
        if patient is None:
            missing = tuple(n for n in rule.needs if getattr(case, n) is None)
            unchecked.append(UncheckedRule(rule.id, rule.label, rule.level, fired, missing))
        elif patient:
            reasons.append(TriageReason(rule.id, rule.label, rule.level, fired, rule.action, rule.reference,
                                        rule.review_within_weeks))
    reasons.sort(key=lambda r: -TRIAGE_ORDER[r.level])
    level = reasons[0].level if reasons else "routine"
    if level != "routine":
        # Once the patient is referred, a weak flag's review date is moot (a referral it asks for is kept).
        reasons = [r for r in reasons if not (r.safety_net and r.review_within_weeks)]
    # Only a check that could raise the level, or add safety-netting to routine care, is worth asking for.
    unchecked = sorted((u for u in unchecked if TRIAGE_ORDER[u.level] > TRIAGE_ORDER[level] or u.level == level == "routine"),
                       key=lambda u: -TRIAGE_ORDER[u.level])
    return Triage(level=level, reasons=reasons, not_assessed=unchecked)


def red_flag_screen_findings(kb: KnowledgeBase) -> list[str]:
    """The red-flag screen, asked first: the red-flag questions, then the risk factors the rules depend on
    (a prosthetic hip, immunosuppression, osteoporosis), so every rule's questions sit together."""
    red = [f for f, fd in kb.findings.items() if fd.group == "red_flag"]
    used = {f for rule in kb.red_flags for f in (*rule.all_of, *rule.any_of)}
    return red + [f for f, fd in kb.findings.items() if fd.group == "risk" and f in used]


def examination_cautions(kb: KnowledgeBase, case: Case, tri: Triage) -> dict[str, ExaminationCaution]:
    """Tests that could harm this patient (a hop test on a possible femoral neck stress fracture), and why."""
    present = set(case.findings)
    fired = {r.rule for r in tri.reasons} | {u.rule for u in tri.not_assessed}
    out = {}
    for fid, finding in kb.findings.items():
        caution = finding.caution
        if caution is None:
            continue
        because = [f for f in caution.if_any_finding if f in present] + [r for r in caution.if_any_rule if r in fired]
        if because:
            out[fid] = ExaminationCaution(fid, caution.warning, tuple(because))
    return out


def _bounded(p: float) -> float:
    return min(max(p, PROBABILITY_FLOOR), PROBABILITY_CEIL)


def _condition_result(kb: KnowledgeBase, condition: str, present: frozenset[str], absent: frozenset[str]) -> ConditionResult:
    prior = kb.conditions[condition].prior
    lo_prior = logit(prior)
    contributions = []
    for finding, lr in kb.likelihood_ratios.get(condition, {}).items():
        if finding in present:
            ratio, is_present = lr.lr_positive, True
        elif finding in absent:
            ratio, is_present = lr.lr_negative, False
        else:
            continue
        if ratio != 1.0:
            contributions.append(Contribution(finding, is_present, ratio, math.log(ratio), lr.provenance, lr.reference))
    contributions.sort(key=lambda c: -abs(c.effect))
    lo = lo_prior + sum(c.effect for c in contributions)
    p = sigmoid(lo)
    clamped = not (PROBABILITY_FLOOR <= p <= PROBABILITY_CEIL)
    return ConditionResult(condition, prior, _bounded(p), lo_prior, lo, contributions, clamped)


def differential(kb: KnowledgeBase, case: Case) -> list[ConditionResult]:
    present, absent = frozenset(case.findings), frozenset(case.absent)
    results = [_condition_result(kb, c, present, absent) for c in kb.conditions]
    # Most likely first; ties keep the knowledge file's order, so the ranking is stable.
    return sorted(results, key=lambda r: -r.log_odds)


def next_questions(kb: KnowledgeBase, case: Case, results: list[ConditionResult], limit: int = 5,
                   unsafe: frozenset[str] | set[str] = frozenset()) -> list[NextQuestion]:
    """Unassessed findings that would most move the differential, whichever way they turn out.

    Score: over the leading conditions, the mean of |Δp if present| and |Δp if absent|. This is an
    expected shift, transparent enough to show as "if positive … / if negative …". A test that could
    harm this patient (`unsafe`) is never suggested.
    """
    assessed = set(case.findings) | set(case.absent) | set(unsafe)
    leaders = results[:4]
    candidates: dict[str, NextQuestion] = {}
    for finding in kb.findings:
        if finding in assessed or kb.findings[finding].group == "red_flag":
            continue
        score, if_present, if_absent = 0.0, {}, {}
        for r in leaders:
            lr = kb.likelihood_ratios.get(r.condition, {}).get(finding)
            if lr is None:
                continue
            # Within the shown bounds: a question that cannot move the shown probability is not suggested.
            p_pos = _bounded(sigmoid(r.log_odds + math.log(lr.lr_positive)))
            p_neg = _bounded(sigmoid(r.log_odds + math.log(lr.lr_negative)))
            score += (abs(p_pos - r.probability) + abs(p_neg - r.probability)) / 2
            if_present[r.condition], if_absent[r.condition] = p_pos, p_neg
        if score > 1e-3:
            candidates[finding] = NextQuestion(finding, score, if_present, if_absent)
    return sorted(candidates.values(), key=lambda q: -q.score)[:limit]


def sufficiency(case: Case, results: list[ConditionResult]) -> tuple[bool, str]:
    assessed = len(case.findings) + len(case.absent)
    if assessed < MIN_FINDINGS_FOR_RANKING:
        return False, (f"Only {assessed} finding(s) recorded: too little to rank conditions. "
                       "The list below shows pre-test probabilities moved by what has been recorded so far.")
    top = results[0]
    if top.probability < CLEAR_LEAD_PROBABILITY:
        return False, (f"No condition reaches {CLEAR_LEAD_PROBABILITY:.0%}: the findings do not yet point clearly "
                       "to one cause. See the suggested next questions.")
    if len(results) > 1 and results[1].probability >= CLEAR_LEAD_PROBABILITY and results[1].log_odds > top.log_odds - 0.4:
        return True, "Two conditions are similarly likely (they can coexist): examine for both."
    return True, "The recorded findings support the ranking below; it remains a hypothesis to confirm clinically."


def assess(kb: KnowledgeBase, case: Case | dict[str, Any]) -> Assessment:
    """Assess one case. Raises AssessmentError for unknown ids or a malformed case."""
    from pydantic import ValidationError

    from .plan import build_plan, plan_conditions

    if not isinstance(case, Case):
        try:
            case = Case.model_validate(case)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            if first["loc"][:1] == ("outcomes",) and first["type"] in ("less_than_equal", "greater_than_equal", "int_type", "int_from_float"):
                message += f" (got {first['input']!r})"  # an out-of-range score names what was given
            raise AssessmentError(f"malformed case: {where + ': ' if where else ''}{message}") from None
    check_case(kb, case)
    case = apply_pain_drawing(kb, case)  # "pain drawing complete": unmarked regions become checked and absent
    tri = triage(kb, case)
    cautions = examination_cautions(kb, case, tri)
    results = differential(kb, case)
    ok, note = sufficiency(case, results)
    chosen = plan_conditions(results)
    plan, plan_withheld, withheld = build_plan(kb, case.phase, chosen, tri)
    return Assessment(
        case=case, triage=tri, differential=results,
        next_questions=next_questions(kb, case, results, unsafe=set(cautions)),
        plan=plan, plan_conditions=chosen, sufficient=ok, sufficiency_note=note, plan_withheld=plan_withheld,
        withheld=withheld, cautions=cautions,
    )
