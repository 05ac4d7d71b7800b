"""Knowledge and editor text reaches the page as Markdown-escaped text: every character that could
start markup (or HTML through it) is escaped, and nothing else about the text changes."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hipguide.exports import MD_SPECIAL, md_escape

MARKUP_HEAVY = st.text(alphabet=st.sampled_from(list(MD_SPECIAL) + list("ab \n<script>&;\"'=/")), max_size=80)


@given(st.one_of(st.text(max_size=200), MARKUP_HEAVY))
def test_every_markup_character_is_escaped_and_the_text_otherwise_kept(text):
    escaped = md_escape(text)
    # Reading the escapes back gives the original text...
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.S) == text
    # ...and no markup character is left bare: each one is preceded by its own backslash.
    pairs = re.findall(r"\\(.)|(.)", escaped, flags=re.S)
    assert all(bare not in MD_SPECIAL for _esc, bare in pairs if bare)
    assert all(esc in MD_SPECIAL for esc, _bare in pairs if esc)


def test_html_and_links_come_out_inert():
    assert md_escape('<img src=x onerror="alert(1)">') == '\\<img src=x onerror="alert\\(1\\)"\\>'
    assert md_escape("[click](javascript:alert(1))") == "\\[click\\]\\(javascript:alert\\(1\\)\\)"
    assert md_escape("C:\\path\\*") == "C:\\\\path\\\\\\*"
