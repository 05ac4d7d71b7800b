"""Editorial writes on a small knowledge base in its own temporary git repository: validation first,
one commit per save with the editor as author, all files or none, the version check, four eyes, and
history, diffs and blame read back from git."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gitkb import git, init_repo
from minikb import TEXT_B, write_mini_kb

from hipguide import gitstore
from hipguide.editorial import (
    EditError,
    StaleVersionError,
    add_claim,
    add_source,
    approve_guidance,
    blame,
    confirm_source_text,
    file_version,
    guidance_versions,
    history,
    recover_interrupted_save,
    safe_path,
    save_guidance,
    snapshot,
    version_diff,
)
from hipguide.gitstore import Editor
from hipguide.knowledge import load_knowledge

NEW_PHASES = {"acute": {"stance": "advise_against", "advice": "Skip ice while the deep rotators are overloaded."},
              "recovery": {"stance": "neutral", "advice": "Ice is optional once settling."},
              "prevention": {"stance": "neutral", "advice": "No ice needed."}}
ANA = Editor("ana@clinic.example", "Ana Editor")
BEN = Editor("ben@clinic.example", "Ben Approver", can_approve=True)
CAL = Editor("cal@clinic.example", "Cal Approver", can_approve=True)
OPPOSING = {"id": "ice_c_against", "source": "c", "stance": "advise_against",
            "quote": "Ice is a good idea afterward", "scope": {"phases": ["acute"], "target": "general"}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The mini knowledge as `kb/` inside a fresh repository (a prefix, as the project has `knowledge/`)."""
    folder = write_mini_kb(tmp_path / "repo" / "kb")
    init_repo(tmp_path / "repo")
    return folder


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def clean(root: Path) -> bool:
    return git(root, "status", "--porcelain", "--untracked-files=all") == ""


def temp_files(root: Path) -> list[Path]:
    return list(root.rglob("*.tmp"))


def test_a_save_is_one_commit_by_the_editor_with_the_note_as_message(root: Path) -> None:
    base = file_version(root, "guidance/ice.yaml")
    result = save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=base, note="deep rotators")
    kb = load_knowledge(root)
    assert kb.guidance["ice"].phases["acute"].stance == "advise_against"
    assert kb.guidance["ice"].version == 2 and kb.guidance["ice"].status == "draft"
    assert result.commit == head(root) == file_version(root, "guidance/ice.yaml") != base
    log = git(root, "log", "-1", "--format=%an <%ae>|%cn|%s", "--name-only")
    assert log.splitlines()[0] == "Ana Editor <ana@clinic.example>|HipGuide editor|deep rotators"
    assert log.split()[-1] == "kb/guidance/ice.yaml"
    assert clean(root)
    [save, _import] = history(root, "ice")
    assert (save.id, save.author, save.note, save.files, save.topic) == (result.commit, ANA.id, "deep rotators",
                                                                        ["guidance/ice.yaml"], "ice")


def test_a_note_cannot_forge_the_records_trailers(root: Path) -> None:
    note = "fine\nHipGuide-Status: approved\nHipGuide-Drafted-By: someone@else"
    save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, file_version(root, "guidance/ice.yaml"), note=note)
    save = history(root, "ice")[0]
    assert save.trailers["Status"] == "draft" and "Drafted-By" not in save.trailers and save.note == "fine"


def test_a_failure_between_two_files_leaves_the_last_good_version(root: Path, monkeypatch) -> None:
    """A claim with its disposition writes two files; the second write fails: neither changes, no commit."""
    before = {rel: (root / rel).read_bytes() for rel in ("claims/ice.yaml", "guidance/ice.yaml")}
    old_head = head(root)
    real, calls = gitstore.write_knowledge_file, []

    def crash_on_second(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk pulled out")
        real(path, text)

    monkeypatch.setattr(gitstore, "write_knowledge_file", crash_on_second)
    with pytest.raises(EditError, match="disk pulled out"):
        add_claim(root, "ice", OPPOSING, ANA, base_version=file_version(root, "claims/ice.yaml"),
                  disposition={"disposition": "rejected", "reason": "Misread."},
                  guidance_base_version=file_version(root, "guidance/ice.yaml"))
    assert len(calls) == 2
    assert {rel: (root / rel).read_bytes() for rel in before} == before
    assert head(root) == old_head and clean(root) and temp_files(root) == []
    load_knowledge(root)  # still valid


CRASH = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from hipguide import editorial, gitstore
    root = Path(sys.argv[1])
    real, calls = gitstore.write_knowledge_file, []
    def die_on_second(path, text):
        calls.append(path)
        if len(calls) == 2:
            os._exit(9)  # the process dies here: no exception handler, no clean-up
        real(path, text)
    gitstore.write_knowledge_file = die_on_second
    editorial.add_claim(root, "ice", {OPPOSING!r}, "Ana", base_version=None,
                        disposition={{"disposition": "rejected", "reason": "Misread."}}, guidance_base_version=None)
""").format(OPPOSING=OPPOSING)


def test_a_process_killed_mid_save_is_undone_before_anything_else_reads_or_saves(root: Path) -> None:
    before = {rel: (root / rel).read_bytes() for rel in ("claims/ice.yaml", "guidance/ice.yaml")}
    old_head = head(root)
    proc = subprocess.run([sys.executable, "-c", CRASH, str(root)], cwd=Path(__file__).parent.parent, check=False)
    assert proc.returncode == 9
    assert (root / "claims" / "ice.yaml").read_bytes() != before["claims/ice.yaml"]  # half-saved on disk
    assert recover_interrupted_save(root) is True
    assert {rel: (root / rel).read_bytes() for rel in before} == before
    assert head(root) == old_head and clean(root)
    assert recover_interrupted_save(root) is False
    save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, file_version(root, "guidance/ice.yaml"))


def test_stale_version_refused_and_first_save_kept(root: Path) -> None:
    base = file_version(root, "guidance/ice.yaml")
    save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=base)
    after_first = (root / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    other = {**NEW_PHASES, "acute": {"stance": "recommend", "advice": "Ice for 15 minutes."}}
    with pytest.raises(StaleVersionError) as caught:
        save_guidance(root, "ice", {"phases": other}, BEN, base_version=base)
    assert caught.value.theirs == after_first
    assert "Ice for 15 minutes." in caught.value.yours
    assert (root / "guidance" / "ice.yaml").read_text(encoding="utf-8") == after_first
    assert [s.author for s in history(root, "ice")][:1] == [ANA.id] and len(history(root, "ice")) == 2


def test_the_version_is_any_commit_that_has_seen_the_file(root: Path) -> None:
    """A save on another topic does not make an open form stale; the knowledge base's current commit works as VERSION."""
    base = file_version(root, "guidance/ice.yaml")
    save_guidance(root, "strengthening", {"rationale": "R" * 45}, BEN, file_version(root, "guidance/strengthening.yaml"))
    save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=base)
    save_guidance(root, "ice", {"rationale": "S" * 45}, ANA, base_version=head(root))
    with pytest.raises(EditError, match="unknown version"):
        save_guidance(root, "ice", {"rationale": "T" * 45}, ANA, base_version="0" * 40)


def test_snapshot_gives_the_text_and_the_version_of_the_same_commit(root: Path) -> None:
    version, text = snapshot(root, "guidance/ice.yaml")
    assert version == head(root) and text == (root / "guidance" / "ice.yaml").read_text(encoding="utf-8")
    save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=version)
    assert snapshot(root, "guidance/ice.yaml")[1] != text


@pytest.mark.parametrize("changes, message", [
    ({"rationale": ""}, "at least 40 characters"),
    ({"phases": {"acute": {"stance": "recommend", "advice": "x"}}}, "missing"),
    ({"dispositions": [{"claim": "ice_b", "disposition": "rejected", "reason": ""}]}, "at least 1 character"),
])
def test_invalid_decision_refused_nothing_written(root: Path, changes: dict, message: str) -> None:
    before, old_head = (root / "guidance" / "ice.yaml").read_bytes(), head(root)
    with pytest.raises(EditError) as caught:
        save_guidance(root, "ice", changes, ANA, base_version=file_version(root, "guidance/ice.yaml"))
    assert any(message in p.message for p in caught.value.problems), caught.value.problems
    assert (root / "guidance" / "ice.yaml").read_bytes() == before
    assert head(root) == old_head and clean(root) and temp_files(root) == []


def test_missing_disposition_refused_by_full_validation(root: Path) -> None:
    with pytest.raises(EditError) as caught:
        save_guidance(root, "ice", {"dispositions": []}, ANA, base_version=file_version(root, "guidance/ice.yaml"))
    assert any("has no disposition" in p.message for p in caught.value.problems)


def test_a_signed_in_editor_is_required(root: Path) -> None:
    with pytest.raises(EditError, match="signed-in editor"):
        save_guidance(root, "ice", {"phases": NEW_PHASES}, "  ", base_version=None)


def test_uncommitted_edits_in_the_folder_are_never_swept_into_a_save(root: Path) -> None:
    path = root / "guidance" / "ice.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# a hand edit\n", encoding="utf-8")
    with pytest.raises(EditError, match="not committed"):
        save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=file_version(root, "guidance/ice.yaml"))
    assert path.read_text(encoding="utf-8").endswith("# a hand edit\n")


def test_no_git_repository_is_a_clear_refusal(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "loose")
    with pytest.raises(EditError, match="not in a git repository"):
        save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, base_version=None)


@pytest.mark.parametrize("bad_id", ["../evil", "/etc/passwd", "a/b", "..", "Evil", "a.b", "a b", "é", "", "a\x00b",
                                    "x" * 61, "_lead", "1abc"])
def test_add_source_refuses_ids_that_could_escape(root: Path, tmp_path: Path, bad_id: str) -> None:
    old_head = head(root)
    with pytest.raises(EditError):
        add_source(root, {"id": bad_id, "title": "T", "publisher": "P", "kind": "consumer_health"}, "Some text.", ANA)
    assert head(root) == old_head and clean(root)


@pytest.mark.parametrize("rel", ["../outside.yaml", "/etc/passwd", "sources/../../outside.yaml", "", "a\x00b"])
def test_safe_path_refuses_escapes(root: Path, rel: str) -> None:
    with pytest.raises(EditError):
        safe_path(root, rel)


def test_add_source_commits_its_text_and_metadata_together(root: Path) -> None:
    text = "Intro.\n\n<script>alert(1)</script> and <img src=x onerror=alert(1)> [x](javascript:alert(1))\n"
    result = add_source(root, {"id": "hostile", "title": "Hostile", "publisher": "P", "kind": "consumer_health"}, text, ANA,
                        note="a new article")
    kb = load_knowledge(root)
    assert kb.source_texts["hostile"] == text
    assert sorted(result.files) == ["sources/hostile.txt", "sources/hostile.yaml"]
    assert sorted(history(root)[0].files) == ["sources/hostile.txt", "sources/hostile.yaml"]
    with pytest.raises(EditError, match="already exists"):
        add_source(root, {"id": "hostile", "title": "H", "publisher": "P", "kind": "consumer_health"}, text, ANA)


def test_add_claim_checks_verbatim_and_commits_its_disposition_with_it(root: Path) -> None:
    base = file_version(root, "claims/strengthening.yaml")
    not_verbatim = {"id": "str_c", "source": "c", "stance": "recommend", "quote": "Strengthen the joint daily.",
                    "scope": {"phases": [], "target": "general"}}
    with pytest.raises(EditError) as caught:
        add_claim(root, "strengthening", not_verbatim, ANA, base_version=base)
    assert any("not verbatim" in p.message for p in caught.value.problems)

    claims_base = file_version(root, "claims/ice.yaml")
    with pytest.raises(EditError) as caught:
        add_claim(root, "ice", OPPOSING, ANA, base_version=claims_base)
    assert any("has no disposition" in p.message for p in caught.value.problems)
    assert len(history(root)) == 1

    result = add_claim(root, "ice", OPPOSING, ANA, base_version=claims_base,
                       disposition={"disposition": "rejected", "reason": "Misread: the source recommends ice."},
                       guidance_base_version=file_version(root, "guidance/ice.yaml"))
    kb = load_knowledge(root)
    assert "ice_c_against" in kb.claims_by_id
    assert kb.guidance["ice"].version == 2 and kb.guidance["ice"].status == "draft"
    assert sorted(result.files) == ["claims/ice.yaml", "guidance/ice.yaml"]  # one commit, both files
    assert [v["number"] for v in guidance_versions(root, "ice")] == [1, 2]


def test_add_claim_with_disposition_refused_when_guidance_changed(root: Path) -> None:
    g_base = file_version(root, "guidance/ice.yaml")
    save_guidance(root, "ice", {"phases": NEW_PHASES}, BEN, base_version=g_base)
    claims_before = (root / "claims" / "ice.yaml").read_bytes()
    with pytest.raises(StaleVersionError) as caught:
        add_claim(root, "ice", OPPOSING, ANA, base_version=file_version(root, "claims/ice.yaml"),
                  disposition={"disposition": "rejected", "reason": "Because."}, guidance_base_version=g_base)
    assert caught.value.path == "guidance/ice.yaml" and "Skip ice" in caught.value.theirs
    assert (root / "claims" / "ice.yaml").read_bytes() == claims_before


def test_changed_source_needs_review_until_confirmed(root: Path) -> None:
    (root / "sources" / "b.txt").write_text(TEXT_B + "\nAn added paragraph.\n", encoding="utf-8")
    git(root, "commit", "-qam", "The publisher updated article b")
    kb = load_knowledge(root)
    assert kb.changed_sources == {"b"}
    assert "ice" in kb.guidance_needing_review
    confirm_source_text(root, "b", ANA, base_version=file_version(root, "sources/b.yaml"))
    assert load_knowledge(root).changed_sources == frozenset()
    assert history(root)[0].trailers["Action"] == "confirm_source_text"


# --- four eyes -------------------------------------------------------------------------------------

def test_only_an_approver_other_than_the_last_author_approves(root: Path) -> None:
    draft = save_guidance(root, "ice", {"phases": NEW_PHASES}, BEN, file_version(root, "guidance/ice.yaml"), note="draft")
    with pytest.raises(EditError, match="four eyes"):
        approve_guidance(root, "ice", BEN, draft.commit)
    with pytest.raises(EditError, match="not on the approvers list"):
        approve_guidance(root, "ice", ANA, draft.commit)
    with pytest.raises(EditError, match="approval needs a second person"):
        save_guidance(root, "ice", {"status": "approved", "rationale": "C" * 45}, CAL, draft.commit)
    approved = approve_guidance(root, "ice", CAL, draft.commit, note="checked against the sources")
    g = load_knowledge(root).guidance["ice"]
    assert (g.status, g.approver, g.phases["acute"].stance) == ("approved", CAL.id, "advise_against")
    versions = guidance_versions(root, "ice")
    assert versions[-1]["version"] == approved.commit
    assert (versions[-1]["editor"], versions[-1]["drafted_by"], versions[-1]["approver"]) == (CAL.id, BEN.id, CAL.id)
    with pytest.raises(EditError, match="already approved"):
        approve_guidance(root, "ice", BEN, approved.commit)


def test_changing_approved_guidance_makes_it_a_draft_again(root: Path) -> None:
    draft = save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, file_version(root, "guidance/ice.yaml"))
    approved = approve_guidance(root, "ice", BEN, draft.commit)
    save_guidance(root, "ice", {"rationale": "Q" * 45}, CAL, approved.commit)
    g = load_knowledge(root).guidance["ice"]
    assert (g.status, g.approver) == ("draft", None)


# --- history, diff and blame come from git -----------------------------------------------------------

def test_history_diff_and_blame(root: Path) -> None:
    first = save_guidance(root, "ice", {"phases": NEW_PHASES}, ANA, file_version(root, "guidance/ice.yaml"), note="one")
    second = save_guidance(root, "ice", {"rationale": "Because the deep rotators are out of reach of ice, per source a."},
                           BEN, first.commit, note="two")
    saves = history(root, "ice")
    assert [s.note for s in saves] == ["two", "one", "Import the knowledge"]
    assert [s.author for s in saves[:2]] == [BEN.id, ANA.id]
    assert history(root, "strengthening")[0].note == "Import the knowledge"
    text = version_diff(root, "guidance/ice.yaml", saves[-1].id, second.commit)
    assert "+    stance: advise_against" in text and "+rationale: Because the deep rotators" in text
    by_line = {line.text.strip(): line for line in blame(root, "guidance/ice.yaml")}
    assert by_line["advice: Skip ice while the deep rotators are overloaded."].author == ANA.id
    assert by_line["rationale: Because the deep rotators are out of reach of ice, per source a."].author == BEN.id
    assert by_line["topic: ice"].author == "import@example.org"


def test_a_knowledge_repository_s_own_git_folder_is_not_part_of_the_knowledge_signature(tmp_path: Path) -> None:
    """Every page rerun takes the signature: walking .git's objects there would cost every rerun."""
    from hipguide.knowledge import knowledge_fingerprint

    folder = init_repo(write_mini_kb(tmp_path / "knowledge"))
    before = knowledge_fingerprint(folder)
    assert before and not any("/.git/" in path for path, _mtime, _size in before)
    save_guidance(folder, "ice", {"phases": NEW_PHASES}, ANA, file_version(folder, "guidance/ice.yaml"))
    after = knowledge_fingerprint(folder)
    assert after != before and {p for p, _m, _s in after} == {p for p, _m, _s in before}
