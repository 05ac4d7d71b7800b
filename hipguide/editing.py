"""Data shaping for the editor page: form values from adopted guidance and back, the proposed guidance
for an impact preview, claim-id suggestions, audit rows and version choices.

No Streamlit import; the page only moves these values in and out of widgets.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .conflicts import topic_conflict
from .editorial import field_problem
from .models import PHASES, Claim, Guidance
from .yamlio import KnowledgeError, load_yaml_text

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

NO_DISPOSITION = "—"
DISPOSITIONS = ("accepted", "rejected", "accepted_with_modification")
SAME_AS_GENERAL = "same_as_general"  # an override phase with no advice of its own
OVERRIDE_COUNT = "ov_count"


def disposition_claims(kb: KnowledgeBase, topic: str) -> list[str]:
    """Claims an editor records a disposition for, in file order: every conflicting claim, every claim that
    opposes the adopted stance and awaits a disposition (the living guideline), and any already disposed."""
    tc = kb.conflicts.get(topic)
    conflicting = (tc.conflicting_claim_ids if tc else set()) | {c.id for c, _ in kb.claims_awaiting_disposition(topic)}
    disposed = {d.claim for d in kb.guidance[topic].dispositions} if topic in kb.guidance else set()
    ordered = [c.id for c in kb.claims.get(topic, []) if c.id in conflicting or c.id in disposed]
    return ordered + sorted(disposed - set(ordered))


def form_from_guidance(g: Guidance, claims: list[str]) -> dict[str, Any]:
    """Flat form values (one per widget) from a guidance record."""
    form: dict[str, Any] = {
        "rationale": g.rationale, "strength": g.strength, "certainty": g.certainty,
        "applies_to": list(g.applies_to), "status": g.status, "approver": g.approver or "",
    }
    for p in PHASES:
        form[f"{p}_stance"] = g.phases[p].stance
        form[f"{p}_advice"] = g.phases[p].advice
    existing = {d.claim: d for d in g.dispositions}
    for cid in claims:
        d = existing.get(cid)
        form[f"disp_{cid}"] = d.disposition if d else NO_DISPOSITION
        form[f"reason_{cid}"] = d.reason if d else ""
    form[OVERRIDE_COUNT] = len(g.condition_overrides)
    for i, ov in enumerate(g.condition_overrides):
        form.update(override_form(i, ov.conditions, ov.reason,
                                  {p: (a.stance, a.advice) for p, a in ov.phases.items()}))
    return form


def override_form(i: int, conditions: list[str] | None = None, reason: str = "",
                  phases: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Form values for condition-specific override number `i` (a new, empty one by default)."""
    phases = phases or {}
    form: dict[str, Any] = {f"ov{i}_conditions": list(conditions or []), f"ov{i}_reason": reason, f"ov{i}_remove": False}
    for p in PHASES:
        stance, advice = phases.get(p, (SAME_AS_GENERAL, ""))
        form[f"ov{i}_{p}_stance"] = stance
        form[f"ov{i}_{p}_advice"] = advice
    return form


def overrides_from_form(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The condition-specific overrides in the form, without those marked for removal.

    A phase left as "same as the general advice" is left out, so the general advice applies to it.
    """
    out = []
    for i in range(int(form.get(OVERRIDE_COUNT) or 0)):
        if form.get(f"ov{i}_remove"):
            continue
        phases = {p: {"stance": form.get(f"ov{i}_{p}_stance"), "advice": (form.get(f"ov{i}_{p}_advice") or "").strip()}
                  for p in PHASES if form.get(f"ov{i}_{p}_stance", SAME_AS_GENERAL) != SAME_AS_GENERAL}
        out.append({"conditions": list(form.get(f"ov{i}_conditions") or []), "phases": phases,
                    "reason": (form.get(f"ov{i}_reason") or "").strip()})
    return out


def changes_from_form(form: dict[str, Any], claims: list[str], source_hashes: dict[str, str],
                      claim_stances: dict[str, str] | None = None) -> dict[str, Any]:
    """The `changes` for `editorial.save_guidance` from the form values.

    `claim_stances` (the topic's claims as the editor sees them now) is recorded with the decision, so
    a claim that changes stance afterwards flags the guidance "needs review" again.

    Condition-specific overrides are replaced by the form's when it has them (`ov_count`), and kept
    as they are otherwise.
    """
    dispositions = []
    for cid in claims:
        choice = form.get(f"disp_{cid}", NO_DISPOSITION)
        if choice and choice != NO_DISPOSITION:
            dispositions.append({"claim": cid, "disposition": choice, "reason": (form.get(f"reason_{cid}") or "").strip()})
    approver = (form.get("approver") or "").strip()
    overrides = {"condition_overrides": overrides_from_form(form)} if OVERRIDE_COUNT in form else {}
    return {
        "status": form["status"],
        "approver": approver or None,
        "strength": form["strength"],
        "certainty": form["certainty"],
        "applies_to": list(form.get("applies_to") or []),
        "phases": {p: {"stance": form[f"{p}_stance"], "advice": (form.get(f"{p}_advice") or "").strip()} for p in PHASES},
        "rationale": (form.get("rationale") or "").strip(),
        "dispositions": dispositions,
        **overrides,
        "source_hashes": dict(source_hashes),
        **({"claim_stances": dict(claim_stances)} if claim_stances is not None else {}),
    }


def current_source_hashes(kb: KnowledgeBase, topic: str) -> dict[str, str]:
    """The text hashes of the sources a topic's claims come from, as last confirmed: recorded with a decision."""
    return {sid: kb.sources[sid].text_sha256
            for sid in sorted({c.source for c in kb.claims.get(topic, [])}) if sid in kb.sources}


def current_claim_stances(kb: KnowledgeBase, topic: str) -> dict[str, str]:
    """The stance of each of a topic's claims as they read now: recorded with a decision."""
    return {c.id: c.stance for c in kb.claims.get(topic, [])}


def proposed_guidance(current: Guidance | None, topic: str, changes: dict[str, Any],
                      today: dt.date | None = None) -> tuple[Guidance | None, list[str]]:
    """The guidance a save would write (as `save_guidance` merges it), or the reasons it is not valid."""
    base = current.model_dump(mode="json") if current else {"topic": topic, "version": 0}
    data = {**base, **changes, "topic": topic, "version": int(base.get("version", 0)) + 1,
            "date": (today or dt.date.today()).isoformat()}
    try:
        return Guidance.model_validate(data), []
    except ValidationError as exc:
        return None, [field_problem(e) for e in exc.errors()]


def suggest_claim_id(topic: str, source: str, quote: str, existing: set[str]) -> str:
    """`<topic>_<source>_<first words>`, made unique and kept within the 60-character id limit."""
    from .editorial import slugify

    words = slugify(" ".join(quote.split()[:4]), limit=20) or "claim"
    stem = f"{topic}_{source}_{words}"[:56].rstrip("_")
    candidate, n = stem, 2
    while candidate in existing:
        candidate, n = f"{stem}_{n}", n + 1
    return candidate


def claim_conflicts(kb: KnowledgeBase, topic: str, claim: Claim) -> bool:
    """Whether adding `claim` makes it part of an opposing pair (so it needs a disposition in the guidance)."""
    trial = replace(kb, claims={**kb.claims, topic: [*kb.claims.get(topic, []), claim]})
    return claim.id in topic_conflict(trial, topic).conflicting_claim_ids


def audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit log as table rows, newest first (values as text, so a table shows them inert)."""
    rows = []
    for e in reversed(entries):
        what = e.get("topic") or e.get("source") or ""
        if e.get("claim"):
            what = f"{what} / {e['claim']}"
        changes = e.get("changes") or []
        rows.append({
            "when (UTC)": str(e.get("at") or ""), "editor": str(e.get("editor") or ""), "action": str(e.get("action") or ""),
            "what": what, "version": "" if e.get("version") is None else str(e["version"]),
            "status": str(e.get("status") or ""), "note": str(e.get("note") or ""), "file": str(e.get("file") or ""),
            "fields changed": ", ".join(str(c.get("field")) for c in changes[:8]) + (" …" if len(changes) > 8 else ""),
        })
    return rows


def version_label(item: dict[str, Any]) -> str:
    when = f", {item['at']}" if item.get("at") else ""
    return f"v{item.get('version')} — {item.get('editor')}{when}"


def yaml_as_data(text: str, name: str = "file") -> dict[str, Any] | None:
    """A YAML document as plain data for a diff (None when it cannot be read)."""
    try:
        data = load_yaml_text(text, name)
    except KnowledgeError:
        return None
    return json.loads(json.dumps(data, default=str)) if isinstance(data, dict) else None


def parse_flag_lines(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Credibility flags typed one per line as `flag: evidence`; returns (flags, problems)."""
    from .models import CREDIBILITY_FLAGS

    flags, problems = [], []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, evidence = line.partition(":")
        name = name.strip()
        if not sep or not evidence.strip():
            problems.append(f"line {n}: write it as `flag: evidence`")
        elif name not in CREDIBILITY_FLAGS:
            problems.append(f"line {n}: unknown flag {name!r}")
        else:
            flags.append({"flag": name, "evidence": evidence.strip()})
    return flags, problems
