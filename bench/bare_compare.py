"""Bare twin of the Compare sources page for the benchmark: the same kinds and counts of elements
(a clickable topic x source matrix, claims in bordered cards, guidance, source cards with expanders),
static data, no logic. Run: streamlit run bench/bare_compare.py"""

from __future__ import annotations

import altair as alt
import pyarrow as pa
import streamlit as st
from bare_data import page_links, topic_view

from ui.charts import spec_template  # the same template path as the pages

st.set_page_config(page_title="Bare compare", layout="wide")
page_links()

TOPICS = [f"Topic {i}: a self-care question" for i in range(13)]
VOICES = [f"source_{i}" for i in range(4)]
PARAGRAPH = ("Applying ice to the affected area for 15-20 minutes every few hours can help reduce inflammation and relieve "
             "pain. Wrap the ice pack in a thin towel to protect the skin, and rest from the activity that hurts. ")


@st.cache_resource
def matrix() -> dict:
    """The static spec, built once per process as the page's matrix_template is; rows are passed per rerun."""
    # A clickable cell and its glyph select the same (topic, voice): one selection per clickable layer.
    pick = alt.selection_point(name="cell", fields=["topic", "voice"], on="click", clear="dblclick")
    pick_glyph = alt.selection_point(name="glyph", fields=["topic", "voice"], on="click", clear="dblclick")
    x = alt.X("voice:N", sort=None, axis=alt.Axis(orient="top"))
    y = alt.Y("topic:N", sort=None, title=None)
    cells = alt.Chart().mark_rect().encode(x=x, y=y, color="stance:N", opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
                                           tooltip=["topic:N", "voice:N", "stance:N"]).transform_filter("datum.kind == 'cell'"
                                                                                                       ).add_params(pick)
    conflict = alt.Chart().mark_rect().encode(x=x, y=y, color="conflict:N").transform_filter("datum.kind == 'conflict'")
    glyphs = alt.Chart().mark_text().encode(x=x, y=y, text="glyph:N", tooltip=["topic:N"]).add_params(pick_glyph)
    chart = alt.layer(cells, conflict, glyphs).resolve_scale(color="independent")
    return spec_template(chart.properties(height=alt.Step(34)))


st.title("Compare sources (bare)")
st.caption(PARAGRAPH)
with st.sidebar:
    st.header("Filters")
    st.toggle("Conflicts only", key="f_conflicts")
    st.selectbox("Phase", ["all", "acute", "recovery", "prevention"], key="f_phase")
    st.multiselect("Sources", VOICES, default=VOICES, key="f_sources")
st.subheader("Topic × source matrix", anchor=False)
rows = [{"topic": t, "voice": v, "kind": "cell", "stance": ["recommend", "advise_against", "neutral", "silent"][(i + j) % 4],
         "conflict": None, "glyph": "+−·"[(i + j) % 3]} for i, t in enumerate(TOPICS) for j, v in enumerate(VOICES)]
rows += [{"topic": t, "voice": "conflict", "kind": "conflict", "stance": None, "conflict": ["direct", "scope", "none"][i % 3],
          "glyph": ""} for i, t in enumerate(TOPICS)]
st.vega_lite_chart(pa.Table.from_pylist(rows), matrix(), key="matrix", on_select="rerun", selection_mode=["cell", "glyph"],
                   width="stretch")
st.caption(PARAGRAPH)
topic = st.selectbox("Topic", TOPICS, key="topic_pick")
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("What each source says, in context", anchor=False)
    # As for "ice": two stances, three claims recommending and two advising against.
    for column, n_claims in zip(st.columns(2), (3, 2), strict=True):
        with column:
            st.markdown("#### Recommend")
            for _ in range(n_claims):
                with st.container(border=True):
                    st.markdown("**An article title**  \n`source_1`")
                    st.markdown(PARAGRAPH)
                    st.caption("Scope: acute · general")
with right:
    st.subheader("Guidance HipGuide uses", anchor=False)
    st.markdown(f"**{topic}**")
    topic_view(PARAGRAPH, rows=13, quotes=4, boxed_rows=0)
    for _ in range(5):  # the voices' cards beside the guidance
        with st.container(border=True):
            st.markdown("**An article title**")
            st.caption("publisher · no named author")
st.divider()
st.subheader("Source cards", anchor=False)
st.caption(PARAGRAPH)
for i in range(0, 5, 2):  # five source cards, two to a row
    for card, column in zip(range(i, min(i + 2, 5)), st.columns(2), strict=False):
        with column, st.container(border=True):
            st.markdown("##### An article title")
            st.caption("`source` · publisher · no named author · undated")
            if card == 1:
                st.info("Same article as `source_0`: its claims count as one voice with it.", icon="🔁")
            st.markdown("\n".join(f"- ⚠ **Criterion {k}**: {PARAGRAPH}" for k in range(6)))
            st.caption("4 claim(s) tagged · Attribution: reproduced for comparison")
            if card > 0:
                with st.expander("Full text (as stored)"):
                    st.markdown(PARAGRAPH)
                continue
            with st.expander("Full text (as stored)"):
                st.markdown("\n\n".join([PARAGRAPH * 3] * 12))
st.caption(PARAGRAPH)
