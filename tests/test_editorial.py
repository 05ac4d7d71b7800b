"""Editorial writes on a small knowledge base: validation first, atomic write, audit, version check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from minikb import TEXT_B, write_mini_kb

from hipguide import editorial
from hipguide.editorial import (
    AUDIT_LOG,
    EditError,
    StaleVersionError,
    add_claim,
    add_source,
    confirm_source_text,
    file_version,
    guidance_history,
    read_audit,
    safe_path,
    save_guidance,
)
from hipguide.knowledge import load_knowledge

NEW_PHASES = {"acute": {"stance": "advise_against", "advice": "Skip ice while the deep rotators are overloaded."},
              "recovery": {"stance": "neutral", "advice": "Ice is optional once settling."},
              "prevention": {"stance": "neutral", "advice": "No ice needed."}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_mini_kb(tmp_path / "kb")


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp")]


def test_save_guidance_writes_validates_and_audits(root: Path) -> None:
    base = file_version(root, "guidance/ice.yaml")
    result = save_guidance(root, "ice", {"phases": NEW_PHASES}, "Ana", base_version=base, note="deep rotators")
    kb = load_knowledge(root)
    assert kb.guidance["ice"].phases["acute"].stance == "advise_against"
    assert kb.guidance["ice"].version == 2
    assert result.version_hash == file_version(root, "guidance/ice.yaml") != base
    (entry,) = read_audit(root)
    assert entry["editor"] == "Ana" and entry["action"] == "save_guidance" and entry["note"] == "deep rotators"
    assert entry["before"]["phases"]["acute"]["stance"] == "neutral"
    assert entry["after"]["phases"]["acute"]["stance"] == "advise_against"
    assert {"field": "phases.acute.stance", "before": "neutral", "after": "advise_against"} in entry["changes"]
    assert entry["version_before"] == base and entry["version_after"] == result.version_hash


def test_failure_between_write_and_rename_leaves_old_file_and_no_temp(root: Path, monkeypatch) -> None:
    path = root / "guidance" / "ice.yaml"
    before = path.read_bytes()
    base = file_version(root, "guidance/ice.yaml")

    def broken_replace(src, dst):
        assert Path(src).exists()  # the temporary file was fully written before the rename
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk pulled out"):
        save_guidance(root, "ice", {"phases": NEW_PHASES}, "Ana", base_version=base)
    assert path.read_bytes() == before
    assert temp_files(root) == []
    assert read_audit(root) == []  # nothing audited for a change that did not happen
    monkeypatch.undo()
    load_knowledge(root)  # still valid


def test_stale_version_refused_and_first_save_kept(root: Path) -> None:
    base = file_version(root, "guidance/ice.yaml")
    save_guidance(root, "ice", {"phases": NEW_PHASES}, "Ana", base_version=base)
    after_first = (root / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    other = {**NEW_PHASES, "acute": {"stance": "recommend", "advice": "Ice for 15 minutes."}}
    with pytest.raises(StaleVersionError) as caught:
        save_guidance(root, "ice", {"phases": other}, "Ben", base_version=base)
    assert caught.value.theirs == after_first
    assert "Ice for 15 minutes." in caught.value.yours
    assert (root / "guidance" / "ice.yaml").read_text(encoding="utf-8") == after_first
    assert [e["editor"] for e in read_audit(root)] == ["Ana"]


@pytest.mark.parametrize("changes, message", [
    ({"rationale": ""}, "at least 40 characters"),
    ({"status": "approved", "approver": None}, "approver"),
    ({"phases": {"acute": {"stance": "recommend", "advice": "x"}}}, "missing"),
    ({"dispositions": [{"claim": "ice_b", "disposition": "rejected", "reason": ""}]}, "at least 1 character"),
])
def test_invalid_decision_refused_nothing_written(root: Path, changes: dict, message: str) -> None:
    before = (root / "guidance" / "ice.yaml").read_bytes()
    with pytest.raises(EditError) as caught:
        save_guidance(root, "ice", changes, "Ana", base_version=file_version(root, "guidance/ice.yaml"))
    assert any(message in p.message for p in caught.value.problems), caught.value.problems
    assert (root / "guidance" / "ice.yaml").read_bytes() == before
    assert read_audit(root) == [] and temp_files(root) == []


def test_missing_disposition_refused_by_full_validation(root: Path) -> None:
    with pytest.raises(EditError) as caught:
        save_guidance(root, "ice", {"dispositions": []}, "Ana", base_version=file_version(root, "guidance/ice.yaml"))
    assert any("has no disposition" in p.message for p in caught.value.problems)


def test_editor_name_required(root: Path) -> None:
    with pytest.raises(EditError, match="editor name"):
        save_guidance(root, "ice", {"phases": NEW_PHASES}, "  ", base_version=None)


@pytest.mark.parametrize("bad_id", ["../evil", "/etc/passwd", "a/b", "..", "Evil", "a.b", "a b", "é", "", "a\x00b",
                                    "x" * 61, "_lead", "1abc"])
def test_add_source_refuses_ids_that_could_escape(root: Path, tmp_path: Path, bad_id: str) -> None:
    listing = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(EditError):
        add_source(root, {"id": bad_id, "title": "T", "publisher": "P", "kind": "consumer_health"}, "Some text.", "Ana")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name != ".editor.lock") == listing
    assert read_audit(root) == []


@pytest.mark.parametrize("rel", ["../outside.yaml", "/etc/passwd", "sources/../../outside.yaml", "", "a\x00b"])
def test_safe_path_refuses_escapes(root: Path, rel: str) -> None:
    with pytest.raises(EditError):
        safe_path(root, rel)


def test_add_source_stores_text_verbatim_and_audits(root: Path) -> None:
    text = "Intro.\n\n<script>alert(1)</script> and <img src=x onerror=alert(1)> [x](javascript:alert(1))\n"
    add_source(root, {"id": "hostile", "title": "Hostile", "publisher": "P", "kind": "consumer_health"}, text, "Ana")
    kb = load_knowledge(root)
    assert kb.source_texts["hostile"] == text
    assert read_audit(root)[-1]["action"] == "add_source"
    with pytest.raises(EditError, match="already exists"):
        add_source(root, {"id": "hostile", "title": "H", "publisher": "P", "kind": "consumer_health"}, text, "Ana")


def test_add_claim_checks_verbatim_and_needs_disposition_when_it_conflicts(root: Path) -> None:
    base = file_version(root, "claims/strengthening.yaml")
    not_verbatim = {"id": "str_c", "source": "c", "stance": "recommend", "quote": "Strengthen the joint daily.",
                    "scope": {"phases": [], "target": "general"}}
    with pytest.raises(EditError) as caught:
        add_claim(root, "strengthening", not_verbatim, "Ana", base_version=base)
    assert any("not verbatim" in p.message for p in caught.value.problems)

    opposing = {"id": "ice_c_against", "source": "c", "stance": "advise_against",
                "quote": "Ice is a good idea afterward", "scope": {"phases": ["acute"], "target": "general"}}
    claims_base = file_version(root, "claims/ice.yaml")
    with pytest.raises(EditError) as caught:
        add_claim(root, "ice", opposing, "Ana", base_version=claims_base)
    assert any("has no disposition" in p.message for p in caught.value.problems)
    assert read_audit(root) == []

    g_base = file_version(root, "guidance/ice.yaml")
    add_claim(root, "ice", opposing, "Ana", base_version=claims_base,
              disposition={"disposition": "rejected", "reason": "Misread: the source recommends ice."},
              guidance_base_version=g_base)
    kb = load_knowledge(root)
    assert "ice_c_against" in kb.claims_by_id
    assert kb.guidance["ice"].version == 2
    assert [e["action"] for e in read_audit(root)] == ["add_claim", "save_guidance"]
    assert [h["version"] for h in guidance_history(root, "ice")] == [1, 2]


def test_add_claim_with_disposition_refused_when_guidance_changed(root: Path) -> None:
    g_base = file_version(root, "guidance/ice.yaml")
    save_guidance(root, "ice", {"phases": NEW_PHASES}, "Ben", base_version=g_base)
    opposing = {"id": "ice_c_against", "source": "c", "stance": "advise_against",
                "quote": "Ice is a good idea afterward", "scope": {"phases": ["acute"], "target": "general"}}
    claims_before = (root / "claims" / "ice.yaml").read_bytes()
    with pytest.raises(StaleVersionError):
        add_claim(root, "ice", opposing, "Ana", base_version=file_version(root, "claims/ice.yaml"),
                  disposition={"disposition": "rejected", "reason": "Because."}, guidance_base_version=g_base)
    assert (root / "claims" / "ice.yaml").read_bytes() == claims_before


def test_audit_is_append_only(root: Path) -> None:
    for stance in ("advise_against", "recommend", "neutral"):
        log = root / AUDIT_LOG
        before = log.read_bytes() if log.exists() else b""
        phases = {**NEW_PHASES, "acute": {"stance": stance, "advice": f"{stance} advice."}}
        save_guidance(root, "ice", {"phases": phases}, "Ana", base_version=file_version(root, "guidance/ice.yaml"))
        after = log.read_bytes()
        assert after.startswith(before) and len(after) > len(before)
        assert after.count(b"\n") == before.count(b"\n") + 1
    assert [json.loads(line)["after"]["phases"]["acute"]["stance"] for line in log.read_text().splitlines()] == [
        "advise_against", "recommend", "neutral"]
    assert [h["version"] for h in guidance_history(root, "ice")] == [1, 2, 3, 4]


def test_audit_opened_for_append_only(root: Path, monkeypatch) -> None:
    flags_seen = []
    real_open = os.open

    def spy(path, flags, *args):
        if str(path).endswith("log.jsonl"):
            flags_seen.append(flags)
        return real_open(path, flags, *args)

    monkeypatch.setattr(editorial.os, "open", spy)
    save_guidance(root, "ice", {"phases": NEW_PHASES}, "Ana", base_version=file_version(root, "guidance/ice.yaml"))
    assert flags_seen and all(f & os.O_APPEND and not f & os.O_TRUNC for f in flags_seen)


def test_changed_source_needs_review_until_confirmed(root: Path) -> None:
    (root / "sources" / "b.txt").write_text(TEXT_B + "\nAn added paragraph.\n", encoding="utf-8")
    kb = load_knowledge(root)
    assert kb.changed_sources == {"b"}
    assert "ice" in kb.guidance_needing_review
    confirm_source_text(root, "b", "Ana", base_version=file_version(root, "sources/b.yaml"))
    kb = load_knowledge(root)
    assert kb.changed_sources == frozenset()
    assert read_audit(root)[-1]["action"] == "confirm_source_text"
