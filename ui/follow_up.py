"""Follow-up visits on the assessment page: outcome measures in, the FHIR visit record out, earlier records in.

One self-contained section (`render_follow_up`), plus `with_outcomes` for the case the page assesses and
`note_context` for the note and handout. The engine decides and words everything (hipguide.outcomes,
hipguide.fhir, hipguide.visits); this module lays it out.

Privacy: the outcome widgets and the records a clinician uploads live in this session's
`st.session_state` (keys under `pt.`) and nowhere else. An upload is read from memory, never written to
disk; "New patient" forgets it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from hipguide.assessment import Assessment
from hipguide.exports import md_escape
from hipguide.fhir import MAX_RECORD_BYTES, RecordError, bundle_json, read_visit_record
from hipguide.knowledge import KnowledgeBase
from hipguide.models import LEFS_ITEMS, PSFS_MAX_ACTIVITIES, Outcomes
from hipguide.outcomes import BAND_EXPLANATION, mcid_line, number, progress, trend_rows
from hipguide.visits import VisitRecord, findings_timeline, ordered, record_summary
from ui.assessment_data import label_escape
from ui.charts import spec_template

OUTCOME_PREFIX = "pt.o."
NPRS_KEY = "pt.o.nprs"
PANEL_KEY = "pt.o.panel"               # which item-by-item panel is open (LEFS or PSFS), if any
VISIT_DATE_KEY = "pt.o.visit_date"
RECORDS_KEY = "pt.records"            # file id -> VisitRecord or the reason it was refused (this session only)
UPLOAD_NONCE_KEY = "pt.upload_nonce"
UPLOAD_PREFIX = "pt.upload."           # the uploader's own state (a new key replaces it)
SECTION_KEY = "ui.follow_up_open"      # whether the follow-up section is open (drawn only then)
VERDICT_COLOUR = {"improved": "green", "worse": "red", "no_important_change": "gray"}
BAND_COLOUR, LINE_COLOUR = "#b2f2bb", "#1c6fb0"


def lefs_key(i: int) -> str:
    return f"{OUTCOME_PREFIX}lefs.{i:02d}"


def psfs_name_key(i: int) -> str:
    return f"{OUTCOME_PREFIX}psfs.name.{i}"


def psfs_score_key(i: int) -> str:
    return f"{OUTCOME_PREFIX}psfs.score.{i}"


# --- state ----------------------------------------------------------------------------------------

def visit_date() -> dt.date:
    return st.session_state.get(VISIT_DATE_KEY) or dt.date.today()


def outcome_entries(state: dict[str, Any]) -> dict[str, Any]:
    """The case's `outcomes` from the widgets' values: only what was entered (LEFS once all 20 items are)."""
    out: dict[str, Any] = {}
    if state.get(NPRS_KEY) is not None:
        out["nprs"] = int(state[NPRS_KEY])
    items = [state.get(lefs_key(i)) for i in range(1, LEFS_ITEMS + 1)]
    if all(v is not None for v in items):
        out["lefs_items"] = [int(v) for v in items]
    rows = [(str(state.get(psfs_name_key(i)) or "").strip(), state.get(psfs_score_key(i))) for i in range(1, PSFS_MAX_ACTIVITIES + 1)]
    rated = [(name, int(score)) for name, score in rows if score is not None]
    if rated:
        out["psfs"] = [score for _, score in rated]
        if any(name for name, _ in rated):
            out["psfs_activities"] = [name for name, _ in rated]
    return out


def with_outcomes(case: dict[str, Any], state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page's case with this visit's outcome measures added (when any were entered)."""
    entries = outcome_entries(st.session_state.to_dict() if state is None else state)
    return {**case, "outcomes": entries} if entries else case


def earlier_records() -> list[VisitRecord]:
    """The earlier visits uploaded in this session and read successfully, oldest first."""
    return ordered([r for r in st.session_state.get(RECORDS_KEY, {}).values() if isinstance(r, VisitRecord)])


def note_context() -> tuple[list[VisitRecord], dt.date]:
    """What the note and the handout need beyond the result: the earlier visits and this visit's date."""
    return earlier_records(), visit_date()


def forget(key: str) -> bool:
    """Part of "New patient": reset one of this section's keys. True when the key was this section's."""
    if key.startswith(OUTCOME_PREFIX):
        st.session_state[key] = None  # widgets keep their place, empty (see ui.assessment_state.new_patient)
    elif key == UPLOAD_NONCE_KEY:
        st.session_state[key] += 1    # a fresh, empty uploader
    elif key.startswith(UPLOAD_PREFIX):
        pass                          # the old uploader's state: dropped with its widget on the next run
    elif key == RECORDS_KEY:
        del st.session_state[key]
    else:
        return False
    return True


def _receive(kb: KnowledgeBase, files: list[Any]) -> list[tuple[str, str]]:
    """Read each uploaded file once (kept by file id, for this session only); (file name, problem) for refusals."""
    known: dict[str, VisitRecord | str] = st.session_state.get(RECORDS_KEY, {})
    current: dict[str, VisitRecord | str] = {}
    for f in files:
        if f.file_id in known:
            current[f.file_id] = known[f.file_id]
        elif f.size > MAX_RECORD_BYTES:
            current[f.file_id] = f"too large ({f.size:,} bytes); a visit record is at most {MAX_RECORD_BYTES:,} bytes"
        else:
            try:
                current[f.file_id] = read_visit_record(kb, f.getvalue())
            except RecordError as exc:
                current[f.file_id] = str(exc)
    st.session_state[RECORDS_KEY] = current  # files removed from the uploader are forgotten
    names = {f.file_id: f.name for f in files}
    return [(names[fid], v) for fid, v in current.items() if isinstance(v, str)]


# --- charts ---------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def trend_spec(short: str, lo: int, hi: int, better: str) -> dict[str, Any]:
    """One outcome measure over the visits, with the MCID band around the first visit (a template: no rows)."""
    # One place per visit, in date order: a time axis would label days on which no visit happened.
    x = alt.X("visit:N", title=None, sort=alt.EncodingSortField("date", op="min"), axis=alt.Axis(labelAngle=0),
              scale=alt.Scale(padding=0.5))
    y = alt.Y("score:Q", title=f"{short} ({better} is better)", scale=alt.Scale(domain=[lo, hi]))
    base = alt.Chart()
    band = base.mark_rect(color=BAND_COLOUR, opacity=0.55).encode(
        y=alt.Y("band_lo:Q", scale=alt.Scale(domain=[lo, hi])), y2="band_hi:Q",
        tooltip=[alt.Tooltip("band_text:N", title="No important change")],
        description=alt.Description("band_aria:N"),
    ).transform_filter("datum.baseline")
    line = base.mark_line(color=LINE_COLOUR, aria=False).encode(x=x, y=y)
    points = base.mark_point(color=LINE_COLOUR, filled=True, size=70).encode(
        x=x, y=y, description=alt.Description("aria:N"),
        tooltip=[alt.Tooltip("visit:N", title="Visit"), alt.Tooltip("shown:N", title=short)],
    )
    labels = base.mark_text(dy=-12, color="#343a40", aria=False).encode(x=x, y=y, text="shown:N")
    return spec_template(alt.layer(band, line, points, labels).properties(height=190, title=short))


# --- the section ----------------------------------------------------------------------------------

def render_follow_up(kb: KnowledgeBase, result: Assessment) -> None:
    """Outcome measures, the visit record to download, and earlier visits uploaded for comparison."""
    st.subheader("Outcome measures and progress", anchor=False)
    if not kb.outcome_measures:
        st.caption("This knowledge base defines no outcome measures.")
        return
    # Drawn when opened (a first visit rarely needs it, and a click on a finding then redraws less). It stays
    # open while this visit holds outcome measures or earlier records, so the uploader keeps its files.
    if result.case.outcomes or st.session_state.get(RECORDS_KEY):
        st.session_state[SECTION_KEY] = True
    section = st.expander("Follow-up visit: outcome measures, the visit record, earlier visits", key=SECTION_KEY,
                          on_change="rerun", icon=":material/trending_up:")
    if not section.open:
        return
    with section:
        _render_entry(kb, result)
        _render_record_exchange(kb, result)
        _render_history(kb, result)


def _render_entry(kb: KnowledgeBase, result: Assessment) -> None:
    measures = kb.outcome_measures
    outcomes: Outcomes | None = result.case.outcomes
    date_col, nprs_col, lefs_col, psfs_col = st.columns([1.1, 1, 1, 1], vertical_alignment="bottom")
    with date_col:
        st.date_input("Visit date", value=None, key=VISIT_DATE_KEY, format="DD/MM/YYYY", persist_state="session",
                      help="The date written into the visit record (today when left empty).")
    if "nprs" in measures:
        m = measures["nprs"]
        with nprs_col:
            st.number_input(label_escape(m.label), min_value=m.min, max_value=m.max, step=m.step, value=None,
                            key=NPRS_KEY, placeholder=f"{m.min}–{m.max}", persist_state="session", help=md_escape(m.question))
    with lefs_col:
        answered = sum(st.session_state.get(lefs_key(i)) is not None for i in range(1, LEFS_ITEMS + 1))
        total = outcomes.lefs if outcomes and outcomes.lefs is not None else None
        st.metric("LEFS total", f"{total}/80" if total is not None else "—",
                  help=f"{answered} of {LEFS_ITEMS} items answered; the total appears when all are.")
    with psfs_col:
        mean = outcomes.psfs_mean if outcomes else None
        st.metric("PSFS mean", f"{number(mean)}/10" if mean is not None else "—",
                  help="The mean of the activities rated.")
    # One panel at a time, and only when asked for: the 30 item controls are not redrawn on every rerun
    # (their values stay in the session while the panel is closed).
    rated = len(outcomes.psfs) if outcomes and outcomes.psfs else 0
    panels = {"lefs": f"LEFS items ({answered} of {LEFS_ITEMS} answered)",
              "psfs": f"PSFS activities ({rated} of up to {PSFS_MAX_ACTIVITIES} rated)"}
    panel = st.segmented_control("Enter item by item", [p for p in panels if p in measures], key=PANEL_KEY,
                                 format_func=panels.__getitem__, persist_state="session")
    if panel == "lefs":
        m = measures["lefs"]
        with st.container(border=True):
            st.caption(f"**{label_escape(m.label)}.** " + md_escape(m.question) + "  \n"
                       + " · ".join(f"**{s.score}** {md_escape(s.label)}" for s in m.item_scale))
            columns = st.columns(2, gap="small")
            for i, item in enumerate(m.items, start=1):
                with columns[(i - 1) % 2]:
                    st.segmented_control(f"{i}. {label_escape(item)}", [s.score for s in m.item_scale], key=lefs_key(i),
                                         persist_state="session")
    elif panel == "psfs":
        m = measures["psfs"]
        with st.container(border=True):
            st.caption(f"**{label_escape(m.label)}.** " + md_escape(m.question) + "  \n"
                       + " · ".join(f"**{s.score}** {md_escape(s.label)}" for s in m.item_scale))
            for i in range(1, PSFS_MAX_ACTIVITIES + 1):
                name_col, score_col = st.columns([3, 1], vertical_alignment="bottom")
                with name_col:
                    st.text_input(f"Activity {i}", key=psfs_name_key(i), max_chars=80, persist_state="session",
                                  placeholder="in the patient's words")
                with score_col:
                    st.number_input(f"Score {i}", min_value=m.min, max_value=m.max, step=m.step, value=None,
                                    key=psfs_score_key(i), placeholder=f"{m.min}–{m.max}", persist_state="session")
    st.caption("  \n".join(f"**{md_escape(m.short)}**: {md_escape(mcid_line(m))}" for m in measures.values()))


def _render_record_exchange(kb: KnowledgeBase, result: Assessment) -> None:
    upload_col, download_col = st.columns([2.2, 1], vertical_alignment="top")
    with download_col:
        day = visit_date()
        # Built when clicked, in memory, for this session only (like the note and the handout).
        st.download_button("Visit record (FHIR)", lambda: bundle_json(kb, result, day),
                           file_name=f"hipguide-visit-{day.isoformat()}.json", mime="application/fhir+json",
                           icon=":material/download:", on_click="ignore", key="ui.fhir_download",
                           help="This visit as a FHIR R4 Bundle (JSON) for the clinic's record system: findings "
                                "present and absent, outcome measures, triage and differential. No name or identifier.")
    with upload_col:
        nonce = st.session_state.setdefault(UPLOAD_NONCE_KEY, 0)
        files = st.file_uploader("Earlier visit records (FHIR JSON from HipGuide)", type=["json"], accept_multiple_files=True,
                                 key=f"{UPLOAD_PREFIX}{nonce}",
                                 help="Read in this browser session only: nothing is stored on the server. "
                                      "New patient forgets them.")
        for name, problem in _receive(kb, list(files or [])):
            st.error(f"**{md_escape(name)}** was not read: {md_escape(problem)}.", icon=":material/error:")


def _render_history(kb: KnowledgeBase, result: Assessment) -> None:
    records = earlier_records()
    if not records:
        return
    today = visit_date()
    st.markdown("**Earlier visits**")
    st.markdown("\n".join(f"- **{md_escape(r.date.strftime('%-d %b %Y'))}**: {md_escape(record_summary(kb, r))}" for r in records))
    changes = progress(kb, [r.visit for r in records], (today, result.case.outcomes))
    lines = []
    for changes_of in changes.values():
        for change in changes_of.values():
            colour = VERDICT_COLOUR[change.verdict]
            lines.append(f"- :{colour}[{md_escape(change.statement)}]")
    if lines:
        st.markdown("\n".join(lines))
    elif any(r.outcomes and r.outcomes.recorded for r in records):
        st.caption("Enter today's outcome measures to see the change since the earlier visits.")
    trends = trend_rows(kb, [*(r.visit for r in records), (today, result.case.outcomes)], today)
    if trends:
        columns = st.columns(len(trends), gap="small")
        for column, (mid, rows) in zip(columns, trends.items(), strict=True):
            m = kb.outcome_measures[mid]
            with column:
                st.vega_lite_chart(pd.DataFrame(rows), trend_spec(m.short, m.min, m.max, m.better), width="stretch",
                                   alt=f"{m.short} at each visit, with the band of no clinically important change around the first visit.")
        st.caption(BAND_EXPLANATION)
    columns, rows = findings_timeline(kb, records, result.case, today)
    if rows:
        st.markdown("**Findings at each visit**")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
            "finding": st.column_config.TextColumn("Finding", width="large"),
            "changed": st.column_config.CheckboxColumn("Changed"),
            **{c: st.column_config.TextColumn(c) for c in columns},
        })
