"""Streamlit's formats, kept out of the engine: what a chart selection looks like, and Markdown colour directives.

The engine (`hipguide/`) speaks in topic, voice and region ids and plain escaped Markdown; this module
turns Streamlit's selection states into those ids and adds Streamlit-only Markdown styling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hipguide import bodymap
from hipguide.comparison import CONFLICT_COLUMN, QuoteInContext
from hipguide.exports import md_escape

_WS = re.compile(r"\s+")

# --- the comparison matrix ------------------------------------------------------------------------

SELECTION_PARAMS: tuple[str, ...] = ("cell", "glyph")  # the matrix's rectangles and the stance marks on them


def selected_cell(selection: Any, previous: tuple[str | None, str | None] | None = None,
                  params: tuple[str, ...] = SELECTION_PARAMS) -> tuple[str | None, str | None]:
    """(topic, voice) that a click on the matrix chose, from Streamlit's selection state; (None, None) if none.

    Accepts the `st.altair_chart(..., on_select="rerun")` return value (attribute or dict access):
    `{"selection": {"cell": [{"topic": "ice", "voice": "medshun"}], "glyph": {}}}`. The rectangles and
    the stance marks keep separate selections; when both hold a point, the one that differs from
    `previous` (the cell seen on the last rerun) is the newer click.
    """
    found = _selected_points(selection, params)
    if not found:
        return None, None
    fresh = [pair for pair in found if pair != previous]
    return fresh[0] if fresh else found[0]


def _selected_points(selection: Any, params: tuple[str, ...]) -> list[tuple[str, str | None]]:
    if selection is None:
        return []
    sel = selection.get("selection") if isinstance(selection, Mapping) else getattr(selection, "selection", None)
    if sel is None:
        return []
    out: list[tuple[str, str | None]] = []
    for param in params:
        points = sel.get(param) if isinstance(sel, Mapping) else getattr(sel, param, None)
        if not points:
            continue
        if isinstance(points, Mapping):  # a single point
            points = [points]
        for point in points:
            if isinstance(point, Mapping) and point.get("topic"):
                voice = point.get("voice")
                out.append((str(point["topic"]), str(voice) if voice and voice != CONFLICT_COLUMN else None))
                break
    return out


# --- the body map ---------------------------------------------------------------------------------

def selected_regions(selection_state: Any) -> list[str]:
    """Region ids in a chart selection state, as `st.vega_lite_chart(on_select=...)` reports it:
    ``{"selection": {"<param>": [{"region": "buttock_central"}, ...]}}``. Anything else gives [].
    A click on a region's mirror image reports the region itself."""
    if not isinstance(selection_state, Mapping):
        return []
    selection = selection_state.get("selection")
    if not isinstance(selection, Mapping):
        return []
    found: list[str] = []
    for points in selection.values():
        if not isinstance(points, list):
            continue
        for point in points:
            if isinstance(point, Mapping):
                region = point.get(bodymap.SELECTION_FIELD)
                if isinstance(region, str) and bodymap.region_of(region) not in found:
                    found.append(bodymap.region_of(region))
    return found


# --- Markdown with Streamlit's colour directives ---------------------------------------------------

def md_quote_in_context(context: QuoteInContext) -> str:
    """The paragraph as escaped Markdown with the quote in bold (and marked when it was not found)."""
    quote = f":orange-background[**{md_escape(_one_line(context.quote))}**]"
    body = f"{md_escape(_one_line(context.before))}{quote}{md_escape(_one_line(context.after))}"
    return body if context.found else f"{quote} _(not found verbatim in the current source text)_"


def _one_line(text: str) -> str:
    return _WS.sub(" ", text)
