"""Streamlit glue shared by the pages: knowledge loading (and following other replicas' saves), the disclaimer.

Only knowledge (public, identical for everyone) is cached globally. Patient findings live in
`st.session_state` only: never in a global cache, a module global, a log or a file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from hipguide.editorial import sync_knowledge
from hipguide.exports import DISCLAIMER
from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, knowledge_fingerprint, load_knowledge
from hipguide.yamlio import KnowledgeError, Problem

KNOWLEDGE_ENV = "HIPGUIDE_KNOWLEDGE_DIR"
# How often a rerun looks at the knowledge files on disk (and, no more often than gitstore's interval, fetches
# other replicas' saves). Looking costs a stat per file, about a millisecond, on every click of every session;
# a hand edit or another replica's save is served within this interval, and a save made here at once
# (knowledge_changed).
KNOWLEDGE_RECHECK_S = 1.0
_clock = time.monotonic  # the tests move it on rather than wait


def knowledge_dir() -> str:
    return os.environ.get(KNOWLEDGE_ENV) or str(DEFAULT_KNOWLEDGE_DIR)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(root: str, fingerprint: str) -> KnowledgeBase | list[Problem]:
    # Keyed on the files' signature: a save (here or on another replica) is picked up on the next rerun.
    try:
        kb = load_knowledge(root)
    except KnowledgeError as exc:
        return exc.problems
    _last_good()[root] = kb  # here, once per version, not on every rerun
    return kb


@st.cache_resource(show_spinner=False)
def _last_good() -> dict[str, KnowledgeBase]:
    # Knowledge only (never patient data): the last version that validated, served while files are broken.
    return {}


@dataclass(frozen=True)
class LoadedKnowledge:
    kb: KnowledgeBase | None
    problems: list[Problem]


@st.cache_resource(show_spinner=False)
def _last_check() -> dict[str, tuple[float, LoadedKnowledge]]:
    # Knowledge only (never patient data): when this process last looked at a folder's files, and what it served.
    return {}


def knowledge_changed(root: str | None = None) -> None:
    """A save in this process changed the files: the next rerun looks at them, whatever the interval."""
    _last_check().pop(root or knowledge_dir(), None)


def get_knowledge() -> LoadedKnowledge:
    root = knowledge_dir()
    now = _clock()
    seen = _last_check().get(root)
    if seen is not None and now - seen[0] < KNOWLEDGE_RECHECK_S:
        return seen[1]
    # Other replicas' saves: a fetch from the central repository at most every few seconds (and an
    # interrupted save finished or undone); the files it brings change the signature below.
    sync_knowledge(Path(root))
    # A short key for the cache: Streamlit hashes arguments on every call, and a long tuple costs ms. The
    # cache lives in this process, so the process's own tuple hash (64 bits) is key enough.
    loaded = _load(root, f"{hash(knowledge_fingerprint(root)):x}")
    served = (LoadedKnowledge(loaded, []) if isinstance(loaded, KnowledgeBase)
              else LoadedKnowledge(_last_good().get(root), loaded))
    _last_check()[root] = (now, served)
    return served


def knowledge_or_stop() -> KnowledgeBase:
    """The knowledge base for this rerun; a clear error panel when files on disk are broken."""
    loaded = get_knowledge()
    if loaded.problems:
        lines = "\n".join(f"- `{p}`" for p in loaded.problems[:20])
        more = f"\n- … and {len(loaded.problems) - 20} more" if len(loaded.problems) > 20 else ""
        if loaded.kb is not None:
            st.error(f"The knowledge files on disk have problems; the last valid version is still in use.\n\n{lines}{more}",
                     icon="⚠️")
        else:
            st.error(f"The knowledge base cannot be loaded. Fix these files and reload:\n\n{lines}{more}", icon="🛑")
            st.stop()
    return loaded.kb  # type: ignore[return-value]


# The pages in the clinic's words. Streamlit's own list would call the landing page "dashboard" after
# its file, so .streamlit/config.toml hides that list and every page draws this one.
PAGES = (
    ("dashboard.py", "Assessment", ":material/stethoscope:"),
    ("pages/1_Compare_sources.py", "Compare sources", ":material/compare_arrows:"),
    ("pages/2_Editor.py", "Editor", ":material/edit_note:"),
)


def page_nav() -> None:
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)


def disclaimer() -> None:
    st.caption(f"⚕️ {DISCLAIMER}")
