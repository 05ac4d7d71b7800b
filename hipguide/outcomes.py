"""Outcome measures: the instruments (knowledge/outcome_measures.yaml), and change against the MCID.

A change is judged against each measure's minimal clinically important difference (MCID), in the
measure's better direction (pain lower, function higher). The wording is made here, not in the page,
so the note, the handout and the page say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from .models import LEFS_ITEM_RANGE, LEFS_ITEMS, LEFS_RANGE, NPRS_RANGE, PSFS_RANGE, Id, Outcomes, Provenance, Strict

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

MEASURE_IDS: tuple[str, ...] = ("nprs", "lefs", "psfs")
CASE_RANGES: dict[str, tuple[int, int]] = {"nprs": NPRS_RANGE, "lefs": LEFS_RANGE, "psfs": PSFS_RANGE}
Verdict = Literal["improved", "worse", "no_important_change"]
BAND_EXPLANATION = ("Green band: the first visit's score ± the MCID. A later point outside the band has changed by a "
                    "clinically important amount; inside it, the change is smaller than the MCID.")


class ItemScaleStep(Strict):
    score: int
    label: str = Field(min_length=1)


class Loinc(Strict):
    code: str = Field(pattern=r"^\d{1,7}-\d$")
    display: str = Field(min_length=1)


class Mcid(Strict):
    value: float = Field(gt=0)
    larger_change: float | None = Field(default=None, gt=0)
    provenance: Provenance
    basis: str = Field(min_length=1)
    reference: str | None = None

    @model_validator(mode="after")
    def _published_needs_reference(self) -> Mcid:
        if self.provenance == "published" and not (self.reference or "").strip():
            raise ValueError("reference: a published MCID needs its reference")
        return self


class OutcomeMeasure(Strict):
    id: Id
    label: str = Field(min_length=1)
    short: str = Field(min_length=1)
    name: str = Field(min_length=1)
    question: str = Field(min_length=1)
    min: int
    max: int
    step: int = Field(default=1, gt=0)
    better: Literal["higher", "lower"]
    unit: str = Field(min_length=1)
    loinc: Loinc | None = None
    item_scale: list[ItemScaleStep] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)
    mcid: Mcid

    @field_validator("items")
    @classmethod
    def _items_named(cls, items: list[str]) -> list[str]:
        if any(not item.strip() for item in items):
            raise ValueError("every item needs its wording")
        return items


class OutcomeMeasuresFile(Strict):
    outcome_measures: list[OutcomeMeasure] = Field(min_length=1)


def measure_problems(measures: list[OutcomeMeasure]) -> list[tuple[tuple[Any, ...], str]]:
    """Checks beyond one record: the case format's measures, with its ranges, and the LEFS's 20 items."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    by_id = {m.id: (i, m) for i, m in enumerate(measures)}
    for mid in MEASURE_IDS:
        if mid not in by_id:
            problems.append((("outcome_measures",), f"outcome measure {mid!r} is missing (the case format uses it)"))
    for i, m in enumerate(measures):
        if m.id not in CASE_RANGES:
            problems.append((("outcome_measures", i, "id"), f"unknown outcome measure {m.id!r}: the case format has {', '.join(MEASURE_IDS)}"))
            continue
        lo, hi = CASE_RANGES[m.id]
        if (m.min, m.max) != (lo, hi):
            problems.append((("outcome_measures", i, "min"), f"{m.id}: range must be {lo}–{hi}, as the case format fixes it"))
        if m.mcid.value >= hi - lo:
            problems.append((("outcome_measures", i, "mcid", "value"), f"{m.id}: the MCID must be smaller than the range"))
    if "lefs" in by_id:
        i, lefs = by_id["lefs"]
        if len(lefs.items) != LEFS_ITEMS:
            problems.append((("outcome_measures", i, "items"), f"lefs: needs its {LEFS_ITEMS} items, found {len(lefs.items)}"))
        if [s.score for s in lefs.item_scale] != list(range(LEFS_ITEM_RANGE[0], LEFS_ITEM_RANGE[1] + 1)):
            problems.append((("outcome_measures", i, "item_scale"), "lefs: item_scale must give each score 0 to 4 once, in order"))
    return problems


# --- values and change ---------------------------------------------------------------------------

def outcome_values(outcomes: Outcomes | None) -> dict[str, float]:
    """The visit's score per measure (PSFS: the mean of its activities); measures not recorded are left out."""
    if outcomes is None:
        return {}
    values = {"nprs": outcomes.nprs, "lefs": outcomes.lefs, "psfs": outcomes.psfs_mean}
    return {k: float(v) for k, v in values.items() if v is not None}


def number(value: float, signed: bool = False) -> str:
    """A score as clinicians read it: whole numbers without decimals, a true minus sign."""
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    text = text.removesuffix(".0")
    return text.replace("-", "−")


def short_date(day: dt.date, today: dt.date | None = None) -> str:
    """"3 Nov", with the year when it is not this year's."""
    today = today or dt.date.today()
    return f"{day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")


@dataclass(frozen=True)
class OutcomeChange:
    measure: str
    since: dt.date
    before: float
    now: float
    change: float          # now − before, in the measure's points
    mcid: float
    verdict: Verdict
    statement: str         # plain words, e.g. "LEFS +12 since 3 Nov: more than the 9-point MCID (improved)"


def judge(measure: OutcomeMeasure, change: float) -> Verdict:
    """Improved or worse only when the change reaches the MCID; anything smaller is no important change."""
    gain = change if measure.better == "higher" else -change
    if abs(change) + 1e-9 < measure.mcid.value:
        return "no_important_change"
    return "improved" if gain > 0 else "worse"


def describe_change(measure: OutcomeMeasure, since: dt.date, before: float, now: float,
                    today: dt.date | None = None, note: str = "") -> OutcomeChange:
    change = round(now - before, 2)
    verdict = judge(measure, change)
    mcid = f"the {number(measure.mcid.value)}-point MCID"
    head = f"{measure.short} {number(change, signed=True)} since {short_date(since, today)}"
    if change == 0:
        text = f"{measure.short} unchanged since {short_date(since, today)} ({number(now)})"
    elif verdict == "no_important_change":
        text = f"{head}: less than {mcid}, not a clinically important change"
    else:
        size = "more than" if abs(change) > measure.mcid.value + 1e-9 else "as large as"
        text = f"{head}: {size} {mcid} ({'improved' if verdict == 'improved' else 'worse'})"
    return OutcomeChange(measure.id, since, before, now, change, measure.mcid.value, verdict, text + note)


Visit = tuple[dt.date, Outcomes | None]  # a visit's date and its outcome measures


def _psfs_note(earlier: Outcomes | None, later: Outcomes | None) -> str:
    """The PSFS compares like with like only when the patient rated the same activities."""
    names = [[a.strip().casefold() for a in (o.psfs_activities or [])] if o else [] for o in (earlier, later)]
    if names[0] and names[1] and sorted(names[0]) != sorted(names[1]):
        return "; the activities rated differ between the visits, so compare with care"
    return ""


def progress(kb: KnowledgeBase, earlier: Sequence[Visit], today: Visit) -> dict[str, dict[str, OutcomeChange]]:
    """Per measure recorded today: the change since the first visit ("baseline") and since the last one ("last").

    Only visits that recorded the measure count; when the first and the last are the same visit, only
    "baseline" is given.
    """
    day, outcomes = today
    now = outcome_values(outcomes)
    ordered = sorted((v for v in earlier if v[0] <= day), key=lambda v: v[0])
    out: dict[str, dict[str, OutcomeChange]] = {}
    for mid, value in now.items():
        measure = kb.outcome_measures.get(mid)
        with_value = [(d, o) for d, o in ordered if mid in outcome_values(o)]
        if measure is None or not with_value:
            continue
        first, last = with_value[0], with_value[-1]
        note = _psfs_note(first[1], outcomes) if mid == "psfs" else ""
        changes = {"baseline": describe_change(measure, first[0], outcome_values(first[1])[mid], value, day, note)}
        if last is not first:
            note = _psfs_note(last[1], outcomes) if mid == "psfs" else ""
            changes["last"] = describe_change(measure, last[0], outcome_values(last[1])[mid], value, day, note)
        out[mid] = changes
    return out


def trend_rows(kb: KnowledgeBase, visits: Sequence[Visit], today: dt.date | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per measure, one row per visit that recorded it (oldest first), with the MCID band around the first.

    The band is the first visit's score ± the MCID, within the scale: a later point outside it has
    changed by a clinically important amount.
    """
    ordered = sorted(visits, key=lambda v: v[0])
    out: dict[str, list[dict[str, Any]]] = {}
    for mid, measure in kb.outcome_measures.items():
        points = [(d, outcome_values(o)[mid]) for d, o in ordered if mid in outcome_values(o)]
        if not points:
            continue
        base = points[0][1]
        lo = max(measure.min, base - measure.mcid.value)
        hi = min(measure.max, base + measure.mcid.value)
        out[mid] = [
            {"measure": measure.short, "date": d.isoformat(), "visit": short_date(d, today), "score": v,
             "shown": number(v), "band_lo": lo, "band_hi": hi, "baseline": i == 0,
             "band_text": f"first visit {number(base)} ± MCID {number(measure.mcid.value)}",
             "aria": f"{measure.short} {number(v)} on {short_date(d, today)}",
             "band_aria": f"{measure.short} MCID band: {number(lo)} to {number(hi)} (first visit {number(base)} ± {number(measure.mcid.value)})"}
            for i, (d, v) in enumerate(points)
        ]
    return out


def mcid_line(measure: OutcomeMeasure) -> str:
    """The MCID and its basis in one line, for the note and the page."""
    larger = f"; {number(measure.mcid.larger_change)} for a large change" if measure.mcid.larger_change else ""
    basis = "published" if measure.mcid.provenance == "published" else "clinical estimate"
    ref = f" — {measure.mcid.reference}" if measure.mcid.reference else ""
    return f"MCID {number(measure.mcid.value)} points{larger} ({basis}{ref})"
