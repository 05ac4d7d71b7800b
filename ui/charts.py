"""Chart templates for the assessment page.

Each template is a Vega-Lite spec built once from Altair (`.to_dict()`) and cached globally: it holds
no patient data. The page passes each patient's rows separately (`st.vega_lite_chart(rows, spec)`),
so a rerun only serialises a few rows, and nothing about a patient ever enters a global cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pyarrow as pa
import streamlit as st

from hipguide import bodymap
from hipguide.knowledge import KnowledgeBase

BODY_MAP_SELECTION = "region_pick"
COLOUR_PLAN, COLOUR_OTHER = "#1c6fb0", "#a9bfd3"
COLOUR_FOR, COLOUR_AGAINST, COLOUR_NOT_COUNTED = "#1c6fb0", "#d9480f", "#ced4da"
REFERRAL_COLOURS = {bodymap.ESSENTIAL: "#f08c00", bodymap.SPILLOVER: "#ffd8a8", bodymap.NO_REFERRAL: "#e9ecef"}
PAIN_STROKE = "#0b3d91"
BODY_MAP_HEIGHT = 480  # the whole body, tall enough for a patient to point at the buttock and groin


def chart_data(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """A chart's rows as an Arrow table, the form Streamlit sends to the browser.

    Built straight from the rows, a column at a time: a pandas DataFrame would be converted to Arrow on
    every rerun through pandas' type inference, ten times slower per chart; Arrow's own row-by-row
    builder is five times slower than handing it whole columns. A key missing from a row is null there.
    """
    keys = dict.fromkeys(key for row in rows for key in row)
    return pa.Table.from_pydict({key: [row.get(key) for row in rows] for key in keys})


def spec_template(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """A spec without its main data: the page supplies the patient's rows. Layers that carry their own
    static data (geometry, titles) keep it; layers Altair gave a placeholder inherit the page's rows."""
    spec = chart.to_dict()
    spec.pop("data", None)
    spec.pop("$schema", None)
    spec.setdefault("autosize", {"type": "fit-x", "contains": "padding"})  # stretch across, height from the rows
    datasets = spec.get("datasets", {})
    placeholders = {name for name, rows in datasets.items() if rows in ([], [{}])}
    for layer in spec.get("layer", []):
        if isinstance(layer.get("data"), dict) and layer["data"].get("name") in placeholders:
            del layer["data"]
    for name in placeholders:
        del datasets[name]
    if not datasets:
        spec.pop("datasets", None)
    return spec


# Names sit above their bars, clipped to the plot's width: long condition or finding names then never
# squeeze the bars (Vega's "fit" autosize would otherwise shrink the plot to make room for overflowing text).
_NAME_LIMIT = alt.expr("width")
_NAME_LIMIT_BESIDE_VALUE = alt.expr("width - 52")


@st.cache_resource(show_spinner=False)
def differential_spec() -> dict[str, Any]:
    """Post-test probability per condition (bar) with its pre-test probability (tick)."""
    y = alt.Y("label:N", title=None, axis=None, sort=alt.EncodingSortField("rank", op="min", order="ascending"),
              scale=alt.Scale(paddingInner=0, paddingOuter=0))
    x = alt.X("probability:Q", title=None, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%", tickCount=4, grid=True, domain=False, ticks=False, labelColor="#6c757d"))
    tooltip = [
        alt.Tooltip("label:N", title="Condition"),
        alt.Tooltip("shown:N", title="Post-test"),
        alt.Tooltip("prior_shown:N", title="Pre-test"),
        alt.Tooltip("prior_basis:N", title="Pre-test basis"),
        alt.Tooltip("role:N", title="Role"),
    ]
    base = alt.Chart().encode(y=y)
    track = base.mark_bar(height=11, yOffset=7, color="#f1f3f5", aria=False).encode(x=alt.datum(1), x2=alt.datum(0))
    bars = base.mark_bar(height=11, yOffset=7, cornerRadiusEnd=2).encode(
        x=x,
        color=alt.Color("role:N", legend=None, scale=alt.Scale(domain=["Guides the plan", "Other condition"],
                                                             range=[COLOUR_PLAN, COLOUR_OTHER])),
        tooltip=tooltip,
        description=alt.Description("caption:N"),
    )
    prior = base.mark_tick(color="#212529", thickness=2, size=17, yOffset=7, aria=False).encode(x="prior:Q", tooltip=tooltip)
    name = base.mark_text(align="left", baseline="middle", yOffset=-7, fontSize=12.5, color="#31333f",
                          limit=_NAME_LIMIT_BESIDE_VALUE, aria=False).encode(x=alt.value(0), text="label:N")
    value = base.mark_text(align="right", baseline="middle", yOffset=-7, fontSize=12.5, fontWeight="bold",
                           color="#212529", aria=False).encode(x=alt.value("width"), text="shown:N")
    chart = alt.layer(track, bars, prior, name, value).properties(height=alt.Step(40)).configure_view(stroke=None)
    return spec_template(chart)


@st.cache_resource(show_spinner=False)
def contribution_spec() -> dict[str, Any]:
    """Each recorded finding's log-odds effect on one condition: for (right of zero) or against (left)."""
    tooltip = [
        alt.Tooltip("finding:N", title="Finding"),
        alt.Tooltip("recorded:N", title="Recorded"),
        alt.Tooltip("lr_kind:N", title="Ratio used"),
        alt.Tooltip("lr:Q", title="Likelihood ratio", format=".2f"),
        alt.Tooltip("effect:Q", title="Log-odds counted", format="+.2f"),
        alt.Tooltip("counted:N", title="Counted"),
        alt.Tooltip("group:N", title="Dependence group"),
        alt.Tooltip("provenance:N", title="Basis"),
        alt.Tooltip("reference:N", title="Reference"),
    ]
    y = alt.Y("finding:N", title=None, axis=None, sort=alt.EncodingSortField("order", op="min", order="ascending"),
              scale=alt.Scale(paddingInner=0, paddingOuter=0))
    x = alt.X("shown_effect:Q", title="Effect on log-odds (← against · for →)", stack=None,
              axis=alt.Axis(grid=True, domain=False, ticks=False, labelColor="#6c757d", titleColor="#6c757d",
                            titleFontWeight="normal", tickCount=5))
    base = alt.Chart().encode(y=y)
    extent = base.mark_rule(opacity=0, aria=False).encode(x="lim_lo:Q", x2="lim_hi:Q")  # symmetric about zero
    bars = base.mark_bar(height=11, yOffset=7).encode(
        x=x,
        x2=alt.datum(0),
        color=alt.Color("direction:N", legend=None, scale=alt.Scale(domain=["for", "against", "not counted"],
                                                                  range=[COLOUR_FOR, COLOUR_AGAINST, COLOUR_NOT_COUNTED])),
        opacity=alt.Opacity("provenance:O", legend=None, scale=alt.Scale(domain=["published", "clinical estimate"], range=[1.0, 0.5])),
        tooltip=tooltip,
        description=alt.Description("caption:N"),
    )
    zero = alt.Chart().mark_rule(color="#495057", aria=False).encode(x=alt.datum(0))
    name = base.mark_text(align="left", baseline="middle", yOffset=-7, fontSize=12.5, color="#31333f",
                          limit=_NAME_LIMIT, aria=False).encode(x=alt.value(0), text="caption:N")
    chart = alt.layer(extent, zero, bars, name).properties(height=alt.Step(40)).configure_view(stroke=None)
    return spec_template(chart)


def _body_map_chart(kb: KnowledgeBase) -> alt.LayerChart:
    projection = {"type": "identity", "reflectY": True}
    backdrop = alt.Chart(alt.Data(values=bodymap.backdrop_features(kb))).mark_geoshape(
        fill="#f8f9fa", stroke="#6c757d", strokeWidth=1.2, strokeJoin="round", aria=False, tooltip=None,
    ).project(**projection)
    titles = alt.Chart(alt.Data(values=bodymap.view_titles(kb))).mark_text(
        fontSize=13, fontWeight="bold", color="#495057", baseline="bottom", aria=False,
    ).encode(longitude="x:Q", latitude="y:Q", text="title:N").project(**projection)

    pick = alt.selection_point(name=BODY_MAP_SELECTION, fields=[bodymap.SELECTION_FIELD], on="click",
                               clear="dblclick", toggle=False)
    hover = alt.selection_point(name="region_hover", fields=[bodymap.SELECTION_FIELD], on="pointerover",
                                clear="pointerout", empty=False)
    regions = alt.Chart().mark_geoshape(cursor="pointer").encode(
        shape=alt.Shape("geo:G"),
        fill=alt.Fill("referral:N", title="Referral of likely muscles",
                      scale=alt.Scale(domain=list(REFERRAL_COLOURS), range=list(REFERRAL_COLOURS.values())),
                      legend=None),
        stroke=alt.when(alt.datum.marked).then(alt.value(PAIN_STROKE)).when(hover).then(alt.value("#495057")).otherwise(alt.value("#adb5bd")),
        strokeWidth=alt.when(alt.datum.marked).then(alt.value(3.5)).when(hover).then(alt.value(2.5)).otherwise(alt.value(1)),
        tooltip=[
            alt.Tooltip("label:N", title="Region"),
            alt.Tooltip("pain:N", title="Patient"),
            alt.Tooltip("sets:N", title="Click sets"),
            alt.Tooltip("muscles:N", title="Likely muscles referring here"),
        ],
        description=alt.Description("label:N"),
    ).transform_lookup(
        lookup=bodymap.SELECTION_FIELD,
        from_=alt.LookupData(data=alt.Data(values=bodymap.region_features(kb)), key="id"),
        as_="geo",
    ).add_params(pick, hover).project(**projection)
    marks = alt.Chart().mark_text(text="●", fontSize=14, color=PAIN_STROKE, aria=False, tooltip=None).encode(
        longitude="cx:Q", latitude="cy:Q",
    ).transform_filter(alt.datum.marked).add_params(pick).project(**projection)
    return alt.layer(backdrop, regions, marks, titles).properties(height=BODY_MAP_HEIGHT).configure_view(stroke=None)


@st.cache_resource(show_spinner=False, max_entries=4)
def body_map_spec(geometry_key: str, _kb: KnowledgeBase) -> dict[str, Any]:
    """The body map template for one version of body_map.yaml (`geometry_key` is its hash)."""
    return spec_template(_body_map_chart(_kb))
