"""Conflicts are computed from claims: independent voices, opposing stances, classified by scope."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minikb import claim, set_claims, write_mini_kb

from hipguide.conflicts import compute_conflicts
from hipguide.knowledge import load_knowledge


@pytest.fixture
def mini(tmp_path):
    return write_mini_kb(tmp_path / "knowledge")


def test_same_scope_opposite_advice_is_direct(mini):
    tc = compute_conflicts(load_knowledge(mini))["ice"]
    assert tc.conflict and tc.kind == "direct"
    assert tc.sources_for() == ["b"] and tc.sources_against() == ["a"]  # a2 is the same article: one voice


def test_non_overlapping_phases_is_conditional(mini):
    tc = compute_conflicts(load_knowledge(mini))["strengthening"]
    assert tc.conflict and tc.kind == "conditional"


def test_different_targets_is_scope(mini):
    set_claims(mini, "ice", [
        claim("ice_a", "a", "advise_against", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
        claim("ice_c", "c", "recommend", "Ice is a good idea afterward on the sacroiliac joint.", ["acute"], "sacroiliac_joint"),
    ], ["ice_a", "ice_c"])
    tc = compute_conflicts(load_knowledge(mini))["ice"]
    assert tc.conflict and tc.kind == "scope"


def test_duplicate_versions_of_one_article_do_not_conflict_with_each_other(mini):
    # The two versions disagree here, but they are one voice: no conflict.
    set_claims(mini, "ice", [
        claim("ice_a", "a", "advise_against", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
        claim("ice_a2", "a2", "recommend", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
    ])
    tc = compute_conflicts(load_knowledge(mini))["ice"]
    assert not tc.conflict and tc.kind is None


def test_agreement_and_neutral_mentions_are_not_conflicts(mini):
    set_claims(mini, "ice", [
        claim("ice_a", "a", "neutral", "Ice and heat are ineffective.", [], "deep_hip_rotators"),
        claim("ice_b", "b", "recommend", "Apply ice for 15-20 minutes every few hours.", ["acute"]),
    ])
    assert not compute_conflicts(load_knowledge(mini))["ice"].conflict


def test_direct_wins_over_weaker_kinds_for_the_topic(mini):
    set_claims(mini, "ice", [
        claim("ice_a", "a", "advise_against", "Ice and heat are ineffective.", ["acute"], "deep_hip_rotators"),
        claim("ice_b", "b", "recommend", "Apply ice for 15-20 minutes every few hours.", ["acute"]),
        claim("ice_c", "c", "recommend", "Ice is a good idea afterward on the sacroiliac joint.", ["acute"], "sacroiliac_joint"),
    ], ["ice_a", "ice_b", "ice_c"])
    tc = compute_conflicts(load_knowledge(mini))["ice"]
    assert tc.kind == "direct" and tc.kinds == ["direct", "scope"]


def test_shipped_sources_conflict_on_the_known_topics(kb):
    conflicts = kb.conflicts
    for topic in ("ice", "heat", "strengthening", "foam_rolling"):
        assert conflicts[topic].conflict, topic
    assert conflicts["strengthening"].kinds[0] in ("direct", "conditional")
    assert "conditional" in conflicts["strengthening"].kinds
    # The lateral-rotator page's ice is aimed at the sacroiliac joint: a scope difference.
    assert "scope" in conflicts["ice"].kinds


# --- which claims take part, against the definition pair by pair ------------------------------------

_CLAIM = st.tuples(st.sampled_from(["s1", "s1_copy", "s2", "s3"]),
                   st.sampled_from(["recommend", "conditional", "advise_against", "neutral"]),
                   st.sampled_from(["general", "glutes"]), st.sampled_from([("acute",), ("recovery",), ()]),
                   st.sampled_from([None, "gently", "strongly"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CLAIM, max_size=14))
def test_a_claim_takes_part_when_an_opposing_claim_from_another_voice_agrees_in_manner(rows):
    from types import SimpleNamespace

    from hipguide.conflicts import AGAINST, FOR, manners_agree, topic_conflict

    claims = [SimpleNamespace(id=f"c{i}", source=src, stance=stance,
                              scope=SimpleNamespace(target=target, phases=list(phases), manner=manner))
              for i, (src, stance, target, phases, manner) in enumerate(rows)]
    voice = {"s1_copy": "s1"}.get
    kb = SimpleNamespace(claims={"t": claims}, voice=lambda s: voice(s, s), targets_overlap=lambda a, b: a == b)
    result = topic_conflict(kb, "t")

    def opposed(c, d):
        return ((c.stance in FOR and d.stance in AGAINST) or (c.stance in AGAINST and d.stance in FOR)) \
            and manners_agree(c.scope.manner, d.scope.manner)

    taking_part = {c.id for c in claims if any(opposed(c, d) and kb.voice(d.source) != kb.voice(c.source) for d in claims)}
    assert result.conflicting_claim_ids == taking_part
    pairs = {(kb.voice(c.source), kb.voice(d.source)) for c in claims for d in claims
             if c.stance in FOR and opposed(c, d) and kb.voice(c.source) != kb.voice(d.source)}
    assert result.pair_count == len(pairs)
