"""Compare sources: where the articles agree and disagree, each claim in its paragraph, and what HipGuide adopted.

A thin page: filters in, `hipguide.comparison` shapes the data, Altair draws the matrix. Source text is
Markdown-escaped everywhere; nothing is rendered as HTML.
"""

from __future__ import annotations

import streamlit as st

from hipguide.comparison import (
    CONFLICT_WORDS,
    MatrixFilters,
    choose_topic,
    claims_by_stance,
    voice_label,
)
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.models import PHASES
from ui.common import disclaimer, knowledge_or_stop, page_nav
from ui.compare_view import claim_card, full_text_markdown, matrix, matrix_template, source_card
from ui.formats import SELECTION_PARAMS, selected_cell
from ui.topic_view import STANCE_ICON, render_topic

st.set_page_config(page_title="HipGuide — Compare sources", page_icon="⚖️", layout="wide")
page_nav()

kb = knowledge_or_stop()
st.title("⚖️ Compare sources")
st.caption("Where the source articles agree and disagree, topic by topic. Click a cell (or pick a topic) to read "
           "each claim inside its paragraph, beside the guidance HipGuide adopted. A duplicated article counts "
           "as one voice.")

# --- filters ------------------------------------------------------------------------------------
with st.sidebar:
    st.header("Filters")
    conflicts_only = st.toggle("Conflicts only", key="f_conflicts", help="Show only topics where independent voices disagree")
    phase = st.selectbox("Phase", ["all", *PHASES], key="f_phase",
                         help="Keep claims that name this phase (claims without a phase always count)")
    all_sources = list(kb.sources)
    chosen_sources = st.multiselect("Sources", all_sources, default=all_sources, key="f_sources",
                                    format_func=lambda s: voice_label(kb, s))
filters = MatrixFilters(conflicts_only=conflicts_only, phase=None if phase == "all" else phase,
                        sources=tuple(chosen_sources) if len(chosen_sources) < len(all_sources) else None)
rows, matrix_data = matrix(kb, filters)
allowed = list(dict.fromkeys(r["topic"] for r in rows))

# --- the matrix -----------------------------------------------------------------------------------
st.header("Topic × source matrix", anchor=False)
if not rows:
    st.info("No topic matches these filters.")
    st.stop()
event = st.vega_lite_chart(matrix_data, matrix_template(), key="matrix", on_select="rerun",
                           selection_mode=SELECTION_PARAMS, width="stretch")
st.caption("Cell colour: the voice's stance on the topic (**+** recommend, **±** conditional, **·** neutral, "
           "**−** against; purple: the voice says both). Last column: the topic's conflict type — "
           + "; ".join(f"**{k}** = {v.split(': ', 1)[1]}" for k, v in CONFLICT_WORDS.items())
           + ". Double-click the chart to clear a selection.")

last_cell = st.session_state.get("last_cell")
clicked, clicked_voice = selected_cell(event, previous=last_cell)
fresh = clicked if (clicked, clicked_voice) != last_cell else None
topic = choose_topic(allowed, fresh, None, st.session_state.get("topic_pick"))
st.session_state["last_cell"] = (clicked, clicked_voice)
st.session_state["topic_pick"] = topic
topic = st.selectbox("Topic", allowed, key="topic_pick", format_func=lambda t: kb.topics[t].label)
if clicked_voice and clicked == topic:
    st.caption(f"Selected cell: {md_escape(kb.topics[topic].label)} × {md_escape(clicked_voice)}")

# --- the claims in context, beside the adopted guidance -------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    st.header("What each source says, in context", anchor=False)
    source_filter = None if filters.sources is None else list(filters.sources)
    groups = claims_by_stance(kb, topic, phase=filters.phase, sources=source_filter)
    if not groups:
        st.info("No claim on this topic matches the filters.")
    for stance, column in zip(groups, st.columns(max(len(groups), 1)), strict=False):
        with column:
            st.markdown(f"### {STANCE_ICON[stance]} {STANCE_WORDS[stance]}")
            for claim in groups[stance]:
                selected = clicked_voice is not None and kb.voice(claim.source) == clicked_voice
                title, in_context, credibility, scope = claim_card(kb, claim)
                with st.container(border=True):
                    st.markdown(("👉 " if selected else "") + title)
                    st.markdown(in_context)
                    st.caption(credibility)
                    st.caption(scope)
with right:
    st.header("Guidance HipGuide uses", anchor=False)
    render_topic(kb, topic, compact=True)

# --- source cards ---------------------------------------------------------------------------------
st.divider()
st.header("Source cards", anchor=False)
st.caption("Credibility signals after the JAMA benchmarks, HONcode and DISCERN, each with the evidence for it. "
           "⚠ a concern, ✓ no concern found or a positive signal.")
shown = [s for s in kb.sources if s in chosen_sources]
for i in range(0, len(shown), 2):
    for sid, column in zip(shown[i:i + 2], st.columns(2), strict=False):
        src = kb.sources[sid]
        card = source_card(kb, sid)
        with column, st.container(border=True, key=f"card_{sid}"):
            st.markdown(card.title)
            st.caption(card.meta)
            if src.duplicate_of:
                st.info(f"Same article as `{src.duplicate_of}`: its claims count as one voice with it.", icon="🔁")
            if sid in kb.changed_sources:
                st.warning("The text changed since its claims were checked: claims and decisions need review.",
                           icon="⚠️")
            st.markdown(card.checklist)
            st.caption(card.claims)
            # Drawn only while open: a whole article is the longest text on the page.
            full_text = st.expander("Full text (as stored)", key=f"full_text_{sid}", on_change="rerun")
            if full_text.open:
                with full_text:
                    st.markdown(full_text_markdown(kb, sid))

disclaimer()
