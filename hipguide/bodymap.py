"""The body map: region geometry, the referral-zone overlay and what a click on a region does.

Pure functions over the knowledge base (no Streamlit): the page draws what `region_rows` returns and
hands the clicked region ids to `toggle_regions`.

Coordinates: each view (posterior, lateral, anterior) is drawn in its own 0–100 box with y = 100 at
the top (body_map.yaml). `view_offsets` places the views side by side, trimmed to what they contain,
so one chart shows all three.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .models import Region

VIEWS: tuple[str, ...] = ("posterior", "lateral", "anterior")
VIEW_TITLES: dict[str, str] = {"posterior": "Back", "lateral": "Side", "anterior": "Front"}
SELECTION_FIELD = "region"  # the field a point selection on the map reports
VIEW_GAP = 10.0             # space between two views, in body-map units
BACKDROP_PAD = 3.0          # how far the pale outline behind a view reaches beyond its regions

# Which conditions get their muscles' referral zones drawn.
OVERLAY_MAX_CONDITIONS = 3
OVERLAY_MIN_PROBABILITY = 0.2

ESSENTIAL, SPILLOVER, NO_REFERRAL = "essential", "spillover", "none"


@dataclass(frozen=True)
class Referral:
    """One muscle of a likely condition whose referral pattern reaches a region."""

    muscle: str
    muscle_label: str
    condition: str
    essential: bool  # essential referral zone (True) or spillover (False)


# --- geometry ------------------------------------------------------------------------------------

def _views_in_use(kb: KnowledgeBase) -> list[str]:
    present = {r.view for r in kb.regions}
    return [v for v in VIEWS if v in present]


def view_offsets(kb: KnowledgeBase) -> dict[str, float]:
    """x offset per view so the views sit side by side, each trimmed to the regions it holds."""
    offsets: dict[str, float] = {}
    cursor = 0.0
    for view in _views_in_use(kb):
        xs = [x for r in kb.regions if r.view == view for x, _ in r.polygon]
        left, right = min(xs) - BACKDROP_PAD, max(xs) + BACKDROP_PAD
        offsets[view] = cursor - left
        cursor += (right - left) + VIEW_GAP
    return offsets


def centroid(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The area centroid of a simple polygon (the vertex mean if it has no area)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-9:
        return sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
    return cx / (3 * area), cy / (3 * area)


def _ring(points: Iterable[tuple[float, float]], dx: float) -> list[list[float]]:
    ring = [[round(x + dx, 3), round(y, 3)] for x, y in points]
    if ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return ring


def region_features(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """One GeoJSON Feature per region (id = region id), views placed side by side. Static per knowledge."""
    offsets = view_offsets(kb)
    return [
        {"type": "Feature", "id": r.id, "properties": {"region": r.id},
         "geometry": {"type": "Polygon", "coordinates": [_ring(r.polygon, offsets[r.view])]}}
        for r in kb.regions
    ]


def _convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def backdrop_features(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """A pale outline behind each view (the padded convex hull of its regions), for orientation only."""
    offsets = view_offsets(kb)
    features = []
    for view in _views_in_use(kb):
        hull = _convex_hull([p for r in kb.regions if r.view == view for p in r.polygon])
        cx = sum(x for x, _ in hull) / len(hull)
        cy = sum(y for _, y in hull) / len(hull)
        padded = []
        for x, y in hull:
            d = math.hypot(x - cx, y - cy) or 1.0
            padded.append((x + (x - cx) / d * BACKDROP_PAD, y + (y - cy) / d * BACKDROP_PAD))
        features.append({"type": "Feature", "id": f"backdrop_{view}", "properties": {"view": view},
                         "geometry": {"type": "Polygon", "coordinates": [_ring(padded, offsets[view])]}})
    return features


def view_titles(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Where to print each view's title: centred above it."""
    offsets = view_offsets(kb)
    out = []
    for view in _views_in_use(kb):
        pts = [p for r in kb.regions if r.view == view for p in r.polygon]
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        out.append({"view": view, "title": VIEW_TITLES[view],
                    "x": round((min(xs) + max(xs)) / 2 + offsets[view], 3), "y": round(max(ys) + 2 * BACKDROP_PAD + 2, 3)})
    return out


# --- the overlay ---------------------------------------------------------------------------------

def likely_conditions(differential: Iterable[Any], limit: int = OVERLAY_MAX_CONDITIONS,
                      min_probability: float = OVERLAY_MIN_PROBABILITY) -> list[str]:
    """The conditions whose referral zones the map shows: the leaders of the differential above a floor.

    `differential` holds objects with `.condition` and `.probability` (the engine's ConditionResult),
    most likely first.
    """
    return [r.condition for r in list(differential)[:limit] if r.probability >= min_probability]


def referral_overlay(kb: KnowledgeBase, conditions: Iterable[str]) -> dict[str, list[Referral]]:
    """Region id -> the muscles of these conditions that refer pain there (essential zones first)."""
    out: dict[str, list[Referral]] = {}
    seen: set[tuple[str, str]] = set()
    for cid in conditions:
        condition = kb.conditions.get(cid)
        if condition is None:
            continue
        for mid in condition.muscles:
            muscle = kb.muscles.get(mid)
            if muscle is None:
                continue
            for essential, regions in ((True, muscle.zones), (False, muscle.spillover)):
                for region in regions:
                    if (region, mid) in seen:
                        continue
                    seen.add((region, mid))
                    out.setdefault(region, []).append(Referral(mid, muscle.label, cid, essential))
    for hits in out.values():
        hits.sort(key=lambda h: not h.essential)
    return out


def referral_level(hits: list[Referral] | None) -> str:
    if not hits:
        return NO_REFERRAL
    return ESSENTIAL if any(h.essential for h in hits) else SPILLOVER


# --- per-patient chart rows ----------------------------------------------------------------------

def region_rows(kb: KnowledgeBase, present: Iterable[str] = (),
                overlay: Mapping[str, list[Referral]] | None = None) -> list[dict[str, Any]]:
    """One row per region for the chart: what it is, whether the patient's pain is marked there, and
    which likely muscles refer there. Only these rows change from patient to patient."""
    present = set(present)
    overlay = overlay or {}
    offsets = view_offsets(kb)
    rows = []
    for r in kb.regions:
        hits = overlay.get(r.id, [])
        finding = kb.findings.get(r.finding) if r.finding else None
        cx, cy = centroid(list(r.polygon))
        muscles = "; ".join(f"{h.muscle_label} ({'main zone' if h.essential else 'spillover'})" for h in hits)
        rows.append({
            SELECTION_FIELD: r.id,
            "label": r.label,
            "view": VIEW_TITLES.get(r.view, r.view),
            "finding": r.finding or "",
            "sets": finding.label if finding else "no location finding (referral zone only)",
            "marked": bool(r.finding and r.finding in present),
            "pain": "Pain marked" if r.finding and r.finding in present else "Not marked",
            "referral": referral_level(hits),
            "muscles": muscles or "none of the likely conditions' muscles",
            "cx": round(cx + offsets[r.view], 3),
            "cy": round(cy, 3),
        })
    return rows


# --- clicks --------------------------------------------------------------------------------------

def region_by_id(kb: KnowledgeBase) -> dict[str, Region]:
    return {r.id: r for r in kb.regions}


def toggle_regions(kb: KnowledgeBase, region_ids: Iterable[str], present: Iterable[str]) -> set[str]:
    """The present findings after a click: each clicked region's location finding is toggled.

    Regions without a location finding, and unknown regions, change nothing. Two clicked regions that
    set the same finding toggle it once.
    """
    result = set(present)
    regions = region_by_id(kb)
    toggled: set[str] = set()
    for rid in region_ids:
        region = regions.get(rid)
        if region is None or not region.finding or region.finding in toggled:
            continue
        toggled.add(region.finding)
        result ^= {region.finding}
    return result
