"""The assessment page's layout by screen width: tablet first, the side-by-side comparison on a desktop.

Streamlit lays columns side by side whatever the width, so a few CSS rules (static text, no user data)
let the page's keyed containers wrap as the screen narrows:
- under 1440 px (a tablet in landscape, a small laptop) "what the sources say" moves below the
  assessment, and a link at the top keeps it one tap away;
- under 1024 px (a tablet in portrait) the findings and the differential stack, each full width.
Every button, tab, field and help icon gets a touch target of at least 44 px.
"""

from __future__ import annotations

import streamlit as st

CONSULTATION_KEY = "hg_consultation"   # the row: the assessment, and beside it what the sources say
WORK_KEY = "hg_work"                   # inside the assessment: findings and results
JUMP_LINKS_KEY = "hg_jump_links"
WIDE_MIN_PX = 1440                     # from here on, the comparison sits beside the assessment
STACK_BELOW_PX = 1024                  # under this, findings and differential stack
TOUCH_PX = 44

_ROW = '[data-testid="stHorizontalBlock"]'
_COLUMN = '[data-testid="stColumn"]'

PAGE_CSS = f"""
<style>
/* Touch targets: every control at least {TOUCH_PX} px in both directions. */
[data-testid="stMain"] button, [data-testid="stMain"] [role="tab"],
[data-testid="stMain"] [data-baseweb="select"] > div, [data-testid="stMain"] input {{ min-height: {TOUCH_PX}px; }}
[data-testid="stMain"] button {{ min-width: {TOUCH_PX}px; }}
[data-testid="stMain"] [data-testid="stNumberInputStepDown"],
[data-testid="stMain"] [data-testid="stNumberInputStepUp"] {{ min-width: {TOUCH_PX}px; }}
[data-testid="stMain"] [data-testid="stTooltipIcon"] {{
  display: inline-flex; align-items: center; justify-content: center;
  min-width: {TOUCH_PX}px; min-height: {TOUCH_PX}px; margin: -14px -12px -14px -6px;
}}
[data-testid="stMain"] [data-testid="stCheckbox"] label {{ min-height: {TOUCH_PX}px; align-items: center; }}
[data-testid="stMain"] [data-testid="stExpander"] summary {{ min-height: {TOUCH_PX}px; }}
[data-testid="stMain"] a {{ display: inline-block; min-height: {TOUCH_PX}px; min-width: {TOUCH_PX}px;
  line-height: {TOUCH_PX}px; text-align: center; }}
[data-testid="stMain"] [role="tab"] {{ min-width: {TOUCH_PX}px; justify-content: center; }}
/* The hover "link to this heading" icons are too small to tap; the headings keep their anchors. */
[data-testid="stMain"] [data-testid="stHeaderActionElements"] {{ display: none; }}
.st-key-{JUMP_LINKS_KEY} {{ display: none; }}
@media (max-width: {WIDE_MIN_PX - 0.02}px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 1.5rem; padding-right: 1.5rem; }}
  .st-key-{CONSULTATION_KEY} > div > {_ROW} {{ flex-wrap: wrap; }}
  .st-key-{CONSULTATION_KEY} > div > {_ROW} > {_COLUMN} {{ min-width: 100%; }}
  .st-key-{JUMP_LINKS_KEY} {{ display: block; }}
}}
@media (max-width: {STACK_BELOW_PX - 0.02}px) {{
  .st-key-{WORK_KEY} > div > {_ROW} {{ flex-wrap: wrap; }}
  .st-key-{WORK_KEY} > div > {_ROW} > {_COLUMN} {{ min-width: 100%; }}
}}
</style>
"""


def page_style() -> None:
    st.html(PAGE_CSS)
