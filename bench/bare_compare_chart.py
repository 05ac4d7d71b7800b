"""The bare Compare sources twin's matrix, in a module as the page's is (ui/compare_view.py): a template
built once per process with the page's encodings (tooltips, legend, scales, label expressions) on generic
fields, and static rows built once per set of filters and then looked up, as the page keeps its rows with
the knowledge."""

from __future__ import annotations

import altair as alt
import pyarrow as pa
import streamlit as st

from ui.charts import spec_template  # the same template path as the pages

STANCES = ["recommend", "conditional", "neutral", "advise_against", "mixed", "silent"]
COLOURS = ["#1a9850", "#91cf60", "#bdbdbd", "#d73027", "#7b3294", "#f7f7f7"]
KINDS = ["direct", "conditional", "scope", "none"]
_TABLES: dict[tuple, pa.Table] = {}


@st.cache_resource
def matrix_spec() -> dict:
    """The static spec, built once per process as the page's matrix_template is; rows are passed per rerun."""
    pick = alt.selection_point(name="cell", fields=["topic", "voice"], on="click", clear="dblclick")
    pick_glyph = alt.selection_point(name="glyph", fields=["topic", "voice"], on="click", clear="dblclick")
    x = alt.X("voice_label:N", sort=None, title="a column title of some length",
              axis=alt.Axis(orient="top", labelAngle=0, labelOverlap=False, labelLimit=200, labelExpr="split(datum.label, ' (')"))
    y = alt.Y("topic_label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    tooltip = [alt.Tooltip(f"{name}:N", title=name) for name in ("topic_label", "voice_label", "stance_words", "sources")]
    tooltip += [alt.Tooltip("claims:Q", title="claims"), alt.Tooltip("quote:N", title="quote"),
                alt.Tooltip("conflict:N", title="conflict")]
    legend_words = " : ".join(f"datum.label == '{s}' ? '{s.replace('_', ' ')}'" for s in STANCES) + " : datum.label"
    cells = alt.Chart().mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("stance:N", title="stance", scale=alt.Scale(domain=STANCES, range=COLOURS),
                        legend=alt.Legend(orient="bottom", columns=3, labelExpr=legend_words)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)), tooltip=tooltip,
    ).transform_filter("datum.kind == 'cell'").add_params(pick)
    conflict = alt.Chart().mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y, color=alt.Color("conflict:N", title="conflict", scale=alt.Scale(domain=KINDS, range=COLOURS[:4]), legend=None),
        tooltip=[alt.Tooltip("topic_label:N", title="topic"), alt.Tooltip("stance_words:N", title="conflict")],
    ).transform_filter("datum.kind == 'conflict'")
    glyphs = alt.Chart().mark_text(fontSize=15, fontWeight="bold").encode(x=x, y=y, text="glyph:N", tooltip=tooltip
                                                                          ).add_params(pick_glyph)
    chart = alt.layer(cells, conflict, glyphs).resolve_scale(color="independent")
    return spec_template(chart.properties(height=alt.Step(34)))


def matrix_data(topics: list[str], voices: list[str], filters: tuple) -> pa.Table:
    """The chart's rows for one set of filters: built once, then looked up."""
    if filters not in _TABLES:
        quote = "A sentence from the article, cut to ninety characters for the tooltip of its cell in the ma…"
        rows = [{"kind": "cell", "topic": t, "topic_label": t, "voice": v, "voice_label": v, "stance": STANCES[(i + j) % 6],
                 "stance_words": "recommended", "glyph": "+−·"[(i + j) % 3], "claims": 2, "sources": v, "quote": quote,
                 "conflict": "direct"} for i, t in enumerate(topics) for j, v in enumerate(voices)]
        rows += [{"kind": "conflict", "topic": t, "topic_label": t, "voice": "conflict", "voice_label": "conflict", "stance": "",
                  "stance_words": "no conflict", "glyph": "", "claims": 0, "sources": "", "quote": "",
                  "conflict": KINDS[i % 4]} for i, t in enumerate(topics)]
        _TABLES[filters] = pa.Table.from_pylist(rows)
    return _TABLES[filters]
