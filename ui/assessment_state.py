"""The patient in front of the clinician, as this browser session holds it.

Everything about the patient lives in `st.session_state` under keys starting with `pt.`, and nowhere
else: not in a global cache, a module global, a log or a file. "New patient" deletes those keys.

The findings recorded live in one dict (RECORDED_KEY): the one record every control writes to. A finding's
control (`pt.f.<finding>`) is drawn only while its tab is open, shows what the record holds and writes
its clicks back into it; the controls of closed tabs are not kept, so the session holds a handful of
keys rather than one per finding (Streamlit looks through all of them for every selectbox drawn).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from hipguide import bodymap
from hipguide.knowledge import KnowledgeBase
from ui.assessment_data import ABSENT, PRESENT, case_from_states, finding_tabs
from ui.formats import selected_regions

PATIENT_PREFIX = "pt."
FINDING_PREFIX = "pt.f."
RECORDED_KEY = "pt.recorded_findings"  # {finding id: "present" | "absent"}; a finding not in it is not assessed
PHASE_KEY = "pt.phase"
AGE_KEY = "pt.age"
SEX_KEY = "pt.sex"
EXPLAIN_KEY = "pt.explain"
MAP_NONCE_KEY = "pt.map_nonce"
PAIN_DRAWING_KEY = "pt.pain_drawing_complete"
SKIPPED_KEY = "pt.interview.skipped"   # findings the clinician passed over in the interview (not assessed)
FOCUS_KEY = "pt.interview.focus"       # a finding the clinician jumped to
JUMP_KEY = "pt.interview.jump"
FINDING_TAB_KEY = "ui.finding_tab"    # the open tab of findings (only its controls are drawn); not about the patient
MAP_CHART_PREFIX = "pt.map."  # the body map's selection state (read-only; a new key replaces it)
LEADING = "__leading__"       # the "explain" choice that follows the top of the differential


def finding_key(finding_id: str) -> str:
    return FINDING_PREFIX + finding_id


def recorded(state: dict | None = None) -> dict[str, str]:
    """The findings recorded so far: {finding id: "present" | "absent"} (from a snapshot, if given)."""
    found = (st.session_state if state is None else state).get(RECORDED_KEY)
    return found if found is not None else {}


def finding_states(kb: KnowledgeBase, state: dict | None = None) -> dict[str, str | None]:
    """Each known finding's state: "present", "absent" or None (not assessed)."""
    answers = recorded(state)
    return {fid: answers.get(fid) for fid in kb.findings}


def current_case(kb: KnowledgeBase, state: dict | None = None) -> dict:
    """The case the page assesses, from a snapshot of the session's state (taken here if not given)."""
    state = st.session_state.to_dict() if state is None else state
    case = case_from_states(finding_states(kb, state), state.get(PHASE_KEY), state.get(AGE_KEY), state.get(SEX_KEY))
    if state.get(PAIN_DRAWING_KEY):
        case["pain_drawing_complete"] = True  # the engine applies the rule (hipguide.bodymap.apply_pain_drawing)
    return case


def record_finding(finding_id: str, state: str | None) -> None:
    """Record a finding as present, absent or (None) not assessed. Its control, if drawn, shows the record
    on the next rerun (show_recorded)."""
    answers = dict(recorded())
    if state is None:
        answers.pop(finding_id, None)
    else:
        answers[finding_id] = state
    st.session_state[RECORDED_KEY] = answers


def control_changed(finding_id: str) -> None:
    """Callback of a finding's control: the clinician's click goes into the record."""
    record_finding(finding_id, st.session_state.get(finding_key(finding_id)))


def show_recorded(finding_ids: list[str], state: dict) -> None:
    """Before a tab's controls are drawn: each shows what the record holds, whether the tab was just opened or
    the record changed elsewhere (the interview, the body map)."""
    answers = recorded(state)
    for fid in finding_ids:
        key = finding_key(fid)
        if state.get(key) != answers.get(fid):
            st.session_state[key] = answers.get(fid)


def answer(finding_id: str, state: str | None) -> None:
    """Callback of the interview's Yes / No / Skip: record the answer (None = skip, left not assessed)."""
    if state is None:
        skipped = list(st.session_state.get(SKIPPED_KEY, []))
        st.session_state[SKIPPED_KEY] = [*skipped, finding_id]
    else:
        record_finding(finding_id, state)
    st.session_state.pop(FOCUS_KEY, None)


def jump_to_finding(kb: KnowledgeBase) -> None:
    """Callback of "jump to a finding": ask that finding next, whatever its rank."""
    chosen = st.session_state.get(JUMP_KEY)
    if chosen:
        st.session_state[FOCUS_KEY] = chosen
        st.session_state[FINDING_TAB_KEY] = finding_tab(kb, chosen)  # its control comes into view too
    st.session_state[JUMP_KEY] = None


def new_patient() -> None:
    """Forget everything about the current patient (callback of the "New patient" button).

    Widgets are set back to their defaults rather than deleted: a deleted key of a widget that keeps its
    value across pages could be restored from what the browser still shows.
    """
    from ui import follow_up  # outcome measures and uploaded visit records

    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(PATIENT_PREFIX)]:
        if follow_up.forget(key):
            continue
        if key.startswith(FINDING_PREFIX) or key in (AGE_KEY, SEX_KEY, JUMP_KEY):
            st.session_state[key] = None
        elif key == PAIN_DRAWING_KEY:
            st.session_state[key] = False
        elif key == PHASE_KEY:
            st.session_state[key] = "acute"
        elif key == EXPLAIN_KEY:
            st.session_state[key] = LEADING
        elif key == MAP_NONCE_KEY:
            st.session_state[key] = st.session_state[key] + 1  # a fresh body map, without the last click
        elif not key.startswith(MAP_CHART_PREFIX):
            del st.session_state[key]


def finding_tab(kb: KnowledgeBase, finding_id: str) -> str:
    """The title of the tab that holds a finding's control."""
    return finding_tabs(kb)[finding_id]


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
        after = bodymap.toggle_regions(kb, selected_regions(selection), present)
        for fid in after - present:
            record_finding(fid, PRESENT)  # also turns "absent" into present
        for fid in present - after:
            record_finding(fid, None)
        if selected_regions(selection):
            st.session_state[MAP_NONCE_KEY] = st.session_state.get(MAP_NONCE_KEY, 0) + 1

    return handle


__all__ = ["ABSENT", "PRESENT"]
