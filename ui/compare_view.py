"""The comparison page's pieces that do not change between reruns: the matrix's Vega-Lite template, its
rows, and the claim and source cards as escaped Markdown.

They live in a module, not the page script: a cached function defined in a page script is keyed anew
(from its source text) on every rerun. The template holds no data; rows and cards are knowledge only,
worked out once per knowledge version (`kb.derived`), never anything about a patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pyarrow as pa
import streamlit as st

from hipguide.comparison import (
    STANCE_COLOURS,
    STANCE_ORDER,
    MatrixFilters,
    credibility_checklist,
    matrix_rows,
    md_source_text,
    quote_in_paragraph,
    scope_text,
    source_flags_text,
    voice_label,
)
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.knowledge import KnowledgeBase
from hipguide.models import Claim
from ui.charts import chart_data, spec_template
from ui.formats import md_quote_in_context

CELL_STANCES = [*STANCE_ORDER, "mixed", "silent"]
CONFLICT_KINDS = ["direct", "conditional", "scope", "none"]
CONFLICT_COLOURS = ["#b2182b", "#ef8a62", "#fddbc7", "#ffffff"]


@st.cache_resource(show_spinner=False)
def matrix_template() -> dict:
    """The static Vega-Lite spec (no data): built and validated once per process; rows are passed per rerun."""
    pick = alt.selection_point(name="cell", fields=["topic", "voice"], on="click", clear="dblclick")
    pick_glyph = alt.selection_point(name="glyph", fields=["topic", "voice"], on="click", clear="dblclick")
    x = alt.X("voice_label:N", sort=None, title="independent voice (duplicated article merged)",
              axis=alt.Axis(orient="top", labelAngle=0, labelOverlap=False, labelLimit=200,
                            labelExpr="split(datum.label, ' (')"))  # a merged duplicate on a second line
    y = alt.Y("topic_label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart()
    tooltip = [alt.Tooltip("topic_label:N", title="topic"), alt.Tooltip("voice_label:N", title="voice"),
               alt.Tooltip("stance_words:N", title="stance"), alt.Tooltip("sources:N", title="sources"),
               alt.Tooltip("claims:Q", title="claims"), alt.Tooltip("quote:N", title="first quote"),
               alt.Tooltip("conflict:N", title="topic conflict")]
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("stance:N", title="stance",
                        scale=alt.Scale(domain=CELL_STANCES, range=[STANCE_COLOURS[s] for s in CELL_STANCES]),
                        legend=alt.Legend(orient="bottom", columns=3, labelExpr=_legend_words())),  # wraps, never clipped
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=tooltip,
    ).transform_filter("datum.kind == 'cell'").add_params(pick)
    conflict = base.mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("conflict:N", title="topic conflict",
                        scale=alt.Scale(domain=CONFLICT_KINDS, range=CONFLICT_COLOURS),
                        legend=None),  # the cells name the conflict type themselves
        tooltip=[alt.Tooltip("topic_label:N", title="topic"), alt.Tooltip("stance_words:N", title="conflict")],
    ).transform_filter("datum.kind == 'conflict'")
    glyphs = base.mark_text(fontSize=15, fontWeight="bold").encode(
        x=x, y=y, text="glyph:N", tooltip=tooltip,
    ).add_params(pick_glyph)  # a click on a cell's stance mark selects the cell too
    chart = alt.layer(cells, conflict, glyphs).resolve_scale(color="independent")
    return spec_template(chart.properties(height=alt.Step(34)))


def matrix(kb: KnowledgeBase, filters: MatrixFilters) -> tuple[list[dict], pa.Table]:
    """The matrix rows for one set of filters and the Arrow table the chart is sent, built once per
    knowledge version (knowledge only)."""
    def build() -> tuple[list[dict], pa.Table]:
        rows = matrix_rows(kb, filters)
        return rows, chart_data(rows)
    return kb.derived(("compare.matrix", filters), build)


def _legend_words() -> str:
    words = {**{s: STANCE_WORDS[s] for s in STANCE_ORDER}, "mixed": "mixed", "silent": "silent"}
    cases = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in words.items())
    return f"{cases} : datum.label"


def claim_card(kb: KnowledgeBase, claim: Claim) -> tuple[str, str, str, str]:
    """A claim's card as escaped Markdown: title and id, the quote in its paragraph, credibility, scope."""
    return kb.derived(("compare.claim_card", claim.id), lambda: _claim_card(kb, claim))


def _claim_card(kb: KnowledgeBase, claim: Claim) -> tuple[str, str, str, str]:
    duplicate = kb.voice(claim.source) != claim.source
    title = (f"**{md_escape(kb.sources[claim.source].title)}**  \n`{claim.source}`"
             + (f" _{md_escape(voice_label(kb, claim.source)[len(claim.source):].strip())}_" if duplicate else ""))
    return (title, md_quote_in_context(quote_in_paragraph(kb.source_texts[claim.source], claim.quote)),
            f"Source credibility: {md_escape(source_flags_text(kb, claim.source))}",
            f"Scope: {md_escape(scope_text(kb, claim))}")


@dataclass(frozen=True)
class SourceCard:
    title: str
    meta: str
    checklist: str
    claims: str


def source_card(kb: KnowledgeBase, sid: str) -> SourceCard:
    """A source's card as escaped Markdown: title, who and when, the credibility checklist, its claims."""
    return kb.derived(("compare.source_card", sid), lambda: _source_card(kb, sid))


def full_text_markdown(kb: KnowledgeBase, sid: str) -> str:
    """A source's whole text as inert Markdown."""
    return kb.derived(("compare.full_text", sid), lambda: md_source_text(kb.source_texts[sid]))


def _source_card(kb: KnowledgeBase, sid: str) -> SourceCard:
    src = kb.sources[sid]
    meta = [f"`{sid}`", md_escape(src.publisher), md_escape(src.kind.replace("_", " "))]
    meta.append(f"by {md_escape(src.author)}" if src.author else "no named author")
    meta.append(md_escape(src.date) if src.date else "undated")
    lines = []
    for row in credibility_checklist(kb, sid):
        mark = {"ok": "✓", "concern": "⚠", "not flagged": "–"}[row.verdict]
        lines.append(f"- {mark} **{row.criterion}**: {md_escape(row.detail)}")
        lines += [f"    - _{md_escape(ev)}_" for ev in row.evidence]
    n_claims = sum(1 for cl in kb.claims.values() for c in cl if c.source == sid)
    return SourceCard(f"### {md_escape(src.title)}", " · ".join(meta), "\n".join(lines),
                      f"{n_claims} claim(s) tagged · Attribution: {md_escape(src.attribution)}")
