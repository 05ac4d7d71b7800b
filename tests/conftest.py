"""Shared test fixtures.

AppTest runs every test in the same session id, and Streamlit's caches are process-global, so every
test starts with empty caches. Editor tests work on a temporary copy of the knowledge folder inside a
temporary git repository of its own (saves are commits; the project's repository is never touched).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import streamlit as st
from gitkb import init_repo
from streamlit.testing.v1 import AppTest

from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
ASSESSMENT_PAGE = str(ROOT / "dashboard.py")


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


class Clock:
    """Stands in for the app's clock: a hand edit is served once the app next looks at the files."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def after_the_recheck_interval(self) -> None:
        from ui.common import KNOWLEDGE_RECHECK_S

        self.now += KNOWLEDGE_RECHECK_S


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The app's clock for looking at the knowledge files again, held still until a test moves it on."""
    from ui import common

    fake = Clock()
    monkeypatch.setattr(common, "_clock", fake)
    return fake


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)


@pytest.fixture
def knowledge_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the shipped knowledge in a temporary git repository (as `knowledge/` inside it, like the
    project); the app under test reads it via HIPGUIDE_KNOWLEDGE_DIR."""
    target = tmp_path / "kbrepo" / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns(".editor.lock", "audit"))
    init_repo(tmp_path / "kbrepo")
    monkeypatch.setenv("HIPGUIDE_KNOWLEDGE_DIR", str(target))
    monkeypatch.delenv("HIPGUIDE_KNOWLEDGE_REMOTE", raising=False)
    return target


@pytest.fixture(scope="session", autouse=True)
def _project_repository_untouched():
    """No test may commit into the project's own repository or change its knowledge folder."""
    import subprocess

    def state() -> tuple[str, str]:
        def run(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout
        # The app commits as "HipGuide editor": any such commit here would be a test saving into this repository.
        # (A developer's own commits during a run are fine.)
        return run("log", "-1", "--format=%H", "--committer=HipGuide editor", "HEAD"), run("status", "--porcelain", "--", "knowledge")

    before = state()
    yield
    assert state() == before, "a test changed the project's repository or its knowledge folder"


@pytest.fixture(scope="module")
def page_kb() -> KnowledgeBase:
    """The knowledge the app under test reads (it honours HIPGUIDE_KNOWLEDGE_DIR, so do we)."""
    return load_knowledge(os.environ.get("HIPGUIDE_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)


@pytest.fixture
def app() -> AppTest:
    """The assessment page, run once in AppTest, with no exception."""
    at = AppTest.from_file(ASSESSMENT_PAGE, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
