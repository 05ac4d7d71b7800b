"""The fast YAML path builds text, mappings and lists itself: it must read exactly what PyYAML's safe
loader reads, for any plain data and any way of writing it."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hipguide.yamlio import load_yaml_text

# Text that YAML would otherwise read as a number, date, boolean or null must survive a round trip.
TRICKY_TEXT = st.sampled_from(["yes", "No", "on", "~", "null", "1e3", "0x1F", ".5", "-.inf", "2026-11-22", "<<", "=",
                               "a: b", "- x", "#", "'", '"', "", " ", "12:30", "+1", "0o17", "1_000"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.dates(min_value=dt.date(1900, 1, 1)), st.text(max_size=30), TRICKY_TEXT)
KEYS = st.one_of(st.text(max_size=12), TRICKY_TEXT, st.integers())
DATA = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
                    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(DATA.filter(lambda d: d is not None and d != "" and not (isinstance(d, str) and not d.strip())),
       st.sampled_from([{}, {"default_flow_style": True}, {"default_style": '"'}, {"width": 20}]))
def test_the_fast_path_reads_what_safe_load_reads(data, style):
    text = yaml.safe_dump({"doc": data}, allow_unicode=True, **style)
    # PyYAML's own round trip can fold two keys into one (a NEL character in a quoted key is written as
    # a line break and read back as a space); safe_load then keeps the last, where ours refuses the
    # duplicate, as it should. Compare only text that safe_load reads back as written.
    assume(yaml.safe_load(text) == {"doc": data})
    assert load_yaml_text(text, "x.yaml", keep_lines=False) == yaml.safe_load(text)
    assert load_yaml_text(text, "x.yaml", keep_lines=True) == yaml.safe_load(text)
