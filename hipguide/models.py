"""Typed models of the knowledge base: one class per YAML file kind (see knowledge/FORMAT.md).

Unknown keys are refused (`extra="forbid"`) so a typo in a knowledge file is an error, not lost data.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Stance = Literal["recommend", "conditional", "advise_against", "neutral"]
Phase = Literal["acute", "recovery", "prevention"]
TriageLevel = Literal["routine", "urgent", "emergency"]
Strength = Literal["strong", "conditional", "practice_statement"]
Certainty = Literal["high", "moderate", "low", "very_low", "not_graded"]
Status = Literal["draft", "approved"]
Disposition = Literal["accepted", "rejected", "accepted_with_modification"]
SourceKind = Literal["consumer_health", "practitioner_blog", "clinic_marketing", "product_marketing"]
FindingGroup = Literal["location", "onset", "aggravator", "nerve", "examination", "risk", "red_flag"]
Provenance = Literal["published", "clinical_estimate"]
View = Literal["posterior", "lateral", "anterior"]
Sex = Literal["female", "male"]
# What kind of self-care a topic is: a red flag withholds kinds that contradict its action
# (a "do not start treatment" flag withholds every active kind; a bone-stress flag, loading).
TopicKind = Literal["thermal", "manual", "stretch", "loading", "comfort", "medication", "referral"]
ACTIVE_TOPIC_KINDS: tuple[TopicKind, ...] = ("thermal", "manual", "stretch", "loading")

PHASES: tuple[Phase, ...] = ("acute", "recovery", "prevention")
TRIAGE_ORDER: dict[str, int] = {"routine": 0, "urgent": 1, "emergency": 2}
CREDIBILITY_FLAGS = (
    "no_named_author",
    "no_date",
    "no_references",
    "uncited_study_claims",
    "product_promotion",
    "affiliate_links",
    "duplicated_content",
    "placeholder_byline",
    "mechanism_only",
    "anecdotal_evidence",
    "discusses_alternatives",
    "safety_netting",
)
# Positive signals are shown in green; the rest count against a source's credibility.
POSITIVE_FLAGS = frozenset({"discusses_alternatives", "safety_netting"})

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
Id = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(f"id {value!r} must be lower_snake_case (a-z, 0-9, _), starting with a letter")
    return value


class Topic(Strict):
    id: Id
    label: str = Field(min_length=1)
    question: str = Field(min_length=1)
    kind: TopicKind

    _id = field_validator("id")(_check_id)


class TopicsFile(Strict):
    topics: list[Topic] = Field(min_length=1)


class CredibilityFlag(Strict):
    flag: Literal[CREDIBILITY_FLAGS]  # type: ignore[valid-type]
    evidence: str = Field(min_length=1)
    note: str | None = None

    @property
    def positive(self) -> bool:
        return self.flag in POSITIVE_FLAGS


class Source(Strict):
    id: Id
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    author: str | None = None
    date: str | None = None
    kind: SourceKind
    text: str = Field(min_length=1, description="file name of the verbatim text, beside the YAML")
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    duplicate_of: Id | None = None
    seed_file: str | None = None
    attribution: str = Field(min_length=1)
    flags: list[CredibilityFlag] = Field(default_factory=list)

    _id = field_validator("id")(_check_id)

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        # YAML reads 2019-08-01 as a date; the source's date is kept as the text it shows.
        return value.isoformat() if isinstance(value, dt.date) else value

    @field_validator("text")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value.startswith(".") or not value.endswith(".txt"):
            raise ValueError("text must be a plain .txt file name beside the source's YAML")
        return value


class Scope(Strict):
    phases: list[Phase] = Field(default_factory=list)
    target: str = "general"
    population: str | None = None
    # How the advice is carried out, when the claim limits it (gentle, strong, painful …). "Stretch only
    # gently" and "don't stretch strongly" agree: claims whose manners differ never form an opposing pair.
    manner: str | None = None

    @field_validator("manner")
    @classmethod
    def _manner_id(cls, value: str | None) -> str | None:
        return None if value is None else _check_id(value)


class Claim(Strict):
    id: Id
    source: Id
    stance: Stance
    quote: str = Field(min_length=3)
    scope: Scope = Field(default_factory=Scope)
    note: str | None = None

    _id = field_validator("id")(_check_id)


class ClaimsFile(Strict):
    topic: Id
    claims: list[Claim] = Field(default_factory=list)


class PhaseAdvice(Strict):
    stance: Stance
    advice: str = Field(min_length=1)


class ConditionOverride(Strict):
    conditions: list[Id] = Field(min_length=1)
    phases: dict[Phase, PhaseAdvice] = Field(min_length=1)
    reason: str = Field(min_length=1)


class ClaimDisposition(Strict):
    claim: Id
    disposition: Disposition
    reason: str = Field(min_length=1)


class Guidance(Strict):
    topic: Id
    version: int = Field(ge=1)
    status: Status
    approver: str | None = None
    date: dt.date
    strength: Strength
    certainty: Certainty
    applies_to: list[Id] = Field(default_factory=list)
    phases: dict[Phase, PhaseAdvice]
    condition_overrides: list[ConditionOverride] = Field(default_factory=list)
    rationale: str = Field(min_length=40, description="several sentences: what was accepted or rejected, and why")
    relied_on: list[str] = Field(default_factory=list)
    dispositions: list[ClaimDisposition] = Field(default_factory=list)
    source_hashes: dict[Id, str] = Field(default_factory=dict)
    # The stance of each of the topic's claims when this was decided: a claim whose stance changed
    # since (or a new one) that opposes the adopted stance makes the decision "needs review".
    claim_stances: dict[Id, Stance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Guidance:
        missing = [p for p in PHASES if p not in self.phases]
        if missing:
            raise ValueError(f"phases: must give all of acute, recovery, prevention; missing: {', '.join(missing)}")
        if self.status == "approved" and not (self.approver or "").strip():
            raise ValueError("approver: approved guidance needs an approver")
        return self

    def advice_for(self, phase: Phase, condition: str | None = None) -> tuple[PhaseAdvice, ConditionOverride | None]:
        """The advice for a phase, taking a condition-specific override where one exists."""
        if condition:
            for override in self.condition_overrides:
                if condition in override.conditions and phase in override.phases:
                    return override.phases[phase], override
        return self.phases[phase], None

    def applies(self, condition: str) -> bool:
        """Whether the general advice is written for `condition` (an empty `applies_to` means every one)."""
        return not self.applies_to or condition in self.applies_to

    def advice_for_likeliest(self, phase: Phase, ranked: list[str]) -> tuple[PhaseAdvice, ConditionOverride | None, str | None]:
        """The advice for the likeliest condition it speaks to, with the override and condition used.

        `ranked` is most likely first. The likeliest condition decides: its own override if it has one,
        else the general advice when that is written for it. Only a condition the guidance does not
        speak to at all passes the choice to the next one, never the order the overrides are listed in.
        """
        for condition in ranked:
            advice, override = self.advice_for(phase, condition)
            if override is not None:
                return advice, override, condition
            if self.applies(condition):
                return advice, None, None
        return self.phases[phase], None, None


class NotAdviceMark(Strict):
    """A sentence of a source an editor read and found is not advice (so the coverage report skips it)."""

    source: Id
    sentence: str = Field(min_length=3)
    reason: str = Field(min_length=3)


class NotAdviceFile(Strict):
    not_advice: list[NotAdviceMark] = Field(default_factory=list)


AGE_MAX = 120


class PriorBand(Strict):
    """The pre-test probability for an age range (inclusive), and why."""

    ages: tuple[int, int]
    prior: float = Field(gt=0, lt=1)
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> PriorBand:
        lo, hi = self.ages
        if not (0 <= lo <= hi <= AGE_MAX):
            raise ValueError(f"ages: [{lo}, {hi}] must be two ages from 0 to {AGE_MAX}, the first not above the second")
        return self


class Condition(Strict):
    id: Id
    label: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    prior: float = Field(gt=0, lt=1, description="all ages and both sexes: used when the age is not recorded")
    prior_provenance: str = Field(min_length=1)
    priors_by_age: list[PriorBand] = Field(default_factory=list)
    sex_odds_ratio: dict[Sex, float] = Field(default_factory=dict)
    sex_reason: str | None = None
    general_guidance: bool = Field(default=True, description="the general self-care guidance was written for it")
    management: str | None = None
    muscles: list[Id] = Field(default_factory=list)

    _id = field_validator("id")(_check_id)

    @field_validator("sex_odds_ratio")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for sex, ratio in value.items():
            if not 0 < ratio <= 20:
                raise ValueError(f"{sex}: an odds ratio must lie in (0, 20]")
        return value

    @model_validator(mode="after")
    def _bands_cover_all_ages(self) -> Condition:
        if self.priors_by_age:
            expected = 0
            for i, band in enumerate(self.priors_by_age):
                lo, hi = band.ages
                if lo != expected:
                    raise ValueError(f"priors_by_age: band {i + 1} starts at {lo}, expected {expected} "
                                     f"(bands run in order from 0 to {AGE_MAX} without gaps or overlaps)")
                expected = hi + 1
            if expected != AGE_MAX + 1:
                raise ValueError(f"priors_by_age: the last band ends at {expected - 1}, expected {AGE_MAX}")
        if self.sex_odds_ratio and not (self.sex_reason or "").strip():
            raise ValueError("sex_reason: give the reason (and source) for the sex odds ratios")
        if not self.general_guidance and not (self.management or "").strip():
            raise ValueError("management: a condition the general guidance was not written for needs its usual management")
        return self

    def prior_for_age(self, age: int | None) -> tuple[float, str]:
        """The pre-test probability for an age (any sex), and its basis in words."""
        if age is None or not self.priors_by_age:
            return self.prior, "all ages" + (" (age not recorded)" if age is None and self.priors_by_age else "")
        band = next(b for b in self.priors_by_age if b.ages[0] <= age <= b.ages[1])
        return band.prior, f"age {band.ages[0]}–{band.ages[1]}"

    def prior_for(self, age: int | None, sex: str | None) -> tuple[float, str]:
        """The pre-test probability for this patient, and its basis in words."""
        prior, basis = self.prior_for_age(age)
        ratio = self.sex_odds_ratio.get(sex) if sex else None
        if ratio is not None and ratio != 1.0:
            odds = prior / (1 - prior) * ratio
            prior = odds / (1 + odds)
            basis += f", {sex} (odds ×{ratio:g})"
        elif self.sex_odds_ratio and sex is None:
            basis += ", either sex (sex not recorded)"
        return prior, basis


class ConditionsFile(Strict):
    conditions: list[Condition] = Field(min_length=1)


class ExaminationCaution(Strict):
    """When a test can harm (a hop test on a possible femoral neck stress fracture), and what to say."""

    if_any_finding: list[Id] = Field(default_factory=list)
    if_any_rule: list[Id] = Field(default_factory=list)
    warning: str = Field(min_length=1)

    @model_validator(mode="after")
    def _has_trigger(self) -> ExaminationCaution:
        if not self.if_any_finding and not self.if_any_rule:
            raise ValueError("if_any_finding: a caution needs findings or red-flag rules that trigger it")
        return self


class Finding(Strict):
    id: Id
    label: str = Field(min_length=1)
    group: FindingGroup
    how_to: str | None = None
    positive_if: str | None = None
    caution: ExaminationCaution | None = None

    _id = field_validator("id")(_check_id)


class FindingsFile(Strict):
    findings: list[Finding] = Field(min_length=1)


def _check_basis(record: LikelihoodRatio | CompositeRule) -> None:
    if record.provenance == "published" and not (record.reference or "").strip():
        raise ValueError("reference: a published likelihood ratio needs its reference")
    if record.provenance == "clinical_estimate" and not (record.reason or "").strip():
        raise ValueError("reason: a clinical estimate needs the reasoning behind it")
    # Kappa measures agreement between examiners, not accuracy: it can never be a published LR's basis.
    if record.provenance == "published" and "kappa" in (record.reference or "").lower():
        raise ValueError("reference: kappa is reliability, not accuracy; it cannot support a published likelihood ratio")


class LikelihoodRatio(Strict):
    finding: Id
    lr_positive: float = Field(gt=0, le=50)
    lr_negative: float = Field(default=1.0, gt=0, le=50)
    provenance: Provenance
    # When only LR+ comes from the study, LR− is an estimate: say so here, and why in `reason`.
    lr_negative_provenance: Provenance | None = None
    reference: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _basis(self) -> LikelihoodRatio:
        _check_basis(self)
        if self.lr_negative_provenance == "clinical_estimate" and not (self.reason or "").strip():
            raise ValueError("reason: say why LR− is a clinical estimate")
        return self

    def provenance_of(self, present: bool) -> str:
        return self.provenance if present else (self.lr_negative_provenance or self.provenance)


class DependenceGroup(Strict):
    """Findings that measure the same thing: for any condition only the strongest for, and the
    strongest against, count, so correlated evidence is never multiplied."""

    id: Id
    label: str = Field(min_length=1)
    findings: list[Id] = Field(min_length=2)
    reason: str = Field(min_length=1)

    _id = field_validator("id")(_check_id)


class RuleTier(Strict):
    at_least: int = Field(ge=1)
    lr_positive: float = Field(gt=0, le=50)


class CompositeRule(Strict):
    """A published (or estimated) rule over several findings, e.g. "3 or more of 5". When its result is
    known it replaces its findings' own ratios for that condition; while undetermined they count alone."""

    id: Id
    label: str = Field(min_length=1)
    condition: Id
    findings: list[Id] = Field(min_length=2)
    at_least: int = Field(ge=1, description="positive when at least this many findings are present")
    lr_positive: float = Field(gt=0, le=50)
    lr_negative: float = Field(gt=0, le=50, description="when fewer than at_least can be present")
    tiers: list[RuleTier] = Field(default_factory=list)
    provenance: Provenance
    reference: str | None = None
    reason: str | None = None

    _id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _consistent(self) -> CompositeRule:
        _check_basis(self)
        if self.at_least > len(self.findings):
            raise ValueError("at_least: is larger than the number of findings")
        for tier in self.tiers:
            if not self.at_least < tier.at_least <= len(self.findings):
                raise ValueError(f"tiers: at_least {tier.at_least} must lie above {self.at_least} and at most "
                                 f"{len(self.findings)}")
        return self

    def evaluate(self, present: frozenset[str], absent: frozenset[str]) -> tuple[bool, float, int] | None:
        """(positive?, LR, findings present) once the rule's result is known, else None."""
        n_present = sum(f in present for f in self.findings)
        if n_present >= self.at_least:
            lr = max((t.lr_positive for t in self.tiers if n_present >= t.at_least), default=self.lr_positive)
            return True, lr, n_present
        if len(self.findings) - sum(f in absent for f in self.findings) < self.at_least:
            return False, self.lr_negative, n_present
        return None


class EvidenceRulesFile(Strict):
    dependence_groups: list[DependenceGroup] = Field(default_factory=list)
    composite_rules: list[CompositeRule] = Field(default_factory=list)


class OutsideCause(Strict):
    """A cause outside the differential to examine or refer for when none of the conditions fits."""

    id: Id
    label: str = Field(min_length=1)
    when_any: list[Id] = Field(default_factory=list, description="shown when any is present; [] = always")
    age_below: int | None = Field(default=None, ge=1, le=AGE_MAX)
    age_at_least: int | None = Field(default=None, ge=0, le=AGE_MAX)
    action: str = Field(min_length=1)
    reference: str = Field(min_length=1)

    _id = field_validator("id")(_check_id)


class OutsideCausesFile(Strict):
    outside_causes: list[OutsideCause] = Field(min_length=1)


class LikelihoodRatiosFile(Strict):
    likelihood_ratios: dict[Id, list[LikelihoodRatio]]


class RedFlagRule(Strict):
    id: Id
    label: str = Field(min_length=1)
    level: TriageLevel
    all_of: list[Id] = Field(default_factory=list)
    any_of: list[Id] = Field(default_factory=list)
    min_any: int = Field(default=1, ge=1)
    age_at_least: int | None = Field(default=None, ge=0, le=120)
    age_below: int | None = Field(default=None, ge=1, le=121)
    sex: Sex | None = None
    action: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    # Urgent rules: the kinds of self-care that contradict the action, left out of the plan.
    # (An emergency withholds the whole plan.)
    withhold: list[TopicKind] | None = None
    # Safety-netting: when the patient should be reviewed if the pain has not settled.
    review_within_weeks: int | None = Field(default=None, ge=1, le=26)
    plan_overrides: dict[Id, PhaseAdvice] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_findings(self) -> RedFlagRule:
        if not self.all_of and not self.any_of:
            raise ValueError("any_of: a red-flag rule needs all_of or any_of findings")
        if self.any_of and self.min_any > len(self.any_of):
            raise ValueError("min_any: is larger than the any_of list")
        if self.age_at_least is not None and self.age_below is not None and self.age_below <= self.age_at_least:
            raise ValueError("age_below: must be larger than age_at_least")
        if self.level == "urgent" and self.withhold is None:
            raise ValueError("withhold: an urgent rule must say which kinds of self-care contradict its action ([] for none)")
        if "do not start treatment" in self.action.lower() and self.level != "emergency":
            missing = [k for k in ACTIVE_TOPIC_KINDS if k not in (self.withhold or [])]
            if missing:
                raise ValueError(f"withhold: the action says 'do not start treatment' but {', '.join(missing)} self-care is not withheld")
        return self

    @property
    def needs(self) -> tuple[str, ...]:
        """The facts about the patient, beyond findings, that this rule depends on."""
        out = []
        if self.age_at_least is not None or self.age_below is not None:
            out.append("age")
        if self.sex is not None:
            out.append("sex")
        return tuple(out)


class RedFlagsFile(Strict):
    red_flags: list[RedFlagRule] = Field(min_length=1)


class Muscle(Strict):
    id: Id
    label: str = Field(min_length=1)
    zones: list[Id] = Field(min_length=1)
    spillover: list[Id] = Field(default_factory=list)
    reference: str = Field(min_length=1)


class ReferralZonesFile(Strict):
    muscles: list[Muscle] = Field(min_length=1)


def _points_in_box(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    for x, y in points:
        if not (0 <= x <= 100 and 0 <= y <= 100):
            raise ValueError(f"polygon point ({x}, {y}) lies outside the 0–100 box")
    return points


class Region(Strict):
    id: Id
    label: str = Field(min_length=1)
    view: View
    finding: Id | None = None
    # Drawn on both sides of the body (mirrored about the view's midline, x = 50): a location finding
    # records where, not which side, and the patient points at the side that hurts.
    mirror: bool = False
    polygon: list[tuple[float, float]] = Field(min_length=3)

    _in_box = field_validator("polygon")(_points_in_box)


class Outline(Strict):
    """The drawn outline of the whole body in one view: what the patient recognises and points at."""

    view: View
    label: str = Field(min_length=1)
    polygon: list[tuple[float, float]] = Field(min_length=3)

    _in_box = field_validator("polygon")(_points_in_box)


class BodyMapFile(Strict):
    outlines: list[Outline] = Field(default_factory=list)
    regions: list[Region] = Field(min_length=1)


# The outcome-measure ranges the case format fixes (knowledge/outcome_measures.yaml must agree).
NPRS_RANGE, LEFS_RANGE, LEFS_ITEM_RANGE, PSFS_RANGE = (0, 10), (0, 80), (0, 4), (0, 10)
LEFS_ITEMS, PSFS_MAX_ACTIVITIES, PSFS_ACTIVITY_MAX_CHARS = 20, 5, 80


def _score(lo: int, hi: int) -> Any:
    return Annotated[int, Field(strict=True, ge=lo, le=hi)]


class Outcomes(Strict):
    """The visit's outcome measures (see knowledge/outcome_measures.yaml); each one optional."""

    nprs: _score(*NPRS_RANGE) | None = None
    lefs: _score(*LEFS_RANGE) | None = None
    lefs_items: list[_score(*LEFS_ITEM_RANGE)] | None = Field(default=None, min_length=LEFS_ITEMS, max_length=LEFS_ITEMS)
    psfs: list[_score(*PSFS_RANGE)] | None = Field(default=None, min_length=1, max_length=PSFS_MAX_ACTIVITIES)
    psfs_activities: list[Annotated[str, Field(max_length=PSFS_ACTIVITY_MAX_CHARS)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _lefs_total_from_items(cls, data: Any) -> Any:
        # The LEFS total is computed from its 20 items when they are given (and must agree if both are).
        if isinstance(data, dict) and isinstance(items := data.get("lefs_items"), list) and len(items) == LEFS_ITEMS \
                and all(type(i) is int for i in items) and data.get("lefs") is None:
            data = {**data, "lefs": sum(items)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Outcomes:
        if self.lefs_items is not None and self.lefs != sum(self.lefs_items):
            raise ValueError(f"lefs: {self.lefs} is not the sum of lefs_items ({sum(self.lefs_items)})")
        if self.psfs_activities is not None and len(self.psfs_activities) != len(self.psfs or []):
            raise ValueError(f"psfs_activities: {len(self.psfs_activities)} names for {len(self.psfs or [])} psfs scores")
        return self

    @property
    def psfs_mean(self) -> float | None:
        return round(sum(self.psfs) / len(self.psfs), 2) if self.psfs else None

    @property
    def recorded(self) -> bool:
        return any(v is not None for v in (self.nprs, self.lefs, self.psfs))


class Case(Strict):
    """The input of an assessment: findings present, findings checked and absent, phase, age, sex, outcomes."""

    findings: list[Id] = Field(default_factory=list)
    absent: list[Id] = Field(default_factory=list)
    phase: Phase = "acute"
    age: int | None = Field(default=None, ge=0, le=120)
    sex: Sex | None = None
    outcomes: Outcomes | None = None
    # The pain drawing is complete: every location the body map can mark and the patient did not mark
    # counts as checked and absent. Until then an unmarked region is not assessed.
    pain_drawing_complete: bool = False

    @model_validator(mode="after")
    def _not_both(self) -> Case:
        both = sorted(set(self.findings) & set(self.absent))
        if both:
            raise ValueError(f"finding(s) both present and absent: {', '.join(both)}")
        return self


class Expectation(Strict):
    # The diagnosis the vignette was written for (from the literature's typical presentation): the
    # reference for the accuracy report. Mixed or red-flag cases may leave it out.
    diagnosis: Id | None = None
    top1: Id | None = None
    top3_contains: list[Id] = Field(default_factory=list)
    triage: TriageLevel | None = None
    triage_at_least: TriageLevel | None = None
    plan_stance: dict[Id, Stance] = Field(default_factory=dict)
    not_in_plan: list[Id] = Field(default_factory=list)
    red_flag_rules: list[Id] = Field(default_factory=list, description="triage rules that must fire")
    not_assessed_rules: list[Id] = Field(default_factory=list, description="rules that cannot be checked without the age or sex")
    none_fits: bool | None = None    # the result must (true) or must not (false) say "none of these fits"
    sufficient: bool | None = None   # the result must (true) or must not (false) call the findings sufficient


class Vignette(Case):
    title: str = Field(min_length=1)
    notes: str | None = None
    expect: Expectation
