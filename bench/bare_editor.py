"""Bare twin of the Editor page (signed in, editing ice's guidance) for the benchmark: the same kinds and
counts of elements as the page with ice's acute stance as saved (24 selectboxes, 18 text inputs, 13 text
areas, 2 condition-specific overrides, tabs, a form; the preview and its dataframes while a stance differs
from the saved one), static data, no logic. Run: streamlit run bench/bare_editor.py"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from bare_data import page_links

st.set_page_config(page_title="Bare editor", layout="wide")
page_links()

STANCES = ["recommend", "conditional", "advise_against", "neutral"]
TEXT = ("Ice is not recommended as a treatment for deep buttock or hip muscle pain: a cold pack cannot cool muscles this "
        "deep, and there is no good evidence that it speeds recovery. ")

st.title("Editor (bare)")
st.caption(TEXT)
left, right = st.columns([5, 1])
left.success("Signed in as editor **Bench**. Every save is recorded under this name.", icon="✏️")
right.button("Sign out", key="signout")
tabs = st.tabs(["Adopted guidance", "Add a source", "Tag a claim", "Needs review (0)", "History"])
with tabs[0]:
    st.selectbox("Topic", [f"Topic {i}" for i in range(13)], key="ed_topic")
    with st.expander("Current adopted guidance and the sources (as on disk)"):
        for i in range(14):
            st.markdown(TEXT)
            st.caption(TEXT)
            if i < 12:
                st.caption(TEXT)
    st.markdown("##### Editing version 1 → 2")
    for phase, column in zip(["Acute", "Recovery", "Prevention"], st.columns(3), strict=True):
        with column:
            st.selectbox(f"{phase}: stance", STANCES, key=f"{phase}_stance")
            st.text_area(f"{phase}: advice in plain words", TEXT, key=f"{phase}_advice", height=110)
    a, b, c = st.columns(3)
    a.selectbox("Strength", ["strong", "conditional", "practice_statement"], key="strength")
    b.selectbox("Certainty", ["high", "moderate", "low", "very_low", "not_graded"], key="certainty")
    c.multiselect("Applies to (none = all conditions)", [f"Condition {i}" for i in range(9)], key="applies_to")
    st.markdown("##### Condition-specific advice")
    st.caption(TEXT)
    for i in range(2):  # ice has two condition-specific overrides
        with st.container(border=True):
            top, remove = st.columns([4, 1], vertical_alignment="bottom")
            top.multiselect(f"Override {i + 1}: for these conditions", [f"Condition {k}" for k in range(9)],
                            default=[f"Condition {i}"], key=f"ov{i}_conditions")
            remove.checkbox("Remove", key=f"ov{i}_remove", help=TEXT)
            for phase, column in zip(["Acute", "Recovery", "Prevention"], st.columns(3), strict=True):
                with column:
                    st.selectbox(f"{phase}: stance", ["same", *STANCES], key=f"ov{i}_{phase}_stance")
                    st.text_area(f"{phase}: advice", TEXT if phase == "Acute" else "", key=f"ov{i}_{phase}_advice", height=100)
            st.text_input("Why these conditions need different advice", TEXT[:90], key=f"ov{i}_reason")
    st.button("Add condition-specific advice", key="ov_add", icon=":material/add:")
    st.text_area("Rationale", TEXT * 6, key="rationale", height=140)
    st.markdown("##### Disposition of each conflicting claim")
    for i in range(6):
        with st.container(border=True):
            st.markdown(f"`claim_{i}` — source, **advise against**  \n> {TEXT}")
            x, y = st.columns([1, 3])
            x.selectbox("Disposition", ["accepted", "rejected", "accepted_with_modification"], key=f"disp{i}")
            y.text_input("Reason", TEXT[:80], key=f"reason{i}")
    s1, s2, s3 = st.columns([1, 1, 2])
    s1.radio("Status", ["draft", "approved"], key="status", horizontal=True)
    s2.text_input("Approver (required to approve)", key="approver")
    s3.text_input("Change note (for the audit trail)", key="note")
    if st.session_state.get("Acute_stance", "advise_against") != "advise_against":  # a change, previewed as on the page
        with st.expander("Preview: 1 field(s) change", expanded=True):
            st.dataframe(pd.DataFrame([{"field": "phases.acute.stance", "before": "advise_against", "after": "neutral"}]),
                         hide_index=True, width="stretch")
            st.markdown("**Impact on the worked cases:** the plan changes in 5 of 22 shipped vignettes.")
            st.dataframe(pd.DataFrame([{"vignette": f"v{i}", "title": TEXT[:60], "stance now": "against",
                                        "stance after": "neutral", "advice now": TEXT, "advice after": TEXT} for i in range(5)]),
                         hide_index=True, width="stretch")
    st.button("💾 Save decision", key="save", type="primary")
    st.divider()
    st.subheader("Unsaved input and other versions", anchor=False)
    st.warning(TEXT, icon="⚠️")
    for title in ("What changed since this version", "The sources behind this decision"):
        with st.expander(title):
            st.markdown(TEXT)
    for _ in range(3):
        with st.container(border=True):
            st.markdown(TEXT)
    for _ in range(5):
        st.markdown(TEXT)
with tabs[1], st.form("add_source_form"):
    a, b = st.columns(2)
    for i in range(3):
        a.text_input(f"Field a{i}", key=f"src_a{i}")
        b.text_input(f"Field b{i}", key=f"src_b{i}")
    a.selectbox("Kind", ["consumer_health", "practitioner_blog"], key="src_kind")
    b.selectbox("Same article as", ["", "source_0"], key="src_dup")
    st.text_area("Credibility flags", key="src_flags")
    st.text_area("Source text (verbatim)", key="src_text")
    st.form_submit_button("Add source", type="primary")
with tabs[2]:
    st.selectbox("Source", [f"source_{i}" for i in range(5)], key="tag_source")
    st.text_area("Quote", key="tag_quote")
    a, b, c = st.columns(3)
    a.selectbox("Topic", [f"Topic {i}" for i in range(13)], key="tag_topic")
    b.selectbox("Stance", STANCES, key="tag_stance")
    c.multiselect("Phases", ["acute", "recovery", "prevention"], key="tag_phases")
    d, e, f = st.columns(3)
    d.selectbox("Target structure", ["general", "deep rotators"], key="tag_target")
    e.text_input("Population", key="tag_population")
    f.text_input("Note", key="tag_note")
    st.button("Add claim", key="tag_save", type="primary")
with tabs[3]:
    st.success("Nothing needs review.")
with tabs[4]:
    st.markdown("##### Audit trail (append-only; newest first)")
    st.caption("No edits recorded yet.")
st.caption(TEXT)
