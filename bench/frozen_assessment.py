"""Frozen twin of the assessment page as it was before the consultation redesign, for `make bench`.

The live page (dashboard.py) is compared with this copy of it, side by side in Chromium: the same
engine and knowledge, today's element set (all 7 finding tabs with every control, three charts, the
plan and the comparison column redrawn on each click). bench/frozen_ui/ holds verbatim copies of the
ui modules of that day (only their imports point here), so a change to ui/ never changes this twin.
The sidebar links point at a fixed address, as the bare twins' do: a twin has no other pages.
Run: streamlit run bench/frozen_assessment.py

The original docstring:

HipGuide — the assessment (landing page).

Findings in, engine out: red-flag triage on top, then the differential with its reasons, the next best
questions and the self-care plan, with what the sources say on the topic in focus beside it.
Everything about the patient stays in this session's `st.session_state` (see ui.assessment_state).
"""

from __future__ import annotations

import streamlit as st
from bare_data import page_links
from frozen_ui import assessment_view as view
from frozen_ui.assessment_state import current_case
from frozen_ui.common import disclaimer, knowledge_or_stop

from hipguide.assessment import AssessmentError, assess
from hipguide.exports import md_escape

st.set_page_config(page_title="HipGuide — Assessment", page_icon="🦴", layout="wide")
page_links()

kb = knowledge_or_stop()
try:
    result = assess(kb, current_case(kb))
except AssessmentError as exc:  # only if the knowledge changed under a session's recorded findings
    st.error(f"The recorded findings no longer match the knowledge base: {md_escape(str(exc))}. Start a new patient.")
    st.stop()

st.title("Buttock & hip pain assessment", anchor=False)
disclaimer()
view.render_triage(kb, result)  # red flags always sit above everything else
view.render_toolbar(kb, result)

assessment, beside = st.columns([2.7, 1], gap="medium")
with assessment:
    inputs, results = st.columns([1.1, 1], gap="medium")
    with inputs:
        st.subheader("Findings", anchor=False)
        view.render_body_map(kb, result)
        view.render_findings(kb, result)
    with results:
        view.render_differential(kb, result)
        view.render_why(kb, result)
        view.render_next_questions(kb, result)
    view.render_plan(kb, result)
with beside:
    view.render_comparison(kb, [item.topic for item in result.plan])
