"""Bare twin of the assessment page for the benchmark: the same kinds and counts of elements (the layout's
style block, the guided interview with its three buttons and an 91-option jump list, 91 two-option
segmented controls in 7 tabs, 3 Vega-Lite charts (the body map with three body outlines and 36 regions),
a dataframe, ~50 markdown blocks and captions, 13 plan cards, the follow-up section's outcome entry and
uploader), filled with static data and no logic. Run: streamlit run bench/bare_assessment.py"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st
from bare_data import CONDITIONS, FINDINGS, PER_TAB, TABS, page_links, topic_view

from ui.charts import spec_template  # the same template path as the pages

st.set_page_config(page_title="Bare assessment", layout="wide", initial_sidebar_state="collapsed")
page_links()
# The same size of style block as the real page's layout rules (ui.layout), applied to nothing here.
st.html("<style>" + "".join(f".bare-rule-{i} {{ min-height: 44px; min-width: 44px; }}\n" for i in range(30)) + "</style>")

SENTENCE = ("Keep gently active rather than resting completely: walking, easy cycling or an easy jog are fine as long "
            "as the pain stays mild and settles by the next morning. ")


@st.cache_resource
def body_map_spec() -> dict:
    squares = [{"type": "Feature", "properties": {"id": f"r{i}", "label": f"Region {i}"},
                "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 8, y], [x + 8, y + 8], [x, y + 8], [x, y]]]}}
               for i, (x, y) in enumerate((10 + 10 * (i % 6), 10 + 10 * (i // 6)) for i in range(36))]
    # Three body outlines of 94, 47 and 94 points (a circle each, here), drawn behind the regions.
    outlines = [{"type": "Feature", "properties": {"view": v},
                 "geometry": {"type": "Polygon", "coordinates": [[[40 + 70 * v + 30 * math.cos(2 * math.pi * k / n),
                                                                   50 + 45 * math.sin(2 * math.pi * k / n)]
                                                                  for k in range(n)] + [[70 + 70 * v, 50]]]}}
                for v, n in enumerate((94, 47, 94))]
    backdrop = alt.Chart(alt.Data(values=outlines)).mark_geoshape(fill="#f8f9fa", stroke="#6c757d").project(
        type="identity", reflectY=True)
    pick = alt.selection_point(name="region_pick", fields=["id"], on="click", toggle=False)
    regions = alt.Chart().mark_geoshape(cursor="pointer").encode(
        shape=alt.Shape("geo:G"), fill=alt.Fill("referral:N"), tooltip=["label:N", "pain:N"],
        description=alt.Description("label:N"),
    ).transform_lookup(lookup="id", from_=alt.LookupData(data=alt.Data(values=squares), key="properties.id"), as_="geo",
                       ).add_params(pick).project(type="identity", reflectY=True)
    return spec_template(alt.layer(backdrop, regions).properties(height=480))


@st.cache_resource
def differential_spec() -> dict:
    base = alt.Chart().encode(y=alt.Y("label:N", sort=None, title=None))
    bars = base.mark_bar().encode(x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])), color="role:N",
                                  tooltip=["label:N", "shown:N"], description=alt.Description("label:N"))
    tick = base.mark_tick(color="#212529").encode(x="prior:Q")
    text = base.mark_text(align="left", dx=4).encode(x="probability:Q", text="shown:N")
    return spec_template(alt.layer(bars, tick, text).properties(height=alt.Step(26)))


@st.cache_resource
def contribution_spec() -> dict:
    bars = alt.Chart().mark_bar().encode(y=alt.Y("finding:N", sort=None), x="effect:Q", color="direction:N",
                                         tooltip=["finding:N", "effect:Q"])
    zero = alt.Chart().mark_rule().encode(x=alt.datum(0))
    return spec_template(alt.layer(zero, bars).properties(height=alt.Step(24)))


st.title("Buttock & hip pain assessment (bare)", anchor=False)
st.caption(SENTENCE)
st.info("**Triage: ROUTINE** — Physiotherapy management. No red flag recorded so far.", icon="🩺")
with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
    st.segmented_control("Phase", ["Acute", "Recovery", "Prevention"], default="Acute", key="phase")
    st.number_input("Age", min_value=0, max_value=120, value=None, key="age", width=150, help=SENTENCE)
    st.segmented_control("Sex", ["Female", "Male"], key="sex", help=SENTENCE)
    st.download_button("Clinical note", lambda: SENTENCE * 20, file_name="note.md", on_click="ignore")
    st.download_button("Clinical note PDF", lambda: SENTENCE * 20, file_name="note.pdf", on_click="ignore")
    st.download_button("Patient handout", lambda: SENTENCE * 20, file_name="handout.pdf", on_click="ignore")
    st.button("New patient", type="primary")
with st.container(key="jump_links"):
    st.markdown("Go to: [Differential](#differential) · [Plan](#plan) · [What the sources say](#sources)")

main, beside = st.columns([2.7, 1], gap="medium")
with main:
    inputs, results = st.columns([1.1, 1], gap="medium")
    with inputs:
        with st.container(border=True):
            st.header("Guided interview", anchor=False)
            st.caption(SENTENCE)
            st.markdown(":red-badge[Red-flag screen] :gray-badge[Red flags]")
            st.markdown("### " + FINDINGS[0])
            st.markdown("**How:** " + SENTENCE)
            st.markdown("**Positive if:** " + SENTENCE)
            with st.container(horizontal=True):
                st.button("Yes", key="yes", type="primary", icon=":material/check:")
                st.button("No", key="no", icon=":material/close:")
                st.button("Skip", key="skip", icon=":material/skip_next:", type="tertiary")
            st.selectbox("Jump to any finding", FINDINGS, index=None, key="jump", help=SENTENCE)
        st.header("Findings", anchor=False)
        rows = [{"id": f"r{i}", "label": f"Region {i}", "referral": ["essential", "spillover", "none"][i % 3],
                 "pain": "marked" if i == 5 else ""} for i in range(36)]
        st.vega_lite_chart(pa.Table.from_pylist(rows), body_map_spec(), key="body_map", on_select="rerun", width="stretch")
        st.caption(SENTENCE)
        st.checkbox("Pain drawing complete", key="drawing", help=SENTENCE)
        st.caption(SENTENCE)
        st.markdown("**Red-flag screen:** 0 of 16 asked.")
        k = 0
        for tab, n in zip(st.tabs(TABS), PER_TAB, strict=True):
            with tab:
                st.caption(f"{n} findings · 0 present")
                cols = st.columns(2)
                for i in range(n):
                    with cols[i % 2]:
                        st.segmented_control(FINDINGS[k], ["present", "absent"], key=f"f{k}", help=SENTENCE)
                    k += 1
    with results:
        st.header("Differential", anchor=False)
        st.caption(SENTENCE)
        st.markdown("**Most likely:** 1. " + CONDITIONS[0] + " **62%** · 2. " + CONDITIONS[1] + " **20%**")
        diff = [{"label": c, "probability": 0.6 - 0.06 * i, "prior": 0.1, "shown": f"{60 - 6 * i}%",
                 "role": "plan" if i == 0 else "other"} for i, c in enumerate(CONDITIONS)]
        st.vega_lite_chart(pa.Table.from_pylist(diff), differential_spec(), width="stretch")
        st.caption(SENTENCE)
        st.header("Why", anchor=False)
        st.selectbox("Explain", CONDITIONS, key="explain")
        st.markdown(SENTENCE)
        contrib = [{"finding": FINDINGS[i], "effect": 0.9 - 0.2 * i, "direction": "for" if i < 5 else "against",
                    "recorded": "present", "lr_kind": "LR+", "lr": 2.0, "provenance": "clinical estimate",
                    "reference": "Reference 2020"} for i in range(8)]
        st.vega_lite_chart(pa.Table.from_pylist(contrib), contribution_spec(), width="stretch")
        st.caption(SENTENCE)
        with st.expander("Likelihood ratios and their references"):
            st.dataframe(pd.DataFrame(contrib), hide_index=True, width="stretch")
        st.header("Next best questions", anchor=False)
        st.caption(SENTENCE)
        st.markdown("\n".join(f"- **{FINDINGS[i]}**  \n  _{CONDITIONS[0]}_ (62% now): if positive → 80%" for i in range(5)))
        st.header("Plan — acute phase", anchor=False)
        st.caption(SENTENCE)
        cols = st.columns(2)
        for i in range(13):
            with cols[i % 2], st.container(border=True):
                st.markdown(f"**Topic {i}** &nbsp; :blue-badge[Only in some situations] :orange-badge[DRAFT]")
                st.markdown(SENTENCE * 2)
                st.caption(SENTENCE)
                st.button("Compare sources", key=f"compare{i}", type="tertiary")
        # The follow-up section as a new patient sees it: outcome entry, the record download and the uploader.
        st.subheader("Outcome measures and progress", anchor=False)
        d, n, t, m = st.columns([1.1, 1, 1, 1], vertical_alignment="bottom")
        d.date_input("Visit date", value=None, key="visit_date")
        n.number_input("Pain now", min_value=0, max_value=10, value=None, key="nprs", help=SENTENCE)
        t.metric("LEFS total", "—", help=SENTENCE)
        m.metric("PSFS mean", "—", help=SENTENCE)
        st.segmented_control("Enter item by item", ["LEFS items (0 of 20 answered)", "PSFS activities (0 of up to 5 rated)"],
                             key="panel")  # closed, as for a new patient: the item controls are drawn only when opened
        st.caption(SENTENCE * 3)
        up, down = st.columns([2.2, 1], vertical_alignment="top")
        down.download_button("Visit record (FHIR)", lambda: SENTENCE * 20, file_name="visit.json", on_click="ignore")
        up.file_uploader("Earlier visit records", type=["json"], accept_multiple_files=True, key="upload", help=SENTENCE)
with beside:
    st.header("Sources on this topic", anchor=False)
    st.selectbox("Topic in focus", [f"Topic {i}" for i in range(13)], key="focus")
    st.markdown("**Topic 0**")
    topic_view(SENTENCE, rows=12, quotes=10, boxed_rows=5)
