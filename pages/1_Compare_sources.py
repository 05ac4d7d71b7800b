"""Compare sources: where the articles agree and disagree, each claim in its paragraph, and what HipGuide adopted.

A thin page: filters in, `hipguide.comparison` shapes the data, Altair draws the matrix. Source text is
Markdown-escaped everywhere; nothing is rendered as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pyarrow as pa
import streamlit as st

from hipguide.comparison import (
    CONFLICT_WORDS,
    STANCE_COLOURS,
    STANCE_ORDER,
    MatrixFilters,
    choose_topic,
    claims_by_stance,
    credibility_checklist,
    matrix_rows,
    md_source_text,
    quote_in_paragraph,
    scope_text,
    source_flags_text,
    voice_label,
)
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.knowledge import KnowledgeBase
from hipguide.models import PHASES, Claim
from ui.charts import chart_data, spec_template
from ui.common import disclaimer, knowledge_or_stop, page_nav
from ui.formats import SELECTION_PARAMS, md_quote_in_context, selected_cell
from ui.topic_view import STANCE_ICON, render_topic

st.set_page_config(page_title="HipGuide — Compare sources", page_icon="⚖️", layout="wide")
page_nav()

CELL_STANCES = [*STANCE_ORDER, "mixed", "silent"]
CONFLICT_KINDS = ["direct", "conditional", "scope", "none"]
CONFLICT_COLOURS = ["#b2182b", "#ef8a62", "#fddbc7", "#ffffff"]


@st.cache_resource(show_spinner=False)
def matrix_template() -> dict:
    """The static Vega-Lite spec (no data): built and validated once per process; rows are passed per rerun."""
    pick = alt.selection_point(name="cell", fields=["topic", "voice"], on="click", clear="dblclick")
    pick_glyph = alt.selection_point(name="glyph", fields=["topic", "voice"], on="click", clear="dblclick")
    x = alt.X("voice_label:N", sort=None, title="independent voice (duplicated article merged)",
              axis=alt.Axis(orient="top", labelAngle=0, labelOverlap=False, labelLimit=200,
                            labelExpr="split(datum.label, ' (')"))  # a merged duplicate on a second line
    y = alt.Y("topic_label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart()
    tooltip = [alt.Tooltip("topic_label:N", title="topic"), alt.Tooltip("voice_label:N", title="voice"),
               alt.Tooltip("stance_words:N", title="stance"), alt.Tooltip("sources:N", title="sources"),
               alt.Tooltip("claims:Q", title="claims"), alt.Tooltip("quote:N", title="first quote"),
               alt.Tooltip("conflict:N", title="topic conflict")]
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("stance:N", title="stance",
                        scale=alt.Scale(domain=CELL_STANCES, range=[STANCE_COLOURS[s] for s in CELL_STANCES]),
                        legend=alt.Legend(orient="bottom", columns=3, labelExpr=_legend_words())),  # wraps, never clipped
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=tooltip,
    ).transform_filter("datum.kind == 'cell'").add_params(pick)
    conflict = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("conflict:N", title="topic conflict",
                        scale=alt.Scale(domain=CONFLICT_KINDS, range=CONFLICT_COLOURS),
                        legend=None),  # the cells name the conflict type themselves
        tooltip=[alt.Tooltip("topic_label:N", title="topic"), alt.Tooltip("stance_words:N", title="conflict")],
    ).transform_filter("datum.kind == 'conflict'")
    glyphs = base.mark_text(fontSize=15, fontWeight="bold").encode(
        x=x, y=y, text="glyph:N", tooltip=tooltip,
    ).add_params(pick_glyph)  # a click on a cell's stance mark selects the cell too
    chart = alt.layer(cells, conflict, glyphs).resolve_scale(color="independent")
    return spec_template(chart.properties(height=alt.Step(34)))


def _matrix(kb: KnowledgeBase, filters: MatrixFilters) -> tuple[list[dict], pa.Table]:
    """The matrix rows for one set of filters and the Arrow table the chart is sent (knowledge only)."""
    rows = matrix_rows(kb, filters)
    return rows, chart_data(rows)


def _claim_card(kb: KnowledgeBase, claim: Claim) -> tuple[str, str, str, str]:
    """A claim's card as escaped Markdown: title and id, the quote in its paragraph, credibility, scope."""
    duplicate = kb.voice(claim.source) != claim.source
    title = (f"**{md_escape(kb.sources[claim.source].title)}**  \n`{claim.source}`"
             + (f" _{md_escape(voice_label(kb, claim.source)[len(claim.source):].strip())}_" if duplicate else ""))
    return (title, md_quote_in_context(quote_in_paragraph(kb.source_texts[claim.source], claim.quote)),
            f"Source credibility: {md_escape(source_flags_text(kb, claim.source))}",
            f"Scope: {md_escape(scope_text(kb, claim))}")


@dataclass(frozen=True)
class SourceCard:
    title: str
    meta: str
    checklist: str
    claims: str


def _source_card(kb: KnowledgeBase, sid: str) -> SourceCard:
    """A source's card as escaped Markdown: title, who and when, the credibility checklist, its claims."""
    src = kb.sources[sid]
    meta = [f"`{sid}`", md_escape(src.publisher), md_escape(src.kind.replace("_", " "))]
    meta.append(f"by {md_escape(src.author)}" if src.author else "no named author")
    meta.append(md_escape(src.date) if src.date else "undated")
    lines = []
    for row in credibility_checklist(kb, sid):
        mark = {"ok": "✓", "concern": "⚠", "not flagged": "–"}[row.verdict]
        lines.append(f"- {mark} **{row.criterion}**: {md_escape(row.detail)}")
        lines += [f"    - _{md_escape(ev)}_" for ev in row.evidence]
    n_claims = sum(1 for cl in kb.claims.values() for c in cl if c.source == sid)
    return SourceCard(f"### {md_escape(src.title)}", " · ".join(meta), "\n".join(lines),
                      f"{n_claims} claim(s) tagged · Attribution: {md_escape(src.attribution)}")


def _legend_words() -> str:
    words = {**{s: STANCE_WORDS[s] for s in STANCE_ORDER}, "mixed": "mixed", "silent": "silent"}
    cases = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in words.items())
    return f"{cases} : datum.label"


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
rows, matrix_data = kb.derived(("compare.matrix", filters), lambda: _matrix(kb, filters))
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
                title, in_context, credibility, scope = kb.derived(("compare.claim_card", claim.id),
                                                                   lambda claim=claim: _claim_card(kb, claim))
                with st.container(border=True):
                    st.markdown(("👉 " if selected else "") + title)
                    st.markdown(in_context)
                    st.caption(credibility)
                    st.caption(scope)
with right:
    st.header("Guidance HipGuide uses", anchor=False)
    render_topic(kb, topic, compact=True, lazy=True)

# --- source cards ---------------------------------------------------------------------------------
st.divider()
st.header("Source cards", anchor=False)
st.caption("Credibility signals after the JAMA benchmarks, HONcode and DISCERN, each with the evidence for it. "
           "⚠ a concern, ✓ no concern found or a positive signal.")
shown = [s for s in kb.sources if s in chosen_sources]
for i in range(0, len(shown), 2):
    for sid, column in zip(shown[i:i + 2], st.columns(2), strict=False):
        src = kb.sources[sid]
        card = kb.derived(("compare.source_card", sid), lambda sid=sid: _source_card(kb, sid))
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
                    st.markdown(kb.derived(("compare.full_text", sid), lambda sid=sid: md_source_text(kb.source_texts[sid])))

disclaimer()
