"""Bare twin of the Editor page (signed in, editing ice's guidance) for the benchmark: the same kinds and
counts of elements as the page, static data, no logic. As on the page, only the open tab is drawn (tabs
that rerun on a switch) and the folded guidance is drawn only while open. In the state the benchmark
drives, ice's acute stance toggles between the saved one (the preview folded: nothing changes) and
another (the preview open: the changed field and the 21 worked cases whose plan changes).
Run: streamlit run bench/bare_editor.py"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from bare_data import page_links

st.set_page_config(page_title="Bare editor", layout="wide")
page_links()

STANCES = ["recommend", "conditional", "advise_against", "neutral"]
TEXT = ("Ice is not recommended as a treatment for deep buttock or hip muscle pain: a cold pack cannot cool muscles this "
        "deep, and there is no good evidence that it speeds recovery. ")
CONDITIONS = [f"Condition {i}" for i in range(18)]
TOPICS = [f"Topic {i}" for i in range(15)]
PHASES = ["acute", "recovery", "prevention"]
DEFAULTS = {"Acute_stance": "advise_against", "Recovery_stance": "advise_against", "Prevention_stance": "neutral",
            "strength": "conditional", "certainty": "very_low"}
for name, value in DEFAULTS.items():
    st.session_state.setdefault(name, value)


def words(value: str) -> str:
    return value.replace("_", " ")


def guidance_tab() -> None:
    st.selectbox("Topic", TOPICS, key="ed_topic", persist_state="session")
    current = st.expander("Current adopted guidance and the sources", key="ed_current", on_change="rerun")
    if current.open:
        with current:
            st.markdown(TEXT)
    st.markdown("### Editing version 2 (draft) → 3 (draft)")
    for phase, column, advice in zip(PHASES, st.columns(3), (TEXT * 2, TEXT, TEXT[:55]), strict=True):
        with column:
            st.selectbox(f"{phase.capitalize()}: stance", STANCES, key=f"{phase.capitalize()}_stance", persist_state="session",
                         format_func=words)
            st.text_area(f"{phase.capitalize()}: advice in plain words", advice, key=f"{phase}_advice", persist_state="session",
                         height=110)
    a, b, c = st.columns(3)
    a.selectbox("Strength", ["strong", "conditional", "practice_statement"], key="strength", persist_state="session",
                format_func=words)
    b.selectbox("Certainty", ["high", "moderate", "low", "very_low", "not_graded"], key="certainty", persist_state="session",
                format_func=words)
    c.multiselect("Applies to (none = all conditions)", CONDITIONS, key="applies_to", persist_state="session")
    st.markdown("### Condition-specific advice")
    st.caption(TEXT + TEXT[:50])
    for i in range(2):  # ice has two condition-specific overrides
        with st.container(border=True):
            top, remove = st.columns([4, 1], vertical_alignment="bottom")
            top.multiselect(f"Override {i + 1}: for these conditions", CONDITIONS, default=[CONDITIONS[i]], key=f"ov{i}_conditions",
                            persist_state="session")
            remove.checkbox("Remove", key=f"ov{i}_remove", persist_state="session", help=TEXT)
            for phase, column in zip(PHASES, st.columns(3), strict=True):
                with column:
                    st.selectbox(f"{phase.capitalize()}: stance", ["same", *STANCES], index=2 if phase == "acute" else 0,
                                 key=f"ov{i}_{phase}_stance", persist_state="session", format_func=words)
                    st.text_area(f"{phase.capitalize()}: advice", TEXT * 2 if phase == "acute" else "", key=f"ov{i}_{phase}_advice",
                                 persist_state="session", height=100)
            st.text_input("Why these conditions need different advice", TEXT * 2, key=f"ov{i}_reason", persist_state="session")
    st.button("Add condition-specific advice", key="ov_add", icon=":material/add:")
    st.text_area("Rationale", TEXT * 10, key="rationale", persist_state="session", height=140)
    st.markdown("### Disposition of each conflicting claim, and of each claim against the adopted stance")
    for i in range(6):
        with st.container(border=True):
            st.markdown(f"`claim_{i}` — source, **advise against**  \n> {TEXT}")
            x, y = st.columns([1, 3])
            x.selectbox("Disposition", ["none", "accepted", "rejected", "accepted_with_modification"], index=2,
                        key=f"disp{i}", persist_state="session", format_func=words)
            y.text_input("Reason", TEXT, key=f"reason{i}", persist_state="session")
    st.text_input("Why you changed it (the commit message)", key="note", persist_state="session")
    changed = st.session_state["Acute_stance"] != DEFAULTS["Acute_stance"]
    with st.expander(f"Preview: {int(changed)} field(s) change", expanded=changed):
        if changed:
            st.dataframe(pd.DataFrame([{"field": "phases.acute.stance", "before": "advise_against",
                                        "after": st.session_state["Acute_stance"]}]), hide_index=True, width="stretch")
            st.markdown("**Impact on the worked cases:** the plan changes in 21 of 22 shipped vignettes.")
            st.dataframe(pd.DataFrame([{"vignette": f"vignette_{i:02d}", "title": TEXT[:50], "stance now": "advise against",
                                        "stance after": "neutral", "advice now": TEXT * 2, "advice after": TEXT * 2}
                                       for i in range(21)]), hide_index=True, width="stretch")
        else:
            st.caption("Impact on the worked cases: no plan changes in the 22 shipped vignettes.")
    st.caption(TEXT[:100])
    st.button("💾 Save decision", key="save", type="primary")
    with st.container(border=True):
        st.markdown("##### Approval (four eyes)")
        st.markdown("Saved version 2 is a **draft**, last written by **an editor**.")
        st.caption("An approver other than its last author approves it.")


st.title("✏️ Editor (bare)")
st.caption(TEXT + TEXT[:60])
left, right = st.columns([5, 1])
left.success("Signed in as editor **Bench** (bench, passphrase). Every save is a git commit with you as its author.", icon="✏️")
right.button("Sign out", key="signout")
tabs = st.tabs(["Adopted guidance", "Add a source", "Tag a claim", "Needs review (0)", "History",
                "Source coverage (0 uncovered)"], key="editor_tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        guidance_tab()
for tab in tabs[1:]:  # the other tabs are closed in the measured state: nothing of them is drawn
    if tab.open:
        with tab:
            st.caption(TEXT)
st.caption(TEXT[:180])
