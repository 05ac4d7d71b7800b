"""Static labels shared by the bare twin pages and the benchmark that drives them."""

from __future__ import annotations

TABS = ["Red flags", "History", "Location", "Aggravators", "Nerve signs", "Exam", "Risk"]
PER_TAB = [16, 18, 11, 11, 2, 32, 1]  # 91 findings, as on the assessment page
TAB_KEY = "finding_tab"  # stateful tabs, as on the page: only the open tab's controls are drawn
FINDINGS = [f"Finding {i}: a clinical sign or symptom label" for i in range(sum(PER_TAB))]


def tab_of(index: int) -> str:
    """The tab that holds finding `index`."""
    total = 0
    for tab, n in zip(TABS, PER_TAB, strict=True):
        total += n
        if index < total:
            return tab
    raise IndexError(index)


CONDITIONS = [f"Condition {i}: a differential diagnosis with a long label" for i in range(18)]


def as_knowledge():
    """The bare page's findings and conditions in the shape the session driver reads (label, group)."""
    from types import SimpleNamespace

    findings = {f"f{k}": SimpleNamespace(label=label, group=tab_of(k)) for k, label in enumerate(FINDINGS)}
    conditions = {f"c{i}": SimpleNamespace(label=label) for i, label in enumerate(CONDITIONS)}
    return SimpleNamespace(findings=findings, conditions=conditions)


def page_links() -> None:
    """The sidebar's three page links, as every HipGuide page draws them. A twin has no other pages, and
    links to a page need the app's own page list, so these point at a local address instead."""
    import streamlit as st

    with st.sidebar:
        for label, icon in (("Assessment", ":material/stethoscope:"), ("Compare sources", ":material/compare_arrows:"),
                            ("Editor", ":material/edit_note:")):
            st.page_link("http://localhost:8501/", label=label, icon=icon)


def topic_view(text: str, rows: int, quotes: int, boxed_rows: int) -> None:
    """The bare twin of ui.topic_view.render_topic: the same element kinds, static text, no logic.

    `boxed_rows` of the guidance rows sit in a container of their own, as the page's compact view nests them.
    """
    import contextlib

    import streamlit as st

    st.caption(text)
    st.warning("**Sources disagree — direct conflict.** " + text, icon="⚡")
    for i in range(rows):
        with st.container() if i < boxed_rows else contextlib.nullcontext():
            st.markdown(text)
            st.caption(text)
    with st.expander("Rationale and dispositions"):
        st.markdown(text * 4)
    with st.expander("What the sources say"):
        for _ in range(quotes):
            st.markdown("> " + text)
            st.caption(text)


def first_of_tab(tab_index: int) -> int:
    """The index of the first finding in a tab."""
    return sum(PER_TAB[:tab_index])
