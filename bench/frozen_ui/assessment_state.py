"""The patient in front of the clinician, as this browser session holds it.

Everything about the patient lives in `st.session_state` under keys starting with `pt.`, and nowhere
else: not in a global cache, a module global, a log or a file. "New patient" deletes those keys.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from frozen_ui.assessment_data import ABSENT, PRESENT, case_from_states
from hipguide import bodymap
from hipguide.knowledge import KnowledgeBase

PATIENT_PREFIX = "pt."
FINDING_PREFIX = "pt.f."
PHASE_KEY = "pt.phase"
AGE_KEY = "pt.age"
SEX_KEY = "pt.sex"
EXPLAIN_KEY = "pt.explain"
MAP_NONCE_KEY = "pt.map_nonce"
MAP_CHART_PREFIX = "pt.map."  # the body map's selection state (read-only; a new key replaces it)
LEADING = "__leading__"       # the "explain" choice that follows the top of the differential


def finding_key(finding_id: str) -> str:
    return FINDING_PREFIX + finding_id


def finding_states(kb: KnowledgeBase) -> dict[str, str | None]:
    """Each known finding's state: "present", "absent" or None (not assessed)."""
    # One snapshot of the session's state: a few times faster than a lookup per finding.
    state = st.session_state.to_dict()
    return {fid: state.get(finding_key(fid)) for fid in kb.findings}


def current_case(kb: KnowledgeBase) -> dict:
    return case_from_states(finding_states(kb), st.session_state.get(PHASE_KEY), st.session_state.get(AGE_KEY),
                            st.session_state.get(SEX_KEY))


def new_patient() -> None:
    """Forget everything about the current patient (callback of the "New patient" button).

    Widgets are set back to their defaults rather than deleted: a deleted key of a widget that keeps its
    value across pages could be restored from what the browser still shows.
    """
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(PATIENT_PREFIX)]:
        if key.startswith(FINDING_PREFIX) or key in (AGE_KEY, SEX_KEY):
            st.session_state[key] = None
        elif key == PHASE_KEY:
            st.session_state[key] = "acute"
        elif key == EXPLAIN_KEY:
            st.session_state[key] = LEADING
        elif key == MAP_NONCE_KEY:
            st.session_state[key] = st.session_state[key] + 1  # a fresh body map, without the last click
        elif not key.startswith(MAP_CHART_PREFIX):
            del st.session_state[key]


def body_map_key() -> str:
    # A fresh key after each handled click: the chart forgets its selection, so clicking the same
    # region again toggles it back.
    return f"{MAP_CHART_PREFIX}{st.session_state.get(MAP_NONCE_KEY, 0)}"


def on_body_map_click(kb: KnowledgeBase, chart_key: str) -> Callable[[], None]:
    """The callback for a click on the body map: toggle the clicked region's location finding."""

    def handle() -> None:
        selection = st.session_state.get(chart_key)
        states = finding_states(kb)
        present = {f for f, v in states.items() if v == PRESENT}
        after = bodymap.toggle_from_selection(kb, selection, present)
        for fid in after - present:
            st.session_state[finding_key(fid)] = PRESENT  # also turns "absent" into present
        for fid in present - after:
            st.session_state[finding_key(fid)] = None
        if bodymap.selected_regions(selection):
            st.session_state[MAP_NONCE_KEY] = st.session_state.get(MAP_NONCE_KEY, 0) + 1

    return handle


__all__ = ["ABSENT", "PRESENT"]
