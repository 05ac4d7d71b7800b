"""Pure data shaping behind the comparison and editor pages (no Streamlit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from minikb import write_mini_kb

from hipguide.comparison import (
    CONFLICT_COLUMN,
    MatrixFilters,
    cell_stance,
    choose_topic,
    claims_by_stance,
    credibility_checklist,
    matrix_axes,
    matrix_rows,
    md_blockquote,
    md_source_text,
    quote_in_paragraph,
    verbatim_check,
    voice_label,
    voices,
)
from hipguide.editing import (
    NO_DISPOSITION,
    changes_from_form,
    claim_conflicts,
    disposition_claims,
    form_from_guidance,
    history_rows,
    parse_flag_lines,
    proposed_guidance,
    suggest_claim_id,
)
from hipguide.gitstore import Save
from hipguide.knowledge import KnowledgeBase, load_knowledge
from hipguide.models import Claim
from ui.formats import md_quote_in_context, selected_cell

UNESCAPED = re.compile(r"(?<!\\)[<>\[\]()]")  # markup characters without their backslash
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1))"


@pytest.fixture
def mini(tmp_path: Path) -> KnowledgeBase:
    return load_knowledge(write_mini_kb(tmp_path / "kb"))


def test_duplicate_is_one_voice(mini: KnowledgeBase) -> None:
    assert voices(mini) == {"a": ["a", "a2"], "b": ["b"], "c": ["c"]}
    assert voice_label(mini, "a2") == "a2 (same article as a)"
    assert voice_label(mini, "b") == "b"


def test_matrix_rows_one_column_per_voice_and_conflict_marker(mini: KnowledgeBase) -> None:
    rows = matrix_rows(mini)
    ys, xs = matrix_axes(rows)
    assert xs == ["a (= a2)", "b", "c", CONFLICT_COLUMN]
    assert ys == ["Ice  ⚡ direct", "Strengthening  ⚡ conditional"]
    cell = {(r["topic"], r["voice"]): r for r in rows if r["kind"] == "cell"}
    assert cell[("ice", "a")]["stance"] == "advise_against" and cell[("ice", "a")]["claims"] == 2
    assert cell[("ice", "b")]["stance"] == "recommend"
    assert cell[("ice", "c")]["stance"] == "silent"
    marker = [r for r in rows if r["kind"] == "conflict" and r["topic"] == "strengthening"]
    assert marker[0]["conflict"] == "conditional"


def test_matrix_filters(mini: KnowledgeBase) -> None:
    prevention = {(r["topic"], r["voice"]): r["stance"] for r in matrix_rows(mini, MatrixFilters(phase="prevention"))
                  if r["kind"] == "cell"}
    assert prevention[("strengthening", "a")] == "silent"  # that claim is about the acute phase only
    assert prevention[("strengthening", "b")] == "recommend"
    only_b = matrix_rows(mini, MatrixFilters(sources=("b",)))
    assert {r["voice"] for r in only_b if r["kind"] == "cell"} == {"b"}
    dup = matrix_rows(mini, MatrixFilters(sources=("a2",)))  # picking the duplicate shows its voice
    assert {r["voice"] for r in dup if r["kind"] == "cell"} == {"a"}


def test_conflicts_only_drops_topics_without_conflict(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    (root / "claims" / "strengthening.yaml").write_text(
        "topic: strengthening\nclaims:\n  - id: str_b\n    source: b\n    stance: recommend\n"
        "    quote: Strengthening prevents recurrence.\n", encoding="utf-8")
    (root / "guidance" / "strengthening.yaml").write_text(
        (root / "guidance" / "strengthening.yaml").read_text().split("dispositions:")[0] + "dispositions: []\n"
        "source_hashes: {}\n", encoding="utf-8")
    kb = load_knowledge(root)
    assert {r["topic"] for r in matrix_rows(kb)} == {"ice", "strengthening"}
    assert {r["topic"] for r in matrix_rows(kb, MatrixFilters(conflicts_only=True))} == {"ice"}


def test_cell_stance() -> None:
    assert cell_stance([]) == "silent"
    assert cell_stance(["recommend", "advise_against"]) == "mixed"
    assert cell_stance(["neutral", "recommend"]) == "recommend"
    assert cell_stance(["conditional", "conditional"]) == "conditional"


def test_claims_by_stance_groups_in_order(mini: KnowledgeBase) -> None:
    groups = claims_by_stance(mini, "ice")
    assert list(groups) == ["recommend", "advise_against"]
    assert [c.id for c in groups["advise_against"]] == ["ice_a", "ice_a2"]
    assert claims_by_stance(mini, "strengthening", phase="prevention").keys() == {"recommend"}


@pytest.mark.parametrize("selection, expected", [
    (None, (None, None)),
    ({"selection": {"cell": {}}}, (None, None)),
    ({"selection": {"cell": []}}, (None, None)),
    ({"selection": {"cell": [{"topic": "ice", "voice": "b"}]}}, ("ice", "b")),
    ({"selection": {"cell": [{"topic": "ice", "voice": CONFLICT_COLUMN}]}}, ("ice", None)),
    ({"selection": {"other": [{"topic": "ice"}]}}, (None, None)),
    ({"selection": {"cell": [{"voice": "b"}]}}, (None, None)),
])
def test_selected_cell(selection, expected) -> None:
    assert selected_cell(selection) == expected


def test_selected_cell_attribute_access() -> None:
    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    assert selected_cell(Obj(selection=Obj(cell=[{"topic": "heat", "voice": "a"}]))) == ("heat", "a")


def test_choose_topic_fresh_click_then_picker() -> None:
    allowed = ["ice", "heat", "stretching"]
    assert choose_topic(allowed, None, None, None) == "ice"
    assert choose_topic(allowed, "heat", None, "ice") == "heat"  # a fresh click wins
    assert choose_topic(allowed, "heat", "heat", "stretching") == "stretching"  # an old click does not
    assert choose_topic(allowed, None, "heat", "stretching") == "stretching"
    assert choose_topic(allowed, "gone", None, "also_gone") == "ice"
    assert choose_topic([], "ice", None, "ice") is None


def test_quote_found_in_its_paragraph_with_typographic_folding() -> None:
    text = "First paragraph.\n\nApply ice for 15–20 minutes   every few hours. Then rest.\n\nLast."
    ctx = quote_in_paragraph(text, "Apply ice for 15-20 minutes every few hours.")
    assert ctx.found
    assert ctx.before == "" and ctx.after == " Then rest."
    assert ctx.quote == "Apply ice for 15–20 minutes   every few hours."
    assert not quote_in_paragraph(text, "Never apply ice").found


def test_long_bulleted_paragraph_is_cut_to_the_quote() -> None:
    lines = [f"• point number {i} " + "x" * 40 for i in range(30)]
    lines[15] = "• Ice and heat are ineffective"
    ctx = quote_in_paragraph("Intro.\n\n" + "\n".join(lines), "Ice and heat are ineffective")
    assert ctx.found and ctx.quote == "Ice and heat are ineffective"
    assert "point number 14" in ctx.before and "point number 13" not in ctx.before
    assert "point number 16" in ctx.after and "point number 17" not in ctx.after


def test_markdown_from_source_text_is_inert() -> None:
    text = f"Before. {HOSTILE} After.\n\n# heading\n\n    indented code"
    ctx = quote_in_paragraph(text, "<script>alert(1)</script>")
    body = md_quote_in_context(ctx)
    assert ctx.found and r"\<script\>" in body and r"\<img src=x" in body
    whole = md_source_text(text)
    unwrapped = body.replace(":orange-background[**", "", 1).replace("**]", "", 1)  # our highlight's own brackets
    for md in (unwrapped, whole):
        assert not UNESCAPED.search(md), md
        assert "](" not in md
    assert r"\# heading" in whole and "\n    indented" not in whole
    quoted = md_blockquote("line one\n<b>line two</b>")
    assert quoted.splitlines() == ["> line one", r"> \<b\>line two\</b\>"]


def test_verbatim_check() -> None:
    assert verbatim_check("He said “go” — now.", 'He said "go" - now.')
    assert not verbatim_check("He said go.", "She said go.")
    assert not verbatim_check("anything", "   ")


def test_credibility_checklist_names_evidence(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    p = root / "sources" / "b.yaml"
    p.write_text(p.read_text().replace("flags: []", "flags:\n- flag: affiliate_links\n  evidence: Amazon links to pillows.\n"
                                       "- flag: safety_netting\n  evidence: See a doctor if it persists.\n"))
    kb = load_knowledge(root)
    rows = {r.criterion: r for r in credibility_checklist(kb, "b")}
    assert rows["Commercial interest"].verdict == "concern"
    assert "Amazon links to pillows." in rows["Commercial interest"].evidence[0]
    assert rows["Balance and safety"].verdict == "ok"
    assert rows["Author"].verdict == "ok"
    dup = {r.criterion: r for r in credibility_checklist(kb, "a2")}
    assert dup["Duplicated content"].verdict == "concern" and "same article as a" in dup["Duplicated content"].detail
    orig = {r.criterion: r for r in credibility_checklist(kb, "a")}
    assert "also published as a2" in orig["Duplicated content"].detail


# --- editor form shaping --------------------------------------------------------------------------

def test_form_round_trip_keeps_the_decision(mini: KnowledgeBase) -> None:
    g = mini.guidance["ice"]
    claims = disposition_claims(mini, "ice")
    assert claims == ["ice_a", "ice_a2", "ice_b"]
    form = form_from_guidance(g, claims)
    changes = changes_from_form(form, claims, {"a": "h"})
    proposed, problems = proposed_guidance(g, "ice", changes)
    assert problems == [] and proposed is not None
    assert proposed.version == g.version + 1
    assert proposed.phases == g.phases and proposed.dispositions == g.dispositions
    assert proposed.source_hashes == {"a": "h"}


def test_form_changes_and_problems(mini: KnowledgeBase) -> None:
    g = mini.guidance["ice"]
    claims = disposition_claims(mini, "ice")
    form = form_from_guidance(g, claims)
    form.update({"acute_stance": "advise_against", "status": "approved", "approver": "  ", "rationale": "short",
                 "disp_ice_b": NO_DISPOSITION})
    changes = changes_from_form(form, claims, {})
    assert changes["phases"]["acute"]["stance"] == "advise_against"
    assert "status" not in changes and "approver" not in changes  # only an approval approves (four eyes)
    assert [d["claim"] for d in changes["dispositions"]] == ["ice_a", "ice_a2"]
    proposed, problems = proposed_guidance(g, "ice", changes)
    assert proposed is None
    assert any("40 characters" in p for p in problems)


def test_suggest_claim_id_unique_and_valid() -> None:
    first = suggest_claim_id("ice", "medshun", "Apply ice for 15–20 minutes", set())
    assert first == "ice_medshun_apply_ice_for_15_20"
    assert suggest_claim_id("ice", "medshun", "Apply ice for 15–20 minutes", {first}) == f"{first}_2"
    long = suggest_claim_id("pain_relief_medication", "lateral_rotator_trp", "word " * 30, set())
    assert len(long) <= 60


def test_claim_conflicts(mini: KnowledgeBase) -> None:
    against = Claim(id="ice_c", source="c", stance="advise_against", quote="Ice is a good idea afterward")
    agreeing = Claim(id="ice_c2", source="c", stance="advise_against", quote="Ice is a good idea afterward")
    assert claim_conflicts(mini, "ice", against)
    neutral = Claim(id="ice_c3", source="c", stance="neutral", quote="Ice is a good idea afterward")
    assert not claim_conflicts(mini, "ice", neutral)
    assert claim_conflicts(mini, "ice", agreeing)


def test_parse_flag_lines() -> None:
    flags, problems = parse_flag_lines("no_date: No date anywhere.\n\naffiliate_links: Amazon: pillow link\nbogus: x\nno_date")
    assert flags == [{"flag": "no_date", "evidence": "No date anywhere."},
                     {"flag": "affiliate_links", "evidence": "Amazon: pillow link"}]
    assert len(problems) == 2


def test_history_rows_name_what_changed_and_who_drafted_an_approval() -> None:
    rows = history_rows([
        Save("c2", "b@x.org", "B", "t2", "checked", ["guidance/ice.yaml"],
             {"Action": "approve_guidance", "Topic": "ice", "Version": "3", "Status": "approved", "Drafted-By": "a@x.org"}),
        Save("c1", "a@x.org", "A", "t1", "tagged", ["claims/ice.yaml"], {"Action": "add_claim", "Topic": "ice", "Claim": "ice_x"}),
        Save("c0", "dev@x.org", "Dev", "t0", "hand edit", ["claims/heat.yaml"]),
    ])
    assert [r["author"] for r in rows] == ["b@x.org", "a@x.org", "dev@x.org"]
    assert rows[0]["status"] == "approved (drafted by a@x.org)"
    assert rows[1]["what"] == "ice / ice_x"
    assert (rows[2]["what"], rows[2]["action"]) == ("heat", "change in git")


def test_selected_cell_prefers_the_newer_of_two_selections() -> None:
    both = {"selection": {"cell": [{"topic": "ice", "voice": "a"}], "glyph": [{"topic": "heat", "voice": "b"}]}}
    assert selected_cell(both, previous=("ice", "a")) == ("heat", "b")
    assert selected_cell(both, previous=("heat", "b")) == ("ice", "a")
    assert selected_cell({"selection": {"glyph": [{"topic": "heat", "voice": "b"}]}}) == ("heat", "b")


def test_long_prose_paragraph_is_cut_to_the_quote_sentence() -> None:
    sentences = [f"Sentence number {i} says something about hips and glutes at length." for i in range(20)]
    sentences[10] = "Apply ice for 15–20 minutes."
    ctx = quote_in_paragraph("Intro.\n\n" + " ".join(sentences), "Apply ice for 15-20 minutes.")
    assert ctx.found and ctx.quote == "Apply ice for 15–20 minutes."
    assert ctx.before.startswith("… Sentence number 9") and ctx.after.strip().startswith("Sentence number 11")
    assert ctx.after.endswith(" …") and "number 12" not in ctx.after
    short = quote_in_paragraph("One. Two three. Four.", "Two three.")
    assert (short.before, short.quote, short.after) == ("One. ", "Two three.", " Four.")
