"""The guided interview: one question at a time, answerable in place (Yes / No / Skip).

The engine picks the question (hipguide.interview: the red-flag screen first, then the next best
question, re-ranked after every answer); this module only lays it out. The buttons keep their keys
from question to question, so keyboard focus stays on them and Enter answers the next one too.
"""

from __future__ import annotations

import streamlit as st

from hipguide.assessment import Assessment
from hipguide.exports import md_escape
from hipguide.interview import RED_FLAG_SCREEN, STAGE_WORDS, interview_step
from hipguide.knowledge import KnowledgeBase
from ui.assessment_data import ABSENT, GROUP_TITLES, PRESENT, caution_line, label_escape, question_effects
from ui.assessment_state import FOCUS_KEY, JUMP_KEY, SKIPPED_KEY, answer, jump_to_finding


def render_interview(kb: KnowledgeBase, result: Assessment) -> None:
    step = interview_step(kb, result, st.session_state.get(SKIPPED_KEY, []), st.session_state.get(FOCUS_KEY))
    with st.container(border=True, key="hg_interview"):
        st.header("Guided interview", anchor=False)
        progress = f"{step.answered} of {step.total} findings recorded"
        if step.red_flags_open:
            progress += f" · red-flag screen: {step.red_flags_open} question(s) not yet answered"
        else:
            progress += " · red-flag screen complete"
        st.caption(progress)
        if step.finding is None:
            st.success("Every finding has been recorded. Review the differential and the plan.", icon=":material/task_alt:")
        else:
            finding = kb.findings[step.finding]
            stage = STAGE_WORDS[step.stage]
            group = GROUP_TITLES.get(finding.group, finding.group)
            # The question with its stage above it, then how to test: one Markdown block each, so an answer
            # redraws few elements.
            st.markdown(f":{'red' if step.stage == RED_FLAG_SCREEN else 'blue'}-badge[{stage}] "
                        f":gray-badge[{md_escape(group)}]\n### {label_escape(finding.label)}")
            caution = result.cautions.get(step.finding)
            if caution is not None:
                st.warning(caution_line(kb, caution), icon=":material/warning:")
            how = [f"**How:** {md_escape(finding.how_to)}" if finding.how_to else "",
                   f"**Positive if:** {md_escape(finding.positive_if)}" if finding.positive_if else ""]
            if any(how):
                st.markdown("\n\n".join(line for line in how if line))
            recorded = ("present" if step.finding in result.case.findings
                        else "absent" if step.finding in result.case.absent else None)
            if recorded:
                st.caption(f"Recorded now: **{recorded}**. Answer again to change it.")
            if step.question is not None and step.question.if_present:
                st.caption("  \n".join(question_effects(kb, result, step.question)))
            with st.container(horizontal=True, key="hg_interview_answers"):
                # Stable keys: the same buttons, whatever the question, so focus survives the rerun.
                st.button("Yes", key="ui.interview.yes", type="primary", icon=":material/check:",
                          on_click=answer, args=(step.finding, PRESENT), help="Present")
                st.button("No", key="ui.interview.no", icon=":material/close:",
                          on_click=answer, args=(step.finding, ABSENT), help="Checked and absent")
                st.button("Skip", key="ui.interview.skip", icon=":material/skip_next:", type="tertiary",
                          on_click=answer, args=(step.finding, None), help="Leave it not assessed and ask it later")
        labels = {fid: f"{GROUP_TITLES.get(f.group, f.group)}: {f.label}" for fid, f in kb.findings.items()}
        st.selectbox("Jump to any finding", list(kb.findings), index=None, key=JUMP_KEY, on_change=jump_to_finding, args=(kb,),
                     format_func=labels.__getitem__, placeholder="Type to search the findings…",
                     help="Ask this finding next; the interview then carries on from the best question.")
