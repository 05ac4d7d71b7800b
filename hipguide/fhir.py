"""The visit as a FHIR R4 Bundle (type collection) the clinician keeps, and reading such a record back.

The bundle holds one Observation per finding recorded (present: valueBoolean true; absent: false; not
assessed: no entry), one per outcome measure (LOINC where a code exists), and a ClinicalImpression with
the triage level and the ranked differential with its probabilities. It names no patient: the
ClinicalImpression's required subject is a reference with a display text only.

Both directions are checked with the SMART on FHIR models (`fhirclient`, generated from FHIR 4.0.1) in
strict mode. Reading is for files from outside, so it refuses, with one clear message, anything too
large, too deeply nested, with over-long text, not a HipGuide visit record, or naming ids this
knowledge version does not know. Nothing read is executed, and nothing is written anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .models import Outcomes
from .visits import VisitRecord

if TYPE_CHECKING:
    from .assessment import Assessment
    from .knowledge import KnowledgeBase

FINDING_SYSTEM = "urn:hipguide:finding"
OUTCOME_SYSTEM = "urn:hipguide:outcome-measure"
CONDITION_SYSTEM = "urn:hipguide:condition"
KNOWLEDGE_SYSTEM = "urn:hipguide:knowledge-version"
RECORD_TAG = {"system": "urn:hipguide:record", "code": "visit-record", "display": "HipGuide visit record"}
EXT_TRIAGE = "urn:hipguide:extension:triage-level"
EXT_POST_TEST = "urn:hipguide:extension:post-test-probability"
EXT_PRE_TEST = "urn:hipguide:extension:pre-test-probability"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NOT_IDENTIFIED = "Patient not identified in this record"

# Limits for records read from outside. A real record is a few dozen kilobytes, about 10 levels deep,
# with no text longer than the differential's summary.
MAX_RECORD_BYTES = 500_000
MAX_DEPTH = 16
MAX_TEXT_CHARS = 4_000
MAX_ENTRIES = 400
TRIAGE_LEVELS = ("routine", "urgent", "emergency")


class RecordError(ValueError):
    """A visit record that cannot be read: the message names the problem, for the clinician."""


# --- writing --------------------------------------------------------------------------------------

def _full_url() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


def _finding_observation(kb: KnowledgeBase, fid: str, present: bool, day: str) -> dict[str, Any]:
    label = kb.findings[fid].label
    obs: dict[str, Any] = {"resourceType": "Observation", "status": "final"}
    if kb.findings[fid].group == "examination":
        obs["category"] = _category("exam", "Exam")
    obs.update({
        "code": {"coding": [{"system": FINDING_SYSTEM, "code": fid, "display": label}], "text": label},
        "effectiveDateTime": day,
        "valueBoolean": present,
    })
    return obs


def _outcome_observations(kb: KnowledgeBase, outcomes: Outcomes, day: str) -> Iterator[dict[str, Any]]:
    measures = kb.outcome_measures

    def code(mid: str) -> dict[str, Any]:
        m = measures.get(mid)
        label = m.label if m else mid
        coding = [{"system": LOINC, "code": m.loinc.code, "display": m.loinc.display}] if m and m.loinc else []
        coding.append({"system": OUTCOME_SYSTEM, "code": mid, "display": label})
        return {"coding": coding, "text": label}

    def base(mid: str) -> dict[str, Any]:
        return {"resourceType": "Observation", "status": "final", "category": _category("survey", "Survey"),
                "code": code(mid), "effectiveDateTime": day}

    if outcomes.nprs is not None:
        yield {**base("nprs"), "valueInteger": outcomes.nprs}
    if outcomes.lefs is not None:
        obs = {**base("lefs"), "valueInteger": outcomes.lefs}
        if outcomes.lefs_items is not None:
            items = measures["lefs"].items if "lefs" in measures else []
            obs["component"] = [
                {"code": {"coding": [{"system": OUTCOME_SYSTEM, "code": f"lefs_item_{i + 1:02d}",
                                      **({"display": items[i]} if i < len(items) else {})}]},
                 "valueInteger": score}
                for i, score in enumerate(outcomes.lefs_items)
            ]
        yield obs
    if outcomes.psfs:
        components = []
        for i, score in enumerate(outcomes.psfs):
            concept: dict[str, Any] = {"coding": [{"system": OUTCOME_SYSTEM, "code": f"psfs_activity_{i + 1}"}]}
            if outcomes.psfs_activities is not None:
                concept["text"] = outcomes.psfs_activities[i]
            components.append({"code": concept, "valueInteger": score})
        yield {**base("psfs"), "valueQuantity": {"value": outcomes.psfs_mean, "unit": "score", "system": UCUM, "code": "{score}"},
               "component": components}


def _clinical_impression(kb: KnowledgeBase, result: Assessment, day: str, findings: list[str], outcomes: list[str]) -> dict[str, Any]:
    from .exports import DISCLAIMER, pct

    tri = result.triage
    reasons = "; ".join(f"{r.label} ({r.level}): {r.action}" for r in tri.reasons) or "no red flag recorded"
    ranked = ", ".join(f"{i + 1}. {kb.conditions[r.condition].label} {pct(r.probability)}"
                       for i, r in enumerate(result.differential[:5]))
    investigation = []
    if findings:
        investigation.append({"code": {"text": "Findings recorded (present or checked and absent)"},
                              "item": [{"reference": url} for url in findings]})
    if outcomes:
        investigation.append({"code": {"text": "Outcome measures"}, "item": [{"reference": url} for url in outcomes]})
    impression: dict[str, Any] = {
        "resourceType": "ClinicalImpression",
        "extension": [{"url": EXT_TRIAGE, "valueCode": tri.level}],
        "status": "completed",
        "description": "HipGuide assessment of buttock, hip and groin pain: red-flag triage and a ranked differential. " + DISCLAIMER,
        "subject": {"display": NOT_IDENTIFIED},
        "effectiveDateTime": day,
        "investigation": investigation,
        "protocol": [f"{KNOWLEDGE_SYSTEM}:{kb.version}"],
        "summary": f"Triage: {tri.level.upper()} ({reasons}). Differential: {ranked}. {result.sufficiency_note}",
        "finding": [
            {"extension": [{"url": EXT_POST_TEST, "valueDecimal": round(r.probability, 4)},
                           {"url": EXT_PRE_TEST, "valueDecimal": r.prior}],
             "itemCodeableConcept": {"coding": [{"system": CONDITION_SYSTEM, "code": r.condition,
                                                 "display": kb.conditions[r.condition].label}],
                                     "text": kb.conditions[r.condition].label},
             "basis": f"Rank {i + 1}: post-test probability {pct(r.probability)} (pre-test {pct(r.prior)}), "
                      f"from the likelihood ratios of the findings recorded"}
            for i, r in enumerate(result.differential)
        ],
    }
    if not investigation:
        del impression["investigation"]
    if note := tri.not_assessed_note():  # rules that could not be checked (age or sex not recorded): never negative
        impression["note"] = [{"text": note}]
    return impression


def visit_bundle(kb: KnowledgeBase, result: Assessment, visit_date: dt.date, timestamp: dt.datetime | None = None) -> dict[str, Any]:
    """The visit as a FHIR R4 Bundle of type collection (a plain dict, ready for json.dumps)."""
    day = visit_date.isoformat()
    entries: list[dict[str, Any]] = []
    finding_urls, outcome_urls = [], []
    for fid in sorted(result.case.findings):
        finding_urls.append(url := _full_url())
        entries.append({"fullUrl": url, "resource": _finding_observation(kb, fid, True, day)})
    for fid in sorted(result.case.absent):
        finding_urls.append(url := _full_url())
        entries.append({"fullUrl": url, "resource": _finding_observation(kb, fid, False, day)})
    if result.case.outcomes is not None:
        for obs in _outcome_observations(kb, result.case.outcomes, day):
            outcome_urls.append(url := _full_url())
            entries.append({"fullUrl": url, "resource": obs})
    entries.insert(0, {"fullUrl": _full_url(), "resource": _clinical_impression(kb, result, day, finding_urls, outcome_urls)})
    stamp = (timestamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    bundle = {
        "resourceType": "Bundle",
        "meta": {"tag": [RECORD_TAG, {"system": KNOWLEDGE_SYSTEM, "code": kb.version}]},
        "type": "collection",
        "timestamp": stamp.isoformat().replace("+00:00", "Z"),
        "entry": entries,
    }
    check_r4(bundle)
    return bundle


def bundle_json(kb: KnowledgeBase, result: Assessment, visit_date: dt.date) -> str:
    return json.dumps(visit_bundle(kb, result, visit_date), indent=2, ensure_ascii=False) + "\n"


# --- validation -----------------------------------------------------------------------------------

_OBJECT_REPR = re.compile(r" (?:on|for|in data for) <[^>]*>")


def check_r4(data: dict[str, Any]) -> None:
    """Raise RecordError unless `data` is a valid FHIR R4 Bundle (SMART on FHIR models, strict mode)."""
    from fhirclient.models.bundle import Bundle
    from fhirclient.models.fhirabstractbase import FHIRValidationError

    try:
        Bundle(data, strict=True)
    except FHIRValidationError as exc:
        raise RecordError(f"not a valid FHIR R4 Bundle: {_validation_message(exc)}") from None
    except Exception as exc:  # the models raise plain exceptions for a wrong resourceType
        raise RecordError(f"not a valid FHIR R4 Bundle: {_OBJECT_REPR.sub('', str(exc))[:200]}") from None


def _validation_message(exc: Exception) -> str:
    """The first problem the models found, as "path: message" without Python object names."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and line.strip() != "{root}:"]
    path = [line.rstrip(":") for line in lines if line.endswith(":")]
    problems = [line for line in lines if not line.endswith(":")]
    message = _OBJECT_REPR.sub("", problems[0] if problems else "invalid").strip("'\"")
    where = ".".join(path)
    return f"{where}: {message}"[:300] if where else message[:300]


# --- reading --------------------------------------------------------------------------------------

def _check_shape(data: Any) -> None:
    """Depth, text length and size limits, walked without recursion (a hostile file cannot exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecordError(f"nested too deeply (more than {MAX_DEPTH} levels): not a visit record")
        if isinstance(node, dict):
            for key, value in node.items():
                if len(key) > 100:
                    raise RecordError("a field name is too long: not a visit record")
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str) and len(node) > MAX_TEXT_CHARS:
            raise RecordError(f"a text field is too long ({len(node):,} characters; at most {MAX_TEXT_CHARS:,})")


def _codes(concept: Any, system: str) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [c.get("code") for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("system") == system]


def _day(value: Any) -> dt.date | None:
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def parse_record(raw: bytes) -> dict[str, Any]:
    """Bytes → a JSON Bundle within the limits, checked as FHIR R4. Raises RecordError."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(f"too large ({len(raw):,} bytes); a visit record is at most {MAX_RECORD_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordError("not a visit record: the file is not UTF-8 text (expected FHIR JSON)") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise RecordError(f"nested too deeply (more than {MAX_DEPTH} levels): not a visit record") from None
    except ValueError as exc:
        raise RecordError(f"not a visit record: not valid JSON ({str(exc)[:80]})") from None
    _check_shape(data)
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise RecordError(f"not a visit record: expected a FHIR Bundle, found {str(kind)[:40]!r}")
    if len(data.get("entry") or []) > MAX_ENTRIES:
        raise RecordError(f"too many entries ({len(data['entry'])}; a visit record has at most {MAX_ENTRIES})")
    check_r4(data)
    if data.get("type") != "collection":
        raise RecordError(f"not a visit record: a Bundle of type {str(data.get('type'))[:30]!r}, expected 'collection'")
    tags = (data.get("meta") or {}).get("tag") or []
    if not any(t.get("system") == RECORD_TAG["system"] and t.get("code") == RECORD_TAG["code"] for t in tags):
        raise RecordError("not a HipGuide visit record: a FHIR Bundle without the visit-record tag")
    return data


def read_visit_record(kb: KnowledgeBase, raw: bytes) -> VisitRecord:
    """Read a visit record downloaded from HipGuide (by this or an earlier knowledge version)."""
    data = parse_record(raw)
    tags = data["meta"]["tag"]
    version = next((t.get("code") for t in tags if t.get("system") == KNOWLEDGE_SYSTEM), None)
    states: dict[str, bool] = {}
    outcome: dict[str, Any] = {}
    triage, differential, day = None, [], None
    unknown_findings, unknown_conditions = set(), set()
    for entry in data.get("entry") or []:
        res = entry.get("resource") or {}
        kind = res.get("resourceType")
        if kind == "Observation":
            day = day or _day(res.get("effectiveDateTime"))
            if fids := _codes(res.get("code"), FINDING_SYSTEM):
                fid = fids[0]
                value = res.get("valueBoolean")
                if not isinstance(value, bool):
                    raise RecordError(f"the finding {str(fid)[:60]!r} has no yes/no value")
                if fid not in kb.findings:
                    unknown_findings.add(str(fid))
                elif states.get(fid, value) != value:
                    raise RecordError(f"the finding {fid!r} is recorded both present and absent")
                states[fid] = value
            elif mids := _codes(res.get("code"), OUTCOME_SYSTEM):
                _read_outcome(mids[0], res, outcome)
        elif kind == "ClinicalImpression":
            day = _day(res.get("effectiveDateTime")) or day
            for ext in res.get("extension") or []:
                if ext.get("url") == EXT_TRIAGE and ext.get("valueCode") in TRIAGE_LEVELS:
                    triage = ext["valueCode"]
            for item in res.get("finding") or []:
                cids = _codes(item.get("itemCodeableConcept"), CONDITION_SYSTEM)
                if not cids:
                    continue
                if cids[0] not in kb.conditions:
                    unknown_conditions.add(str(cids[0]))
                    continue
                prob = next((e.get("valueDecimal") for e in item.get("extension") or [] if e.get("url") == EXT_POST_TEST), None)
                if isinstance(prob, (int, float)) and 0 <= prob <= 1:
                    differential.append((cids[0], float(prob)))
    if unknown_findings or unknown_conditions:
        names = ", ".join(sorted(unknown_findings | unknown_conditions)[:8])
        more = f" and {len(unknown_findings | unknown_conditions) - 8} more" if len(unknown_findings | unknown_conditions) > 8 else ""
        if version != kb.version:
            raise RecordError(f"made with a different knowledge version ({str(version or 'unknown')[:12]}…; this one is "
                              f"{kb.version[:12]}…), and it names ids this version does not know: {names}{more}")
        raise RecordError(f"names ids this knowledge base does not know: {names}{more}")
    if day is None:
        raise RecordError("not a visit record: it has no visit date")
    try:
        outcomes = Outcomes.model_validate(outcome) if outcome else None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RecordError(f"outcome {where or 'measures'}: {first['msg'].removeprefix('Value error, ')}") from None
    return VisitRecord(
        date=day, findings=tuple(sorted(f for f, v in states.items() if v)),
        absent=tuple(sorted(f for f, v in states.items() if not v)), outcomes=outcomes, triage=triage,
        differential=tuple(differential), knowledge_version=version, same_knowledge=version == kb.version,
    )


def _read_outcome(mid: str, res: dict[str, Any], outcome: dict[str, Any]) -> None:
    if mid in outcome or (mid == "lefs" and "lefs_items" in outcome):
        raise RecordError(f"the outcome measure {str(mid)[:20]!r} is recorded twice")
    components = res.get("component") or []
    if mid == "nprs":
        outcome["nprs"] = res.get("valueInteger")
    elif mid == "lefs":
        outcome["lefs"] = res.get("valueInteger")
        if components:
            outcome["lefs_items"] = [c.get("valueInteger") for c in components]
    elif mid == "psfs":
        outcome["psfs"] = [c.get("valueInteger") for c in components]
        names = [(c.get("code") or {}).get("text") for c in components]
        if any(n is not None for n in names):
            outcome["psfs_activities"] = [n if isinstance(n, str) else "" for n in names]
    else:
        raise RecordError(f"unknown outcome measure {str(mid)[:20]!r}")
