"""The body map: region geometry, the referral-zone overlay and what a click on a region does.

Pure functions over the knowledge base (no Streamlit): the page draws what `region_rows` returns and
hands the clicked region ids to `toggle_regions`.

Coordinates: each view (posterior, lateral, anterior) is drawn in its own 0–100 box with y = 100 at
the top of the head (body_map.yaml). `view_offsets` places the views side by side, trimmed to each
view's body outline, so one chart shows all three. A region marked `mirror` is drawn on both sides.

The pain drawing: `apply_pain_drawing` is the engine's rule for "pain drawing complete".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .models import Case, Region

VIEWS: tuple[str, ...] = ("posterior", "lateral", "anterior")
VIEW_TITLES: dict[str, str] = {"posterior": "Back", "lateral": "Side", "anterior": "Front"}
SELECTION_FIELD = "region"  # the field a point selection on the map reports
VIEW_GAP = 10.0             # space between two views, in body-map units
BACKDROP_PAD = 3.0          # a view without a drawn outline: how far its fallback hull reaches beyond its regions

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

MIRROR_SUFFIX = "/other_side"  # a drawn id's suffix for a region's mirror image (never a valid region id)
MIDLINE = 50.0


@dataclass(frozen=True)
class DrawnRegion:
    """One shape on the map: a region, or its mirror image on the other side of the body."""

    id: str                 # what a click reports: the region id, plus MIRROR_SUFFIX for the mirror image
    region: Region
    polygon: tuple[tuple[float, float], ...]


def drawn_regions(kb: KnowledgeBase) -> list[DrawnRegion]:
    """Every shape the map draws, in file order; a mirrored region right after its original."""

    def build() -> list[DrawnRegion]:
        out = []
        for r in kb.regions:
            out.append(DrawnRegion(r.id, r, tuple(r.polygon)))
            if r.mirror:
                out.append(DrawnRegion(r.id + MIRROR_SUFFIX, r, tuple((2 * MIDLINE - x, y) for x, y in r.polygon)))
        return out

    return _derived(kb, "bodymap.drawn_regions", build)


def region_of(drawn_id: str) -> str:
    """The region id behind a drawn shape's id."""
    return drawn_id.removesuffix(MIRROR_SUFFIX)


def _derived(kb: Any, key: str, build: Any) -> Any:
    # The knowledge base caches what is derived from it; a plain stand-in (tests) just builds it.
    derived = getattr(kb, "derived", None)
    return derived(key, build) if callable(derived) else build()


def _outlines(kb: KnowledgeBase) -> dict[str, list[tuple[float, float]]]:
    """The drawn body outline per view; a view without one gets the padded hull of its regions."""
    given = {o.view: list(o.polygon) for o in getattr(kb, "outlines", [])}
    out: dict[str, list[tuple[float, float]]] = {}
    for view in _views_in_use(kb):
        if view in given:
            out[view] = given[view]
            continue
        hull = _convex_hull([p for d in drawn_regions(kb) if d.region.view == view for p in d.polygon])
        cx = sum(x for x, _ in hull) / len(hull)
        cy = sum(y for _, y in hull) / len(hull)
        padded = []
        for x, y in hull:
            d = math.hypot(x - cx, y - cy) or 1.0
            padded.append((x + (x - cx) / d * BACKDROP_PAD, y + (y - cy) / d * BACKDROP_PAD))
        out[view] = padded
    return out


def _views_in_use(kb: KnowledgeBase) -> list[str]:
    present = {r.view for r in kb.regions}
    return [v for v in VIEWS if v in present]


def view_offsets(kb: KnowledgeBase) -> dict[str, float]:
    """x offset per view so the views sit side by side, each trimmed to its outline."""
    offsets: dict[str, float] = {}
    cursor = 0.0
    for view, outline in _outlines(kb).items():
        xs = [x for x, _ in outline]
        left, right = min(xs), max(xs)
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


def inside(point: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    """Whether a point lies inside a simple polygon (even-odd ray casting)."""
    x, y = point
    result = False
    for (x0, y0), (x1, y1) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            result = not result
    return result


def _ring(points: Iterable[tuple[float, float]], dx: float) -> list[list[float]]:
    ring = [[round(x + dx, 3), round(y, 3)] for x, y in points]
    if ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return ring


def region_features(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """One GeoJSON Feature per drawn shape (id = drawn id), views side by side. Static per knowledge."""
    offsets = view_offsets(kb)
    return [
        {"type": "Feature", "id": d.id, "properties": {"region": d.id},
         "geometry": {"type": "Polygon", "coordinates": [_ring(d.polygon, offsets[d.region.view])]}}
        for d in drawn_regions(kb)
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
    """The body's outline in each view (body_map.yaml's outlines), behind the regions."""
    offsets = view_offsets(kb)
    return [{"type": "Feature", "id": f"outline_{view}", "properties": {"view": view},
             "geometry": {"type": "Polygon", "coordinates": [_ring(outline, offsets[view])]}}
            for view, outline in _outlines(kb).items()]


def view_titles(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Where to print each view's title: centred above its outline."""
    offsets = view_offsets(kb)
    out = []
    for view, outline in _outlines(kb).items():
        xs, ys = [x for x, _ in outline], [y for _, y in outline]
        out.append({"view": view, "title": VIEW_TITLES[view],
                    "x": round((min(xs) + max(xs)) / 2 + offsets[view], 3), "y": round(max(ys) + 2, 3)})
    return out


# --- the pain drawing ----------------------------------------------------------------------------

def mapped_location_findings(kb: KnowledgeBase) -> list[str]:
    """The location findings the body map can set, in the findings file's order."""
    on_map = {r.finding for r in kb.regions if r.finding}
    return [fid for fid in kb.findings if fid in on_map]


def apply_pain_drawing(kb: KnowledgeBase, case: Case) -> Case:
    """The case as the engine assesses it: once the pain drawing is complete, every location the map
    can mark that the patient did not mark is checked and absent. Until then an unmarked region is not
    assessed (never negative). Findings already recorded either way are kept as they are."""
    if not case.pain_drawing_complete:
        return case
    recorded = set(case.findings) | set(case.absent)
    unmarked = [fid for fid in mapped_location_findings(kb) if fid not in recorded]
    if not unmarked:
        return case
    return case.model_copy(update={"absent": [*case.absent, *unmarked]})


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

def _fixed_region_columns(kb: KnowledgeBase) -> list[tuple[Any, dict[str, Any]]]:
    """Each drawn shape with the columns that never change for a knowledge base (worked out once)."""

    def build() -> list[tuple[Any, dict[str, Any]]]:
        offsets = view_offsets(kb)
        out = []
        for d in drawn_regions(kb):
            r = d.region
            finding = kb.findings.get(r.finding) if r.finding else None
            cx, cy = centroid(list(d.polygon))
            out.append((r, {
                SELECTION_FIELD: d.id,
                "label": r.label,
                "view": VIEW_TITLES.get(r.view, r.view),
                "finding": r.finding or "",
                "sets": finding.label if finding else "no location finding (referral zone only)",
                "cx": round(cx + offsets[r.view], 3),
                "cy": round(cy, 3),
            }))
        return out

    return _derived(kb, "bodymap.fixed_region_columns", build)


def region_rows(kb: KnowledgeBase, present: Iterable[str] = (),
                overlay: Mapping[str, list[Referral]] | None = None, absent: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One row per drawn shape for the chart: what it is, whether the patient's pain is marked there
    (or checked and absent), and which likely muscles refer there. Only these rows change per patient."""
    present, absent = set(present), set(absent)
    overlay = overlay or {}
    rows = []
    for r, fixed in _fixed_region_columns(kb):
        hits = overlay.get(r.id, [])
        muscles = "; ".join(f"{h.muscle_label} ({'main zone' if h.essential else 'spillover'})" for h in hits)
        marked = bool(r.finding and r.finding in present)
        rows.append({
            **fixed,
            "marked": marked,
            "pain": ("Pain marked" if marked else "No pain here (checked)" if r.finding and r.finding in absent
                     else "Not marked"),
            "referral": referral_level(hits),
            "muscles": muscles or "none of the likely conditions' muscles",
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
