"""The fast YAML path builds text, mappings and lists itself: it must read exactly what PyYAML's safe
loader reads, for any plain data and any way of writing it."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hipguide import yamlio
from hipguide.yamlio import KnowledgeError, load_yaml_text

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


# --- hostile structure: refused from the parser's events, with or without a byte-order mark ----------

BOM = "\ufeff"
HOSTILE = [
    pytest.param("&a x: 1\n", 1, "anchor &a", id="anchor-on-a-key"),
    pytest.param("x: 1\ny: &only 2\n", 2, "anchor &only", id="lone-anchor-never-used"),
    pytest.param("x: &a [1, 2]\ny: *a\n", 1, "anchor &a", id="anchor-and-alias"),
    pytest.param("x: 1\ny: *nowhere\n", 2, "alias *nowhere", id="alias-without-anchor"),
    pytest.param("x: [1, &b 2]\n", 1, "anchor &b", id="anchor-in-flow"),
    pytest.param("x:\n  &c\n  y: 1\n", 2, "anchor &c", id="anchor-alone-on-its-line"),
    pytest.param("x: !!str &d text\n", 1, "anchor &d", id="anchor-after-a-tag"),
    pytest.param("a:\n" + "".join("  " * i + "- \n" for i in range(1, 70)), 51, "nested more than 50", id="deep-block"),
    pytest.param("a: " + "[" * 60 + "]" * 60 + "\n", 1, "nested more than 50", id="deep-flow"),
    pytest.param("[" * 200_000, 1, "nested more than 50", id="crash-deep"),
]


@pytest.mark.parametrize("bom", ["", BOM], ids=["plain", "bom"])
@pytest.mark.parametrize("keep_lines", [True, False], ids=["with-lines", "fast"])
@pytest.mark.parametrize("text, line, message", HOSTILE)
def test_hostile_structure_is_refused_at_its_line(text: str, line: int, message: str, bom: str, keep_lines: bool) -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_yaml_text(bom + text, "hostile.yaml", keep_lines=keep_lines)
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("hostile.yaml", line)
    assert message in problem.message


@pytest.mark.parametrize("text", ["note: '*really* important & useful'\n", "x: a&b\ny: 2*3\n", "- '&x'\n- \"*y\"\n"])
def test_ampersands_and_asterisks_in_text_are_just_text(text: str) -> None:
    assert load_yaml_text(BOM + text, "ok.yaml", keep_lines=False) == yaml.safe_load(text)


# --- the one-pass reader against the composing loader ------------------------------------------------
# Most text is read in one pass over the parser's events; merge keys and tagged mappings or lists go
# to the composing loader. Both must refuse, read and place the same things at the same lines.

def _by_composer(monkeypatch: pytest.MonkeyPatch, text: str, keep_lines: bool) -> object:
    with monkeypatch.context() as patched:
        patched.setattr(yamlio, "_read_events", _needs_composer)
        return _outcome(text, keep_lines)


def _needs_composer(*_: object) -> None:
    raise yamlio._NeedsComposer


def _outcome(text: str, keep_lines: bool) -> object:
    """What a reader makes of the text: the data (with every line it remembers, when asked for lines)
    or its problems."""
    try:
        return _shape(load_yaml_text(text, "f.yaml", keep_lines=keep_lines), keep_lines)
    except KnowledgeError as exc:
        return [str(p) for p in exc.problems]


def _shape(data: object, lines: bool) -> object:
    if isinstance(data, dict):
        where = (getattr(data, "line", None), getattr(data, "key_lines", None)) if lines else None
        return ("map", where, [(k, _shape(v, lines)) for k, v in data.items()])
    if isinstance(data, list):
        where = (getattr(data, "line", None), getattr(data, "item_lines", None)) if lines else None
        return ("list", where, [_shape(v, lines) for v in data])
    return (type(data).__name__, data)


AWKWARD = [
    "a: 1\nb: [x, {c: d}]\n",
    "# only a comment\n",
    "---\n",
    "---\na: 1\n...\n",
    "just text\n",
    "- 1\n- 2.5\n- true\n- ~\n- 2026-11-30\n- 2026-11-30 10:00:00\n- !!str 3\n- '4'\n- ! 5\n",
    "a: 1\na: 2\n",
    "a: 1\nb:\n  c: 1\n  c: 2\n",
    "1: x\ntrue: y\n",
    "1: x\n1.0: y\n",
    "[a, b]: x\n",
    "? {a: b}\n: x\n",
    "2026-11-30: x\n",
    "a: !!python/object:os.system x\n",
    "a: !!python/object/apply:os.system [ls]\n",
    "a: !custom x\n",
    "a: !!binary aGk=\n",
    "a: !!set {x, y}\n",
    "a: !!omap [{x: 1}]\n",
    "a: !!map {x: 1}\nb: !!seq [1]\n",
    "a: !!str {x: 1}\n",
    "base: {x: 1}\nmerged: {<<: {x: 2}, y: 3}\n",
    "a: {<<: {x: 2}, x: 3}\n",
    "= : x\n",
    "a: <<\n",
    "a: 2026-02-30\n",
    "a: 1\n---\nb: 2\n",
    "a: !!python/object x\n---\nb: 2\n",
    "a: 1\n---\nb: &late 2\n",
    "a: 1\nb: [unclosed\n",
    "a: 1\na: 2\nb: [unclosed\n",
    "a: !!python/object x\nb: &late 2\n",
    "a: 1\na: 2\nc: *late\n",
    "a: 1\n  b: 2\n",
    "a: {b: [c, {d: e}]}\n" * 1,
    "x:\n" + "".join("  " * i + "- \n" for i in range(1, 50)),
]


@pytest.mark.parametrize("bom", ["", BOM], ids=["plain", "bom"])
@pytest.mark.parametrize("keep_lines", [True, False], ids=["with-lines", "fast"])
@pytest.mark.parametrize("text", [*AWKWARD, *(p.values[0] for p in HOSTILE)])
def test_one_pass_and_composer_agree(monkeypatch: pytest.MonkeyPatch, text: str, keep_lines: bool, bom: str) -> None:
    one_pass = _outcome(bom + text, keep_lines)
    assert one_pass == _by_composer(monkeypatch, bom + text, keep_lines)


@settings(max_examples=150, deadline=None)
@given(DATA, st.sampled_from([{}, {"default_flow_style": True}, {"default_style": '"'}, {"width": 20}]))
def test_one_pass_places_every_line_as_the_composer_does(data, style):
    text = yaml.safe_dump({"doc": data}, allow_unicode=True, **style)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _outcome(text, True) == _by_composer(monkeypatch, text, True)


def test_a_date_that_does_not_exist_is_a_problem_at_its_line() -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_yaml_text("id: x\nreviewed: 2026-02-30\n", "x.yaml")
    assert [str(p) for p in caught.value.problems] == ["x.yaml:2: cannot read '2026-02-30': day is out of range for month"]


def test_a_merge_key_is_read_by_the_composing_loader() -> None:
    assert load_yaml_text("a: {<<: {x: 1}, y: 3}\n", "x.yaml", keep_lines=False) == {"a": {"x": 1, "y": 3}}


def test_one_memory_of_plain_scalars_across_files_never_changes_what_a_file_says() -> None:
    shared: dict = {}
    first = load_yaml_text("a: 2026-11-30\nb: null\nc: 'yes'\n", "a.yaml", keep_lines=False, plain_scalars=shared)
    second = load_yaml_text("a: '2026-11-30'\nb: 'null'\nc: yes\nd: ! 7\n", "b.yaml", keep_lines=False, plain_scalars=shared)
    assert first == {"a": dt.date(2026, 11, 30), "b": None, "c": "yes"}
    assert second == {"a": "2026-11-30", "b": "null", "c": True, "d": 7}
    assert second == yaml.safe_load("a: '2026-11-30'\nb: 'null'\nc: yes\nd: ! 7\n")
