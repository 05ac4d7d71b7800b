"""The body map's pure functions: geometry, the referral overlay, and what a click does."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipguide import bodymap
from hipguide.assessment import assess
from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, load_knowledge
from hipguide.models import Case, Condition, Finding, Muscle, Region
from hipguide.yamlio import KnowledgeError
from ui.formats import selected_regions


def toggle_from_selection(kb, selection_state, present):
    """A click on the map as the page handles it: the selection state's regions, toggled by the engine."""
    return bodymap.toggle_regions(kb, selected_regions(selection_state), present)


def _region(rid: str, view: str, finding: str | None, polygon: list[tuple[float, float]]) -> Region:
    return Region(id=rid, label=f"Label {rid}", view=view, finding=finding, polygon=polygon)


def _small_kb() -> SimpleNamespace:
    """Six regions over three views; two regions set the same finding; one sets none."""
    square = [(10, 10), (30, 10), (30, 30), (10, 30)]
    return SimpleNamespace(
        regions=[
            _region("low_back", "posterior", "loc_low_back", [(10, 80), (40, 80), (40, 95), (10, 95)]),
            _region("iliac_crest", "posterior", "loc_low_back", [(45, 80), (60, 80), (60, 95)]),
            _region("buttock", "posterior", "loc_buttock", [(20, 50), (50, 50), (50, 70), (20, 70)]),
            _region("buttock_lower", "posterior", None, square),
            _region("lateral_hip", "lateral", "loc_lateral_hip", [(40, 60), (60, 60), (60, 80), (40, 80)]),
            _region("groin", "anterior", "loc_groin", [(30, 70), (50, 70), (45, 85)]),
        ],
        findings={fid: Finding(id=fid, label=f"Finding {fid}", group="location")
                  for fid in ("loc_low_back", "loc_buttock", "loc_lateral_hip", "loc_groin")},
        muscles={
            "piriformis": Muscle(id="piriformis", label="Piriformis", zones=["buttock"], spillover=["lateral_hip"], reference="T&S"),
            "glute_med": Muscle(id="glute_med", label="Gluteus medius", zones=["low_back", "lateral_hip"], spillover=["buttock"],
                                reference="T&S"),
        },
        conditions={
            "overload": Condition(id="overload", label="Overload", summary="S.", prior=0.1, prior_provenance="e",
                                  muscles=["piriformis"]),
            "trp": Condition(id="trp", label="Trigger points", summary="S.", prior=0.1, prior_provenance="e",
                             muscles=["glute_med"]),
            "tear": Condition(id="tear", label="Tear", summary="S.", prior=0.1, prior_provenance="e", muscles=[]),
        },
    )


@pytest.fixture
def small_kb() -> SimpleNamespace:
    return _small_kb()


def click(*regions: str) -> dict:
    """A selection state as st.vega_lite_chart(on_select=...) reports a click."""
    return {"selection": {"region_pick": [{"region": r} for r in regions]}}


# --- clicks --------------------------------------------------------------------------------------

def test_click_marks_then_clears_the_regions_location_finding(small_kb):
    after = toggle_from_selection(small_kb, click("buttock"), set())
    assert after == {"loc_buttock"}
    assert toggle_from_selection(small_kb, click("buttock"), after) == set()


def test_click_leaves_other_findings_alone(small_kb):
    present = {"loc_groin", "onset_day_after_exercise"}
    assert toggle_from_selection(small_kb, click("lateral_hip"), present) == present | {"loc_lateral_hip"}
    assert present == {"loc_groin", "onset_day_after_exercise"}  # the input set is not modified


def test_region_without_location_finding_or_unknown_region_changes_nothing(small_kb):
    present = {"loc_buttock"}
    assert toggle_from_selection(small_kb, click("buttock_lower"), present) == present
    assert toggle_from_selection(small_kb, click("no_such_region"), present) == present


def test_two_regions_of_one_finding_toggle_it_once(small_kb):
    assert toggle_from_selection(small_kb, click("low_back", "iliac_crest"), set()) == {"loc_low_back"}
    # Either region clears a finding the other one set.
    assert toggle_from_selection(small_kb, click("iliac_crest"), {"loc_low_back"}) == set()


@pytest.mark.parametrize("state", [None, {}, {"selection": {}}, {"selection": {"region_pick": []}}, "junk",
                                   {"selection": {"region_pick": [{"other": "x"}, "junk", {"region": 3}]}}])
def test_empty_or_malformed_selection_changes_nothing(small_kb, state):
    assert selected_regions(state) == []
    assert toggle_from_selection(small_kb, state, {"loc_groin"}) == {"loc_groin"}


def test_selected_regions_reads_every_param_without_duplicates():
    state = {"selection": {"a": [{"region": "x"}, {"region": "y"}], "b": [{"region": "x"}]}}
    assert selected_regions(state) == ["x", "y"]


@given(st.lists(st.sampled_from(["low_back", "iliac_crest", "buttock", "buttock_lower", "lateral_hip", "groin", "nope"]),
                max_size=4),
       st.sets(st.sampled_from(["loc_low_back", "loc_buttock", "loc_lateral_hip", "loc_groin", "other"])))
def test_the_same_click_twice_restores_the_findings(regions, present):
    kb = _small_kb()
    once = toggle_from_selection(kb, click(*regions), present)
    assert toggle_from_selection(kb, click(*regions), once) == present


# --- the overlay ---------------------------------------------------------------------------------

def test_referral_overlay_maps_regions_to_the_muscles_of_the_given_conditions(small_kb):
    overlay = bodymap.referral_overlay(small_kb, ["overload"])
    assert set(overlay) == {"buttock", "lateral_hip"}
    assert [(h.muscle, h.essential, h.condition) for h in overlay["buttock"]] == [("piriformis", True, "overload")]
    assert [(h.muscle, h.essential) for h in overlay["lateral_hip"]] == [("piriformis", False)]


def test_referral_overlay_lists_essential_zones_first_and_ignores_conditions_without_muscles(small_kb):
    overlay = bodymap.referral_overlay(small_kb, ["overload", "trp", "tear", "unknown"])
    assert [(h.muscle, h.essential) for h in overlay["lateral_hip"]] == [("glute_med", True), ("piriformis", False)]
    assert bodymap.referral_level(overlay["lateral_hip"]) == bodymap.ESSENTIAL
    assert bodymap.referral_overlay(small_kb, ["tear"]) == {}
    assert bodymap.referral_level(None) == bodymap.NO_REFERRAL


def test_likely_conditions_takes_the_leaders_above_the_floor():
    diff = [SimpleNamespace(condition=c, probability=p) for c, p in (("a", 0.8), ("b", 0.3), ("c", 0.19), ("d", 0.5))]
    assert bodymap.likely_conditions(diff) == ["a", "b"]  # c is under the floor, d is not among the first three
    assert bodymap.likely_conditions(diff, limit=4) == ["a", "b", "d"]
    assert bodymap.likely_conditions([]) == []


# --- chart rows and geometry ---------------------------------------------------------------------

def test_region_rows_mark_pain_and_referral_per_region(small_kb):
    rows = {r["region"]: r for r in bodymap.region_rows(small_kb, {"loc_low_back"}, bodymap.referral_overlay(small_kb, ["overload"]))}
    assert rows["low_back"]["marked"] and rows["iliac_crest"]["marked"]  # both regions of the present finding
    assert not rows["buttock"]["marked"] and not rows["buttock_lower"]["marked"]
    assert rows["buttock"]["referral"] == bodymap.ESSENTIAL and "Piriformis (main zone)" in rows["buttock"]["muscles"]
    assert rows["lateral_hip"]["referral"] == bodymap.SPILLOVER
    assert rows["groin"]["referral"] == bodymap.NO_REFERRAL
    assert rows["buttock_lower"]["sets"].startswith("no location finding")
    assert rows["buttock"]["label"] == "Label buttock"  # the label the chart's tooltip and aria-label carry


def test_views_sit_side_by_side_without_overlapping(small_kb):
    features = {f["id"]: f for f in bodymap.region_features(small_kb)}
    assert set(features) == {r.id for r in small_kb.regions}

    def xs(view: str) -> list[float]:
        return [x for r in small_kb.regions if r.view == view for x, _ in features[r.id]["geometry"]["coordinates"][0]]

    assert max(xs("posterior")) < min(xs("lateral")) and max(xs("lateral")) < min(xs("anterior"))
    for feature in features.values():
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]  # closed GeoJSON ring
    assert {b["properties"]["view"] for b in bodymap.backdrop_features(small_kb)} == {"posterior", "lateral", "anterior"}
    assert [t["title"] for t in bodymap.view_titles(small_kb)] == ["Back", "Side", "Front"]


def test_row_centroids_lie_inside_their_views(small_kb):
    offsets = bodymap.view_offsets(small_kb)
    for row, region in zip(bodymap.region_rows(small_kb), small_kb.regions, strict=True):
        xs = [x + offsets[region.view] for x, _ in region.polygon]
        ys = [y for _, y in region.polygon]
        assert min(xs) <= row["cx"] <= max(xs) and min(ys) <= row["cy"] <= max(ys)


# --- the shipped knowledge -----------------------------------------------------------------------

def test_shipped_body_map_sets_only_location_findings_and_covers_them(kb):
    set_by_map = {r.finding for r in kb.regions if r.finding}
    assert all(kb.findings[f].group == "location" for f in set_by_map)
    locations = {f for f, fd in kb.findings.items() if fd.group == "location"}
    assert set_by_map == locations, "every location finding can be set from the body map"


def test_shipped_overlay_for_deep_rotator_overload_covers_the_deep_buttock(kb):
    overlay = bodymap.referral_overlay(kb, ["deep_hip_rotator_overload"])
    region_of = {r.id: r for r in kb.regions}
    assert any(region_of[rid].finding == "loc_deep_central_buttock" and bodymap.referral_level(hits) == bodymap.ESSENTIAL
               for rid, hits in overlay.items())


# --- both sides of the body ----------------------------------------------------------------------

def test_a_click_on_either_side_of_the_body_marks_the_same_place(kb):
    mirrored = next(r for r in kb.regions if r.mirror and r.finding == "loc_deep_central_buttock")
    other_side = click(mirrored.id + bodymap.MIRROR_SUFFIX)
    assert selected_regions(other_side) == [mirrored.id]
    assert toggle_from_selection(kb, other_side, set()) == {"loc_deep_central_buttock"}
    assert toggle_from_selection(kb, click(mirrored.id, mirrored.id + bodymap.MIRROR_SUFFIX), set()) == {
        "loc_deep_central_buttock"}  # both sides at once toggle it once


def test_a_mirrored_region_is_drawn_twice_mirror_images_about_the_midline(kb):
    drawn = {d.id: d for d in bodymap.drawn_regions(kb)}
    for r in kb.regions:
        assert r.id in drawn
        if r.mirror:
            twin = drawn[r.id + bodymap.MIRROR_SUFFIX]
            assert [(round(100 - x, 6), y) for x, y in twin.polygon] == [(round(x, 6), y) for x, y in r.polygon]
        else:
            assert r.id + bodymap.MIRROR_SUFFIX not in drawn
    rows = bodymap.region_rows(kb, {"loc_groin"})
    groin = [row for row in rows if row["finding"] == "loc_groin"]
    assert len(groin) == 2 and all(row["marked"] for row in groin)  # the patient's pain shows on both sides


def test_the_shipped_map_draws_a_whole_body_in_three_views(kb):
    assert [o.view for o in kb.outlines] == ["posterior", "lateral", "anterior"]
    for outline in kb.outlines:
        ys = [y for _, y in outline.polygon]
        assert max(ys) >= 95 and min(ys) <= 5, "head to feet"
    backdrops = bodymap.backdrop_features(kb)
    assert [b["properties"]["view"] for b in backdrops] == ["posterior", "lateral", "anterior"]
    offsets = bodymap.view_offsets(kb)
    for d in bodymap.drawn_regions(kb):
        outline = next(o for o in kb.outlines if o.view == d.region.view)
        assert bodymap.inside(bodymap.centroid(list(d.polygon)), list(outline.polygon)), d.id
    assert offsets["posterior"] < offsets["lateral"] < offsets["anterior"]


def test_the_sitting_bone_and_the_groin_are_on_the_map(kb):
    by_finding = {r.finding: r for r in kb.regions if r.finding}
    assert by_finding["loc_ischial_tuberosity"].view == "posterior"
    assert kb.findings["loc_ischial_tuberosity"].group == "location"
    assert by_finding["loc_groin"].view == "anterior"


# --- the pain drawing ----------------------------------------------------------------------------

def test_until_the_pain_drawing_is_complete_unmarked_regions_are_not_assessed(kb):
    result = assess(kb, {"findings": ["loc_deep_central_buttock"]})
    assert result.case.absent == []
    contributions = {c.finding for r in result.differential for c in r.contributions}
    assert "loc_low_back" not in contributions


def test_a_complete_pain_drawing_counts_every_unmarked_location_as_absent(kb):
    case = Case(findings=["loc_deep_central_buttock", "aggr_sitting"], absent=["test_slr_positive"],
                pain_drawing_complete=True)
    after = bodymap.apply_pain_drawing(kb, case)
    locations = bodymap.mapped_location_findings(kb)
    assert set(after.absent) == {"test_slr_positive", *(f for f in locations if f != "loc_deep_central_buttock")}
    assert after.findings == case.findings
    result = assess(kb, case)
    assert set(result.case.absent) == set(after.absent)
    against = {c.finding for r in result.differential for c in r.contributions if not c.present}
    assert "loc_low_back" in against  # the engine now uses LR- for the unmarked low back
    without = assess(kb, case.model_copy(update={"pain_drawing_complete": False}))
    assert {r.condition: r.probability for r in result.differential} != {r.condition: r.probability for r in without.differential}


def test_a_complete_pain_drawing_keeps_what_was_recorded_either_way(kb):
    case = Case(findings=["loc_groin"], absent=["loc_low_back"], pain_drawing_complete=True)
    after = bodymap.apply_pain_drawing(kb, case)
    assert "loc_groin" in after.findings and "loc_groin" not in after.absent
    assert after.absent.count("loc_low_back") == 1


def test_body_map_problems_name_the_file_line_and_problem(tmp_path):
    root = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, root, ignore=shutil.ignore_patterns("audit", ".editor.lock"))
    path = root / "body_map.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    finding: loc_ischial_tuberosity\n", "    finding: null\n")
    text = text.replace("    polygon: [[47.2, 57], [52.8, 57], [52, 51.8], [50, 49.6], [48, 51.8]]",
                        "    polygon: [[1, 1], [3, 1], [2, 3]]")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    problems = [str(p) for p in err.value.problems]
    assert any("body_map.yaml:" in p and "'sacrum' lies outside the posterior outline" in p for p in problems), problems
    assert any("body_map.yaml:" in p and "'loc_ischial_tuberosity' has no region on the body map" in p for p in problems)
