"""A small knowledge base written from Python, where every answer is known by construction.

Tests change one file of it to provoke exactly one problem or one kind of conflict.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

TEXT_A = "Ice and heat are ineffective. The muscles are too deep.\n\nStrengthening while sore will worsen the pain.\n"
TEXT_A2 = "Ice and heat are ineffective. The muscles are too deep.\n\nA longer version of the same article.\n"
TEXT_B = "Apply ice for 15-20 minutes every few hours.\n\nStrengthening prevents recurrence.\n"
TEXT_C = "Ice is a good idea afterward on the sacroiliac joint.\n"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def guidance(topic: str, dispositions: list[dict] | None = None) -> dict:
    return {
        "topic": topic, "version": 1, "status": "draft", "approver": None, "date": "2026-11-21",
        "strength": "conditional", "certainty": "not_graded", "applies_to": [],
        "phases": {p: {"stance": "neutral", "advice": f"{topic} advice for {p}."} for p in ("acute", "recovery", "prevention")},
        "rationale": "A rationale long enough to explain which claims were accepted and which rejected.",
        "relied_on": [], "dispositions": dispositions or [], "source_hashes": {},
    }


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def source(sid: str, text: str, duplicate_of: str | None = None) -> dict:
    return {"id": sid, "title": f"Title {sid}", "publisher": "Pub", "author": None, "date": None,
            "kind": "consumer_health", "text": f"{sid}.txt", "text_sha256": sha(text), "duplicate_of": duplicate_of,
            "seed_file": None, "attribution": "Reproduced for comparison.", "flags": []}


def claim(cid: str, src: str, stance: str, quote: str, phases=(), target: str = "general") -> dict:
    return {"id": cid, "source": src, "stance": stance, "quote": quote,
            "scope": {"phases": list(phases), "target": target, "population": None}}


def write_mini_kb(root: Path) -> Path:
    write(root / "topics.yaml", {"topics": [
        {"id": "ice", "label": "Ice", "question": "Ice?", "kind": "thermal"},
        {"id": "strengthening", "label": "Strengthening", "question": "Strengthen?", "kind": "loading"},
    ]})
    write(root / "targets.yaml", {"targets": [
        {"id": "general", "label": "General", "within": None},
        {"id": "deep_hip_rotators", "label": "Deep rotators", "within": "general"},
        {"id": "sacroiliac_joint", "label": "SI joint", "within": "general"},
    ]})
    for sid, text, dup in (("a", TEXT_A, None), ("a2", TEXT_A2, "a"), ("b", TEXT_B, None), ("c", TEXT_C, None)):
        (root / "sources").mkdir(parents=True, exist_ok=True)
        (root / "sources" / f"{sid}.txt").write_text(text, encoding="utf-8")
        write(root / "sources" / f"{sid}.yaml", source(sid, text, dup))
    write(root / "claims" / "ice.yaml", {"topic": "ice", "claims": [
        claim("ice_a", "a", "advise_against", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
        claim("ice_a2", "a2", "advise_against", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
        claim("ice_b", "b", "recommend", "Apply ice for 15–20 minutes every few hours.", ["acute"], "general"),
    ]})
    write(root / "claims" / "strengthening.yaml", {"topic": "strengthening", "claims": [
        claim("str_a", "a", "advise_against", "Strengthening while sore will worsen the pain.", ["acute"]),
        claim("str_b", "b", "recommend", "Strengthening prevents recurrence.", ["prevention"]),
    ]})
    write(root / "guidance" / "ice.yaml", guidance("ice", [
        {"claim": c, "disposition": "accepted", "reason": "Because."} for c in ("ice_a", "ice_a2", "ice_b")]))
    write(root / "guidance" / "strengthening.yaml", guidance("strengthening", [
        {"claim": c, "disposition": "accepted", "reason": "Because."} for c in ("str_a", "str_b")]))
    write(root / "conditions.yaml", {"conditions": [
        {"id": "overload", "label": "Overload", "summary": "S.", "prior": 0.2, "prior_provenance": "estimate",
         "muscles": ["piriformis"]},
        {"id": "tear", "label": "Tear", "summary": "S.", "prior": 0.1, "prior_provenance": "estimate", "muscles": []},
    ]})
    write(root / "findings.yaml", {"findings": [
        {"id": "loc_buttock", "label": "Buttock pain", "group": "location"},
        {"id": "sharp_onset", "label": "Sharp onset", "group": "onset"},
        {"id": "test_x", "label": "Test X", "group": "examination", "how_to": "Do X.", "positive_if": "Pain."},
        {"id": "rf_saddle", "label": "Saddle anaesthesia", "group": "red_flag"},
        {"id": "rf_fever", "label": "Fever", "group": "red_flag"},
        {"id": "rf_joint", "label": "Hot joint", "group": "red_flag"},
    ]})
    write(root / "likelihood_ratios.yaml", {"likelihood_ratios": {
        "overload": [
            {"finding": "loc_buttock", "lr_positive": 3.0, "lr_negative": 0.3, "provenance": "clinical_estimate"},
            {"finding": "test_x", "lr_positive": 5.0, "lr_negative": 0.5, "provenance": "published", "reference": "Ref 2014"},
            {"finding": "sharp_onset", "lr_positive": 0.5, "lr_negative": 1.0, "provenance": "clinical_estimate"},
        ],
        "tear": [
            {"finding": "sharp_onset", "lr_positive": 6.0, "lr_negative": 0.4, "provenance": "clinical_estimate"},
        ],
    }})
    write(root / "red_flags.yaml", {"red_flags": [
        {"id": "ces", "label": "Cauda equina", "level": "emergency", "any_of": ["rf_saddle"], "action": "ED now.",
         "reference": "Ref"},
        {"id": "septic", "label": "Septic joint", "level": "emergency", "all_of": ["rf_fever", "rf_joint"],
         "action": "ED now.", "reference": "Ref"},
        {"id": "fever", "label": "Fever", "level": "urgent", "any_of": ["rf_fever"], "action": "GP today.",
         "reference": "Ref", "withhold": [], "plan_overrides": {"strengthening": {"stance": "advise_against", "advice": "Rest until reviewed."}}},
    ]})
    write(root / "referral_zones.yaml", {"muscles": [
        {"id": "piriformis", "label": "Piriformis", "zones": ["buttock"], "spillover": [], "reference": "T&S"}]})
    write(root / "body_map.yaml", {"regions": [
        {"id": "buttock", "label": "Buttock", "view": "posterior", "finding": "loc_buttock",
         "polygon": [[10, 10], [20, 10], [20, 20]]}]})
    return root


def set_claims(root: Path, topic: str, claims: list[dict], dispositions: list[str] | None = None) -> None:
    """Replace a topic's claims, with an accepted disposition for each id in `dispositions`."""
    (root / "claims" / f"{topic}.yaml").write_text(yaml.safe_dump({"topic": topic, "claims": claims}, sort_keys=False))
    g = yaml.safe_load((root / "guidance" / f"{topic}.yaml").read_text())
    g["dispositions"] = [{"claim": c, "disposition": "accepted", "reason": "R."} for c in (dispositions or [])]
    (root / "guidance" / f"{topic}.yaml").write_text(yaml.safe_dump(g, sort_keys=False))
