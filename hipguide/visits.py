"""Earlier visits beside today's: what a previous visit record holds, and the findings side by side.

A `VisitRecord` is read from a FHIR visit record the clinician kept (hipguide.fhir). It lives only in
the session that uploaded it; nothing here writes anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models import Case, Outcomes
from .outcomes import Visit, short_date

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

STATE_WORDS = {True: "Present", False: "Absent", None: "—"}  # "—": not assessed at that visit (never negative)


@dataclass(frozen=True)
class VisitRecord:
    """One earlier visit, as read back from its record."""

    date: dt.date
    findings: tuple[str, ...]             # present
    absent: tuple[str, ...]               # checked and negative
    outcomes: Outcomes | None
    triage: str | None                    # routine | urgent | emergency, as recorded then
    differential: tuple[tuple[str, float], ...]  # (condition, post-test probability), ranked as recorded
    knowledge_version: str | None
    same_knowledge: bool                  # made with the knowledge version this server runs

    @property
    def visit(self) -> Visit:
        return (self.date, self.outcomes)


def ordered(records: Sequence[VisitRecord]) -> list[VisitRecord]:
    return sorted(records, key=lambda r: r.date)


def findings_timeline(kb: KnowledgeBase, records: Sequence[VisitRecord], today: Case, today_date: dt.date,
                      ) -> tuple[list[str], list[dict[str, Any]]]:
    """Each finding recorded at any visit, with its state at every visit (oldest first) and today.

    Returns the visit column names and the rows; findings keep the knowledge file's order, which
    follows a consultation. A finding not assessed at a visit shows "—", never "Absent".
    """
    visits = ordered(records)
    columns = [_column(r.date, today_date, i, visits) for i, r in enumerate(visits)] + ["Today"]
    states: list[dict[str, bool]] = [
        {**{f: True for f in r.findings}, **{f: False for f in r.absent}} for r in visits
    ] + [{**{f: True for f in today.findings}, **{f: False for f in today.absent}}]
    seen = set().union(*(s.keys() for s in states))
    rows = []
    for fid, finding in kb.findings.items():
        if fid not in seen:
            continue
        row: dict[str, Any] = {"finding": finding.label}
        for column, state in zip(columns, states, strict=True):
            row[column] = STATE_WORDS[state.get(fid)]
        row["changed"] = len({s.get(fid) for s in states if fid in s}) > 1
        rows.append(row)
    return columns, rows


def _column(day: dt.date, today: dt.date, index: int, visits: list[VisitRecord]) -> str:
    name = short_date(day, today)
    same_day = sum(1 for v in visits[:index] if v.date == day)
    return f"{name} ({same_day + 1})" if same_day else name


TRIAGE_WORDS = {"routine": "routine", "urgent": "URGENT", "emergency": "EMERGENCY"}


def record_summary(kb: KnowledgeBase, record: VisitRecord, leading: int = 2) -> str:
    """One line on an earlier visit: its triage, its leading conditions, and which knowledge version made it."""
    from .exports import pct

    parts = [f"triage {TRIAGE_WORDS.get(record.triage or '', 'not recorded')}"]
    if record.differential:
        parts.append("most likely " + ", ".join(f"{kb.conditions[c].label} {pct(p)}" for c, p in record.differential[:leading]))
    parts.append(f"{len(record.findings)} finding(s) present, {len(record.absent)} checked and absent")
    if (o := record.outcomes) is not None and o.psfs:
        names = o.psfs_activities or [""] * len(o.psfs)
        parts.append("PSFS activities: " + ", ".join(f"{n.strip() or f'activity {i + 1}'} {s}/10"
                                                      for i, (n, s) in enumerate(zip(names, o.psfs, strict=True))))
    if not record.same_knowledge:
        parts.append("made with an earlier knowledge version, so its probabilities may differ from today's")
    return "; ".join(parts)
