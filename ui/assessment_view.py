"""The sections of the assessment page. Each takes the knowledge base and the engine's result and draws.

No clinical logic here: the engine decides (hipguide.assessment / plan), `ui.assessment_data` arranges,
these functions only lay out. Knowledge text is Markdown-escaped; nothing is rendered as HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hipguide import bodymap
from hipguide.assessment import Assessment
from hipguide.exports import clinical_note, md_escape
from hipguide.knowledge import KnowledgeBase
from hipguide.models import PHASES
from hipguide.pdf import clinical_note_pdf, handout_pdf
from hipguide.plan import WITHHELD_HEADING
from ui import charts
from ui.assessment_data import (
    ABSENT,
    PRESENT,
    caution_line,
    contribution_rows,
    differential_rows,
    explain_summary,
    finding_controls,
    finding_tab_title,
    leading_line,
    next_question_lines,
    none_fits_text,
    plan_badges,
    plan_caption,
    recorded_summary,
    red_flag_screen,
    triage_banner,
    withheld_lines,
)
from ui.assessment_state import (
    AGE_KEY,
    EXPLAIN_KEY,
    FINDING_TAB_KEY,
    LEADING,
    PAIN_DRAWING_KEY,
    PHASE_KEY,
    SEX_KEY,
    body_map_key,
    control_changed,
    finding_key,
    new_patient,
    on_body_map_click,
    show_recorded,
)
from ui.follow_up import note_context
from ui.layout import JUMP_LINKS_KEY
from ui.topic_view import render_topic

PHASE_WORDS = {"acute": "Acute", "recovery": "Recovery", "prevention": "Prevention"}
# Plain words: an emoji in an option label costs Streamlit a regex per option on every rerun.
OPTION_WORDS = {PRESENT: "Yes", ABSENT: "No"}
SEX_WORDS = {"female": "Female", "male": "Male"}
FOCUS_TOPIC_KEY = "ui.focus_topic"
WHY_TABLE_KEY = "ui.why_table_open"
COMPARE_PICK_KEY = "ui.compare_pick"


# --- top of the page ----------------------------------------------------------------------------

def render_triage(kb: KnowledgeBase, result: Assessment) -> None:
    banner = triage_banner(kb, result)
    icon = {"error": ":material/emergency:", "warning": ":material/warning:", "success": ":material/check_circle:",
            "info": ":material/info:"}[banner.kind]
    getattr(st, banner.kind)(banner.text, icon=icon)


def render_toolbar(kb: KnowledgeBase, result: Assessment) -> None:
    # One wrapping row: on a tablet in portrait the buttons flow onto a second line instead of squeezing.
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="hg_toolbar"):
        st.segmented_control("Phase", PHASES, default="acute", required=True, key=PHASE_KEY,
                             format_func=PHASE_WORDS.__getitem__, persist_state="session",
                             help="Changes the self-care plan: acute (sore / overloaded now), recovery "
                                  "(settling, returning to activity), prevention (pain-free).")
        st.number_input("Age", min_value=0, max_value=120, value=None, step=1, key=AGE_KEY,
                        placeholder="years", persist_state="session", width=150,
                        help="Sets the age band of each condition's pre-test probability (not recorded: all-ages "
                             "priors). Some red-flag checks depend on the age; until it is recorded they are listed "
                             "as not assessed.")
        st.segmented_control("Sex", list(SEX_WORDS), key=SEX_KEY, format_func=SEX_WORDS.__getitem__,
                             persist_state="session", help="Optional; used where a check or a prior depends on it.")
        # The Markdown note is made with the page (a fraction of a millisecond): Streamlit 1.67 keeps a file made
        # on click unmapped, so when two other sessions finish a run between the click and the browser's request
        # it is already gone (HTTP 404 under load). The PDFs take 60-160 ms to make, so they are still made when
        # clicked, for this session only, from this rerun's result (what the page shows).
        st.download_button("Clinical note", clinical_note(kb, result, *note_context()),
                           file_name="hipguide-clinical-note.md",
                           mime="text/markdown", icon=":material/description:", on_click="ignore",
                           help="The findings, triage, differential with its basis, and the plan (Markdown, for "
                                "pasting into the record).")
        st.download_button("Clinical note PDF", lambda: clinical_note_pdf(kb, result, *note_context()),
                           file_name="hipguide-clinical-note.pdf", mime="application/pdf",
                           icon=":material/picture_as_pdf:", on_click="ignore", help="The same note, printable.")
        st.download_button("Patient handout", lambda: handout_pdf(kb, result, *note_context()), file_name="hipguide-patient-handout.pdf",
                           mime="application/pdf", icon=":material/print:", on_click="ignore",
                           help="The self-care plan in plain words: what to do, what to avoid, when to seek care, "
                                "and what it is based on (PDF, to print or send).")
        st.button("New patient", icon=":material/restart_alt:", on_click=new_patient, type="primary",
                  help="Clear every finding, the phase, the age and the sex for this session.")


def render_jump_links() -> None:
    """On a tablet the comparison sits below the assessment: these links keep every part one tap away."""
    with st.container(key=JUMP_LINKS_KEY):
        st.markdown("Go to: [Differential](#differential) · [Plan](#plan) · "
                    "[What the sources say](#what-the-sources-say)")


# --- inputs -------------------------------------------------------------------------------------

def render_body_map(kb: KnowledgeBase, result: Assessment) -> None:
    present, absent = set(result.case.findings), set(result.case.absent)
    overlay_for = bodymap.likely_conditions(result.differential)
    rows = bodymap.region_rows(kb, present, bodymap.referral_overlay(kb, overlay_for), absent)
    key = body_map_key()
    spec = charts.body_map_spec(kb.file_hashes.get("body_map.yaml", ""), kb)
    st.vega_lite_chart(charts.chart_data(rows), spec, key=key, on_select=on_body_map_click(kb, key),
                       selection_mode=[charts.BODY_MAP_SELECTION], width="stretch",
                       alt="Body map: the whole body from behind, from the side and from the front. "
                           "Click a region to mark pain there.")
    with_muscles = [c for c in overlay_for if kb.conditions[c].muscles]
    text = ("Ask the patient to point: tap a region to mark or clear pain there (**dark blue outline ●** = pain "
            "marked; either side of the body marks the same place). ")
    if with_muscles:
        names = ", ".join(md_escape(kb.conditions[c].label) for c in with_muscles)
        text += (f"Trigger-point referral zones of the muscles of {names}: **dark orange** = main zone, "
                 "**light orange** = spillover (Travell & Simons). A hypothesis from the pain drawing, not a test.")
    else:
        text += "Referral zones are shaded once a condition with a myofascial pattern becomes likely."
    st.caption(text)
    st.checkbox("Pain drawing complete", key=PAIN_DRAWING_KEY,
                help="Tick when the patient has marked every place that hurts: every unmarked region then counts "
                     "as checked and absent. Until then an unmarked region is not assessed.")
    if result.case.pain_drawing_complete:
        unmarked = [kb.findings[f].label for f in bodymap.mapped_location_findings(kb) if f in absent]
        if unmarked:
            st.caption("Counted as absent (not marked): " + md_escape(", ".join(unmarked)) + ".")


def render_findings(kb: KnowledgeBase, result: Assessment, state: dict) -> None:
    """The findings by tab; `state` is the snapshot of the session this rerun started from."""
    groups = finding_controls(kb)
    present, absent = set(result.case.findings), set(result.case.absent)
    st.caption("Each finding is **present** (Yes), **absent** (No: checked and negative) or, until you click, "
               "**not assessed**, which never counts as negative. Click a selected option again to clear it. "
               "Hover the ? for how to test and what counts as positive.")
    st.markdown(red_flag_screen(kb, result))
    st.caption(recorded_summary(kb, result))
    cautions = result.cautions
    # Only the open tab's controls are drawn: a click then redraws one group, not all 91 controls. Every
    # answer lives in the session's record of findings (ui.assessment_state), which a tab's controls show.
    tabs = st.tabs([finding_tab_title(group, title) for group, title, _ in groups], key=FINDING_TAB_KEY,
                   on_change="rerun")
    for tab, (_group, _title, controls) in zip(tabs, groups, strict=True):
        if not tab.open:
            continue
        show_recorded([c.id for c in controls], state)
        with tab:
            n_yes = sum(c.id in present for c in controls)
            n_no = sum(c.id in absent for c in controls)
            st.caption(f"{n_yes} present · {n_no} absent · {len(controls) - n_yes - n_no} not assessed")
            columns = st.columns(2, gap="small")
            for i, control in enumerate(controls):
                with columns[i % 2]:
                    if control.id in cautions:
                        st.warning(caution_line(kb, cautions[control.id]), icon=":material/do_not_touch:")
                    st.segmented_control(control.label, [PRESENT, ABSENT], key=finding_key(control.id),
                                         format_func=OPTION_WORDS.__getitem__, help=control.help,
                                         on_change=control_changed, args=(control.id,))


# --- results ------------------------------------------------------------------------------------

def render_differential(kb: KnowledgeBase, result: Assessment) -> None:
    st.header("Differential", anchor="differential")
    # The notes on age, sex and how much the findings support: one caption, not one element each.
    notes = [*result.notes, *([result.sufficiency_note] if result.sufficient and not result.none_fits else [])]
    if notes:
        st.caption("  \n".join(md_escape(note) for note in notes))
    rows = differential_rows(kb, result)
    if result.none_fits:
        # Instead of a ranking of conditions that do not fit: say so, and what to examine or refer for.
        st.warning(none_fits_text(kb, result), icon=":material/travel_explore:")
        ranking = st.expander("The ranking anyway (no condition fits well)")
    else:
        if not result.sufficient:
            st.info(f"**Not enough to rank yet.** {md_escape(result.sufficiency_note)}", icon=":material/help:")
        ranking = st.container()
    with ranking:
        st.markdown(leading_line(kb, result))
        st.vega_lite_chart(charts.chart_data(rows), charts.differential_spec(), width="stretch",
                           alt="Post-test probability per condition, most likely first, with the pre-test probability marked.")
        st.caption("Bar: post-test probability (dark blue: the condition(s) the plan is built for); black tick: pre-test "
                   "probability for this age and sex. Each condition is its own hypothesis (they can coexist), so the "
                   "bars do not add up to 100%. Shown within 1–97%: the studies behind the ratios cannot support more.")


@st.fragment
def render_why(kb: KnowledgeBase, result: Assessment) -> None:
    """Why each condition sits where it does: the contributions of the recorded findings, for and against.

    A fragment: choosing another condition to explain, or opening the table, redraws this section only."""
    st.header("Why", anchor=False)
    leader = result.differential[0].condition
    options = [LEADING, *[r.condition for r in result.differential]]
    choice = st.selectbox("Explain", options, key=EXPLAIN_KEY,
                          format_func=lambda cid: "The most likely condition" if cid == LEADING else kb.conditions[cid].label)
    chosen = leader if choice in (None, LEADING) else choice
    r = next(x for x in result.differential if x.condition == chosen)
    st.markdown(explain_summary(kb, r))
    rows = contribution_rows(kb, r)
    if not rows:
        return
    st.vega_lite_chart(charts.chart_data(rows), charts.contribution_spec(), width="stretch",
                       alt=f"Effect of each recorded finding on {kb.conditions[chosen].label}, for and against.")
    st.caption("Blue: raises the odds; orange: lowers them; grey: not counted, because a stronger finding of the "
               "same kind (its dependence group) or a combined rule already counted that evidence. Solid: published "
               "likelihood ratio; faded: clinical estimate. The counted effects add up to the change from pre-test "
               "to post-test log-odds.")
    # Drawn only while open: the table is for checking a number, not for every click.
    details = st.expander("Likelihood ratios, grouping and references", key=WHY_TABLE_KEY, on_change="rerun")
    if not details.open:
        return
    with details:
        table = pd.DataFrame(rows)[["finding", "recorded", "counted", "group", "lr_kind", "lr", "effect", "provenance",
                                    "reference"]]
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "finding": st.column_config.TextColumn("Finding"),
            "recorded": st.column_config.TextColumn("Recorded"),
            "counted": st.column_config.TextColumn("Counted?", width="medium"),
            "group": st.column_config.TextColumn("Dependence group"),
            "lr_kind": st.column_config.TextColumn("Ratio"),
            "lr": st.column_config.NumberColumn("LR", format="%.2f"),
            "effect": st.column_config.NumberColumn("Log-odds counted", format="%+.2f"),
            "provenance": st.column_config.TextColumn("Basis"),
            "reference": st.column_config.TextColumn("Reference or reason", width="large"),
        })


def render_next_questions(kb: KnowledgeBase, result: Assessment) -> None:
    st.header("Next best questions", anchor=False)
    lines = next_question_lines(kb, result)
    if not lines:
        st.caption("No unasked question would move the leading conditions noticeably.")
        return
    st.caption("Not yet assessed, and most informative for the leading conditions:")
    st.markdown("\n".join(lines))


def render_plan(kb: KnowledgeBase, result: Assessment) -> None:
    phase = result.case.phase
    st.header(f"Plan — {phase} phase", anchor="plan")
    if result.plan_withheld:
        st.error(f"**Plan withheld.** {md_escape(result.plan_withheld)}", icon=":material/block:")
        return
    conditions = ", ".join(md_escape(kb.conditions[c].label) for c in result.plan_conditions if c in kb.conditions)
    if conditions:
        st.caption(f"Adopted guidance for {conditions}, {phase} phase. Change the phase above to see how the advice changes.")
    for note in result.plan_notes:
        st.info(md_escape(note), icon=":material/info:")
    if result.withheld:
        st.warning(f"**{WITHHELD_HEADING}:**\n" + "\n".join(withheld_lines(result)),
                   icon=":material/block:")
    if not result.plan:
        if not result.plan_notes:
            st.info("No adopted guidance applies to these conditions yet.")
        return
    # One control for all the cards, not a button on each (fewer elements to redraw per click): one tap
    # brings a topic's sources into focus in "What the sources say".
    comparable = {item.topic: item for item in result.plan if item.conflict or item.sources}
    if comparable:
        st.selectbox("Compare the sources on", list(comparable), index=None, key=COMPARE_PICK_KEY,
                     on_change=_focus_picked_topic, placeholder="Choose one of the plan's topics…",
                     format_func=lambda t: ("⚡ " if comparable[t].conflict else "") + comparable[t].label,
                     help="Shows what each source says on this topic, verbatim, under “What the sources say”. "
                          "⚡ marks a topic on which the sources disagree.")
    columns = st.columns(2, gap="small")
    for i, item in enumerate(result.plan):
        with columns[i % 2], st.container(border=True):
            # One Markdown block per card (the small print in it, small): fewer elements to redraw per click.
            small = [f"Replaced by the safety rule “{md_escape(item.safety_override)}”." if item.safety_override else "",
                     f"Why this differs: {md_escape(item.override_reason)}" if item.override_reason else "",
                     *(f"Needs review: {md_escape(reason)}" for reason in item.needs_review), plan_caption(kb, item)]
            st.markdown(f"**{md_escape(item.label)}** &nbsp; {plan_badges(item)}\n\n{md_escape(item.advice)}\n\n"
                        + "\n\n".join(f":small[{line}]" for line in small if line))


def _focus_picked_topic() -> None:
    """Callback of "Compare the sources on": that topic comes into focus; the pick itself is not kept."""
    picked = st.session_state.get(COMPARE_PICK_KEY)
    if picked:
        st.session_state[FOCUS_TOPIC_KEY] = picked
    st.session_state[COMPARE_PICK_KEY] = None


# --- beside the assessment ----------------------------------------------------------------------

@st.fragment
def render_comparison(kb: KnowledgeBase, plan_topics: list[str]) -> None:
    """What the sources say on the topic in focus: one of the plan's topics, chosen by the clinician.

    A fragment: picking a topic or opening its details redraws this column only."""
    st.header("What the sources say", anchor="what-the-sources-say")
    topics = plan_topics or list(kb.topics)
    if st.session_state.get(FOCUS_TOPIC_KEY) not in topics:
        st.session_state.pop(FOCUS_TOPIC_KEY, None)
    topic = st.selectbox("Topic in focus", topics, key=FOCUS_TOPIC_KEY,
                         format_func=lambda t: kb.topics[t].label if t in kb.topics else t,
                         help="The plan's topics; the full comparison is on the Compare sources page.")
    if topic:
        render_topic(kb, topic, compact=True)

