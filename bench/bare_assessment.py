"""Bare twin of the assessment page for the benchmark: the same kinds and counts of elements, drawn the
same way, filled with static data and no logic. Run: streamlit run bench/bare_assessment.py

As the page does: the layout's style block; the guided interview with its three buttons and a 91-option
jump list; 7 tabs of findings of which only the open one's two-option controls are drawn (stateful tabs),
each with a callback; 3 Vega-Lite charts from cached specs (the body map with three body outlines and 36
regions); the "why" section and the comparison column as fragments, their details in expanders drawn only
while open; 15 plan cards; the follow-up section's outcome entry and uploader. What a click changes on the
page changes here too (the body map's and the differential's rows, the counts, the note, the order of the
conditions), moved by the number of findings ticked: a browser redraws only what changed."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st
from bare_data import CONDITIONS, FINDINGS, PER_TAB, TAB_KEY, TABS, page_links

from ui import charts
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


# The page's own cached specs for the differential and the why (pure templates, no knowledge needed), fed
# rows with the page's columns: the same serialisation per rerun.
differential_spec, contribution_spec = charts.differential_spec, charts.contribution_spec
REFERENCE = "Author et al. 2020: a cohort study of the test against a reference standard in a clinical population"


PLAN_CARDS = 15


def nothing(*_args) -> None:
    """A callback with no work, where the page has one."""


@st.fragment
def why(ticked: int) -> None:
    st.header("Why", anchor=False)
    # The conditions in ranked order, which a click can change, as on the page.
    st.selectbox("Explain", CONDITIONS[ticked % 2:] + CONDITIONS[:ticked % 2], key="explain", format_func=str.strip)
    st.markdown(SENTENCE)
    contrib = [{"order": i, "caption": f"{FINDINGS[i]} (present) — LR+ 2.5, clinical estimate", "lim_lo": -1.0,
                "lim_hi": 1.0, "finding": FINDINGS[i], "recorded": "Present", "direction": "for" if i < 5 else "against",
                "effect": 0.9 - 0.2 * i, "shown_effect": 0.9 - 0.2 * i, "lr": 2.5, "lr_kind": "LR+",
                "provenance": "clinical estimate", "counted": "Counted", "group": "—", "reference": REFERENCE}
               for i in range(8)]
    st.vega_lite_chart(charts.chart_data(contrib), contribution_spec(), width="stretch")
    st.caption(SENTENCE)
    details = st.expander("Likelihood ratios and their references", key="why_table", on_change="rerun")
    if details.open:
        with details:
            st.dataframe(pd.DataFrame(contrib), hide_index=True, width="stretch")


@st.fragment
def sources() -> None:
    """The compact topic view beside the assessment, as ui.topic_view draws it with compact=True."""
    st.header("What the sources say", anchor=False)
    st.selectbox("Topic in focus", [f"Topic {i}" for i in range(PLAN_CARDS)], key="focus", format_func=str.strip,
                 help=SENTENCE)
    st.markdown("**Topic 0**")
    st.caption(SENTENCE)
    st.warning("**Sources disagree — direct conflict.** " + SENTENCE, icon="⚡")
    st.markdown("**For: 2 independent voices**\n- `source_a` — " + SENTENCE + "\n**Against: 1**\n- `source_b` — " + SENTENCE)
    st.markdown("**Adopted guidance (what HipGuide uses)**\n\n:orange-badge[📝 DRAFT — not yet approved]\n\n"
                f":small[{SENTENCE}]\n\n" + "\n".join(f"- **phase {i}**: ⛔ Not recommended — {SENTENCE}" for i in range(3))
                + "\n\n:small[Applies to: all conditions]\n\n"
                + "\n\n".join(f"**For condition {i}:** {SENTENCE}\n\n- **acute**: {SENTENCE}" for i in range(2)))
    for key, label in (("rationale", "Rationale and dispositions"), ("claims", "What the sources say")):
        box = st.expander(label, key=key, on_change="rerun")
        if box.open:
            with box:
                st.markdown(SENTENCE * 4)


# What a click changes, the page redraws: the twin's results move with the findings ticked (one snapshot of the
# session, as the page reads its own), so the same elements change per click on both (the bench checks it).
ticked = sum(v == "present" for k, v in st.session_state.to_dict().items() if isinstance(k, str) and k.startswith("f"))
st.title("Buttock & hip pain assessment (bare)", anchor=False)
st.caption(SENTENCE)
st.info("**Triage: ROUTINE** — Physiotherapy management. No red flag recorded so far.", icon=":material/check_circle:")
with st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="toolbar"):
    # The page's widget arguments too (formatting, persisted state, icons, help, callbacks): the same work
    # for Streamlit per element.
    st.segmented_control("Phase", ["acute", "recovery", "prevention"], default="acute", required=True, key="phase",
                         format_func=str.capitalize, persist_state="session", help=SENTENCE)
    st.number_input("Age", min_value=0, max_value=120, value=None, step=1, key="age", placeholder="years",
                    persist_state="session", width=150, help=SENTENCE)
    st.segmented_control("Sex", ["female", "male"], key="sex", format_func=str.capitalize, persist_state="session",
                         help=SENTENCE)
    st.download_button("Clinical note", SENTENCE * 30 + f"{ticked} findings present", file_name="note.md", mime="text/markdown",  # made with the page
                       icon=":material/description:", on_click="ignore", help=SENTENCE)
    st.download_button("Clinical note PDF", lambda: SENTENCE * 20, file_name="note.pdf", mime="application/pdf",
                       icon=":material/picture_as_pdf:", on_click="ignore", help=SENTENCE)
    st.download_button("Patient handout", lambda: SENTENCE * 20, file_name="handout.pdf", mime="application/pdf",
                       icon=":material/print:", on_click="ignore", help=SENTENCE)
    st.button("New patient", type="primary", icon=":material/restart_alt:", on_click=nothing, help=SENTENCE)
with st.container(key="jump_links"):
    st.markdown("Go to: [Differential](#differential) · [Plan](#plan) · [What the sources say](#sources)")

with st.container(key="consultation"):
    main, beside = st.columns([2.7, 1], gap="medium")
with main:
    with st.container(key="work"):
        inputs, results = st.columns([1.1, 1], gap="medium")
    with inputs:
        with st.container(border=True, key="interview"):
            st.header("Guided interview", anchor=False)
            st.caption(f"{ticked} of {len(FINDINGS)} findings recorded · red-flag screen: 16 question(s) not yet answered")
            st.markdown(":red-badge[Red-flag screen] :gray-badge[Red flags]\n### " + FINDINGS[0])
            st.markdown("**How:** " + SENTENCE + "\n\n**Positive if:** " + SENTENCE)
            with st.container(horizontal=True):
                st.button("Yes", key="yes", type="primary", icon=":material/check:", on_click=nothing, args=(0,),
                          help="Present")
                st.button("No", key="no", icon=":material/close:", on_click=nothing, args=(1,), help="Checked and absent")
                st.button("Skip", key="skip", icon=":material/skip_next:", type="tertiary", on_click=nothing, args=(2,),
                          help=SENTENCE)
            st.selectbox("Jump to any finding", FINDINGS, index=None, key="jump", on_change=nothing, format_func=str.strip,
                         placeholder="Type to search the findings…", help=SENTENCE)
        st.header("Findings", anchor=False)
        rows = [{"id": f"r{i}", "label": f"Region {i}: a place on the body", "view": "Back", "finding": f"f{i}",
                 "sets": FINDINGS[i], "marked": i == 5, "pain": "Pain marked" if i == 5 else "Not marked",
                 "referral": ["essential", "spillover", "none"][i % 3], "muscles": f"the muscles of {ticked} likely conditions",
                 "cx": 10.0 + i, "cy": 20.0 + i} for i in range(36)]
        st.vega_lite_chart(charts.chart_data(rows), body_map_spec(), key="body_map", on_select=nothing,
                           selection_mode=["region_pick"], width="stretch", alt=SENTENCE)
        st.caption(SENTENCE)
        st.checkbox("Pain drawing complete", key="drawing", help=SENTENCE)
        st.caption(SENTENCE)
        st.markdown("**Red-flag screen:** 0 of 16 asked.")
        st.caption("**Present:** " + " · ".join(FINDINGS[:ticked]) + "  \n**Absent:** none")
        k = 0
        for tab, n in zip(st.tabs(TABS, key=TAB_KEY, on_change="rerun"), PER_TAB, strict=True):
            if tab.open:
                with tab:
                    st.caption(f"{ticked} present · 0 absent · {n - ticked} not assessed")
                    cols = st.columns(2)
                    for i in range(n):
                        with cols[i % 2]:
                            st.segmented_control(FINDINGS[k + i], ["present", "absent"], key=f"f{k + i}", help=SENTENCE,
                                                 format_func=str.capitalize, on_change=nothing, args=(k + i,))
            k += n
    with results:
        st.header("Differential", anchor=False)
        st.caption(SENTENCE + "  \n" + SENTENCE + "  \n" + SENTENCE)
        with st.container():
            st.markdown("**Most likely:** 1. " + CONDITIONS[0] + " **62%** · 2. " + CONDITIONS[1] + " **20%**")
            diff = [{"condition": f"c{i}", "label": c, "rank": i, "probability": 0.6 - 0.03 * i + 0.005 * ticked, "prior": 0.1,
                     "shown": f"{60 - 3 * i}%", "prior_shown": "10%", "role": "Guides the plan" if i == 0 else "Other",
                     "caption": f"{c} — {60 - 3 * i}%", "prior_basis": SENTENCE * 2} for i, c in enumerate(CONDITIONS)]
            st.vega_lite_chart(charts.chart_data(diff), differential_spec(), width="stretch")
            st.caption(SENTENCE)
        why(ticked)
        st.header("Next best questions", anchor=False)
        st.caption(SENTENCE)
        st.markdown("\n".join(f"- **{FINDINGS[i]}**  \n  _{CONDITIONS[0]}_ ({60 + ticked}% now): if positive → 80%"
                               for i in range(5)))
    st.header("Plan — acute phase", anchor=False)
    st.caption(SENTENCE)
    st.info(SENTENCE, icon=":material/info:")
    st.selectbox("Compare the sources on", [f"⚡ Topic {i}" if i % 2 else f"Topic {i}" for i in range(PLAN_CARDS)],
                 index=None, key="compare_pick", on_change=nothing, format_func=str.strip,
                 placeholder="Choose one of the plan's topics…", help=SENTENCE)
    cols = st.columns(2)
    for i in range(PLAN_CARDS):
        with cols[i % 2], st.container(border=True):
            st.markdown(f"**Topic {i}** &nbsp; :blue-badge[Only in some situations] :orange-badge[DRAFT]\n\n{SENTENCE * 2}"
                        f"\n\n:small[{SENTENCE}]")
    # The follow-up section as a new patient sees it: folded, drawn when opened.
    st.subheader("Outcome measures and progress", anchor=False)
    section = st.expander("Follow-up visit", key="follow_up", on_change="rerun", icon=":material/trending_up:")
    if section.open:
        with section:
            d, n, t, m = st.columns([1.1, 1, 1, 1], vertical_alignment="bottom")
            d.date_input("Visit date", value=None, key="visit_date")
            n.number_input("Pain now", min_value=0, max_value=10, value=None, key="nprs", help=SENTENCE)
            t.metric("LEFS total", "—", help=SENTENCE)
            m.metric("PSFS mean", "—", help=SENTENCE)
            st.caption(SENTENCE * 3)
            up, down = st.columns([2.2, 1], vertical_alignment="top")
            down.download_button("Visit record (FHIR)", lambda: SENTENCE * 20, file_name="visit.json", on_click="ignore")
            up.file_uploader("Earlier visit records", type=["json"], accept_multiple_files=True, key="upload", help=SENTENCE)
with beside:
    sources()
