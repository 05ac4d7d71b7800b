"""Outcome measures: the knowledge file, the case's scores, and change judged against each MCID."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hipguide.assessment import AssessmentError, assess
from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, load_knowledge
from hipguide.models import Outcomes
from hipguide.outcomes import describe_change, judge, progress, trend_rows
from hipguide.yamlio import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent
NOV3, DEC1 = dt.date(2026, 11, 3), dt.date(2026, 12, 1)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipguide", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_shipped_measures_carry_the_checked_mcids_with_their_references(kb):
    m = kb.outcome_measures
    assert set(m) == {"nprs", "lefs", "psfs"}
    assert (m["nprs"].min, m["nprs"].max, m["nprs"].better) == (0, 10, "lower")
    assert (m["lefs"].min, m["lefs"].max, m["lefs"].better, len(m["lefs"].items)) == (0, 80, "higher", 20)
    assert (m["psfs"].min, m["psfs"].max, m["psfs"].better) == (0, 10, "higher")
    # Binkley 1999 (LEFS 9 points); Abbott & Schmitt 2014 (NPRS 1.5 to 3.5, PSFS 1.3 to 2.7).
    assert (m["lefs"].mcid.value, m["nprs"].mcid.value, m["psfs"].mcid.value) == (9, 1.5, 1.3)
    assert "Binkley" in m["lefs"].mcid.reference and "Abbott" in m["nprs"].mcid.reference and "Abbott" in m["psfs"].mcid.reference
    assert all(x.mcid.provenance == "published" for x in m.values())
    assert m["nprs"].loinc.code == "72514-3" and m["lefs"].loinc is None and m["psfs"].loinc is None


def test_lefs_statement_reads_as_the_clinician_expects(kb):
    change = describe_change(kb.outcome_measures["lefs"], NOV3, 52, 64, today=DEC1)
    assert change.statement == "LEFS +12 since 3 Nov: more than the 9-point MCID (improved)"
    assert change.verdict == "improved"


@pytest.mark.parametrize(("mid", "before", "now", "verdict"), [
    ("nprs", 6, 4, "improved"),            # pain down by 2: more than 1.5
    ("nprs", 6, 5, "no_important_change"),  # pain down by 1: less than 1.5
    ("nprs", 3, 6, "worse"),               # pain up by 3
    ("lefs", 50, 59, "improved"),          # exactly the MCID counts
    ("lefs", 50, 58, "no_important_change"),
    ("lefs", 60, 45, "worse"),
    ("psfs", 3.0, 4.5, "improved"),
    ("psfs", 5.0, 4.0, "no_important_change"),
])
def test_change_is_judged_in_the_measures_better_direction_against_its_mcid(kb, mid, before, now, verdict):
    measure = kb.outcome_measures[mid]
    assert judge(measure, now - before) == verdict
    statement = describe_change(measure, NOV3, before, now, today=DEC1).statement
    assert statement.startswith(f"{measure.short} ")
    if verdict == "no_important_change":
        assert "less than the" in statement and "not a clinically important change" in statement
    else:
        assert f"({verdict})" in statement


def test_an_unchanged_score_says_so(kb):
    assert describe_change(kb.outcome_measures["lefs"], NOV3, 52, 52, today=DEC1).statement == "LEFS unchanged since 3 Nov (52)"


def test_another_years_date_shows_its_year(kb):
    assert "since 3 Nov 2025" in describe_change(kb.outcome_measures["lefs"], dt.date(2025, 11, 3), 40, 60, today=DEC1).statement


def test_progress_compares_today_with_the_first_and_the_last_visit(kb):
    visits = [(NOV3, Outcomes(lefs=40, nprs=7)), (dt.date(2026, 11, 17), Outcomes(lefs=48)), (dt.date(2026, 11, 10), None)]
    out = progress(kb, visits, (DEC1, Outcomes(lefs=52, nprs=7)))
    assert out["lefs"]["baseline"].statement == "LEFS +12 since 3 Nov: more than the 9-point MCID (improved)"
    assert out["lefs"]["last"].statement == "LEFS +4 since 17 Nov: less than the 9-point MCID, not a clinically important change"
    assert set(out["nprs"]) == {"baseline"}  # only one earlier visit recorded the NPRS
    assert "psfs" not in out                 # not recorded today


def test_psfs_warns_when_the_activities_rated_differ(kb):
    before = Outcomes(psfs=[3, 4], psfs_activities=["Sitting 1 hour", "Running"])
    same = progress(kb, [(NOV3, before)], (DEC1, Outcomes(psfs=[6, 6], psfs_activities=["running", "sitting 1 hour"])))
    other = progress(kb, [(NOV3, before)], (DEC1, Outcomes(psfs=[6, 6], psfs_activities=["Stairs", "Running"])))
    assert "compare with care" not in same["psfs"]["baseline"].statement
    assert "activities rated differ" in other["psfs"]["baseline"].statement


def test_trend_rows_put_the_mcid_band_around_the_first_visit_within_the_scale(kb):
    rows = trend_rows(kb, [(DEC1, Outcomes(lefs=78)), (NOV3, Outcomes(lefs=75, nprs=1))], today=DEC1)
    lefs = rows["lefs"]
    assert [r["score"] for r in lefs] == [75, 78] and [r["baseline"] for r in lefs] == [True, False]
    assert (lefs[0]["band_lo"], lefs[0]["band_hi"]) == (66, 80)  # 75 ± 9, capped at the scale's 80
    assert (rows["nprs"][0]["band_lo"], rows["nprs"][0]["band_hi"]) == (0, 2.5)
    assert lefs[1]["aria"] == "LEFS 78 on 1 Dec"


def test_lefs_total_is_computed_from_its_20_items_and_must_agree():
    assert Outcomes(lefs_items=[4] * 10 + [2] * 10).lefs == 60
    with pytest.raises(ValueError, match="not the sum of lefs_items"):
        Outcomes(lefs=10, lefs_items=[4] * 20)
    with pytest.raises(ValueError):
        Outcomes(lefs_items=[4] * 19)


@pytest.mark.parametrize(("outcomes", "field"), [
    ("{nprs: 11}", "outcomes.nprs"), ("{nprs: -1}", "outcomes.nprs"), ("{lefs: 81}", "outcomes.lefs"),
    ("{psfs: [3, 11]}", "outcomes.psfs.1"), ("{psfs: []}", "outcomes.psfs"), ("{psfs: [1, 2, 3, 4, 5, 6]}", "outcomes.psfs"),
    ("{nprs: 5.5}", "outcomes.nprs"), ("{nprs: five}", "outcomes.nprs"), ("{pain: 3}", "outcomes.pain"),
])
def test_an_out_of_range_score_is_a_one_line_error_naming_the_field(tmp_path, outcomes, field):
    case = tmp_path / "case.yaml"
    case.write_text(f"findings: [loc_deep_central_buttock]\noutcomes: {outcomes}\n")
    for mode in ("--json", "--fhir"):
        out = run("assess", str(case), mode)
        assert out.returncode == 1 and out.stdout == ""
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: malformed case: {field}:"), out.stderr
        assert "Traceback" not in out.stderr


def test_a_case_with_outcomes_assesses_as_before(kb):
    plain = assess(kb, {"findings": ["loc_deep_central_buttock", "aggr_sitting"]})
    with_scores = assess(kb, {"findings": ["loc_deep_central_buttock", "aggr_sitting"], "outcomes": {"nprs": 6, "lefs": 52}})
    assert [r.probability for r in plain.differential] == [r.probability for r in with_scores.differential]
    assert with_scores.case.outcomes.nprs == 6
    with pytest.raises(AssessmentError, match=r"outcomes\.lefs: Input should be less than or equal to 80 \(got 90\)"):
        assess(kb, {"outcomes": {"lefs": 90}})


@pytest.fixture
def measures_copy(tmp_path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns(".editor.lock", "audit"))
    return target


def _problems(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    return [str(p) for p in info.value.problems]


def test_a_measure_whose_range_differs_from_the_case_format_is_named_with_file_and_line(measures_copy):
    path = measures_copy / "outcome_measures.yaml"
    text = path.read_text()
    path.write_text(text.replace("    min: 0\n    max: 80\n", "    min: 0\n    max: 100\n"))
    problems = _problems(measures_copy)
    line = text.splitlines().index("  - id: lefs") + 1
    assert any(p.startswith("knowledge/outcome_measures.yaml:") and "lefs: range must be 0–80" in p for p in problems), problems
    assert all(int(p.split(":")[1]) > line for p in problems if "range must be" in p)


def test_a_published_mcid_without_reference_and_a_missing_measure_are_problems(measures_copy):
    path = measures_copy / "outcome_measures.yaml"
    text = path.read_text()
    start = text.index("  - id: psfs")
    path.write_text(text[:start])  # drop the PSFS
    assert any("outcome measure 'psfs' is missing" in p for p in _problems(measures_copy))
    lines = text.splitlines()
    ref = next(i for i, line in enumerate(lines) if line.strip() == "reference: >-")
    del lines[ref:ref + 4]  # the NPRS's reference and its three lines
    path.write_text("\n".join(lines) + "\n")
    assert any("a published MCID needs its reference" in p for p in _problems(measures_copy))


def test_validate_counts_the_outcome_measures():
    out = run("validate")
    assert out.returncode == 0 and "3 outcome measures" in out.stdout
