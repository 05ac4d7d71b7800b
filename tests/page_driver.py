"""Driving the assessment page in AppTest the way a clinician does: a finding's control sits in its tab.

Only the open tab's controls are drawn, so a finding in another tab is reached by opening that tab first,
as a user would. Shared by the page tests and `make bench`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, load_knowledge
from ui.assessment_state import FINDING_TAB_KEY, finding_key, finding_tab

ASSESSMENT_PAGE = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@functools.cache
def _page_knowledge() -> KnowledgeBase:
    """The knowledge the page reads (it honours HIPGUIDE_KNOWLEDGE_DIR): only its findings' tabs are used."""
    return load_knowledge(os.environ.get("HIPGUIDE_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)


def open_tab_of(at: AppTest, finding_id: str, kb: KnowledgeBase | None = None) -> AppTest:
    """Open the tab that holds a finding's control (takes effect on the next run)."""
    at.session_state[FINDING_TAB_KEY] = finding_tab(kb or _page_knowledge(), finding_id)
    return at


def finding_control(at: AppTest, finding_id: str, kb: KnowledgeBase | None = None):
    """The finding's Yes/No control, after opening its tab if another tab is open."""
    try:
        return at.segmented_control(key=finding_key(finding_id))
    except KeyError:
        open_tab_of(at, finding_id, kb).run()
        assert not at.exception, [e.value for e in at.exception]
        return at.segmented_control(key=finding_key(finding_id))


def downloads(monkeypatch) -> dict[str, object]:
    """What each download button would hand the browser, by file name, as a callable: the PDFs are made on
    click (a callable registered with the session's media manager), the Markdown note with the page."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    registered: dict[str, object] = {}
    original, original_add = MediaFileManager.add_deferred, MediaFileManager.add

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        registered[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    def spy_add(self, data, mimetype, coordinates, file_name=None, *args, **kwargs):
        registered[file_name] = lambda: data.decode() if isinstance(data, bytes) else data
        return original_add(self, data, mimetype, coordinates, file_name, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    monkeypatch.setattr(MediaFileManager, "add", spy_add)
    return registered
