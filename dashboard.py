"""HipGuide — the assessment (landing page).

Findings in, engine out: red-flag triage on top, the guided interview, then the differential with its
reasons, the next best questions and the self-care plan, with what the sources say on the topic in focus
beside it (below it on a tablet: ui.layout).
Everything about the patient stays in this session's `st.session_state` (see ui.assessment_state).
"""

from __future__ import annotations

import streamlit as st

from hipguide.assessment import AssessmentError, assess
from hipguide.exports import md_escape
from ui import assessment_view as view
from ui import follow_up
from ui.assessment_state import current_case
from ui.common import disclaimer, knowledge_or_stop, page_nav
from ui.interview_view import render_interview
from ui.layout import CONSULTATION_KEY, WORK_KEY, page_style

# The sidebar holds only the list of pages: it starts collapsed (one tap away), so the consultation
# gets the whole width of a tablet.
st.set_page_config(page_title="HipGuide — Assessment", page_icon="🦴", layout="wide", initial_sidebar_state="collapsed")
page_nav()
page_style()

kb = knowledge_or_stop()
try:
    state = st.session_state.to_dict()  # one snapshot for the findings and the outcome measures
    result = assess(kb, follow_up.with_outcomes(current_case(kb, state), state))
except AssessmentError as exc:  # only if the knowledge changed under a session's recorded findings
    st.error(f"The recorded findings no longer match the knowledge base: {md_escape(str(exc))}. Start a new patient.")
    st.stop()

st.title("Buttock & hip pain assessment", anchor=False)
disclaimer()
view.render_triage(kb, result)  # red flags always sit above everything else
view.render_toolbar(kb, result)
view.render_jump_links()

with st.container(key=CONSULTATION_KEY):
    assessment, beside = st.columns([2.7, 1], gap="medium")
with assessment:
    with st.container(key=WORK_KEY):
        inputs, results = st.columns([1.1, 1], gap="medium")
    with inputs:
        render_interview(kb, result)
        st.header("Findings", anchor=False)
        view.render_body_map(kb, result)
        view.render_findings(kb, result, state)
    with results:
        view.render_differential(kb, result)
        view.render_why(kb, result)
        view.render_next_questions(kb, result)
    view.render_plan(kb, result)
    follow_up.render_follow_up(kb, result)
with beside:
    view.render_comparison(kb, [item.topic for item in result.plan])
