"""Editor: adopt and version the guidance, add sources, tag claims, confirm changed sources, read the history.

Reading needs no sign-in; every write needs an editor sign-in (`ui.signin`) and goes through
`hipguide.editorial` (validated, one git commit by the editor, refused when someone saved first), by way
of the one version-checked form helper in `ui.editor_forms`. Nothing is rendered as HTML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from hipguide.comparison import md_source_text, quote_in_paragraph, verbatim_check, voice_label
from hipguide.editing import (
    DISPOSITIONS,
    NO_DISPOSITION,
    OVERRIDE_COUNT,
    SAME_AS_GENERAL,
    changes_from_form,
    claim_conflicts,
    current_claim_stances,
    current_source_hashes,
    disposition_claims,
    form_from_guidance,
    history_rows,
    override_form,
    parse_flag_lines,
    proposed_guidance,
    suggest_claim_id,
    version_label,
)
from hipguide.editorial import (
    add_claim,
    add_source,
    approve_guidance,
    confirm_source_text,
    diff,
    file_version,
    guidance_document,
    impact_preview,
    save_guidance,
    snapshot,
    version_diff,
)
from hipguide.exports import STANCE_WORDS, md_escape
from hipguide.gitstore import Editor, KnowledgeRepo, StoreError
from hipguide.models import CREDIBILITY_FLAGS, PHASES, Claim, Guidance
from hipguide.yamlio import KnowledgeError, load_yaml_text
from ui.common import disclaimer, knowledge_dir, page_nav
from ui.common import knowledge_or_stop as _knowledge
from ui.coverage_panel import coverage_tab_label, render_coverage_panel
from ui.editor_forms import held_version, is_held, release, show_flash, stale_panel, submit
from ui.editor_history import last_author, lines_by_author, saves
from ui.editor_history import versions as topic_versions
from ui.formats import md_quote_in_context
from ui.signin import signin
from ui.topic_view import folded, render_topic

st.set_page_config(page_title="HipGuide — Editor", page_icon="✏️", layout="wide")
page_nav()

STANCES = ["recommend", "conditional", "advise_against", "neutral"]
STRENGTHS = ["strong", "conditional", "practice_statement"]
CERTAINTIES = ["high", "moderate", "low", "very_low", "not_graded"]
EDITOR_TAB = "editor_tab"  # the open tab's label, in session state
SOURCE_KINDS = ["consumer_health", "practitioner_blog", "clinic_marketing", "product_marketing"]
ss = st.session_state


def words(value: str) -> str:
    return STANCE_WORDS.get(value, value.replace("_", " "))


# --- adopted guidance -----------------------------------------------------------------------------

def guidance_at(text: str | None, rel: str) -> Guidance | None:
    """The guidance as saved in one commit (None when it cannot be read)."""
    if text is None:
        return None
    try:
        return Guidance.model_validate(load_yaml_text(text, rel))
    except (KnowledgeError, ValueError):
        return None


def guidance_tab(editor: Editor | None) -> None:
    topic = st.selectbox("Topic", list(kb.topics), key="ed_topic", persist_state="session", format_func=lambda t: kb.topics[t].label)
    if editor is None:
        render_topic(kb, topic)
        return
    if kb.guidance.get(topic) is None:
        st.warning("This topic has no adopted guidance file yet; it is created by the knowledge files.")
        return
    claims = disposition_claims(kb, topic)
    rel = f"guidance/{topic}.yaml"
    key = f"g_{topic}_"
    # The form's values and the version it checks against come from one commit. Its widgets keep
    # their values for the session (persist_state), so unsaved input survives a look at another
    # topic or page, still against the version it started from.
    if not is_held(rel):
        version, text = snapshot(root, rel)
        g = guidance_at(text, rel) or kb.guidance[topic]
        held_version(rel, lambda: version)
        for field, value in form_from_guidance(g, claims).items():
            ss[key + field] = value
        ss[f"{key}opened"] = g
    g = ss.get(f"{key}opened") or kb.guidance[topic]
    present = ss.to_dict()  # one copy of the session's values: each look-up in session state is not free
    for field, value in form_from_guidance(g, claims).items():  # claims tagged since opening
        if key + field not in present:
            ss[key + field] = value

    stale_panel(rel, on_discard=lambda: [ss.pop(k) for k in [k for k in ss if isinstance(k, str) and k.startswith(key)]])

    with folded("Current adopted guidance and the sources", "ed_current") as shown:
        if shown:
            render_topic(kb, topic)

    st.markdown(f"### Editing version {g.version} ({g.status}) → {g.version + 1} (draft)")
    for phase, column in zip(PHASES, st.columns(3), strict=True):
        with column:
            st.selectbox(f"{phase.capitalize()}: stance", STANCES, key=f"{key}{phase}_stance", persist_state="session", format_func=words)
            st.text_area(f"{phase.capitalize()}: advice in plain words", key=f"{key}{phase}_advice", persist_state="session", height=110)
    a, b, c = st.columns(3)
    a.selectbox("Strength", STRENGTHS, key=f"{key}strength", persist_state="session", format_func=words)
    b.selectbox("Certainty", CERTAINTIES, key=f"{key}certainty", persist_state="session", format_func=words)
    c.multiselect("Applies to (none = all conditions)", list(kb.conditions), key=f"{key}applies_to", persist_state="session",
                  format_func=lambda cid: kb.conditions[cid].label)
    override_fields(key, add_key=f"add_override_{topic}")
    st.text_area("Rationale: which claims were accepted or rejected, and why (at least 40 characters)",
                 key=f"{key}rationale", persist_state="session", height=140)

    if claims:
        st.markdown("### Disposition of each conflicting claim, and of each claim against the adopted stance")
        by_id = kb.claims_by_id
        for cid in claims:
            claim = by_id.get(cid)
            with st.container(border=True):
                if claim is not None:
                    quote = " ".join(claim.quote.split())
                    st.markdown(f"`{cid}` — {md_escape(voice_label(kb, claim.source))}, **{words(claim.stance)}**  \n"
                                f"> {md_escape(quote[:300])}{'…' if len(quote) > 300 else ''}")
                left, right = st.columns([1, 3])
                left.selectbox("Disposition", [NO_DISPOSITION, *DISPOSITIONS], key=f"{key}disp_{cid}", persist_state="session",
                               format_func=words)
                right.text_input("Reason", key=f"{key}reason_{cid}", persist_state="session")

    st.text_input("Why you changed it (the commit message)", key=f"{key}note", persist_state="session")

    form = {k.removeprefix(key): v for k, v in ss.to_dict().items() if isinstance(k, str) and k.startswith(key)}
    changes = changes_from_form(form, claims, current_source_hashes(kb, topic), current_claim_stances(kb, topic))
    proposed, problems = proposed_guidance(g, topic, changes)
    if problems:
        st.warning("This decision cannot be saved yet:\n\n" + "\n".join(f"- {md_escape(p)}" for p in problems), icon="⚠️")
    else:
        preview(topic, g, proposed)

    st.caption("A change is saved as a draft. It becomes approved when an approver other than its author approves it.")
    if st.button("💾 Save decision", key=f"save_{topic}", type="primary"):
        def forget_form(_result: Any) -> None:
            for k in [k for k in ss if isinstance(k, str) and k.startswith(key)]:
                del ss[k]

        submit(lambda: save_guidance(root, topic, changes, editor, base_version=held_version(rel, str), note=form.get("note", "")),
               what="The decision", rels=(rel,), on_saved=forget_form,
               success=lambda r: f"Saved {kb.topics[topic].label}: version {r.number} (draft), commit {r.commit[:10]}.")
    approval_box(topic, rel, g, editor, key)


def approval_box(topic: str, rel: str, g: Guidance, editor: Editor, key: str) -> None:
    """Four eyes: an approver other than the last author approves the saved version as it stands."""
    last = last_author(root, rel, head, kb) or "?"
    with st.container(border=True):
        st.markdown("##### Approval (four eyes)")
        if g.status == "approved":
            st.success(f"Version {g.version} is approved by **{md_escape(g.approver or '?')}**.", icon="✅")
            return
        st.markdown(f"Saved version {g.version} is a **draft**, last written by **{md_escape(last)}**.")
        if not editor.can_approve:
            st.caption("An approver other than its last author approves it.")
        elif last in {editor.id, editor.email, editor.display}:
            st.info("You wrote the last version of this decision, so another approver must approve it.", icon="👥")
        elif st.button(f"Approve version {g.version} as saved", key=f"approve_{topic}",
                       help="Approves the saved version, not input you have not saved"):
            def forget_form(_result: Any) -> None:
                for k in [k for k in ss if isinstance(k, str) and k.startswith(key)]:
                    del ss[k]

            submit(lambda: approve_guidance(root, topic, editor, base_version=held_version(rel, str)),
                   what="The approval", rels=(rel,), on_saved=forget_form,
                   success=lambda r: f"Approved {kb.topics[topic].label} version {r.number} (drafted by {last}).")


def override_fields(key: str, add_key: str) -> None:
    """Condition-specific advice: for each override, its conditions, its advice per phase and why it differs."""
    st.markdown("### Condition-specific advice")
    count = ss.get(key + OVERRIDE_COUNT, 0)
    st.caption("Advice that replaces the general advice above for some conditions (a safety rule, say). A phase left "
               "on “same as the general advice” follows the general advice for those conditions too."
               + ("" if count else " This topic has none."))
    for i in range(count):
        with st.container(border=True):
            top, remove = st.columns([4, 1], vertical_alignment="bottom")
            top.multiselect(f"Override {i + 1}: for these conditions", list(kb.conditions), key=f"{key}ov{i}_conditions", persist_state="session",
                            format_func=lambda cid: kb.conditions[cid].label)
            remove.checkbox("Remove", key=f"{key}ov{i}_remove", persist_state="session", help="Leave this override out of the saved decision")
            for phase, column in zip(PHASES, st.columns(3), strict=True):
                with column:
                    st.selectbox(f"{phase.capitalize()}: stance", [SAME_AS_GENERAL, *STANCES], key=f"{key}ov{i}_{phase}_stance", persist_state="session",
                                 format_func=lambda v: "same as the general advice" if v == SAME_AS_GENERAL else words(v))
                    st.text_area(f"{phase.capitalize()}: advice", key=f"{key}ov{i}_{phase}_advice", persist_state="session", height=100)
            st.text_input("Why these conditions need different advice", key=f"{key}ov{i}_reason", persist_state="session")
    if st.button("Add condition-specific advice", key=add_key, icon=":material/add:"):
        for field, value in override_form(count).items():
            ss[key + field] = value
        ss[key + OVERRIDE_COUNT] = count + 1
        st.rerun()


def cached_impact(topic: str, proposed: Any) -> list:
    """The vignette impact of a proposal, recomputed only when the proposal or the knowledge changes.

    Kept in this session's state (an editor's draft is nobody else's business), not a global cache.
    """
    key = (kb.version, topic, proposed.model_dump_json())
    cached = ss.get("impact_cache")
    if cached is None or cached[0] != key:
        cached = ss["impact_cache"] = (key, impact_preview(kb, topic, proposed))
    return cached[1]


def preview(topic: str, current: Any, proposed: Any) -> None:
    changed = [r for r in diff(guidance_document(current), guidance_document(proposed))
               if r["field"] not in ("version", "date") and not r["field"].startswith("source_hashes")]
    with st.expander(f"Preview: {len(changed)} field(s) change", expanded=bool(changed)):
        if changed:
            st.dataframe(pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in changed]), hide_index=True,
                         width="stretch")
        impact = cached_impact(topic, proposed) if changed else []
        if impact:
            st.markdown(f"**Impact on the worked cases:** the plan changes in {len(impact)} of "
                        f"{len(kb.vignettes)} shipped vignettes.")
            st.dataframe(pd.DataFrame([{
                "vignette": r.vignette, "title": r.title, "stance now": words(r.stance_before or "—"),
                "stance after": words(r.stance_after or "—"), "advice now": r.advice_before or "",
                "advice after": r.advice_after or ""} for r in impact]), hide_index=True, width="stretch")
        else:
            st.caption(f"Impact on the worked cases: no plan changes in the {len(kb.vignettes)} shipped vignettes.")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


# --- sources and claims -----------------------------------------------------------------------------

def add_source_tab(editor: Editor | None) -> None:
    if editor is None:
        st.info("Sign in as an editor to add a source.")
        return
    st.caption("Paste the article's text exactly as published; claims are checked word for word against it.")
    with st.form("add_source_form"):
        a, b = st.columns(2)
        source_id = a.text_input("Id (a-z, 0-9, _; e.g. physio_blog_2024)", key="src_id", persist_state="session", max_chars=60)
        title = b.text_input("Title", key="src_title", persist_state="session")
        publisher = a.text_input("Publisher", key="src_publisher", persist_state="session")
        author = b.text_input("Author (blank if none is named)", key="src_author", persist_state="session")
        date = a.text_input("Date as the source gives it (blank if none)", key="src_date", persist_state="session")
        kind = b.selectbox("Kind", SOURCE_KINDS, key="src_kind", persist_state="session", format_func=words)
        duplicate_of = a.selectbox("Same article as (counts as one voice)", ["", *kb.sources], key="src_duplicate", persist_state="session",
                                   format_func=lambda s: s or "— not a duplicate —")
        attribution = b.text_input("Attribution", key="src_attribution", persist_state="session",
                                   placeholder="Text reproduced verbatim for comparison; © the original publisher.")
        flags_text = st.text_area("Credibility flags, one per line as `flag: evidence`", key="src_flags", persist_state="session", height=100,
                                  help="Flags: " + ", ".join(CREDIBILITY_FLAGS))
        text = st.text_area("Source text (verbatim)", key="src_text", persist_state="session", height=260)
        note = st.text_input("Why you add it (the commit message)", key="src_note", persist_state="session")
        submitted = st.form_submit_button("Add source", key="src_submit", type="primary")
    if not submitted:
        return
    flags, problems = parse_flag_lines(flags_text)
    if problems:
        st.error("Flags: " + "; ".join(md_escape(p) for p in problems))
        return
    fields = {"id": source_id.strip(), "title": title.strip(), "publisher": publisher.strip(), "author": author.strip(),
              "date": date.strip(), "kind": kind, "duplicate_of": duplicate_of, "attribution": attribution.strip(),
              "flags": flags}
    sid = fields["id"]

    def show_it(_result: Any) -> None:
        ss["tag_source"] = sid
        ss["added_source_preview"] = sid

    submit(lambda: add_source(root, fields, text, editor, note=note), what="The source",
           rels=(f"sources/{sid}.yaml",), on_saved=show_it,
           success=lambda r: f"Added source {sid} (commit {r.commit[:10]}). Tag its claims under “Tag a claim”.")


def tag_claim_tab(editor: Editor | None) -> None:
    if editor is None:
        st.info("Sign in as an editor to tag claims.")
        return
    sources = list(kb.sources)
    if ss.get("tag_source") not in sources:
        ss.pop("tag_source", None)
    sid = st.selectbox("Source", sources, key="tag_source", persist_state="session", format_func=lambda s: voice_label(kb, s))
    text = kb.source_texts[sid]
    with st.expander("Source text (select the words you want to quote and copy them below)",
                     expanded=ss.get("added_source_preview") == sid):
        st.markdown(md_source_text(text))
    quote = st.text_area("Quote (word for word from the source)", key="tag_quote", persist_state="session", height=90)
    if quote.strip():
        if verbatim_check(text, quote):
            st.success("Found verbatim in the source:", icon="✅")
            st.markdown(md_quote_in_context(quote_in_paragraph(text, quote)))
        else:
            st.error("Not found word for word in this source (whitespace, curly quotes and dashes are ignored). "
                     "Copy it exactly.", icon="❌")
    a, b, c = st.columns(3)
    topic = a.selectbox("Topic", list(kb.topics), key="tag_topic", persist_state="session", format_func=lambda t: kb.topics[t].label)
    stance = b.selectbox("Stance", STANCES, key="tag_stance", persist_state="session", format_func=words)
    phases = c.multiselect("Phases (none = not phase-specific)", list(PHASES), key="tag_phases", persist_state="session")
    d, e, f = st.columns(3)
    target = d.selectbox("Target structure", list(kb.targets), key="tag_target", persist_state="session",
                         index=list(kb.targets).index("general") if "general" in kb.targets else 0,
                         format_func=lambda t: kb.targets[t].label)
    population = e.text_input("Population (blank = general)", key="tag_population", persist_state="session")
    note = f.text_input("Note", key="tag_note", persist_state="session")
    existing = set(kb.claims_by_id)
    suggested = suggest_claim_id(topic, sid, quote, existing) if quote.strip() else ""
    claim_id = st.text_input("Claim id", key="tag_id", persist_state="session", placeholder=suggested or "e.g. ice_source_short_name") or suggested

    claim_doc = {"id": claim_id, "source": sid, "stance": stance, "quote": " ".join(quote.split()),
                 "scope": {"phases": phases, "target": target, "population": population.strip() or None},
                 "note": note.strip() or None}
    disposition = None
    try:
        claim = Claim.model_validate(claim_doc)
    except ValueError:
        claim = None
    if claim is not None and topic in kb.guidance and claim_conflicts(kb, topic, claim):
        st.warning("This claim opposes another independent voice on this topic, so the adopted guidance must say "
                   "how it is treated. The disposition is saved with the claim as a new guidance version.", icon="⚡")
        x, y = st.columns([1, 3])
        choice = x.selectbox("Disposition", list(DISPOSITIONS), key="tag_disposition", persist_state="session", format_func=words)
        reason = y.text_input("Reason", key="tag_reason", persist_state="session")
        disposition = {"disposition": choice, "reason": reason}
    rel, g_rel = f"claims/{topic}.yaml", f"guidance/{topic}.yaml"
    claims_base = held_version(rel, lambda: file_version(root, rel))
    stale_panel(rel)
    if disposition:
        stale_panel(g_rel)
    if st.button("Add claim", key="tag_save", type="primary"):
        guidance_base = held_version(g_rel, lambda: file_version(root, g_rel)) if disposition else None

        def forget_input(_result: Any) -> None:
            if disposition:  # the guidance form reopens on the new version
                for k in [k for k in ss if isinstance(k, str) and k.startswith(f"g_{topic}_")]:
                    del ss[k]
                release(g_rel)
            for k in ("tag_quote", "tag_id", "tag_note", "tag_reason"):
                ss.pop(k, None)

        submit(lambda: add_claim(root, topic, claim_doc, editor, base_version=claims_base, disposition=disposition,
                                 guidance_base_version=guidance_base, note=note),
               what="The claim", rels=(rel, g_rel), on_saved=forget_input,
               success=lambda r: f"Added claim {claim_doc['id']} to {kb.topics[topic].label} (commit {r.commit[:10]}).")


def review_tab(editor: Editor | None) -> None:
    changed = sorted(kb.changed_sources)
    if not changed and not kb.guidance_needing_review:
        st.success("Nothing needs review: every source's text matches the text its claims were checked against.")
    for sid in changed:
        src = kb.sources[sid]
        topics = sorted({t for t, cl in kb.claims.items() for c in cl if c.source == sid})
        with st.container(border=True):
            st.markdown(f"**⚠ Needs review: {md_escape(src.title)}** (`{sid}`)")
            st.caption("Its text changed since its claims were checked. Re-read the claims on: "
                       + (", ".join(md_escape(kb.topics[t].label) for t in topics if t in kb.topics) or "no topic"))
            if editor is not None:
                rel = f"sources/{sid}.yaml"
                base = held_version(rel, lambda rel=rel: file_version(root, rel))
                stale_panel(rel)
                if st.button("I re-checked its claims: confirm the new text", key=f"confirm_{sid}"):
                    submit(lambda sid=sid, base=base: confirm_source_text(root, sid, editor, base_version=base),
                           what="The confirmation", rels=(rel,),
                           success=lambda r, sid=sid: f"Confirmed the current text of {sid} (commit {r.commit[:10]}).")
    for topic, reasons in kb.guidance_needing_review.items():
        st.warning(f"**{md_escape(kb.topics[topic].label if topic in kb.topics else topic)}**: "
                   + "; ".join(md_escape(r) for r in reasons)
                   + ". Re-check the decision and save it under “Adopted guidance”.", icon="⚠️")


def history_tab() -> None:
    st.markdown("### Every save, newest first (from git)")
    every = saves(root)
    if every:
        st.dataframe(pd.DataFrame(history_rows(every)), hide_index=True, width="stretch")
    else:
        st.caption("No saves recorded yet (or the knowledge folder is not in git).")
    st.markdown("### A topic's guidance, version against version")
    topic = st.selectbox("Topic", list(kb.topics), key="hist_topic", persist_state="session", format_func=lambda t: kb.topics[t].label)
    versions = topic_versions(root, topic)
    if len(versions) < 2:
        st.caption("Only one saved version of this topic so far." if versions else "No guidance for this topic in git.")
    else:
        labels = [version_label(v) for v in versions]
        a, b = st.columns(2)
        old = a.selectbox("From", range(len(versions)), index=len(versions) - 2, key=f"hist_from_{topic}", persist_state="session",
                          format_func=lambda i: labels[i])
        new = b.selectbox("To", range(len(versions)), index=len(versions) - 1, key=f"hist_to_{topic}", persist_state="session",
                          format_func=lambda i: labels[i])
        chosen = versions[new]
        who = f"Saved by {chosen['editor']}"
        if chosen.get("status") == "approved":
            who = f"Approved by {chosen.get('approver') or chosen['editor']}" + (f", drafted by {chosen['drafted_by']}" if chosen.get("drafted_by") else "")
        st.caption(f"{who}. Note: {chosen['note'] or '—'}")
        rows = diff(versions[old]["document"], chosen["document"])
        if rows:
            st.dataframe(pd.DataFrame([{"field": r["field"], "before": _cell(r["before"]), "after": _cell(r["after"])}
                                       for r in rows]), hide_index=True, width="stretch")
            with st.expander("The same change as a git diff"):
                st.code(version_diff(root, f"guidance/{topic}.yaml", versions[old]["version"], chosen["version"]), language="diff")
        else:
            st.caption("These two versions are the same.")
    st.markdown("##### Who wrote each line")
    files = [f"guidance/{topic}.yaml", f"claims/{topic}.yaml"]
    rel = st.radio("File", files, key=f"blame_file_{topic}", persist_state="session", horizontal=True)
    lines = lines_by_author(root, rel)
    if lines:
        st.dataframe(pd.DataFrame([{"line": ln.line, "text": ln.text, "author": ln.author, "date": ln.date,
                                    "note": ln.note, "commit": ln.commit[:10]} for ln in lines]),
                     hide_index=True, width="stretch")
    else:
        st.caption("This file is not in git yet.")


# --- page -------------------------------------------------------------------------------------------

kb = _knowledge()
root = Path(knowledge_dir())
st.title("✏️ Editor")
st.caption("Adopt and version the guidance HipGuide uses, add sources and tag their claims. Every save is checked "
           "against the whole knowledge base and recorded as one git commit with you as its author: all of it or none.")
editor = signin()
head = None  # the knowledge repository's current commit, read once per rerun
if editor is not None:
    try:
        head = KnowledgeRepo.of(root).require_commit()  # every rerun: no git process here
    except StoreError as exc:
        st.error(f"Editing is not possible here: {md_escape(str(exc))}. Reading works as usual.", icon="🛑")
        editor = None
show_flash()
preview_sid = ss.get("added_source_preview")
if preview_sid in kb.sources and editor is not None:
    with st.container(border=True):
        st.markdown(f"**Stored text of {preview_sid}, shown as plain text:**")
        st.markdown(md_source_text(kb.source_texts[preview_sid]))
        if st.button("Hide", key="hide_preview"):
            ss.pop("added_source_preview", None)
            st.rerun()

labels = ["Adopted guidance", "Add a source", "Tag a claim",
          f"Needs review ({len(kb.changed_sources) + len(kb.guidance_needing_review)})", "History",
          coverage_tab_label(kb)]
chosen = ss.get(EDITOR_TAB)
if isinstance(chosen, str) and chosen not in labels:  # a count in its label changed (a save): stay on that tab
    ss[EDITOR_TAB] = next((label for label in labels if label.split(" (")[0] == chosen.split(" (")[0]), labels[0])
# Only the open tab is drawn (a tab switch reruns the page): hidden tabs cost nothing, and the widgets in
# them keep their values for the session (persist_state).
tabs = st.tabs(labels, key=EDITOR_TAB, on_change="rerun")
for tab, draw in zip(tabs, (lambda: guidance_tab(editor), lambda: add_source_tab(editor), lambda: tag_claim_tab(editor),
                            lambda: review_tab(editor), history_tab, lambda: render_coverage_panel(kb)), strict=True):
    if tab.open:
        with tab:
            draw()
disclaimer()
