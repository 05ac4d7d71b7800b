"""The coverage report: every source sentence that reads as advice is covered by a claim or marked
"not advice" with a reason. Engine, validation of the marks, command line and the editor's panel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from minikb import write_mini_kb
from streamlit.testing.v1 import AppTest

from hipguide.coverage import coverage, reads_as_advice, sentences
from hipguide.knowledge import KnowledgeBase, load_knowledge
from hipguide.yamlio import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "dashboard.py")
EDITOR = "pages/2_Editor.py"
UNCOVERED_C = "Ice is a good idea afterward on the sacroiliac joint."  # the mini KB's source c: no claim quotes it


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipguide", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def mini(tmp_path):
    return write_mini_kb(tmp_path / "knowledge")


def mark(root: Path, marks: list[dict]) -> None:
    (root / "not_advice.yaml").write_text(yaml.safe_dump({"not_advice": marks}, sort_keys=False, allow_unicode=True))


@pytest.mark.parametrize(("sentence", "advice"), [
    ("Place a tennis ball in your seat and roll around on it when it hurts.", True),
    ("So, if you’re stuck at work, set a timer and get up every once in a while.", True),
    ("Stretching: Perform regular stretching exercises that target the glutes.", True),
    ("Ice and heat are ineffective", True),
    ("Be super careful with slippery surfaces when this flares up.", True),
    ("The gluteus maximus is the largest of the gluteal muscles.", False),
    ("Deep hip muscle pain", False),
])
def test_what_reads_as_advice(sentence: str, advice: bool) -> None:
    assert reads_as_advice(sentence) is advice


def test_sentences_keep_their_line_and_drop_bullets() -> None:
    found = sentences("s", "Title\n\n  • Rest well. Then walk.\n")
    assert [(s.line, s.sentence) for s in found] == [(1, "Title"), (3, "Rest well."), (3, "Then walk.")]


def test_uncovered_advice_is_reported_with_source_line_and_sentence(mini) -> None:
    report = coverage(load_knowledge(mini))
    assert [(r.source, r.line, r.sentence) for r in report.uncovered] == [("c", 1, UNCOVERED_C)]
    covered = {r.sentence: r.claims for r in report.covered}
    assert covered["Ice and heat are ineffective."] == ("ice_a", "ice_a2")  # both versions' claims quote it
    # The duplicate's identical sentence is covered by its own claim (one article, two versions).
    assert ("a2", 1, "Ice and heat are ineffective.") in {(r.source, r.line, r.sentence) for r in report.covered}


def test_a_claim_quoting_the_sentence_covers_it(mini) -> None:
    claims = yaml.safe_load((mini / "claims" / "ice.yaml").read_text())
    claims["claims"].append({"id": "ice_c", "source": "c", "stance": "recommend", "quote": "Ice is a good idea afterward",
                             "scope": {"phases": ["acute"], "target": "sacroiliac_joint", "population": None}})
    (mini / "claims" / "ice.yaml").write_text(yaml.safe_dump(claims, sort_keys=False))
    g = yaml.safe_load((mini / "guidance" / "ice.yaml").read_text())
    g["dispositions"].append({"claim": "ice_c", "disposition": "accepted", "reason": "Scope differs."})
    (mini / "guidance" / "ice.yaml").write_text(yaml.safe_dump(g, sort_keys=False))
    assert coverage(load_knowledge(mini)).uncovered == []


def test_a_not_advice_mark_moves_the_sentence_with_its_reason(mini) -> None:
    mark(mini, [{"source": "c", "sentence": UNCOVERED_C, "reason": "Fixture: a statement about the SI joint."}])
    report = coverage(load_knowledge(mini))
    assert report.uncovered == []
    (row,) = report.not_advice
    assert (row.source, row.line, row.reason) == ("c", 1, "Fixture: a statement about the SI joint.")


def test_marks_are_checked_against_the_sources_with_file_and_line(mini) -> None:
    mark(mini, [
        {"source": "nope", "sentence": "Anything at all.", "reason": "Reason."},
        {"source": "c", "sentence": "A sentence that is not in the text.", "reason": "Because."},
        {"source": "c", "sentence": UNCOVERED_C, "reason": "Because."},
        {"source": "c", "sentence": UNCOVERED_C, "reason": "Because again."},
    ])
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(mini)
    shown = [str(p) for p in exc.value.problems]
    assert shown[0] == "knowledge/not_advice.yaml:2: unknown source 'nope'", shown
    assert shown[1].startswith("knowledge/not_advice.yaml:6: sentence is not verbatim in c"), shown
    assert shown[2] == "knowledge/not_advice.yaml:12: this sentence is marked twice", shown
    assert len(shown) == 3


def test_a_mark_needs_a_reason(mini) -> None:
    mark(mini, [{"source": "c", "sentence": UNCOVERED_C}])
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(mini)
    assert [str(p) for p in exc.value.problems] == ["knowledge/not_advice.yaml:2: missing required key 'reason'"]


def test_cli_lists_uncovered_and_marked_sentences(mini) -> None:
    out = run("coverage", "--knowledge", str(mini))
    assert out.returncode == 0, out.stderr
    assert "1 uncovered" in out.stdout and f"sources/c.txt:1: {UNCOVERED_C}" in out.stdout
    mark(mini, [{"source": "c", "sentence": UNCOVERED_C, "reason": "Fixture reason."}])
    data = json.loads(run("coverage", "--json", "--knowledge", str(mini)).stdout)
    assert data["uncovered"] == []
    assert data["not_advice"] == [{"source": "c", "line": 1, "sentence": UNCOVERED_C, "reason": "Fixture reason."}]
    assert data["summary"]["not_advice"] == 1


def test_shipped_sources_have_no_uncovered_advice(kb: KnowledgeBase) -> None:
    report = coverage(kb)
    assert report.uncovered == [], [(r.source, r.line, r.sentence) for r in report.uncovered]
    assert report.stale_marks == []
    assert all(len(r.reason or "") > 10 for r in report.not_advice)
    out = run("coverage", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["uncovered"] == []


# --- the editor's panel ---------------------------------------------------------------------------

def editor_page() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=60).switch_page(EDITOR).run()
    assert not at.exception, at.exception
    return at


def coverage_tab(at: AppTest):
    """The coverage tab, opened as a click on it does (the editor page draws only the open tab)."""
    (label,) = [t.label for t in at.tabs if t.label.startswith("Source coverage")]
    at.session_state["editor_tab"] = label
    at.run()
    assert not at.exception, at.exception
    (tab,) = [t for t in at.tabs if t.label == label]
    return tab


def test_editor_panel_says_the_shipped_sources_are_covered(knowledge_copy: Path) -> None:
    tab = coverage_tab(editor_page())
    assert tab.label == "Source coverage (0 uncovered)"
    assert any("Every sentence that reads as advice is covered" in s.value for s in tab.success)
    assert any("Firm pressure can be uncomfortable" in m.value for m in tab.markdown)  # a marked sentence, with reason


def test_editor_panel_lists_a_sentence_no_claim_covers(knowledge_copy: Path) -> None:
    data = yaml.safe_load((knowledge_copy / "not_advice.yaml").read_text())
    dropped = data["not_advice"].pop(0)
    (knowledge_copy / "not_advice.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    tab = coverage_tab(editor_page())
    assert tab.label == "Source coverage (1 uncovered)"
    assert any("no claim covers them" in w.value for w in tab.warning)
    (table,) = tab.dataframe
    rows = table.value.to_dict("records")
    assert rows == [{"source": dropped["source"], "line": 19, "sentence": dropped["sentence"]}]
