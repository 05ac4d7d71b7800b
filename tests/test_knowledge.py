"""Loading and validation: each kind of problem is reported as `path:line: message`, all at once."""

from __future__ import annotations

import pytest
import yaml
from minikb import write_mini_kb

from hipguide.knowledge import load_knowledge, normalise_text
from hipguide.yamlio import KnowledgeError


@pytest.fixture
def mini(tmp_path):
    return write_mini_kb(tmp_path / "knowledge")


def problems(root) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    return [str(p) for p in info.value.problems]


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mini_kb_loads_with_duplicate_as_one_voice(mini):
    kb = load_knowledge(mini)
    assert set(kb.sources) == {"a", "a2", "b", "c"}
    assert kb.voice("a2") == "a"
    assert sum(len(c) for c in kb.claims.values()) == 5


def test_quote_not_verbatim_names_file_line_and_quote(mini):
    edit(mini / "claims" / "ice.yaml", "Apply ice for 15", "Apply cold packs for 15")
    [problem] = problems(mini)
    lines = (mini / "claims" / "ice.yaml").read_text().splitlines()
    line_no = next(i for i, line in enumerate(lines, 1) if "Apply cold packs" in line)
    assert problem == f"knowledge/claims/ice.yaml:{line_no}: quote is not verbatim in b: 'Apply cold packs for 15–20 minutes every few hours.'"


def test_quote_check_ignores_typographic_quotes_dashes_and_whitespace():
    assert normalise_text("It’s  “deep” — really\n") == normalise_text("It's \"deep\" - really")


def test_unknown_key_is_an_error_with_its_line(mini):
    edit(mini / "conditions.yaml", "  summary: S.\n", "  summary: S.\n  sumary: typo\n")
    [problem] = problems(mini)
    assert problem == "knowledge/conditions.yaml:5: unknown key 'sumary'"


def test_number_out_of_range(mini):
    edit(mini / "likelihood_ratios.yaml", "lr_positive: 5.0", "lr_positive: 500")
    [problem] = problems(mini)
    assert problem.startswith("knowledge/likelihood_ratios.yaml:")
    assert "lr_positive: Input should be less than or equal to 50" in problem
    line = int(problem.split(":")[1])
    assert "lr_positive: 500" in (mini / "likelihood_ratios.yaml").read_text().splitlines()[line - 1]


def test_prior_must_be_a_probability(mini):
    edit(mini / "conditions.yaml", "prior: 0.2", "prior: 1.5")
    [problem] = problems(mini)
    assert "knowledge/conditions.yaml:" in problem and "prior: Input should be less than 1" in problem


def test_duplicate_id(mini):
    edit(mini / "findings.yaml", "id: sharp_onset", "id: loc_buttock")
    found = problems(mini)
    assert any(p.startswith("knowledge/findings.yaml:") and "duplicate finding id 'loc_buttock'" in p for p in found)


def test_unknown_reference_between_files(mini):
    edit(mini / "red_flags.yaml", "- rf_saddle", "- rf_sadle")
    [problem] = problems(mini)
    assert problem.startswith("knowledge/red_flags.yaml:") and problem.endswith("unknown finding 'rf_sadle'")


def test_conflicting_claim_without_disposition(mini):
    g = yaml.safe_load((mini / "guidance" / "ice.yaml").read_text())
    g["dispositions"] = [d for d in g["dispositions"] if d["claim"] != "ice_b"]
    (mini / "guidance" / "ice.yaml").write_text(yaml.safe_dump(g, sort_keys=False))
    [problem] = problems(mini)
    assert problem.startswith("knowledge/guidance/ice.yaml:") and problem.endswith("conflicting claim 'ice_b' has no disposition")


def test_guidance_needs_rationale_and_approver(mini):
    edit(mini / "guidance" / "ice.yaml", "status: draft", "status: approved")
    [problem] = problems(mini)
    assert problem == "knowledge/guidance/ice.yaml:4: approver: approved guidance needs an approver"


def test_missing_phase(mini):
    g = yaml.safe_load((mini / "guidance" / "ice.yaml").read_text())
    del g["phases"]["prevention"]
    (mini / "guidance" / "ice.yaml").write_text(yaml.safe_dump(g, sort_keys=False))
    [problem] = problems(mini)
    assert "missing: prevention" in problem


def test_all_problems_reported_at_once(mini):
    edit(mini / "red_flags.yaml", "- rf_saddle", "- rf_sadle")
    edit(mini / "conditions.yaml", "prior: 0.2", "prior: 1.5")
    edit(mini / "claims" / "ice.yaml", "Apply ice for 15", "Apply cold packs for 15")
    found = problems(mini)
    assert len(found) == 3
    assert {p.split(":")[0] for p in found} == {
        "knowledge/red_flags.yaml", "knowledge/conditions.yaml", "knowledge/claims/ice.yaml"}


def test_python_tag_is_a_validation_error_not_code(mini, tmp_path):
    marker = tmp_path / "pwned"
    (mini / "topics.yaml").write_text(f"topics: !!python/object/apply:os.system ['touch {marker}']\n")
    [problem] = problems(mini)
    assert problem.startswith("knowledge/topics.yaml:1: YAML tag !!python/object/apply:os.system is not allowed")
    assert not marker.exists()


def test_alias_bomb_is_refused(mini):
    bomb = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        bomb.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    (mini / "findings.yaml").write_text("\n".join(bomb) + "\n")
    # Refused at the first anchor, before anything is expanded; how fast is measured by `make bench`.
    found = problems(mini)
    assert "knowledge/findings.yaml:1: YAML anchors and aliases are not allowed in knowledge files (anchor &a)" in found


def test_binary_file_is_a_clear_error(mini):
    (mini / "conditions.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert problems(mini) == ["knowledge/conditions.yaml:1: binary file (contains NUL bytes), expected UTF-8 text"]


def test_empty_file_is_a_clear_error(mini):
    (mini / "body_map.yaml").write_text("  \n")
    found = problems(mini)
    assert "knowledge/body_map.yaml:1: file is empty" in found


def test_yaml_syntax_error_has_line(mini):
    (mini / "topics.yaml").write_text("topics:\n  - id: ice\n    label: [unclosed\n")
    [problem] = problems(mini)
    assert problem.startswith("knowledge/topics.yaml:") and "YAML syntax error" in problem


def test_missing_source_text_file(mini):
    (mini / "sources" / "c.txt").unlink()
    found = problems(mini)
    assert any(p.startswith("knowledge/sources/c.yaml:") and "source text 'c.txt' not found" in p for p in found)


def test_changed_source_text_warns_and_flags_guidance_for_review(mini):
    (mini / "sources" / "b.txt").write_text(
        "Apply ice for 15-20 minutes every few hours.\n\nStrengthening prevents recurrence. New line.\n")
    kb = load_knowledge(mini)
    assert kb.changed_sources == {"b"}
    assert any("source text changed" in str(w) for w in kb.warnings)
    assert set(kb.guidance_needing_review) == {"ice", "strengthening"}


def test_overlay_validates_a_change_without_writing(mini):
    bad = (mini / "guidance" / "ice.yaml").read_text().replace("status: draft", "status: approved")
    with pytest.raises(KnowledgeError):
        load_knowledge(mini, overlay={"guidance/ice.yaml": bad})
    assert "status: draft" in (mini / "guidance" / "ice.yaml").read_text()


def test_shipped_knowledge_is_valid_and_rich(kb):
    claims = sum(len(c) for c in kb.claims.values())
    assert claims > 40
    assert len(kb.sources) == 5
    assert kb.sources["deep_rotator_v2"].duplicate_of == "deep_rotator_v1"
    assert set(kb.topics) >= {"ice", "heat", "strengthening", "stretching", "foam_rolling", "trigger_point_pressure",
                              "run_it_out", "sitting_breaks", "pillow_between_knees", "pain_relief_medication",
                              "myofascial_release", "ergonomics", "see_a_professional"}
    for topic in kb.topics:
        assert topic in kb.guidance


def test_fast_parse_reads_the_same_data_as_the_line_keeping_parse():
    from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR
    from hipguide.yamlio import load_yaml_text

    for path in sorted(DEFAULT_KNOWLEDGE_DIR.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert load_yaml_text(text, path.name, keep_lines=False) == load_yaml_text(text, path.name), path


def test_anchor_after_a_dash_or_in_flow_is_still_refused(mini):
    (mini / "topics.yaml").write_text("topics:\n- &t {id: ice, label: Ice, question: Q?, kind: thermal}\n- *t\n")
    [problem] = problems(mini)
    assert "anchors and aliases are not allowed" in problem


def test_a_key_written_twice_is_an_error_not_a_silent_overwrite(mini):
    # An editor who types `label:` twice must hear about it, not lose the first value.
    (mini / "topics.yaml").write_text(
        "topics:\n- id: ice\n  label: Ice\n  label: Cold pack\n  question: Ice?\n  kind: thermal\n"
        "- id: strengthening\n  label: Strengthening\n  question: Strengthen?\n  kind: loading\n")
    assert problems(mini) == ["knowledge/topics.yaml:4: duplicate key 'label'"]


def test_the_cycle_collector_is_running_again_after_a_load_good_or_bad(mini):
    import gc

    load_knowledge(mini)
    assert gc.isenabled()
    (mini / "topics.yaml").write_text("topics: [\n")
    with pytest.raises(KnowledgeError):
        load_knowledge(mini)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(KnowledgeError):
            load_knowledge(mini)
        assert not gc.isenabled(), "a load leaves the collector as it found it"
    finally:
        gc.enable()


def test_a_load_leaves_nothing_frozen_and_keeps_what_others_froze(mini):
    import gc

    kb = load_knowledge(mini)
    assert gc.get_freeze_count() == 0
    assert any(o is kb.claims for o in gc.get_objects(generation=2)), "what a load built lives in the oldest generation"
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        load_knowledge(mini)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("text", [
    "\u201cIt\u2019s\u00a0deep\u201d \u2014 really",
    "tabs\tand\nnew\r\nlines\u2028and\u3000ideographic  space",
    "  \u2018single\u2019 \u201a\u201e \u2032\u2033 \u2010hyphen\u2013en  ",
    " plain 'ASCII'\tonly --\n\"quoted\"\x0b\x0c\x1c ",
])
def test_quote_folding_matches_a_plain_regex_reference(text):
    import re

    fold = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
            "\u2033": '"', "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u00a0": " "}
    reference = re.sub(r"\s+", " ", "".join(fold.get(ch, ch) for ch in text)).strip()
    assert normalise_text(text) == reference


def test_the_fingerprint_notices_any_edit_to_a_knowledge_file_and_nothing_else(mini):
    import os

    from hipguide.knowledge import knowledge_fingerprint

    before = knowledge_fingerprint(mini)
    assert before == knowledge_fingerprint(mini)
    assert {os.path.relpath(path, mini) for path, _, _ in before} >= {"topics.yaml", "sources/a.txt", "claims/ice.yaml"}
    (mini / "notes.md").write_text("not knowledge")  # other files do not count
    assert knowledge_fingerprint(mini) == before

    path = mini / "claims" / "ice.yaml"
    stat = path.stat()
    path.write_text(path.read_text().replace("ice", "icy", 1))  # same size, edited in place
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = knowledge_fingerprint(mini)
    assert edited != before
    (mini / "vignettes").mkdir(exist_ok=True)
    (mini / "vignettes" / "new.yaml").write_text("id: new\n")
    assert len(knowledge_fingerprint(mini)) == len(edited) + 1


@pytest.mark.parametrize("root", ["/x/knowledge", "/", "/x/k"])
@pytest.mark.parametrize("path", ["/x/knowledge/claims/ice.yaml", "/x/knowledge", "/x/knowledge2/a.yaml", "/x/k/sources",
                                  "/x/knowledge/../knowledge/a.yaml", "/y/z.txt", "relative/a.yaml", "/"])
def test_problems_name_files_as_pathlib_would(root, path):
    """Files are named by string work on their paths; the names must be pathlib's, for every kind of path."""
    from pathlib import Path

    from hipguide.knowledge import _Collector

    root, path = Path(root), Path(path)
    inside = path.is_relative_to(root)
    rel = path.relative_to(root).as_posix() if inside else path.as_posix()
    shown = (Path(root.name) / rel).as_posix() if inside else str(path)
    col = _Collector(root)
    assert (col.rel(path), col.shown(path)) == (rel, shown)
