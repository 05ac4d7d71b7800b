"""Bare twin of the Compare sources page for the benchmark: the same kinds and counts of elements (a
clickable topic x source matrix, claims in bordered cards by stance, the guidance HipGuide uses, source
cards), static data, no logic. As on the page, the chart's template and rows come from a module
(bare_compare_chart.py), the rows built once per set of filters, and folded text (a source's full text,
the rationale, the voices' cards beside the guidance) is drawn only while open. "Topic 0" is drawn as
the page draws ice (two stances), "Topic 1" as heat (three).
Run: streamlit run bench/bare_compare.py"""

from __future__ import annotations

import streamlit as st
from bare_compare_chart import matrix_data, matrix_spec
from bare_data import page_links

st.set_page_config(page_title="Bare compare", layout="wide")
page_links()

TOPICS = [f"Topic {i}: a self-care question" for i in range(15)]
VOICES = [f"source_{i}" for i in range(4)]
SOURCES = [*VOICES, "source_4"]
PARAGRAPH = ("Applying ice to the affected area for 15-20 minutes every few hours can help reduce inflammation and relieve "
             "pain. Wrap the ice pack in a thin towel to protect the skin, and rest from the activity that hurts. ")
# Claims per stance column: Topic 1 as heat (recommend, conditional, against), the others as ice.
CLAIMS = {TOPICS[1]: (3, 1, 2)}
ICE_CLAIMS = (4, 2)


def text(n: int) -> str:
    """Synthetic text of about `n` characters."""
    return (PARAGRAPH * (n // len(PARAGRAPH) + 1))[:n]


def folded(label: str, key: str) -> tuple[st.delta_generator.DeltaGenerator, bool]:
    box = st.expander(label, key=key, on_change="rerun")
    return box, bool(box.open)


st.title("⚖️ Compare sources (bare)")
st.caption(text(213))
with st.sidebar:
    st.header("Filters")
    conflicts_only = st.toggle("Conflicts only", key="f_conflicts")
    phase = st.selectbox("Phase", ["all", "acute", "recovery", "prevention"], key="f_phase")
    chosen = st.multiselect("Sources", SOURCES, default=SOURCES, key="f_sources")
st.header("Topic × source matrix", anchor=False)
st.vega_lite_chart(matrix_data(TOPICS, VOICES, (conflicts_only, phase, tuple(chosen))), matrix_spec(), key="matrix", on_select="rerun",
                   selection_mode=["cell", "glyph"], width="stretch")
st.caption(text(399))
# As the page does: the topic a matrix click picked goes into the selectbox's state first.
st.session_state["last_cell"] = (None, None)
st.session_state["topic_pick"] = st.session_state.get("topic_pick", TOPICS[0])
topic = st.selectbox("Topic", TOPICS, key="topic_pick")
n = TOPICS.index(topic)


def about(length: int) -> str:
    """Text of about `length` characters that differs from topic to topic, as each topic's claims and guidance do
    (the browser redraws what changed, and skips the rest)."""
    return f"({n}) " + text(length - 4)


STANCE_HEADERS = ("### ✅ Recommended", "### 🟡 Only in some situations", "### ⛔ Not recommended")
left, right = st.columns([3, 2], gap="large")
with left:
    st.header("What each source says, in context", anchor=False)
    groups = CLAIMS.get(topic, ICE_CLAIMS)
    headers = STANCE_HEADERS if len(groups) == 3 else (STANCE_HEADERS[0], STANCE_HEADERS[2])
    for c, (column, n_claims, header) in enumerate(zip(st.columns(len(groups)), groups, headers, strict=True)):
        with column:
            st.markdown(header)
            for j in range(n_claims):
                # As between ice and heat on the page: the first column's first card is the same source with another
                # quote, its second is the same claim, the rest differ.
                same_source, same_claim = (c, j) == (0, 0), (c, j) == (0, 1)
                with st.container(border=True):
                    st.markdown(f"**An article title ({0 if same_source or same_claim else n})**  \n`source_1`")
                    st.markdown(f":orange-background[**{text(120)}**]{text(200)}" if same_claim
                                else f":orange-background[**{about(120)}**]{about(200)}")
                    st.caption(text(147) if same_source or same_claim else about(147))
                    st.caption(text(75) if same_claim else about(75))
with right:
    st.header("Guidance HipGuide uses", anchor=False)
    st.markdown(f"**{topic}**")
    st.caption(about(80))
    st.warning("**Sources disagree — direct conflict**. " + about(200), icon="⚡")
    st.markdown("**For: 2 independent voices**\n- `source_1` — " + text(250) + "\n**Against: 1 independent voice**\n- "
                + text(250))
    # The adopted guidance in one block, as the compact view draws it: badge, small print, phases, overrides.
    st.markdown("**Adopted guidance (what HipGuide uses)**\n\n:orange-badge[📝 DRAFT — not yet approved]\n\n"
                f":small[{about(90)}]\n\n"
                + "\n".join(f"- **{p}**: ⛔ Not recommended — {text(180)}" for p in ("acute", "recovery", "prevention"))
                + "\n\n:small[Applies to: all conditions]\n\n"
                + "\n\n".join(f"**For a condition:** {text(250)}\n\n" + "\n".join(f"- **{p}**: {text(150)}"
                                                                                 for p in ("acute", "recovery"))
                                for _ in range(2)))  # two condition-specific overrides
    box, shown = folded("Rationale and dispositions", "ui.topic.rationale_open")
    if shown:
        with box:
            st.markdown(text(1400))
    box, shown = folded("What the sources say", "ui.topic.claims_open")
    if shown:
        with box:
            st.markdown(text(500))
st.divider()
st.header("Source cards", anchor=False)
st.caption(text(152))
shown_sources = [s for s in SOURCES if s in chosen]
for i in range(0, len(shown_sources), 2):  # the source cards, two to a row
    for sid, column in zip(shown_sources[i:i + 2], st.columns(2), strict=False):
        with column, st.container(border=True, key=f"card_{sid}"):
            st.markdown("### An article title about hip pain and self-care")
            st.caption("`source` · publisher · consumer health · no named author · undated")
            if sid == "source_1":
                st.info("Same article as `source_0`: its claims count as one voice with it.", icon="🔁")
            st.markdown("\n".join(f"- ⚠ **Criterion {k}**: {text(120)}\n    - _{text(150)}_" for k in range(7)))
            st.caption(text(114))
            box, open_ = folded("Full text (as stored)", f"full_text_{sid}")
            if open_:
                with box:
                    st.markdown("\n\n".join([PARAGRAPH * 3] * 12))
st.caption(text(184))
