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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .bodymap import apply_pain_drawing
from .models import AGE_MAX, TRIAGE_ORDER, Case, RedFlagRule

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .plan import PlanItem, WithheldTopic

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


@dataclass(slots=True)
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
    # per dependence group (or lone finding): (finding or rule, log-odds effect) it holds, for "what if"
    units: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    rules_known: dict[str, float | None] = field(default_factory=dict)  # rule -> its log LR, None = undetermined

    @property
    def counted(self) -> list[Contribution]:
        return [c for c in self.contributions if c.counted]

    @property
    def supporting(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.counted and c.effect > 0), key=lambda c: -c.effect)

    @property
    def against(self) -> list[Contribution]:
        return sorted((c for c in self.contributions if c.counted and c.effect < 0), key=lambda c: c.effect)


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
    withheld: list[WithheldTopic] = field(default_factory=list)
    cautions: dict[str, ExaminationCaution] = field(default_factory=dict)
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


def red_flag_screen_findings(kb: KnowledgeBase) -> tuple[str, ...]:
    """The red-flag screen, asked first: the red-flag questions, then the risk factors the rules depend on
    (a prosthetic hip, immunosuppression, osteoporosis), so every rule's questions sit together.
    Worked out once per knowledge base: the page asks for it several times on every rerun."""

    def build() -> tuple[str, ...]:
        red = [f for f, fd in kb.findings.items() if fd.group == "red_flag"]
        used = {f for rule in kb.red_flags for f in (*rule.all_of, *rule.any_of)}
        return (*red, *(f for f, fd in kb.findings.items() if fd.group == "risk" and f in used))

    return kb.derived("red_flag_screen_findings", build)


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


def strongest_each_way(effects: Iterable[float]) -> tuple[float, float]:
    """A dependence group's strongest evidence for (>= 0) and strongest against (<= 0): all it counts."""
    best_for = best_against = 0.0
    for e in effects:
        if e > best_for:
            best_for = e
        elif e < best_against:
            best_against = e
    return best_for, best_against


def unit_effect(effects: list[float]) -> float:
    """What a dependence group counts: its strongest evidence for plus its strongest against."""
    best_for, best_against = strongest_each_way(effects)
    return best_for + best_against


def joined(log_odds: float, strongest: tuple[float, float], effect: float) -> float:
    """The log-odds once one more piece of evidence joins a group whose strongest evidence each way is
    `strongest`: only what goes beyond it counts."""
    best_for, best_against = strongest
    return log_odds + (effect - best_for if effect > best_for else effect - best_against if effect < best_against
                       else 0.0)


@dataclass(frozen=True)
class _ConditionModel:
    """One condition's evidence, arranged once per knowledge base (knowledge only, no patient data)."""

    rows: dict[str, tuple[Any, str, float, float]]   # finding -> (LikelihoodRatio, unit, ln LR+, ln LR−)
    composites: tuple[tuple[Any, str], ...]          # (CompositeRule, unit its result joins)
    rule_of: dict[str, Any]                          # finding -> the composite rule it belongs to
    priors: tuple[tuple[float, str], ...]            # by age 0..120: (prior, basis) before sex


def _evidence_model(kb: KnowledgeBase) -> dict[str, _ConditionModel]:
    def build() -> dict[str, _ConditionModel]:
        group_of = {f: g.id for g in kb.dependence_groups.values() for f in g.findings}
        out = {}
        for cid, cond in kb.conditions.items():
            comps = tuple((r, next((group_of[f] for f in r.findings if f in group_of), r.id))
                          for r in kb.composite_rules if r.condition == cid)
            rows = {f: (lr, group_of.get(f, f), math.log(lr.lr_positive), math.log(lr.lr_negative))
                    for f, lr in kb.likelihood_ratios.get(cid, {}).items()}
            priors = tuple(cond.prior_for_age(age) for age in range(AGE_MAX + 1))
            out[cid] = _ConditionModel(rows, comps, {f: r for r, _ in comps for f in r.findings}, priors)
        return out

    return kb.derived("evidence_model", build)


def _prior(kb: KnowledgeBase, model: _ConditionModel, condition: str, age: int | None, sex: str | None) -> tuple[float, str]:
    if age is None:
        return kb.conditions[condition].prior_for(None, sex)
    prior, basis = model.priors[age]
    ratio = kb.conditions[condition].sex_odds_ratio.get(sex) if sex else None
    if ratio is not None and ratio != 1.0:
        odds = prior / (1 - prior) * ratio
        return odds / (1 + odds), f"{basis}, {sex} (odds ×{ratio:g})"
    if sex is None and kb.conditions[condition].sex_odds_ratio:
        return prior, f"{basis}, either sex (sex not recorded)"
    return prior, basis


def _condition_result(kb: KnowledgeBase, condition: str, present: frozenset[str], absent: frozenset[str],
                      age: int | None = None, sex: str | None = None,
                      ordered: tuple[tuple[list[str], bool], ...] | None = None) -> ConditionResult:
    model = _evidence_model(kb)[condition]
    prior, basis = _prior(kb, model, condition, age, sex)
    lo_prior = logit(prior)
    # (unit, id, effect, present, LR, provenance, reference, reason, group, rule findings)
    raw: list[tuple[str, str, float, bool, float, str, str | None, str | None, str | None, tuple[str, ...]]] = []
    consumed: dict[str, str] = {}
    rules_known: dict[str, float | None] = {}
    for rule, unit in model.composites:
        known = rule.evaluate(present, absent)
        if known is None:
            rules_known[rule.id] = None
            continue
        positive, ratio, _ = known
        rules_known[rule.id] = math.log(ratio)
        for f in rule.findings:
            consumed[f] = rule.id
        raw.append((unit, rule.id, math.log(ratio), positive, ratio, rule.provenance, rule.reference, rule.reason,
                    unit if unit != rule.id else None, tuple(rule.findings)))
    contributions: list[Contribution] = []
    rows = model.rows
    # In a fixed order, so which of two equally strong findings counts never depends on click order.
    for findings, is_present in ordered or ((sorted(present), True), (sorted(absent), False)):
        for finding in findings:
            row = rows.get(finding)
            if row is None:
                continue
            lr, unit, ln_pos, ln_neg = row
            effect = ln_pos if is_present else ln_neg
            if effect == 0.0:
                continue
            ratio = lr.lr_positive if is_present else lr.lr_negative
            group = unit if unit != finding else None
            if finding in consumed:
                contributions.append(Contribution(finding, is_present, ratio, 0.0, lr.provenance_of(is_present),
                                                  lr.reference, lr.reason, False, group, consumed[finding],
                                                  would_be=effect))
                continue
            raw.append((unit, finding, effect, is_present, ratio, lr.provenance_of(is_present), lr.reference,
                        lr.reason, group, ()))
    # Per unit: the strongest for and the strongest against count; the rest are shown, not counted.
    best: dict[str, list[Any]] = {}
    for item in raw:
        slot = best.setdefault(item[0], [None, None])
        e = item[2]
        if e > 0 and (slot[0] is None or e > slot[0][2]):
            slot[0] = item
        elif e < 0 and (slot[1] is None or e < slot[1][2]):
            slot[1] = item
    units: dict[str, list[tuple[str, float]]] = {}
    lo = lo_prior
    for item in raw:
        unit, ident, effect, is_present, ratio, prov, ref, reason, group, members = item
        units.setdefault(unit, []).append((ident, effect))
        slot = best[unit]
        counted = item is slot[0] or item is slot[1]
        instead = None if counted else (slot[0] if effect > 0 else slot[1])[1]
        if counted:
            lo += effect
        contributions.append(Contribution(ident, is_present, ratio, effect if counted else 0.0, prov, ref, reason,
                                          counted, group, instead, bool(members), members, effect))
    contributions.sort(key=lambda c: (not c.counted, -abs(c.effect), -abs(c.would_be), c.finding))
    p = sigmoid(lo)
    clamped = not (PROBABILITY_FLOOR <= p <= PROBABILITY_CEIL)
    return ConditionResult(condition, prior, _bounded(p), lo_prior, lo, contributions, clamped, basis, units, rules_known)


def differential(kb: KnowledgeBase, case: Case) -> list[ConditionResult]:
    present, absent = frozenset(case.findings), frozenset(case.absent)
    ordered = ((sorted(present), True), (sorted(absent), False))  # sorted once for every condition
    results = [_condition_result(kb, c, present, absent, case.age, case.sex, ordered) for c in kb.conditions]
    # Most likely first; ties keep the knowledge file's order, so the ranking is stable.
    return sorted(results, key=lambda r: -r.log_odds)


def _shift_if(model: _ConditionModel, r: ConditionResult, finding: str, ratio: float, present: frozenset[str],
              absent: frozenset[str], present_now: bool) -> float:
    """The log-odds of a condition if one more finding were recorded (present or absent).

    Works on the condition's evidence units rather than recomputing it: the finding joins its
    dependence group, or, when it settles a composite rule, the rule's result replaces the
    rule's findings in their group. `model` is the condition's evidence model; `present` and `absent`
    are the case's findings as recorded now."""
    row = model.rows.get(finding)
    unit = row[1] if row else finding
    effect = math.log(ratio)
    rule = model.rule_of.get(finding)
    if rule is not None:
        known = rule.evaluate(present | {finding}, absent) if present_now else rule.evaluate(present, absent | {finding})
        if known is not None or r.rules_known.get(rule.id) is not None:
            # The rule decides: its findings leave whichever units hold them now (they need not share one),
            # and its result joins the rule's unit.
            rule_unit = next(u for rl, u in model.composites if rl is rule)
            members = set(rule.findings) | {rule.id}
            log_odds = r.log_odds
            for u in {rule_unit} | {model.rows[f][1] for f in rule.findings if f in model.rows}:
                before = r.units.get(u, [])
                after = [e for ident, e in before if ident not in members]
                if u == rule_unit and known is not None:
                    after.append(math.log(known[1]))
                log_odds += unit_effect(after) - unit_effect([e for _, e in before])
            return log_odds
    return joined(r.log_odds, strongest_each_way(e for _, e in r.units.get(unit, [])), effect)


def _askable(kb: KnowledgeBase) -> tuple[str, ...]:
    """The findings a next question may ask about, in the knowledge's order (the red-flag screen is asked
    in full by the interview, not ranked)."""
    return kb.derived("askable_findings", lambda: tuple(f for f, spec in kb.findings.items() if spec.group != "red_flag"))


def next_questions(kb: KnowledgeBase, case: Case, results: list[ConditionResult], limit: int = 5,
                   unsafe: frozenset[str] | set[str] = frozenset()) -> list[NextQuestion]:
    """Unassessed findings that would most move the differential, whichever way they turn out.

    Score: over the leading conditions, the mean of |Δp if present| and |Δp if absent|. This is an
    expected shift, transparent enough to show as "if positive … / if negative …". A finding whose
    group already holds stronger evidence moves nothing, so it is not suggested; a test that could
    harm this patient (`unsafe`) is never suggested.
    """
    present, absent = frozenset(case.findings), frozenset(case.absent)
    assessed = present | absent | set(unsafe)
    models = _evidence_model(kb)
    # Each leading condition with its evidence model and, per evidence unit, the strongest evidence for and
    # against it holds now: worked out once, so a finding's shift is two comparisons.
    leaders = [(r, models[r.condition], {unit: strongest_each_way(e for _, e in effects) for unit, effects in r.units.items()},
                r.log_odds, r.probability) for r in results[:4]]
    exp, floor, ceil = math.exp, PROBABILITY_FLOOR, PROBABILITY_CEIL
    askable = _askable(kb)
    askable_set = kb.derived("askable_finding_set", lambda: frozenset(askable))
    found: dict[str, list[Any]] = {}  # finding -> [score, if present, if absent], leaders in rank order
    # The loop below runs for every finding a leading condition has a ratio for, on every rerun: sigmoid and
    # bounds are written out in it (the same arithmetic as sigmoid() and _bounded()).
    for r, model, strongest, lo, p_now in leaders:
        for finding, (lr, unit, ln_pos, ln_neg) in model.rows.items():
            if finding in assessed or finding not in askable_set:
                continue
            if finding in model.rule_of:  # it may settle a composite rule: the rule's result replaces its findings
                lo_pos = _shift_if(model, r, finding, lr.lr_positive, present, absent, True)
                lo_neg = _shift_if(model, r, finding, lr.lr_negative, present, absent, False)
            else:  # it joins its unit, which counts only what goes beyond its strongest evidence each way
                held = strongest.get(unit, (0.0, 0.0))
                lo_pos, lo_neg = joined(lo, held, ln_pos), joined(lo, held, ln_neg)
            # Within the shown bounds: a question that cannot move the shown probability is not suggested.
            if lo_pos >= 0:
                p_pos = 1 / (1 + exp(-lo_pos))
            else:
                e = exp(lo_pos)
                p_pos = e / (1 + e)
            if lo_neg >= 0:
                p_neg = 1 / (1 + exp(-lo_neg))
            else:
                e = exp(lo_neg)
                p_neg = e / (1 + e)
            p_pos = floor if p_pos < floor else ceil if p_pos > ceil else p_pos
            p_neg = floor if p_neg < floor else ceil if p_neg > ceil else p_neg
            entry = found.get(finding)
            if entry is None:
                entry = found[finding] = [0.0, {}, {}]
            entry[0] += (abs(p_pos - p_now) + abs(p_neg - p_now)) / 2
            entry[1][r.condition], entry[2][r.condition] = p_pos, p_neg
    # In the knowledge's order, so equally useful questions keep a stable order.
    candidates = [NextQuestion(f, *found[f]) for f in askable if f in found and found[f][0] > 1e-3]
    return sorted(candidates, key=lambda q: -q.score)[:limit]


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
    nothing_fits, nothing_note = none_fits(kb, case, results)
    if nothing_fits:
        ok = False
    # With nothing fitting, no condition guides the plan: self-care written for a condition the patient
    # probably does not have is not offered (safety overrides from the triage still apply).
    chosen = [] if nothing_fits else plan_conditions(results)
    plan, plan_withheld, withheld = build_plan(kb, case.phase, chosen, tri)
    plan, plan_notes = written_for(kb, plan, chosen, nothing_fits)
    return Assessment(
        case=case, triage=tri, differential=results,
        next_questions=next_questions(kb, case, results, unsafe=set(cautions)),
        plan=plan, plan_conditions=chosen, sufficient=ok, sufficiency_note=note, plan_withheld=plan_withheld,
        withheld=withheld, cautions=cautions,
        notes=prior_notes(kb, case), none_fits=nothing_fits, none_fits_note=nothing_note,
        consider=outside_suggestions(kb, case) if nothing_fits else [], plan_notes=plan_notes,
    )
