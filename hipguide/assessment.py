"""The assessment: red-flag triage first, then a transparent Bayesian differential and what to ask next.

Each condition is its own yes/no hypothesis (they can coexist), so each gets its own post-test
probability: prior odds (for the patient's age band and sex) × the likelihood ratio of each piece of
evidence. A finding present multiplies by LR+, a finding checked and absent by LR−, a finding not
assessed counts for nothing. Evidence is counted once:

- a composite rule (Martin's combined piriformis tests, the Sutlive hip osteoarthritis rule), once its
  result is known, replaces the ratios of its own findings;
- findings in one dependence group measure the same thing: only the strongest for and the strongest
  against count; the others are listed as "not counted" with the finding that counted instead.

Each counted contribution is reported on the log-odds scale, so a condition's counted contributions
add up exactly to the change from its prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import TRIAGE_ORDER, Case, RedFlagRule

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .plan import PlanItem

# Below this many assessed findings, or without a clear leader, the page says the picture is incomplete.
MIN_FINDINGS_FOR_RANKING = 3
CLEAR_LEAD_PROBABILITY = 0.5
# "None of these fits": with at least this many findings recorded, no condition reaches SUPPORTED, or
# the findings lowered every condition below its pre-test probability.
MIN_FINDINGS_FOR_NONE_FITS = 3
SUPPORTED_PROBABILITY = 0.25
# Correlated findings are no longer multiplied (dependence groups, composite rules), but the ratios come
# from small studies (often a few dozen patients, some case-control), and groups only approximate the
# dependence between findings. Beyond 1% and 97% those studies cannot tell probabilities apart, so the
# page shows "≤1%" / "≥97%" there rather than a figure more precise than its basis.
PROBABILITY_FLOOR, PROBABILITY_CEIL = 0.01, 0.97


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
    finding: str                   # a finding id, or a composite rule's id (see `rule`)
    present: bool                  # for a rule: its result was positive
    likelihood_ratio: float
    effect: float                  # natural-log odds counted (0.0 when not counted)
    provenance: str
    reference: str | None
    reason: str | None = None
    counted: bool = True
    group: str | None = None       # the dependence group it belongs to
    instead: str | None = None     # not counted: the finding or rule that counted in its place
    rule: bool = False             # a composite rule standing for `findings`
    findings: tuple[str, ...] = ()
    would_be: float = 0.0          # the log-odds effect it would have had alone

    @property
    def lr_effect(self) -> float:
        return math.log(self.likelihood_ratio)


@dataclass
class ConditionResult:
    condition: str
    prior: float
    probability: float
    log_odds_prior: float
    log_odds: float
    contributions: list[Contribution]
    clamped: bool = False
    prior_basis: str = "all ages"
    # per dependence group (or lone finding): the effects it holds, for "what if" questions
    units: dict[str, list[float]] = field(default_factory=dict)

    @property
    def counted(self) -> list[Contribution]:
        return [c for c in self.contributions if c.counted]

    @property
    def supporting(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.counted and c.effect > 0), key=lambda c: -c.effect)

    @property
    def against(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.counted and c.effect < 0), key=lambda c: c.effect)


@dataclass(frozen=True)
class TriageReason:
    rule: str
    label: str
    level: str
    findings: tuple[str, ...]
    action: str
    reference: str


@dataclass
class Triage:
    level: str
    reasons: list[TriageReason]

    @property
    def red_flag(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class NextQuestion:
    finding: str
    score: float
    if_present: dict[str, float]  # condition -> probability if found present
    if_absent: dict[str, float]   # condition -> probability if checked and absent


@dataclass(frozen=True)
class OutsideSuggestion:
    cause: str
    label: str
    action: str
    reference: str
    because: tuple[str, ...]   # the findings that brought it up ([] = always worth considering)


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
    notes: list[str] = field(default_factory=list)
    none_fits: bool = False
    none_fits_note: str | None = None
    consider: list[OutsideSuggestion] = field(default_factory=list)
    plan_notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON result (plus extra keys; none of the contract's is renamed)."""
        return {
            "triage": {
                "level": self.triage.level,
                "reasons": [
                    {"finding": ", ".join(r.findings), "action": r.action, "rule": r.rule, "label": r.label,
                     "level": r.level, "reference": r.reference}
                    for r in self.triage.reasons
                ],
            },
            "differential": [
                {
                    "condition": r.condition,
                    "probability": round(r.probability, 4),
                    "prior": r.prior,
                    "log_odds_change": round(r.log_odds - r.log_odds_prior, 4),
                    "prior_basis": r.prior_basis,
                    "capped": r.clamped,
                    "contributions": [
                        {"finding": c.finding, "effect": round(c.effect, 4), "present": c.present,
                         "likelihood_ratio": c.likelihood_ratio, "provenance": c.provenance, "reference": c.reference,
                         "reason": c.reason, "counted": c.counted, "group": c.group, "instead": c.instead,
                         "rule": c.rule, "findings": list(c.findings), "would_be": round(c.would_be, 4)}
                        for c in r.contributions
                    ],
                }
                for r in self.differential
            ],
            "plan": [item.to_dict() for item in self.plan],
            "plan_conditions": self.plan_conditions,
            "plan_withheld": self.plan_withheld,
            "plan_notes": self.plan_notes,
            "phase": self.case.phase,
            "sufficient_information": self.sufficient,
            "sufficiency_note": self.sufficiency_note,
            "none_fits": self.none_fits,
            "none_fits_note": self.none_fits_note,
            "consider": [{"cause": o.cause, "label": o.label, "action": o.action, "reference": o.reference,
                          "because": list(o.because)} for o in self.consider],
            "notes": self.notes,
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


def rule_fires(rule: RedFlagRule, present: frozenset[str], age: int | None) -> tuple[str, ...] | None:
    """The findings that fire a red-flag rule, or None when it does not fire."""
    if not all(f in present for f in rule.all_of):
        return None
    hits = [f for f in rule.any_of if f in present]
    if rule.any_of and len(hits) < rule.min_any:
        return None
    if rule.age_at_least is not None and (age is None or age < rule.age_at_least):
        return None
    return (*rule.all_of, *hits)


def triage(kb: KnowledgeBase, case: Case) -> Triage:
    present = frozenset(case.findings)
    reasons = [
        TriageReason(rule.id, rule.label, rule.level, fired, rule.action, rule.reference)
        for rule in kb.red_flags
        if (fired := rule_fires(rule, present, case.age)) is not None
    ]
    reasons.sort(key=lambda r: -TRIAGE_ORDER[r.level])
    level = reasons[0].level if reasons else "routine"
    return Triage(level=level, reasons=reasons)


def _bounded(p: float) -> float:
    return min(max(p, PROBABILITY_FLOOR), PROBABILITY_CEIL)


def unit_effect(effects: list[float]) -> float:
    """What a dependence group counts: its strongest evidence for plus its strongest against."""
    return max((e for e in effects if e > 0), default=0.0) + min((e for e in effects if e < 0), default=0.0)


@dataclass(frozen=True)
class _ConditionModel:
    """One condition's evidence, arranged once per knowledge base (knowledge only, no patient data)."""

    rows: tuple[tuple[str, Any, str | None], ...]   # (finding, LikelihoodRatio, dependence group)
    composites: tuple[Any, ...]                      # CompositeRule
    in_composite: frozenset[str]


def _evidence_model(kb: KnowledgeBase) -> dict[str, _ConditionModel]:
    def build() -> dict[str, _ConditionModel]:
        group_of = {f: g.id for g in kb.dependence_groups.values() for f in g.findings}
        out = {}
        for cid in kb.conditions:
            comps = tuple(r for r in kb.composite_rules if r.condition == cid)
            rows = tuple((f, lr, group_of.get(f)) for f, lr in kb.likelihood_ratios.get(cid, {}).items())
            out[cid] = _ConditionModel(rows, comps, frozenset(f for r in comps for f in r.findings))
        return out

    return kb.derived("evidence_model", build)


def _group_of(kb: KnowledgeBase) -> dict[str, str]:
    return kb.derived("group_of", lambda: {f: g.id for g in kb.dependence_groups.values() for f in g.findings})


def _condition_result(kb: KnowledgeBase, condition: str, present: frozenset[str], absent: frozenset[str],
                      age: int | None = None, sex: str | None = None) -> ConditionResult:
    cond = kb.conditions[condition]
    prior, basis = cond.prior_for(age, sex)
    lo_prior = logit(prior)
    model = _evidence_model(kb)[condition]
    group_of = _group_of(kb)
    candidates: list[tuple[str, Contribution]] = []   # (unit, contribution as if counted)
    consumed: dict[str, str] = {}                       # finding -> the rule that stands for it
    for rule in model.composites:
        known = rule.evaluate(present, absent)
        if known is None:
            continue
        positive, ratio, _ = known
        for f in rule.findings:
            consumed[f] = rule.id
        unit = next((group_of[f] for f in rule.findings if f in group_of), rule.id)
        effect = math.log(ratio)
        candidates.append((unit, Contribution(rule.id, positive, ratio, effect, rule.provenance, rule.reference,
                                              rule.reason, group=unit if unit != rule.id else None, rule=True,
                                              findings=tuple(rule.findings), would_be=effect)))
    not_counted: list[Contribution] = []
    for finding, lr, group in model.rows:
        if finding in present:
            ratio, is_present = lr.lr_positive, True
        elif finding in absent:
            ratio, is_present = lr.lr_negative, False
        else:
            continue
        if ratio == 1.0:
            continue
        effect = math.log(ratio)
        c = Contribution(finding, is_present, ratio, effect, lr.provenance_of(is_present), lr.reference, lr.reason,
                         group=group, would_be=effect)
        if finding in consumed:
            not_counted.append(_replace(c, counted=False, effect=0.0, instead=consumed[finding]))
            continue
        candidates.append((group or finding, c))
    units: dict[str, list[Contribution]] = {}
    for unit, c in candidates:
        units.setdefault(unit, []).append(c)
    contributions: list[Contribution] = []
    for members in units.values():
        best_for = max((c for c in members if c.effect > 0), key=lambda c: c.effect, default=None)
        best_against = min((c for c in members if c.effect < 0), key=lambda c: c.effect, default=None)
        for c in members:
            if c is best_for or c is best_against:
                contributions.append(c)
            else:
                instead = best_for if c.effect > 0 else best_against
                contributions.append(_replace(c, counted=False, effect=0.0, instead=instead.finding if instead else None))
    contributions.extend(not_counted)
    contributions.sort(key=lambda c: (not c.counted, -abs(c.effect), -abs(c.would_be)))
    lo = lo_prior + sum(c.effect for c in contributions)
    p = sigmoid(lo)
    clamped = not (PROBABILITY_FLOOR <= p <= PROBABILITY_CEIL)
    unit_effects = {unit: [c.would_be for c in members] for unit, members in units.items()}
    return ConditionResult(condition, prior, _bounded(p), lo_prior, lo, contributions, clamped, basis, unit_effects)


def _replace(c: Contribution, **changes: Any) -> Contribution:
    from dataclasses import replace

    return replace(c, **changes)


def differential(kb: KnowledgeBase, case: Case) -> list[ConditionResult]:
    present, absent = frozenset(case.findings), frozenset(case.absent)
    results = [_condition_result(kb, c, present, absent, case.age, case.sex) for c in kb.conditions]
    # Most likely first; ties keep the knowledge file's order, so the ranking is stable.
    return sorted(results, key=lambda r: -r.log_odds)


def _shift_if(kb: KnowledgeBase, r: ConditionResult, finding: str, ratio: float, case: Case, present_now: bool) -> float:
    """The log-odds of a condition if one more finding were recorded (present or absent)."""
    model = _evidence_model(kb)[r.condition]
    if finding in model.in_composite:
        # A composite rule's result may change: work the condition out again (few findings are in rules).
        present = frozenset(case.findings) | ({finding} if present_now else set())
        absent = frozenset(case.absent) | (set() if present_now else {finding})
        return _condition_result(kb, r.condition, present, absent, case.age, case.sex).log_odds
    unit = _group_of(kb).get(finding, finding)
    before = r.units.get(unit, [])
    return r.log_odds + unit_effect([*before, math.log(ratio)]) - unit_effect(before)


def next_questions(kb: KnowledgeBase, case: Case, results: list[ConditionResult], limit: int = 5) -> list[NextQuestion]:
    """Unassessed findings that would most move the differential, whichever way they turn out.

    Score: over the leading conditions, the mean of |Δp if present| and |Δp if absent|. This is an
    expected shift, transparent enough to show as "if positive … / if negative …". A finding whose
    group already holds stronger evidence moves nothing, so it is not suggested.
    """
    assessed = set(case.findings) | set(case.absent)
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
            p_pos = _bounded(sigmoid(_shift_if(kb, r, finding, lr.lr_positive, case, True)))
            p_neg = _bounded(sigmoid(_shift_if(kb, r, finding, lr.lr_negative, case, False)))
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


def none_fits(kb: KnowledgeBase, case: Case, results: list[ConditionResult]) -> tuple[bool, str | None]:
    """Whether no condition on the list fits: none is supported, or the findings count against all of them."""
    assessed = len(case.findings) + len(case.absent)
    if assessed < MIN_FINDINGS_FOR_NONE_FITS or not results:
        return False, None
    if all(r.log_odds < r.log_odds_prior for r in results):
        return True, ("The recorded findings count against every condition on the list: the cause is probably "
                      "outside it. Examine or refer for the causes below; the ranking is not a diagnosis.")
    supported = [r for r in results if r.probability >= SUPPORTED_PROBABILITY and r.log_odds > r.log_odds_prior]
    if not supported:
        return True, (f"No condition on the list reaches {SUPPORTED_PROBABILITY:.0%} with these findings: none of "
                      "them fits well. Examine or refer for the causes below before treating any of them.")
    return False, None


def outside_suggestions(kb: KnowledgeBase, case: Case) -> list[OutsideSuggestion]:
    """Causes outside the differential worth examining or referring for, given what is present.

    An age-limited cause is kept when the age is not recorded: not assessed is never negative."""
    present = set(case.findings)
    out = []
    for cause in kb.outside_causes:
        because = tuple(f for f in cause.when_any if f in present)
        if cause.when_any and not because:
            continue
        if case.age is not None and ((cause.age_below is not None and case.age >= cause.age_below)
                                     or (cause.age_at_least is not None and case.age < cause.age_at_least)):
            continue
        out.append(OutsideSuggestion(cause.id, cause.label, cause.action, cause.reference, because))
    # Specific matches first (more matching findings first), the always-relevant ones last.
    return sorted(out, key=lambda o: (not o.because, -len(o.because)))


def prior_notes(kb: KnowledgeBase, case: Case) -> list[str]:
    notes = []
    if case.age is None and any(c.priors_by_age for c in kb.conditions.values()):
        notes.append("Age not recorded: every condition starts from its all-ages pre-test probability, "
                     "not from an age band. Record the age for age-specific priors.")
    if case.sex is None and any(c.sex_odds_ratio for c in kb.conditions.values()):
        notes.append("Sex not recorded: pre-test probabilities are not adjusted for sex.")
    return notes


def assess(kb: KnowledgeBase, case: Case | dict[str, Any]) -> Assessment:
    """Assess one case. Raises AssessmentError for unknown ids or a malformed case."""
    from pydantic import ValidationError

    from .plan import build_plan, plan_conditions, written_for

    if not isinstance(case, Case):
        try:
            case = Case.model_validate(case)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise AssessmentError(f"malformed case: {where + ': ' if where else ''}{first['msg']}") from None
    check_case(kb, case)
    tri = triage(kb, case)
    results = differential(kb, case)
    ok, note = sufficiency(case, results)
    nothing_fits, nothing_note = none_fits(kb, case, results)
    if nothing_fits:
        ok = False
    # With nothing fitting, no condition guides the plan: self-care written for a condition the patient
    # probably does not have is not offered (safety overrides from the triage still apply).
    chosen = [] if nothing_fits else plan_conditions(results)
    plan, withheld = build_plan(kb, case.phase, chosen, tri)
    plan, plan_notes = written_for(kb, plan, chosen, nothing_fits)
    return Assessment(
        case=case, triage=tri, differential=results, next_questions=next_questions(kb, case, results),
        plan=plan, plan_conditions=chosen, sufficient=ok, sufficiency_note=note, plan_withheld=withheld,
        notes=prior_notes(kb, case), none_fits=nothing_fits, none_fits_note=nothing_note,
        consider=outside_suggestions(kb, case) if nothing_fits else [], plan_notes=plan_notes,
    )
