"""The editor page, driven through Streamlit's AppTest on a private copy of the knowledge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gitkb import git
from page_driver import finding_control
from streamlit.testing.v1 import AppTest

from hipguide import assess, load_knowledge
from hipguide.editorial import history
from hipguide.exports import md_escape

ENTRY = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGE = "pages/2_Editor.py"
PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test value, not a secret
UNESCAPED_TAG = re.compile(r"(?<!\\)<(script|img)")


def page() -> AppTest:
    # Started from the entry file, as a browser does, so the links between pages resolve.
    return AppTest.from_file(ENTRY, default_timeout=60).switch_page(PAGE)


def markdown_bodies(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def texts(at: AppTest) -> str:
    parts = markdown_bodies(at) + [e.value for e in (*at.info, *at.error, *at.warning, *at.success)]
    return "\n".join(parts)


def saves(root: Path) -> list:
    """The editorial saves in the knowledge's git history, newest first (the import commit left out)."""
    return [s for s in history(root) if s.trailers.get("Action")]


def signed_in(name: str = "Ana Editor", secrets: dict | None = None) -> AppTest:
    at = page()
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.run()
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_pass").input(PASSPHRASE)
    at.button(key="signin_submit").click().run()
    assert not at.exception, at.exception
    assert any(name.lower() in s.value.lower() for s in at.success)
    return at


def show_tab(at: AppTest, name: str) -> AppTest:
    """Switch to the tab whose label starts with `name`, as a click on it does: only the open tab is drawn."""
    (label,) = [t.label for t in at.tabs if t.label.startswith(name)]
    at.session_state["editor_tab"] = label
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs if t.children] == [label]
    return at


def open_topic(at: AppTest, topic: str = "ice") -> AppTest:
    at.selectbox(key="ed_topic").select(topic).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def editing(knowledge_copy: Path, monkeypatch) -> Path:
    monkeypatch.setenv("HIPGUIDE_EDITOR_PASSPHRASE", PASSPHRASE)
    return knowledge_copy


def test_read_only_without_credentials(knowledge_copy: Path, monkeypatch) -> None:
    monkeypatch.delenv("HIPGUIDE_EDITOR_PASSPHRASE", raising=False)
    at = page().run()
    assert not at.exception, at.exception
    keys = [b.key or "" for b in at.button]
    assert not any(k.startswith(("save_", "src_submit", "tag_save", "confirm_")) for k in keys), keys
    notice = " ".join(i.value for i in at.info)
    assert "Read-only" in notice and "HIPGUIDE_EDITOR_PASSPHRASE" in notice and "editor_passphrase" in notice
    assert "signin_pass" not in [t.key for t in at.text_input]
    # reading still works: the adopted guidance for the chosen topic is shown
    at.selectbox(key="ed_topic").select("ice").run()
    assert "Adopted guidance" in texts(at)


def test_wrong_passphrase_stays_read_only(editing: Path) -> None:
    at = page().run()
    at.text_input(key="signin_name").input("Mallory")
    at.text_input(key="signin_pass").input("guess")
    at.button(key="signin_submit").click().run()
    assert any("not right" in e.value for e in at.error)
    assert not any((b.key or "").startswith("save_") for b in at.button)


def test_sign_in_change_ice_saves_audits_and_changes_the_plan(editing: Path, clock) -> None:
    vignette = load_knowledge(editing).vignettes["04_disc_sciatica_below_knee"]
    before_plan = {i.topic: i for i in assess(load_knowledge(editing), vignette).plan}
    assert before_plan["ice"].stance == "advise_against"
    shipped_version = load_knowledge(editing).guidance["ice"].version

    at = open_topic(signed_in())
    at.selectbox(key="g_ice_acute_stance").select("recommend")
    at.text_area(key="g_ice_acute_advice").input("A cold pack for 10 minutes, wrapped in a towel, may ease acute pain.")
    at.text_input(key="g_ice_note").input("trial of ice in the acute phase")
    at.run()
    assert "Impact on the worked cases" in texts(at)  # the preview is shown before saving
    at.button(key="save_ice").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Saved Ice" in s.value for s in at.success)

    kb = load_knowledge(editing)  # the saved knowledge validates
    g = kb.guidance["ice"]
    assert g.phases["acute"].stance == "recommend" and g.version == shipped_version + 1
    [save] = saves(editing)
    assert (save.author, save.topic, save.note, save.files) == ("Ana Editor", "ice", "trial of ice in the acute phase",
                                                              ["guidance/ice.yaml"])
    assert save.trailers["Status"] == "draft"
    plan = {i.topic: i for i in assess(kb, vignette).plan}
    assert plan["ice"].stance == "recommend"
    assert plan["ice"].advice.startswith("A cold pack for 10 minutes") and plan["ice"].version == shipped_version + 1
    # The assessment serves the save at once, though the app's clock has not moved past its interval for
    # looking at the files again: a save made here tells it.
    assessment = AppTest.from_file(ENTRY, default_timeout=60).run()
    for fid, state in [*((f, "present") for f in vignette.findings), *((f, "absent") for f in vignette.absent)]:
        finding_control(assessment, fid, kb).set_value(state)
    assessment.number_input(key="pt.age").set_value(vignette.age)
    assessment.run()
    assert not assessment.exception, assessment.exception
    assert any("A cold pack for 10 minutes" in m.value for m in assessment.markdown), "the plan shows the saved advice"

    # the history (from git) shows the save, the two versions' difference and who wrote each line
    show_tab(at, "History")
    at.selectbox(key="hist_topic").select("ice").run()
    assert any("trial of ice in the acute phase" in df.value.to_csv() for df in at.dataframe)
    assert any("phases.acute.stance" in df.value.to_csv() for df in at.dataframe)
    assert any("+    stance: recommend" in c.value for c in at.code)  # the git diff
    blame_table = next(df.value for df in at.dataframe if "line" in df.value.columns)
    authors = dict(zip(blame_table["text"].str.strip(), blame_table["author"], strict=False))
    assert authors["stance: recommend"] == "Ana Editor" and authors["topic: ice"] == "import@example.org"


def test_second_save_from_same_version_refused_and_input_kept(editing: Path) -> None:
    first, second = open_topic(signed_in("First Editor")), open_topic(signed_in("Second Editor"))
    first.selectbox(key="g_ice_acute_stance").select("recommend")
    first.text_area(key="g_ice_acute_advice").input("First editor's advice on ice.")
    first.button(key="save_ice").click().run()
    assert not first.exception and not first.error
    saved = (editing / "guidance" / "ice.yaml").read_text(encoding="utf-8")

    second.selectbox(key="g_ice_acute_stance").select("neutral")
    second.text_area(key="g_ice_acute_advice").input("Second editor's advice on ice.")
    second.button(key="save_ice").click().run()
    assert not second.exception, second.exception
    assert any("another editor saved" in e.value for e in second.error)
    assert (editing / "guidance" / "ice.yaml").read_text(encoding="utf-8") == saved
    assert "First editor's advice on ice." in saved
    # both versions shown side by side, and the second editor's input still in the form
    codes = [c.value for c in second.code]
    assert any("First editor's advice on ice." in c for c in codes)
    assert any("Second editor's advice on ice." in c for c in codes)
    assert second.text_area(key="g_ice_acute_advice").value == "Second editor's advice on ice."
    assert second.selectbox(key="g_ice_acute_stance").value == "neutral"
    assert [s.author for s in saves(editing)] == ["First Editor"]

    # keeping the input re-bases on their version; saving again then succeeds, nothing lost
    second.button(key="rebase_guidance/ice.yaml").click().run()
    assert second.text_area(key="g_ice_acute_advice").value == "Second editor's advice on ice."
    second.button(key="save_ice").click().run()
    assert not second.error, [e.value for e in second.error]
    assert [s.author for s in saves(editing)] == ["Second Editor", "First Editor"]  # both versions in git


@pytest.mark.parametrize("field, value, reason", [
    ("g_ice_rationale", "", "at least 40 characters"),
    ("g_ice_acute_advice", "", "at least 1 character"),
])
def test_invalid_decision_refused_with_reason(editing: Path, field: str, value: str, reason: str) -> None:
    before = (editing / "guidance" / "ice.yaml").read_bytes()
    at = open_topic(signed_in())
    at.text_area(key=field).input(value)
    at.run()
    assert any(reason in w.value for w in at.warning)  # said before saving
    at.button(key="save_ice").click().run()
    assert any(reason in e.value and "Nothing was written" in e.value for e in at.error), [e.value for e in at.error]
    assert (editing / "guidance" / "ice.yaml").read_bytes() == before
    assert saves(editing) == []


def test_hostile_source_text_is_shown_inert(editing: Path) -> None:
    hostile = ("A paragraph about hip pain.\n\n<script>alert(1)</script> and <img src=x onerror=alert(1)> "
               "and [a link](javascript:alert(1)).\n")
    at = show_tab(signed_in(), "Add a source")
    at.text_input(key="src_id").input("hostile_blog")
    at.text_input(key="src_title").input("<b>Bold</b> title")
    at.text_input(key="src_publisher").input("Some blog")
    at.text_area(key="src_flags").input("no_date: No date is given.")
    at.text_area(key="src_text").input(hostile)
    at.button(key="src_submit").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    kb = load_knowledge(editing)
    assert kb.source_texts["hostile_blog"] == hostile  # stored verbatim …
    bodies = markdown_bodies(at)
    shown = [b for b in bodies if "alert" in b]
    assert shown, "the added source's text is shown"
    assert any(r"\<script\>alert\(1\)\</script\>" in b for b in shown)
    assert any(r"\<img src=x onerror=alert\(1\)\>" in b for b in shown)
    for body in bodies:  # … and shown only as escaped text
        assert not UNESCAPED_TAG.search(body), body
        assert "](javascript" not in body
    assert not at.get("html")
    assert saves(editing)[0].trailers["Action"] == "add_source"
    assert sorted(saves(editing)[0].files) == ["sources/hostile_blog.txt", "sources/hostile_blog.yaml"]


def test_tag_claim_with_live_verbatim_check_updates_conflicts(editing: Path) -> None:
    at = show_tab(signed_in(), "Tag a claim")
    at.selectbox(key="tag_source").select("medshun")
    at.text_area(key="tag_quote").input("This sentence is not in the article at all.").run()
    assert any("Not found word for word" in e.value for e in at.error)
    kb = load_knowledge(editing)
    quote = next(c.quote for c in kb.claims["ice"] if c.source == "medshun")
    at.text_area(key="tag_quote").input(quote)
    at.selectbox(key="tag_topic").select("pillow_between_knees")
    at.selectbox(key="tag_stance").select("neutral")
    at.text_input(key="tag_id").input("pillow_medshun_test_claim")
    at.run()
    assert any("Found verbatim" in s.value for s in at.success)
    at.button(key="tag_save").click().run()
    assert not at.error, [e.value for e in at.error]
    kb = load_knowledge(editing)
    assert "pillow_medshun_test_claim" in kb.claims_by_id
    assert saves(editing)[0].trailers["Action"] == "add_claim"


def test_condition_specific_advice_can_be_changed_added_and_removed(editing: Path) -> None:
    kb = load_knowledge(editing)
    vignette = kb.vignettes["03_lateral_hip_pain_side_lying"]  # gluteal tendinopathy
    stretching = kb.guidance["stretching"]
    tendinopathy = next(i for i, ov in enumerate(stretching.condition_overrides) if ov.conditions == ["gluteal_tendinopathy"])
    tear = next(i for i, ov in enumerate(stretching.condition_overrides) if ov.conditions == ["muscle_tear"])
    phase = assess(kb, vignette).case.phase
    at = open_topic(signed_in(), "stretching")
    assert at.text_area(key=f"g_stretching_ov{tendinopathy}_{phase}_advice").value == \
        stretching.condition_overrides[tendinopathy].phases[phase].advice

    # change one override's advice, remove another, add a third
    new_advice = "Avoid stretches that pull the leg across the body; gentle range of movement only."
    at.text_area(key=f"g_stretching_ov{tendinopathy}_{phase}_advice").input(new_advice)
    at.checkbox(key=f"g_stretching_ov{tear}_remove").check()
    at.button(key="add_override_stretching").click().run()
    added = len(stretching.condition_overrides)
    at.multiselect(key=f"g_stretching_ov{added}_conditions").select("sciatica")
    at.selectbox(key=f"g_stretching_ov{added}_recovery_stance").select("conditional")
    at.text_area(key=f"g_stretching_ov{added}_recovery_advice").input("Only nerve glides your physiotherapist has shown you.")
    at.text_input(key=f"g_stretching_ov{added}_reason").input("Stretching an irritated nerve root can flare leg pain.")
    at.run()
    assert not [w.value for w in at.warning if "cannot be saved" in w.value]
    assert any("condition_overrides" in df.value.to_csv() for df in at.dataframe)  # the preview lists the change
    at.button(key="save_stretching").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    saved = load_knowledge(editing).guidance["stretching"]
    by_conditions = {tuple(ov.conditions): ov for ov in saved.condition_overrides}
    assert by_conditions[("gluteal_tendinopathy",)].phases[phase].advice == new_advice
    assert ("muscle_tear",) not in by_conditions
    sciatica = by_conditions[("sciatica",)]
    assert list(sciatica.phases) == ["recovery"]  # phases left "same as the general advice" are not written
    assert sciatica.reason.startswith("Stretching an irritated nerve root")
    assert saves(editing)[0].files == ["guidance/stretching.yaml"]
    plan = {i.topic: i for i in assess(load_knowledge(editing), vignette).plan}
    assert plan["stretching"].advice == new_advice  # the assessment uses it at once


def test_an_incomplete_override_is_refused_with_the_field_named(editing: Path) -> None:
    before = (editing / "guidance" / "ice.yaml").read_bytes()
    at = open_topic(signed_in())
    count = len(load_knowledge(editing).guidance["ice"].condition_overrides)
    at.button(key="add_override_ice").click().run()
    at.text_input(key=f"g_ice_ov{count}_reason").input("A reason, but no conditions and no advice")
    at.run()
    warning = " ".join(w.value for w in at.warning)
    assert md_escape(f"condition_overrides.{count}.conditions") in warning
    assert md_escape(f"condition_overrides.{count}.phases") in warning
    at.button(key="save_ice").click().run()
    assert any("Nothing was written" in e.value and "conditions" in e.value for e in at.error), [e.value for e in at.error]
    assert (editing / "guidance" / "ice.yaml").read_bytes() == before


def test_unsaved_input_survives_looking_at_another_topic_and_still_meets_the_version_check(editing: Path) -> None:
    mine = "My unsaved advice on ice, written before looking something up under heat."
    at = open_topic(signed_in("First Editor"))
    at.text_area(key="g_ice_acute_advice").input(mine)
    at.selectbox(key="g_ice_acute_stance").select("neutral").run()
    open_topic(at, "heat")
    open_topic(at, "ice")
    assert at.text_area(key="g_ice_acute_advice").value == mine
    assert at.selectbox(key="g_ice_acute_stance").value == "neutral"

    # Meanwhile another editor saves ice: the kept input is still checked against the version it started from.
    other = open_topic(signed_in("Second Editor"))
    other.text_area(key="g_ice_acute_advice").input("The second editor's advice on ice.")
    other.button(key="save_ice").click().run()
    assert not other.error, [e.value for e in other.error]
    saved = (editing / "guidance" / "ice.yaml").read_text(encoding="utf-8")

    open_topic(at, "heat")
    open_topic(at, "ice")
    at.button(key="save_ice").click().run()
    assert any("another editor saved" in e.value for e in at.error)
    assert (editing / "guidance" / "ice.yaml").read_text(encoding="utf-8") == saved
    assert at.text_area(key="g_ice_acute_advice").value == mine


def test_discarding_my_input_loads_their_version_into_the_form(editing: Path) -> None:
    first, second = open_topic(signed_in("First Editor")), open_topic(signed_in("Second Editor"))
    first.text_area(key="g_ice_acute_advice").input("First editor's advice on ice.")
    first.button(key="save_ice").click().run()
    second.text_area(key="g_ice_acute_advice").input("Second editor's advice on ice.")
    second.button(key="save_ice").click().run()
    assert any("another editor saved" in e.value for e in second.error)

    second.button(key="reload_guidance/ice.yaml").click().run()
    assert not second.exception and not second.error, [e.value for e in second.error]
    assert second.text_area(key="g_ice_acute_advice").value == "First editor's advice on ice."
    open_topic(second, "heat")
    open_topic(second, "ice")  # and it stays theirs, not the discarded input
    assert second.text_area(key="g_ice_acute_advice").value == "First editor's advice on ice."
    assert [s.author for s in saves(editing)] == ["First Editor"]


# --- sign-in: allow-list, a limit a reload does not reset, four eyes ----------------------------------

ROLES = {"editors": {"editors": ["ana editor"], "approvers": ["ben approver", "cal approver"]}}


def test_a_name_off_the_allow_list_cannot_sign_in(editing: Path) -> None:
    at = page()
    at.secrets["editors"] = ROLES["editors"]
    at.run()
    at.text_input(key="signin_name").input("Mallory")
    at.text_input(key="signin_pass").input(PASSPHRASE)
    at.button(key="signin_submit").click().run()
    assert any("not right" in e.value for e in at.error)
    assert not any((b.key or "").startswith("save_") for b in at.button)


def test_failed_attempts_are_limited_on_the_server_and_a_reload_does_not_reset_them(editing: Path) -> None:
    at = page().run()
    for _ in range(5):
        at.text_input(key="signin_name").input("Mallory")
        at.text_input(key="signin_pass").input("guess")
        at.button(key="signin_submit").click().run()
    assert any("Too many failed attempts" in e.value for e in at.error)
    reloaded = page().run()  # a new session, as a reload or a new tab gets
    assert any("Too many failed attempts" in e.value for e in reloaded.error)
    assert "signin_pass" not in [t.key for t in reloaded.text_input]


def test_four_eyes_the_author_cannot_approve_another_approver_can(editing: Path) -> None:
    ana = open_topic(signed_in("Ana Editor", ROLES))
    ana.text_area(key="g_ice_acute_advice").input("Ana's draft advice on ice.")
    ana.text_input(key="g_ice_note").input("Ana's draft")
    ana.button(key="save_ice").click().run()
    assert not ana.error, [e.value for e in ana.error]
    assert "approve_ice" not in [b.key for b in ana.button]  # an editor, not an approver

    ben = open_topic(signed_in("Ben Approver", ROLES))
    ben.text_area(key="g_ice_acute_advice").input("Ben changes the advice himself.")
    ben.button(key="save_ice").click().run()
    assert not ben.error, [e.value for e in ben.error]
    assert "approve_ice" not in [b.key for b in ben.button]
    assert any("another approver must approve" in i.value for i in ben.info)

    cal = open_topic(signed_in("Cal Approver", ROLES))
    cal.button(key="approve_ice").click().run()
    assert not cal.error, [e.value for e in cal.error]
    g = load_knowledge(editing).guidance["ice"]
    assert (g.status, g.approver, g.phases["acute"].advice) == ("approved", "cal approver", "Ben changes the advice himself.")
    [approval, *_] = saves(editing)
    assert (approval.author, approval.trailers["Drafted-By"]) == ("cal approver", "ben approver")
    show_tab(cal, "History")
    cal.selectbox(key="hist_topic").select("ice").run()
    assert any("approved (drafted by ben approver)" in df.value.to_csv() for df in cal.dataframe)


def test_a_changed_claim_against_the_adopted_stance_shows_as_needs_review(knowledge_copy: Path, monkeypatch) -> None:
    monkeypatch.delenv("HIPGUIDE_EDITOR_PASSPHRASE", raising=False)
    path = knowledge_copy / "claims" / "pillow_between_knees.yaml"
    text = path.read_text()
    # The only voice on the topic turns against the pillow: no conflict between sources, but the
    # adopted decision rested on the claim as it was.
    path.write_text(text.replace("stance: recommend", "stance: advise_against", 1))
    at = page().run()
    assert not at.exception, at.exception
    (tab,) = [t for t in show_tab(at, "Needs review").tabs if t.label.startswith("Needs review")]
    assert tab.label == "Needs review (1)"
    warning = " ".join(w.value for w in tab.warning)
    assert "pillow\\_between\\_knees\\_lateral\\_rotator\\_trp\\_lets\\_pressure\\_off" in warning
    assert "changed from recommend to advise\\_against" in warning


def test_only_the_open_tab_is_drawn_and_it_stays_open_when_its_count_changes(editing: Path) -> None:
    source = editing / "sources" / "medshun.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\nA paragraph the publisher added later.\n", encoding="utf-8")
    git(editing.parent, "commit", "-qam", "The publisher updated the article")
    at = signed_in()
    assert [t.label for t in at.tabs if t.children] == ["Adopted guidance"]  # the other tabs are not drawn
    assert "confirm_medshun" not in [b.key for b in at.button]
    show_tab(at, "Needs review")
    (label,) = [t.label for t in at.tabs if t.children]
    assert "confirm_medshun" in [b.key for b in at.button]
    # A save elsewhere changes the count in the label the editor clicked: the same tab stays open.
    at.session_state["editor_tab"] = "Needs review (99)"
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs if t.children] == [label]
    at.button(key="confirm_medshun").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert next(t.label for t in at.tabs if t.children).startswith("Needs review (")
    assert any("Confirmed the current text of medshun" in s.value for s in at.success)
