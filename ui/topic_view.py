"""One topic, reconciled: where the sources stand (side by side, verbatim) and the guidance HipGuide uses.

`render_topic` is shared by the comparison page (full width) and the assessment (`compact=True`, a side
column). All knowledge and source text is Markdown-escaped; nothing is rendered as HTML.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from hipguide.comparison import (
    CONFLICT_WORDS,
    STANCE_ORDER,
    claims_by_stance,
    md_blockquote,
    scope_text,
    sides,
    source_flags_text,
    voice_label,
)
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.knowledge import KnowledgeBase
from hipguide.models import PHASES, Claim, Guidance

STANCE_ICON = {"recommend": "✅", "conditional": "☑️", "neutral": "⚪", "advise_against": "⛔"}
COMPACT_CLAIMS_KEY = "ui.topic.claims_open"        # the compact view's expanders (their open state)
COMPACT_RATIONALE_KEY = "ui.topic.rationale_open"
GUIDANCE_HEADING = "Adopted guidance (what HipGuide uses)"
DISPOSITION_WORDS = {"accepted": "accepted", "rejected": "rejected",
                     "accepted_with_modification": "accepted with modification"}


def _line(kb: KnowledgeBase, text: str) -> str:
    """Knowledge text escaped and on one line (safe inside a table cell or list item), worked out once."""
    return kb.derived(("topic_view.line", text), lambda: md_escape(" ".join(str(text).split())))


def render_topic(kb: KnowledgeBase, topic: str, *, compact: bool = False) -> None:
    """The conflict status, each claim side by side by stance, and the adopted guidance for `topic`.

    The compact view (beside the assessment or the comparison; once per page) draws its folded sections
    only while they are open.
    """
    if topic not in kb.topics:
        st.info(f"Unknown topic: {md_escape(' '.join(str(topic).split()))}")  # not memoised: may come from a URL
        return
    t = kb.topics[topic]
    if compact:
        st.markdown(f"**{_line(kb, t.label)}**")
    else:
        st.header(_line(kb, t.label), anchor=False)
    st.caption(_line(kb, t.question))
    _conflict_status(kb, topic)
    if compact:
        _guidance(kb, topic, compact=True)
        # Beside the assessment the details are drawn only while open: most clicks there are findings.
        with folded("What the sources say", COMPACT_CLAIMS_KEY) as shown:
            if shown:
                _claims(kb, topic, compact=True)
    else:
        _claims(kb, topic, compact=False)
        st.divider()
        _guidance(kb, topic, compact=False)


@contextmanager
def folded(label: str, key: str) -> Iterator[bool]:
    """A closed expander whose content is drawn only while it is open (yields whether to draw it); opening
    or closing it reruns the page."""
    box = st.expander(label, expanded=False, key=key, on_change="rerun")
    with box:
        yield bool(box.open)


# --- conflict status ----------------------------------------------------------------------------

def _conflict_status(kb: KnowledgeBase, topic: str) -> None:
    tc = kb.conflicts.get(topic)
    if tc is None or not tc.claims:
        st.info("No source in the knowledge base discusses this topic.", icon="ℹ️")
        return
    n_voices = len({kb.voice(c.source) for c in tc.claims})
    if not tc.conflict:
        st.success(f"No conflict: the {n_voices} independent source(s) that discuss this topic do not take "
                   "opposing stances.", icon="✅")
        return
    kinds = tc.kinds
    others = [k for k in kinds if k != tc.kind]
    also = f" (also {', '.join(others)})" if others else ""
    pairs = tc.pair_count
    st.warning(f"**Sources disagree — {tc.kind} conflict**{also}. {CONFLICT_WORDS[tc.kind or 'direct']}. "
               f"{pairs} opposing pair(s) of independent voices among the {n_voices} that discuss it; "
               "a duplicated article counts once.", icon="⚡")
    _sides(kb, topic)


def _sides(kb: KnowledgeBase, topic: str) -> None:
    """Independent voices per side, each with its kind and credibility flags, so they can be weighed."""
    lines = []
    for side, label in (("for", "For"), ("against", "Against")):
        found = sides(kb, topic)[side]
        lines.append(f"**{label}: {len(found)} independent voice{'s' if len(found) != 1 else ''}**")
        for v in found:
            also = [sid for sid in v.sources if sid != v.voice]
            same = " " + _line(kb, f"(= {', '.join(also)})") if also else ""
            lines.append(f"- `{v.voice}`{same} — {_line(kb, v.words())}")
    st.markdown("\n".join(lines))


# --- claims -------------------------------------------------------------------------------------

def _claims(kb: KnowledgeBase, topic: str, *, compact: bool) -> None:
    groups = claims_by_stance(kb, topic)
    if not groups:
        return
    tc = kb.conflicts.get(topic)
    disposition = {d.claim: d for d in kb.guidance[topic].dispositions} if topic in kb.guidance else {}
    conflicting = tc.conflicting_claim_ids if tc else set()
    stances = [s for s in STANCE_ORDER if s in groups]
    columns = [st.container() for _ in stances] if compact else st.columns(len(stances))
    for column, stance in zip(columns, stances, strict=True):
        with column:
            claims = groups[stance]
            n_voices = len({kb.voice(c.source) for c in claims})
            st.markdown(f"### {STANCE_ICON[stance]} {STANCE_WORDS[stance]}" if not compact
                        else f"**{STANCE_ICON[stance]} {STANCE_WORDS[stance]}**")
            st.caption(f"{n_voices} independent voice(s), {len(claims)} claim(s)")
            by_voice: dict[str, list[Claim]] = {}
            for c in claims:
                by_voice.setdefault(kb.voice(c.source), []).append(c)
            for voice, voice_claims in by_voice.items():
                with st.container(border=True):
                    _voice_card(kb, voice, voice_claims, disposition, conflicting)


def _voice_card(kb: KnowledgeBase, voice: str, claims: list[Claim], disposition: dict, conflicting: set[str]) -> None:
    src = kb.sources.get(voice)
    title = _line(kb, src.title) if src else _line(kb, voice)
    st.markdown(f"**{title}**")
    if src is not None:
        st.caption(_flags_line(kb, voice))
    for claim in claims:
        label = voice_label(kb, claim.source)
        st.markdown(f"`{claim.source}`" + (f" _{_line(kb, label.removeprefix(claim.source).strip())}_"
                                           if label != claim.source else ""))
        st.markdown(md_blockquote(claim.quote))
        st.caption(f"Source credibility: {_line(kb, source_flags_text(kb, claim.source))}")
        st.caption(f"Scope: {_line(kb, scope_text(kb, claim))}")
        if claim.note:
            st.caption(f"Note: {_line(kb, claim.note)}")
        d = disposition.get(claim.id)
        if d is not None:
            st.caption(f"Editors' disposition: **{DISPOSITION_WORDS[d.disposition]}** — {_line(kb, d.reason)}")
        elif claim.id in conflicting:
            st.caption("Editors' disposition: **none recorded yet**")


def _flags_line(kb: KnowledgeBase, source_id: str) -> str:
    src = kb.sources[source_id]
    parts = [_line(kb, src.publisher)]
    if src.author:
        parts.append(f"by {_line(kb, src.author)}")
    if src.date:
        parts.append(_line(kb, src.date))
    flags = [("✓ " if f.positive else "⚠ ") + f.flag.replace("_", " ") for f in src.flags]
    duplicates = [sid for sid, s in kb.sources.items() if s.duplicate_of == source_id]
    if duplicates:
        flags.append(f"⧉ same article also as {', '.join(duplicates)}")
    if source_id in kb.changed_sources:
        flags.append("⚠ text changed: needs review")
    return " · ".join(parts) + ("  \n" + " · ".join(md_escape(f) for f in flags) if flags else "")


# --- adopted guidance ---------------------------------------------------------------------------

def _status_badge(g: Guidance) -> None:
    if g.status == "approved":
        st.badge("Approved", icon="✅", color="green")
    else:
        st.badge("DRAFT — not yet approved", icon="📝", color="orange")


def _compact_guidance(kb: KnowledgeBase, topic: str, g: Guidance) -> str:
    """Beside the assessment: the adopted guidance in one Markdown block (fewer elements to redraw per
    click), worked out once per knowledge base."""

    def build() -> str:
        badge = (":green-badge[✅ Approved]" if g.status == "approved" else ":orange-badge[📝 DRAFT — not yet approved]")
        parts = [f"**{GUIDANCE_HEADING}**", badge, f":small[{_version_line(kb, g)}]",
                 "\n".join(f"- **{p}**: {STANCE_ICON[g.phases[p].stance]} {STANCE_WORDS[g.phases[p].stance]} — "
                           f"{_line(kb, g.phases[p].advice)}" for p in PHASES),
                 f":small[{_applies_line(kb, g)}]"]
        parts += [_override_text(kb, ov) for ov in g.condition_overrides]
        return "\n\n".join(parts)

    return kb.derived(("topic_view.compact_guidance", topic), build)


def _version_line(kb: KnowledgeBase, g: Guidance) -> str:
    approver = f"approved by {_line(kb, g.approver)}" if g.approver else "no approver yet"
    return (f"{'DRAFT' if g.status == 'draft' else 'Approved'} · version {g.version} · {g.date.isoformat()} · "
            f"{approver} · strength: {g.strength.replace('_', ' ')} · certainty: {g.certainty.replace('_', ' ')}")


def _applies_line(kb: KnowledgeBase, g: Guidance) -> str:
    if not g.applies_to:
        return "Applies to: all conditions"
    labels = [kb.conditions[c].label if c in kb.conditions else c for c in g.applies_to]
    return "Applies to: " + ", ".join(_line(kb, x) for x in labels)


def _override_text(kb: KnowledgeBase, ov: Any) -> str:
    labels = ", ".join(_line(kb, kb.conditions[c].label if c in kb.conditions else c) for c in ov.conditions)
    lines = [f"- **{p}**: {STANCE_WORDS[a.stance]} — {_line(kb, a.advice)}" for p, a in ov.phases.items()]
    return f"**For {labels}:** {_line(kb, ov.reason)}\n\n" + "\n".join(lines)


def _guidance(kb: KnowledgeBase, topic: str, *, compact: bool) -> None:
    g = kb.guidance.get(topic)
    if compact and g is not None:
        st.markdown(_compact_guidance(kb, topic, g))
        for reason in kb.guidance_needing_review.get(topic, []):
            st.warning(f"Needs review: {_line(kb, reason)}", icon="⚠️")
        with folded("Rationale and dispositions", COMPACT_RATIONALE_KEY) as shown:
            if shown:
                _rationale(kb, topic, g)
        return
    heading = GUIDANCE_HEADING
    st.markdown(f"**{heading}**" if compact else f"### {heading}")
    if g is None:
        st.info("No guidance has been adopted for this topic yet.")
        return
    _status_badge(g)
    st.caption(_version_line(kb, g))
    for reason in kb.guidance_needing_review.get(topic, []):
        st.warning(f"Needs review: {_line(kb, reason)}", icon="⚠️")
    rows = ["| phase | stance | advice |", "|---|---|---|"]
    rows += [f"| {p} | {STANCE_ICON[g.phases[p].stance]} {STANCE_WORDS[g.phases[p].stance]} | "
             f"{_line(kb, g.phases[p].advice)} |" for p in PHASES]
    st.markdown("\n".join(rows))
    st.caption(_applies_line(kb, g))
    for ov in g.condition_overrides:
        st.markdown(_override_text(kb, ov))
    with st.container():
        _rationale(kb, topic, g)


def _rationale(kb: KnowledgeBase, topic: str, g: Guidance) -> None:
    st.markdown(f"**Rationale.** {_line(kb, g.rationale)}")
    if g.relied_on:
        st.markdown("**Also relied on:**\n\n" + "\n".join(f"- {_line(kb, r)}" for r in g.relied_on))
    _dispositions(kb, topic, g)


def _dispositions(kb: KnowledgeBase, topic: str, g: Guidance) -> None:
    if not g.dispositions:
        return
    claims = kb.claims_by_id
    lines = []
    for d in g.dispositions:
        c = claims.get(d.claim)
        who = f"{voice_label(kb, c.source)}, {STANCE_WORDS[c.stance].lower()}" if c else "unknown claim"
        lines.append(f"- **{DISPOSITION_WORDS[d.disposition]}**: `{d.claim}` ({_line(kb, who)}) — {_line(kb, d.reason)}")
    tc = kb.conflicts.get(topic)
    missing = sorted((tc.conflicting_claim_ids if tc else set()) - {d.claim for d in g.dispositions})
    lines += [f"- **no disposition yet**: `{cid}`" for cid in missing]
    st.markdown("**How each conflicting claim was handled:**\n\n" + "\n".join(lines))
