"""The visit record: `assess --fhir` per the contract, valid FHIR R4, and reading records back safely.

A record from outside is hostile until read: too large, too deep, over-long text, not a visit record, or
from a knowledge version with other ids each get one clear message, and nothing is written anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy import disk_writes

from hipguide.assessment import assess
from hipguide.fhir import (
    CONDITION_SYSTEM,
    EXT_POST_TEST,
    EXT_TRIAGE,
    FINDING_SYSTEM,
    LOINC,
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    OUTCOME_SYSTEM,
    RecordError,
    check_r4,
    read_visit_record,
    visit_bundle,
)
from hipguide.models import Case, Outcomes

ROOT = Path(__file__).resolve().parent.parent
NOV3 = dt.date(2026, 11, 3)
CASE = {"findings": ["loc_deep_central_buttock", "aggr_sitting", "test_fair_positive"], "absent": ["test_slr_positive"],
        "outcomes": {"nprs": 6, "lefs": 52, "psfs": [3, 4, 5]}}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipguide", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def record_bytes(kb, case=CASE, day=NOV3) -> bytes:
    return json.dumps(visit_bundle(kb, assess(kb, case), day)).encode()


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_code(observations: list[dict], system: str) -> dict[str, dict]:
    return {c["code"]: o for o in observations for c in o["code"]["coding"] if c["system"] == system}


# --- the contract ---------------------------------------------------------------------------------

def test_assess_fhir_prints_an_r4_collection_bundle_per_the_contract(tmp_path, kb):
    case = tmp_path / "case.yaml"
    case.write_text("findings: [loc_deep_central_buttock, aggr_sitting, test_fair_positive]\nabsent: [test_slr_positive]\n"
                    "outcomes:\n  nprs: 6\n  lefs: 52\n  psfs: [3, 4, 5]\n")
    out = run("assess", str(case), "--fhir", "--visit-date", "2026-11-03")
    assert out.returncode == 0, out.stderr
    bundle = json.loads(out.stdout)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    check_r4(bundle)  # raises unless valid R4

    observations = resources(bundle, "Observation")
    findings = by_code(observations, FINDING_SYSTEM)
    assert {f: o["valueBoolean"] for f, o in findings.items()} == {
        "loc_deep_central_buttock": True, "aggr_sitting": True, "test_fair_positive": True, "test_slr_positive": False}
    assert all(o["effectiveDateTime"] == "2026-11-03" and o["status"] == "final" for o in observations)

    outcomes = by_code(observations, OUTCOME_SYSTEM)
    assert outcomes["nprs"]["valueInteger"] == 6 and outcomes["lefs"]["valueInteger"] == 52
    assert by_code(observations, LOINC)["72514-3"] is outcomes["nprs"]  # NPRS carries its LOINC code
    assert outcomes["psfs"]["valueQuantity"]["value"] == 4.0
    assert [c["valueInteger"] for c in outcomes["psfs"]["component"]] == [3, 4, 5]

    [impression] = resources(bundle, "ClinicalImpression")
    result = json.loads(run("assess", str(case), "--json").stdout)
    assert impression["extension"] == [{"url": EXT_TRIAGE, "valueCode": result["triage"]["level"]}]
    ranked = [(f["itemCodeableConcept"]["coding"][0]["code"],
               next(e["valueDecimal"] for e in f["extension"] if e["url"] == EXT_POST_TEST)) for f in impression["finding"]]
    assert ranked == [(r["condition"], r["probability"]) for r in result["differential"]]
    assert all(f["itemCodeableConcept"]["coding"][0]["system"] == CONDITION_SYSTEM for f in impression["finding"])
    assert f"Triage: {result['triage']['level'].upper()}" in impression["summary"]


def test_not_assessed_findings_have_no_entry_and_no_patient_is_named(kb):
    bundle = visit_bundle(kb, assess(kb, {"findings": ["aggr_sitting"]}), NOV3)
    assert set(by_code(resources(bundle, "Observation"), FINDING_SYSTEM)) == {"aggr_sitting"}
    assert not resources(bundle, "Patient")
    text = json.dumps(bundle)
    assert '"identifier"' not in text and '"name"' not in text
    [impression] = resources(bundle, "ClinicalImpression")
    assert set(impression["subject"]) == {"display"}  # R4 requires a subject: a display text, no reference to a person


def test_an_emergency_is_recorded_as_such(kb):
    bundle = visit_bundle(kb, assess(kb, {"findings": ["rf_saddle_anaesthesia"]}), NOV3)
    [impression] = resources(bundle, "ClinicalImpression")
    assert impression["extension"][0]["valueCode"] == "emergency" and "Triage: EMERGENCY" in impression["summary"]
    assert read_visit_record(kb, json.dumps(bundle).encode()).triage == "emergency"


# --- round trip (property) ------------------------------------------------------------------------

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ACTIVITY = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@st.composite
def visits(draw, ids: list[str]):
    states = draw(st.dictionaries(st.sampled_from(ids), st.booleans(), max_size=25))
    psfs = draw(st.none() | st.lists(st.integers(0, 10), min_size=1, max_size=5))
    outcomes = {
        "nprs": draw(st.none() | st.integers(0, 10)),
        "lefs_items": draw(st.none() | st.lists(st.integers(0, 4), min_size=20, max_size=20)),
        "psfs": psfs,
        "psfs_activities": draw(st.none() | st.lists(ACTIVITY, min_size=len(psfs), max_size=len(psfs))) if psfs else None,
    }
    if outcomes["lefs_items"] is None:
        outcomes["lefs"] = draw(st.none() | st.integers(0, 80))
    case = Case(findings=sorted(f for f, v in states.items() if v), absent=sorted(f for f, v in states.items() if not v),
                outcomes=Outcomes(**{k: v for k, v in outcomes.items() if v is not None}))
    day = draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
    return case, day


def test_export_then_import_gives_the_same_findings_and_scores(kb):
    @SETTINGS
    @given(visits(sorted(kb.findings)))
    def check(drawn):
        case, day = drawn
        result = assess(kb, case)
        bundle = visit_bundle(kb, result, day)
        record = read_visit_record(kb, json.dumps(bundle, ensure_ascii=False).encode())
        assert record.date == day
        assert record.findings == tuple(case.findings) and record.absent == tuple(case.absent)
        expected = case.outcomes if case.outcomes.recorded else None
        assert record.outcomes == expected
        assert record.triage == result.triage.level
        assert [c for c, _ in record.differential] == [r.condition for r in result.differential]
        assert record.same_knowledge

    check()


# --- reading records from outside -----------------------------------------------------------------

def refused(kb, raw: bytes) -> str:
    with pytest.raises(RecordError) as info:
        read_visit_record(kb, raw)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message and "0x" not in message
    return message


def test_a_file_that_is_not_a_visit_record_says_so(kb):
    assert "not valid JSON" in refused(kb, b"name,score\nx,1\n")
    assert "not UTF-8" in refused(kb, b"\xff\xfe\x00bad")
    assert "expected a FHIR Bundle, found 'Patient'" in refused(kb, json.dumps({"resourceType": "Patient", "id": "p1"}).encode())
    assert "expected a FHIR Bundle, found 'list'" in refused(kb, b"[1, 2, 3]")
    assert "not a valid FHIR R4 Bundle" in refused(kb, json.dumps({"resourceType": "Bundle", "type": "collection", "oops": 1}).encode())
    bundle = json.loads(record_bytes(kb))
    assert "expected 'collection'" in refused(kb, json.dumps({**bundle, "type": "transaction"}).encode())
    assert "without the visit-record tag" in refused(kb, json.dumps({**bundle, "meta": {}}).encode())
    assert "effectiveDateTime: does not match expected format" in refused(
        kb, record_bytes(kb).replace(b'"effectiveDateTime": "2026-11-03"', b'"effectiveDateTime": "yesterday"', 1))


def test_a_file_too_large_is_refused_before_it_is_parsed(kb):
    assert "too large" in refused(kb, b" " * (MAX_RECORD_BYTES + 1))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_deep_nesting_is_refused_without_exhausting_the_stack(kb, depth):
    assert "nested too deeply" in refused(kb, b"[" * depth + b"]" * depth)


def test_huge_strings_are_refused(kb):
    bundle = json.loads(record_bytes(kb))
    bundle["entry"][0]["resource"]["summary"] = "x" * 100_000
    assert "text field is too long (100,000 characters" in refused(kb, json.dumps(bundle).encode())


def test_unknown_ids_from_another_knowledge_version_are_named(kb):
    bundle = json.loads(record_bytes(kb))
    bundle["meta"]["tag"][1]["code"] = "0123456789abcdef" * 4
    obs = next(r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["system"] == FINDING_SYSTEM)
    obs["code"]["coding"][0]["code"] = "finding_from_the_future"
    message = refused(kb, json.dumps(bundle).encode())
    assert message.startswith("made with a different knowledge version (0123456789ab…")
    assert message.endswith("finding_from_the_future")


def test_out_of_range_scores_in_a_record_are_refused_naming_the_measure(kb):
    raw = record_bytes(kb).replace(b'"valueInteger": 52', b'"valueInteger": 99', 1)
    assert refused(kb, raw).startswith("outcome lefs: Input should be less than or equal to 80")


def test_script_in_text_fields_stays_inert_text(kb):
    hostile = "<script>alert(1)</script> ![x](javascript:alert(2))"
    case = {**CASE, "outcomes": {"psfs": [4], "psfs_activities": [hostile]}}
    record = read_visit_record(kb, record_bytes(kb, case))
    assert record.outcomes.psfs_activities == [hostile]  # kept as text; the page and note escape it

    from hipguide.exports import clinical_note

    note = clinical_note(kb, assess(kb, case), [record], dt.date(2026, 12, 1))
    assert "<script>" not in note and "\\<script\\>" in note


def test_reading_a_record_writes_nothing_anywhere(kb, tmp_path, monkeypatch):
    """Privacy: no file is opened for writing while records (good or hostile) are read."""
    monkeypatch.chdir(tmp_path)
    with disk_writes() as writes:
        read_visit_record(kb, record_bytes(kb))
        for raw in (b"[" * 10_000, b"x" * (MAX_RECORD_BYTES + 1), b'{"resourceType": "Patient"}'):
            with pytest.raises(RecordError):
                read_visit_record(kb, raw)
    assert writes == []
    assert list(tmp_path.iterdir()) == []


def test_red_flag_checks_not_made_are_recorded_as_not_assessed(kb):
    """A rule that needs the age, which was not recorded, is noted as not assessed, never as negative."""
    bundle = visit_bundle(kb, assess(kb, {"findings": ["rf_major_trauma_or_fall", "loc_groin"]}), NOV3)
    [impression] = resources(bundle, "ClinicalImpression")
    assert "not assessed is not negative" in impression["note"][0]["text"]
    aged = visit_bundle(kb, assess(kb, {"findings": ["rf_major_trauma_or_fall", "loc_groin"], "age": 40, "sex": "female"}), NOV3)
    assert "note" not in resources(aged, "ClinicalImpression")[0]
