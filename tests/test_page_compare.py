"""The comparison page, driven through Streamlit's AppTest on the shipped knowledge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from hipguide.knowledge import KnowledgeBase

ENTRY = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGE = "pages/1_Compare_sources.py"
UNESCAPE = re.compile(r"\\(.)")


def page() -> AppTest:
    # Started from the entry file, as a browser does, so the links between pages resolve.
    at = AppTest.from_file(ENTRY, default_timeout=60).switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def plain(at: AppTest) -> str:
    """Everything shown as Markdown, with the escaping backslashes removed (what a reader sees)."""
    bodies = [m.value for m in (*at.markdown, *at.caption, *at.info, *at.warning, *at.success)]
    return UNESCAPE.sub(r"\1", "\n".join(bodies))


def squash(text: str) -> str:
    return " ".join(text.split())


def matrix(at: AppTest) -> tuple[dict, pd.DataFrame]:
    (chart,) = at.get("vega_lite_chart")
    proto = chart.proto
    data = proto.datasets[0].data.data if proto.datasets else proto.data.data
    return json.loads(proto.spec), pa.ipc.open_stream(data).read_all().to_pandas()


@pytest.fixture(autouse=True)
def _shipped_knowledge(monkeypatch) -> None:
    monkeypatch.delenv("HIPGUIDE_KNOWLEDGE_DIR", raising=False)


def test_matrix_one_column_per_voice_with_conflicts_marked(kb: KnowledgeBase) -> None:
    at = page()
    spec, rows = matrix(at)
    params = {p["name"]: p for p in spec.get("params", [])} | {p["name"]: p for layer in spec["layer"] for p in layer.get("params", [])}
    assert {"cell", "glyph"} <= set(params) and set(params["cell"]["select"]["fields"]) == {"topic", "voice"}
    cells = rows[rows.kind == "cell"]
    independent = {kb.voice(s) for s in kb.sources}
    assert set(cells.voice) == independent  # the duplicated article is one column, not two
    assert "deep_rotator_v2" not in set(cells.voice)
    assert len(cells) == len(kb.topics) * len(independent)
    marks = rows[rows.kind == "conflict"].set_index("topic").conflict
    for topic, tc in kb.conflicts.items():
        assert marks[topic] == (tc.kind or "none")
    ice = cells[(cells.topic == "ice")].set_index("voice").stance
    assert ice["medshun"] == "recommend" and ice["deep_rotator_v1"] == "advise_against"


def test_pick_ice_shows_both_sides_in_context(kb: KnowledgeBase) -> None:
    at = page()
    at.selectbox(key="topic_pick").select("ice").run()
    assert not at.exception, at.exception
    shown = squash(plain(at))
    tc = kb.conflicts["ice"]
    sides = {c.stance for c in tc.claims}
    assert {"recommend", "advise_against"} <= sides
    for claim in tc.claims:
        assert squash(claim.quote) in shown or squash(claim.quote).replace("-", "–") in shown, claim.id
    # each quote is highlighted inside its paragraph, with its scope
    highlighted = [m.value for m in at.markdown if ":orange-background[" in m.value]
    assert len(highlighted) >= len(tc.claims)
    assert any("Scope: acute" in c.value for c in at.caption)
    # the adopted guidance is beside it, with the DRAFT mark when it is a draft
    assert "Adopted guidance" in shown
    if kb.guidance["ice"].status == "draft":
        assert "DRAFT" in shown
    assert "same article as deep_rotator_v1" in shown


def test_conflicts_only_filter(kb: KnowledgeBase) -> None:
    at = page()
    assert set(at.selectbox(key="topic_pick").options) == {kb.topics[t].label for t in kb.topics}
    at.toggle(key="f_conflicts").set_value(True).run()
    conflicting = {kb.topics[t].label for t, tc in kb.conflicts.items() if tc.conflict}
    assert set(at.selectbox(key="topic_pick").options) == conflicting
    _, rows = matrix(at)
    assert set(rows.topic) == {t for t, tc in kb.conflicts.items() if tc.conflict}
    assert (rows[rows.kind == "conflict"].conflict != "none").all()


def test_phase_and_source_filters(kb: KnowledgeBase) -> None:
    at = page()
    at.multiselect(key="f_sources").set_value(["medshun", "deep_rotator_v2"]).run()
    _, rows = matrix(at)
    assert set(rows[rows.kind == "cell"].voice) == {"medshun", "deep_rotator_v1"}
    at.selectbox(key="f_phase").select("prevention").run()
    assert not at.exception, at.exception


def test_source_cards_show_flags_with_evidence(kb: KnowledgeBase) -> None:
    at = page()
    shown = squash(plain(at))
    for sid, src in kb.sources.items():
        assert squash(src.title) in shown, sid
        assert squash(src.attribution) in shown
        for flag in src.flags:
            assert squash(flag.evidence) in shown, (sid, flag.flag)
    assert "Same article as `deep_rotator_v1`" in shown
    for criterion in ("Author", "Date", "References", "Commercial interest", "Duplicated content"):
        assert f"**{criterion}**" in shown


def test_every_claim_shows_its_sources_flags_and_the_summary_counts_voices_per_side(kb: KnowledgeBase) -> None:
    at = page()
    at.selectbox(key="topic_pick").select("ice").run()
    assert not at.exception, at.exception
    shown = plain(at)
    credibility = [c.value for c in at.caption if c.value.startswith("Source credibility:")]
    # One line per claim in the side-by-side columns and one per claim in the guidance column's cards.
    assert len(credibility) >= len(kb.claims["ice"])
    assert any("product marketing" in UNESCAPE.sub(r"\1", c) and "product promotion" in UNESCAPE.sub(r"\1", c)
               for c in credibility)
    assert "Against: 1 independent voice" in shown and "For: 2 independent voices" in shown
    assert "`deep_rotator_v1` (= deep_rotator_v2) — product marketing" in squash(shown)


def test_a_sources_full_text_is_drawn_only_once_its_fold_is_opened(kb: KnowledgeBase) -> None:
    at = page()
    opening = squash(next(p for p in kb.source_texts["medshun"].split("\n\n") if len(p.strip()) > 80))[:60]
    assert opening not in squash(plain(at))  # folded: the article is not sent to the browser at all
    at.session_state["full_text_medshun"] = True  # as a click on "Full text (as stored)" does
    at.run()
    assert not at.exception, at.exception
    assert opening in squash(plain(at))
    # the other sources stay folded
    other = squash(next(p for p in kb.source_texts["littlemum_trp"].split("\n\n") if len(p.strip()) > 80))[:60]
    assert other not in squash(plain(at))
