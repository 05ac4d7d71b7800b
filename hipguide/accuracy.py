"""How well the differential does on the shipped vignettes: top-1 / top-3 accuracy and calibration.

Each vignette that names its reference diagnosis (`expect.diagnosis`, or else `expect.top1`) counts
for accuracy. Calibration pools every (vignette, condition) pair of those vignettes: the predicted
post-test probability against whether that condition is the vignette's reference diagnosis, by
probability band. Vignettes are worked cases written from typical presentations in the literature,
not patients: these figures describe agreement with those cases, not clinical accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .assessment import assess
from .knowledge import KnowledgeBase
from .models import Vignette

BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0001))


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    pairs: int
    mean_predicted: float | None
    observed: float | None


@dataclass(frozen=True)
class AccuracyReport:
    vignettes: int                 # all vignettes run
    with_diagnosis: int            # those with a reference diagnosis
    top1: int
    top2: int
    top3: int
    by_condition: dict[str, tuple[int, int, int]]   # condition -> (cases, top-1 hits, top-3 hits)
    misses: list[tuple[str, str, list[str]]]        # (vignette, diagnosis, top 3) where top-1 missed
    none_fits_expected: int
    none_fits_agreed: int
    bands: list[Band]

    def to_dict(self) -> dict[str, Any]:
        n = self.with_diagnosis or 1
        return {
            "vignettes": self.vignettes, "with_diagnosis": self.with_diagnosis,
            "top1": self.top1, "top2": self.top2, "top3": self.top3,
            "top1_rate": round(self.top1 / n, 3), "top2_rate": round(self.top2 / n, 3), "top3_rate": round(self.top3 / n, 3),
            "by_condition": {c: {"cases": a, "top1": b, "top3": t} for c, (a, b, t) in self.by_condition.items()},
            "top1_misses": [{"vignette": v, "diagnosis": d, "top3": t} for v, d, t in self.misses],
            "none_fits": {"expected": self.none_fits_expected, "agreed": self.none_fits_agreed},
            "calibration": [{"band": f"{b.low:.0%}-{min(b.high, 1):.0%}", "pairs": b.pairs,
                             "mean_predicted": None if b.mean_predicted is None else round(b.mean_predicted, 3),
                             "observed": None if b.observed is None else round(b.observed, 3)} for b in self.bands],
        }


def reference_diagnosis(v: Vignette) -> str | None:
    return v.expect.diagnosis or v.expect.top1


def accuracy(kb: KnowledgeBase, vignettes: dict[str, Vignette]) -> AccuracyReport:
    top1 = top2 = top3 = 0
    by_condition: dict[str, list[int]] = {c: [0, 0, 0] for c in kb.conditions}
    misses: list[tuple[str, str, list[str]]] = []
    pairs: list[tuple[float, bool]] = []
    none_expected = none_agreed = 0
    for name, v in vignettes.items():
        result = assess(kb, v)
        if v.expect.none_fits is not None:
            none_expected += 1
            none_agreed += result.none_fits == v.expect.none_fits
        dx = reference_diagnosis(v)
        if dx is None:
            continue
        ranked = [r.condition for r in result.differential]
        stats = by_condition.setdefault(dx, [0, 0, 0])
        stats[0] += 1
        if ranked[0] == dx:
            top1 += 1
            stats[1] += 1
        else:
            misses.append((name, dx, ranked[:3]))
        top2 += dx in ranked[:2]
        if dx in ranked[:3]:
            top3 += 1
            stats[2] += 1
        pairs.extend((r.probability, r.condition == dx) for r in result.differential)
    bands = []
    for low, high in BANDS:
        inside = [(p, hit) for p, hit in pairs if low <= p < high]
        bands.append(Band(low, high, len(inside),
                          sum(p for p, _ in inside) / len(inside) if inside else None,
                          sum(hit for _, hit in inside) / len(inside) if inside else None))
    n_dx = sum(s[0] for s in by_condition.values())
    return AccuracyReport(len(vignettes), n_dx, top1, top2, top3,
                          {c: tuple(s) for c, s in by_condition.items()}, misses,  # type: ignore[misc]
                          none_expected, none_agreed, bands)


def report_lines(report: AccuracyReport) -> list[str]:
    n = report.with_diagnosis or 1
    lines = [
        f"{report.vignettes} vignettes; {report.with_diagnosis} name a reference diagnosis.",
        f"top-1: {report.top1}/{report.with_diagnosis} ({report.top1 / n:.0%})   "
        f"top-2: {report.top2}/{report.with_diagnosis} ({report.top2 / n:.0%})   "
        f"top-3: {report.top3}/{report.with_diagnosis} ({report.top3 / n:.0%})",
        f"'none of these fits': {report.none_fits_agreed}/{report.none_fits_expected} as expected",
        "",
        "calibration (every condition of every vignette with a diagnosis):",
        "  predicted band   pairs   mean predicted   observed",
    ]
    for b in report.bands:
        pred = "—" if b.mean_predicted is None else f"{b.mean_predicted:.0%}"
        obs = "—" if b.observed is None else f"{b.observed:.0%}"
        lines.append(f"  {b.low:>4.0%}–{min(b.high, 1):<4.0%}      {b.pairs:>5}   {pred:>14}   {obs:>8}")
    lines += ["", "per condition (cases, top-1, top-3):"]
    for c, (cases, t1, t3) in report.by_condition.items():
        if cases:
            lines.append(f"  {c}: {cases}, {t1}, {t3}")
    if report.misses:
        lines += ["", "top-1 misses (vignette: reference → ranked top 3):"]
        lines += [f"  {v}: {d} → {', '.join(t)}" for v, d, t in report.misses]
    return lines
