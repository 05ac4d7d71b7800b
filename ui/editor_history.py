"""The editor page's views of git history, cached per commit.

A tab renders on every rerun while it is open (and the approval box on every rerun of the guidance
tab), so history, versions, blame and last authors are read from git once per commit of the knowledge
repository (the cache key is the current commit id, read from git's
files without starting a process). They hold knowledge history only, never patient data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from hipguide.editorial import blame, guidance_versions, history
from hipguide.gitstore import BlameLine, KnowledgeRepo, Save, StoreError
from hipguide.knowledge import KnowledgeBase


def head_id(root: Path) -> str:
    return KnowledgeRepo.of(root).head_id() if KnowledgeRepo.exists_for(root) else ""


@st.cache_data(show_spinner=False, max_entries=8)
def _saves(root: str, head: str, limit: int) -> list[Save]:
    return history(Path(root), limit=limit)


@st.cache_data(show_spinner=False, max_entries=32)
def _versions(root: str, head: str, topic: str) -> list[dict[str, Any]]:
    return guidance_versions(Path(root), topic)


@st.cache_data(show_spinner=False, max_entries=32)
def _blame(root: str, head: str, rel: str) -> list[BlameLine]:
    try:
        return blame(Path(root), rel)
    except (StoreError, Exception):  # a file git does not hold (yet): nothing to attribute
        return []


@st.cache_data(show_spinner=False, max_entries=64)
def _last_author(root: str, head: str, rel: str) -> str:
    saves = KnowledgeRepo.of(root).history([rel], limit=1) if KnowledgeRepo.exists_for(root) else []
    return saves[0].author if saves else ""


def saves(root: Path, limit: int = 200) -> list[Save]:
    return _saves(str(root), head_id(root), limit)


def versions(root: Path, topic: str) -> list[dict[str, Any]]:
    return _versions(str(root), head_id(root), topic)


def lines_by_author(root: Path, rel: str) -> list[BlameLine]:
    return _blame(str(root), head_id(root), rel)


def last_author(root: Path, rel: str, head: str | None = None, kb: KnowledgeBase | None = None) -> str:
    """Who wrote the last saved version of `rel` (its last commit's author); `head`: the current commit id,
    when the caller has just read it. With `kb`, the answer is kept with the knowledge base (a dict look-up
    on the next rerun rather than a cache call); it is knowledge history, never anything about a patient."""
    head = head_id(root) if head is None else head
    if kb is None:
        return _last_author(str(root), head, rel)
    return kb.derived(("last_author", str(root), head, rel), lambda: _last_author(str(root), head, rel))
