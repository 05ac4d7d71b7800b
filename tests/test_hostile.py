"""Hostile input that does not need a browser: file names an editor can influence, and knowledge
files broken on disk while the app is running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitkb import git, init_repo
from minikb import write_mini_kb
from streamlit.testing.v1 import AppTest

from hipguide import editorial
from hipguide.editorial import EditError, add_claim, add_source, confirm_source_text, safe_path, save_guidance

ROOT = Path(__file__).resolve().parent.parent

HOSTILE_IDS = [
    "../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "CON", "x" * 200, "ünïcödé", "источник", "",
    ".", "..", ".hidden", "a\x00b", "~root", "sources/../../x", "space id", "x.yaml", "1abc", "_x", "%2e%2e%2fx",
]

SOURCE_FIELDS = {"title": "A title", "publisher": "A publisher", "kind": "consumer_health"}


@pytest.fixture
def mini(tmp_path) -> Path:
    root = write_mini_kb(tmp_path / "knowledge")
    init_repo(root)
    return root


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            if name != ".editor.lock":
                st = path.lstat()
                out[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("bad_id", HOSTILE_IDS, ids=repr)
def test_a_source_id_cannot_name_a_file_outside_the_knowledge_folder(mini, bad_id):
    before = snapshot(mini.parent)
    with pytest.raises(EditError) as info:
        add_source(mini, {**SOURCE_FIELDS, "id": bad_id}, "Some verbatim text.", editor="Editor")
    message = str(info.value)
    assert message.startswith("source id ") and "is not allowed" in message
    assert "a-z, 0-9 and _" in message, "the refusal says what is allowed"
    assert snapshot(mini.parent) == before, "nothing was written anywhere"


@pytest.mark.parametrize("device", ["con", "nul", "com1", "lpt9", "aux", "prn"])
def test_a_windows_device_name_is_refused_as_a_source_id(mini, device):
    before = snapshot(mini.parent)
    with pytest.raises(EditError, match="device name on Windows"):
        add_source(mini, {**SOURCE_FIELDS, "id": device}, "Some verbatim text.", editor="Editor")
    assert snapshot(mini.parent) == before


@pytest.mark.parametrize("bad_id", ["../x", "/etc/passwd", "a/b", "CON", "x" * 200, "ünïcödé", ""], ids=repr)
def test_other_editor_writes_refuse_the_same_names(mini, bad_id):
    before = snapshot(mini.parent)
    with pytest.raises(EditError, match="is not allowed"):
        save_guidance(mini, bad_id, {}, editor="Editor", base_version=None)
    with pytest.raises(EditError, match="is not allowed"):
        add_claim(mini, bad_id, {}, editor="Editor", base_version=None)
    with pytest.raises(EditError, match="is not allowed"):
        confirm_source_text(mini, bad_id, editor="Editor", base_version=None)
    assert snapshot(mini.parent) == before


@pytest.mark.parametrize("rel", ["../x.yaml", "/etc/passwd", "sources/../../x.yaml", "", "a\x00b", "\\\\server\\share"], ids=repr)
def test_safe_path_refuses_names_that_leave_the_folder(mini, rel):
    with pytest.raises(EditError, match="must stay inside the knowledge folder"):
        safe_path(mini, rel)


def test_a_link_inside_the_folder_pointing_out_of_it_is_refused(mini, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("precious: true\n", encoding="utf-8")
    (mini / "sources" / "evil.yaml").symlink_to(outside)
    with pytest.raises(EditError, match="must stay inside the knowledge folder"):
        add_source(mini, {**SOURCE_FIELDS, "id": "evil"}, "Some verbatim text.", editor="Editor")
    assert outside.read_text(encoding="utf-8") == "precious: true\n"


def test_a_well_formed_id_is_written_inside_the_folder_and_audited(mini):
    result = add_source(mini, {**SOURCE_FIELDS, "id": "new_source"}, "Some verbatim text.", editor="Editor")
    assert result.path == "sources/new_source.yaml"
    assert (mini / "sources" / "new_source.yaml").is_file() and (mini / "sources" / "new_source.txt").is_file()
    [save, _import] = editorial.history(mini)
    assert save.author_name == "Editor" and save.trailers["Action"] == "add_source"
    assert sorted(save.files) == ["sources/new_source.txt", "sources/new_source.yaml"]
    assert git(mini, "status", "--porcelain") == ""


def test_source_text_limits_are_clear(mini):
    with pytest.raises(EditError, match="too long"):
        add_source(mini, {**SOURCE_FIELDS, "id": "big"}, "x" * (editorial.MAX_SOURCE_CHARS + 1), editor="Editor")
    with pytest.raises(EditError, match="NUL"):
        add_source(mini, {**SOURCE_FIELDS, "id": "with_nul"}, "a\x00b", editor="Editor")
    with pytest.raises(EditError, match="signed-in editor"):
        add_source(mini, {**SOURCE_FIELDS, "id": "anon"}, "text", editor="  ")


# --- knowledge broken on disk while the app runs -------------------------------------------------

def _texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "success", "warning"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(str(e.label) for e in at.checkbox)
    return "\n".join(parts)


def test_corrupt_knowledge_on_disk_shows_file_and_line_and_keeps_the_last_good_assessment(knowledge_copy, clock):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    good = _texts(at)
    conditions = knowledge_copy / "conditions.yaml"
    labels = [line.split("label:", 1)[1].strip() for line in conditions.read_text(encoding="utf-8").splitlines()
              if line.strip().startswith("label:")]
    shown = [label for label in labels if label in good]
    assert shown, "the assessment page shows the differential's condition labels"

    # Break conditions.yaml: an unclosed flow list on a known line.
    lines = conditions.read_text(encoding="utf-8").splitlines(keepends=True)
    bad_line = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("prior:"))
    indent = lines[bad_line - 1][: len(lines[bad_line - 1]) - len(lines[bad_line - 1].lstrip())]
    lines[bad_line - 1] = f"{indent}prior: [0.2, \n"
    conditions.write_text("".join(lines), encoding="utf-8")

    # The files are looked at once a second (a stat each), not on every click of every session: a click within
    # the interval still shows the page as it was, and the next one after it shows the problem.
    at.run()
    assert not at.error, [e.value for e in at.error]
    clock.after_the_recheck_interval()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = "\n".join(str(e.value) for e in at.error)
    assert "conditions.yaml:" in errors, errors
    assert "last valid version" in errors
    import re

    reported = [int(n) for n in re.findall(r"conditions\.yaml:(\d+)", errors)]
    assert reported and all(abs(n - bad_line) <= 2 for n in reported), (bad_line, errors)
    after = _texts(at)
    assert all(label in after for label in shown), "the last good knowledge still drives the assessment"

    # Fixing the file brings the page back without the error panel.
    lines[bad_line - 1] = f"{indent}prior: 0.2\n"
    conditions.write_text("".join(lines), encoding="utf-8")
    clock.after_the_recheck_interval()
    at.run()
    assert not at.exception
    assert not any("conditions.yaml" in str(e.value) for e in at.error)
