"""One helper for every version-checked write on the editor page.

A form holds the version (commit) of each file it was built from, taken from the same commit as the
form's values (`hipguide.editorial.snapshot`). A save sends that version; if someone saved the file
since, the save is refused and both versions are kept in this session for the editor to compare.
All of it lives in `st.session_state` (one editor's work, nobody else's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from hipguide.editing import yaml_as_data
from hipguide.editorial import EditError, SaveResult, StaleVersionError, diff
from hipguide.exports import md_escape
from ui.common import knowledge_changed

HELD = "held_versions"
STALE = "stale_saves"


def held_version(rel: str, open_version: Callable[[], str]) -> str:
    """The version this session's form for `rel` started from (taken now, the first time the form is built)."""
    held: dict[str, str] = st.session_state.setdefault(HELD, {})
    if rel not in held:
        held[rel] = open_version()
    return held[rel]


def is_held(rel: str) -> bool:
    return rel in st.session_state.get(HELD, {})


def hold(rel: str, version: str) -> None:
    st.session_state.setdefault(HELD, {})[rel] = version


def release(*rels: str) -> None:
    """Forget the versions of `rels`: the next rerun builds their forms afresh from what is saved now."""
    held = st.session_state.get(HELD, {})
    for rel in rels:
        held.pop(rel, None)


def stale(rel: str) -> dict[str, str] | None:
    return st.session_state.get(STALE, {}).get(rel)


def flash(kind: str, text: str) -> None:
    st.session_state["flash"] = (kind, text)


def show_flash() -> None:
    if "flash" in st.session_state:
        kind, text = st.session_state.pop("flash")
        (st.success if kind == "success" else st.info)(text)


def show_problems(title: str, exc: EditError) -> None:
    lines = [f"- {md_escape(str(p))}" for p in exc.problems[:20]] or [f"- {md_escape(str(exc))}"]
    st.error(f"**{md_escape(title)}** Nothing was written.\n\n" + "\n".join(lines), icon="🛑")


def submit(save: Callable[[], SaveResult], *, what: str, success: Callable[[SaveResult], str],
           rels: tuple[str, ...], on_saved: Callable[[SaveResult], None] | None = None) -> None:
    """Run one version-checked save: refused → both versions kept; invalid → the problems; saved → a message."""
    try:
        result = save()
    except StaleVersionError as exc:
        knowledge_changed()  # someone else's save: show theirs on the next rerun, whatever the recheck interval
        st.session_state.setdefault(STALE, {})[exc.path] = {"theirs": exc.theirs, "yours": exc.yours, "version": exc.version}
        st.rerun()
    except EditError as exc:
        show_problems(f"{what} was refused.", exc)
        return
    knowledge_changed()  # the next rerun serves what was just saved
    for rel in rels:
        st.session_state.get(STALE, {}).pop(rel, None)
    release(*rels)
    if on_saved is not None:
        on_saved(result)
    flash("success", success(result))
    st.rerun()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def stale_panel(rel: str, on_discard: Callable[[], None] | None = None) -> None:
    """A refused save: their saved version and the editor's, side by side, and what to do next."""
    info = stale(rel)
    if not info:
        return
    st.error(f"**Not saved: another editor saved `{rel}` after your form was built.** Your input is kept. "
             "Compare the two versions, then either keep your input (it is checked again, against theirs) or load theirs.",
             icon="⚠️")
    left, right = st.columns(2)
    with left:
        st.markdown("**Theirs (saved)**")
        st.code(info["theirs"], language="yaml")
    with right:
        st.markdown("**Yours (not saved)**")
        st.code(info["yours"], language="yaml")
    rows = [r for r in diff(yaml_as_data(info["theirs"]), yaml_as_data(info["yours"])) if r["field"] != "date"]
    if rows:
        st.dataframe(pd.DataFrame([{"field": r["field"], "theirs": _cell(r["before"]), "yours": _cell(r["after"])}
                                   for r in rows]), hide_index=True, width="stretch")
    a, b = st.columns(2)
    if a.button("Keep my input and save over theirs", key=f"rebase_{rel}",
                help="Takes their version as the new starting point; press Save again to store yours"):
        hold(rel, info["version"])
        st.session_state[STALE].pop(rel, None)
        flash("info", "Your input is kept; their version is now the starting point. Review and press Save again.")
        st.rerun()
    if on_discard is not None and b.button("Discard my input and load theirs", key=f"reload_{rel}"):
        on_discard()
        release(rel)
        st.session_state[STALE].pop(rel, None)
        st.rerun()
