"""The editor's coverage panel: every source sentence that reads as advice and no claim covers, and the
sentences an editor marked "not advice" with the reason.

Self-contained: the editor page calls `render_coverage_panel(kb)`. Source and editor text is escaped.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hipguide.coverage import CoverageReport, coverage
from hipguide.exports import md_escape
from hipguide.knowledge import KnowledgeBase


def coverage_report(kb: KnowledgeBase) -> CoverageReport:
    """The report, worked out once per knowledge base (knowledge only, never patient data)."""
    return kb.derived(("coverage_report",), lambda: coverage(kb))


def coverage_tab_label(kb: KnowledgeBase) -> str:
    return f"Source coverage ({len(coverage_report(kb).uncovered)} uncovered)"


def render_coverage_panel(kb: KnowledgeBase) -> None:
    report = coverage_report(kb)
    st.markdown("### Advice in the sources that no claim captures")
    st.caption(
        f"{report.advice_sentences} sentence(s) of the sources read as advice: {len(report.covered)} covered by a "
        f"claim, {len(report.not_advice)} marked not advice, {len(report.uncovered)} uncovered. A sentence reads "
        "as advice when it tells the reader what to do or avoid, or says what helps; the test is generous, so a "
        "sentence it wrongly takes for advice is marked “not advice” with a reason in knowledge/not_advice.yaml.")
    if report.uncovered:
        st.warning(f"{len(report.uncovered)} sentence(s) read as advice and no claim covers them: tag each one as "
                   "a claim (under “Tag a claim”), or mark it not advice with a reason.", icon="⚠️")
        st.dataframe(pd.DataFrame([{"source": r.source, "line": r.line, "sentence": r.sentence}
                                   for r in report.uncovered]),
                     hide_index=True, width="stretch", key="coverage_uncovered")
    else:
        st.success("Every sentence that reads as advice is covered by a claim or marked not advice.", icon="✅")
    with st.expander(f"Marked not advice ({len(report.not_advice)})", expanded=False):
        if report.not_advice:
            st.markdown("\n".join(f"- `{r.source}` line {r.line}: {md_escape(r.sentence)}  \n"
                                  f"  _Reason: {md_escape(r.reason or '')}_" for r in report.not_advice))
        else:
            st.caption("No sentence is marked not advice.")
    if report.stale_marks:
        st.caption("Marks that no longer match an uncovered advice sentence (a claim now covers it, or the text "
                   "changed): " + "; ".join(f"`{s}`: {md_escape(t[:80])}" for s, t in report.stale_marks))
