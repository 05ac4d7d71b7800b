"""Exports: the clinical note (Markdown, for the record) and the plain-language patient handout.

Both are built in memory and handed to the browser; nothing about a patient is written to disk.
Text from sources and editors is emitted as Markdown-escaped text, never as HTML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assessment import Assessment
    from .knowledge import KnowledgeBase

DISCLAIMER = ("HipGuide supports, and does not replace, clinical judgement. Probabilities are estimates from "
              "published and estimated likelihood ratios; check the basis shown before acting on them.")
HANDOUT_DISCLAIMER = ("This sheet is general self-care advice agreed with your physiotherapist. Stop and seek "
                      "care if your pain gets much worse, you feel unwell or feverish, you notice numbness in the "
                      "saddle area, or you have new problems controlling your bladder or bowel.")
TRIAGE_HEADLINES = {
    "emergency": "Same-day emergency care",
    "urgent": "Medical review or imaging within days; stop the aggravating load",
    "routine": "Physiotherapy management",
}
STANCE_WORDS = {"recommend": "Recommended", "conditional": "Only in some situations",
                "advise_against": "Not recommended", "neutral": "No specific advice"}

# Every character that can start Markdown (or, through it, HTML). The backslash comes first, so the
# backslashes added for the others are not escaped again.
MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~"


def md_escape(text: str) -> str:
    """Escape Markdown (and so any HTML) in text that came from a source or an editor."""
    # One str.replace per special character present: several times faster than a regex substitution,
    # and the page escapes a few hundred strings per rerun.
    text = str(text)
    for ch in MD_SPECIAL:
        if ch in text:
            text = text.replace(ch, "\\" + ch)
    return text


def pct(p: float) -> str:
    """A probability as shown to clinicians; the engine's bounds (1%, 95%) read as "≤1%" and "≥95%"."""
    return "≤1%" if p <= 0.01 else "≥95%" if p >= 0.95 else f"{p:.0%}"


def clinical_note(kb: KnowledgeBase, result: Assessment) -> str:
    label = {fid: f.label for fid, f in kb.findings.items()}
    cond = {cid: c.label for cid, c in kb.conditions.items()}
    lines = ["# HipGuide assessment note", "", f"_{DISCLAIMER}_", "", f"**Phase:** {result.case.phase}"]
    if result.case.age is not None:
        lines.append(f"**Age:** {result.case.age}")
    lines += ["", "## Findings", ""]
    lines += [f"- Present: {md_escape(label[f])}" for f in result.case.findings] or ["- None recorded as present"]
    lines += [f"- Checked, absent: {md_escape(label[f])}" for f in result.case.absent]
    lines += ["", f"## Triage: {result.triage.level.upper()}", ""]
    if result.triage.reasons:
        lines += [f"- {triage_reason_line(kb, r)}" for r in result.triage.reasons]
    else:
        lines.append("- No red flag recorded. Routine physiotherapy management.")
    lines += ["", "## Differential (post-test probability per condition)", "", f"_{md_escape(result.sufficiency_note)}_", ""]
    for r in result.differential:
        lines.append(f"- **{md_escape(cond[r.condition])}**: {pct(r.probability)} (pre-test {pct(r.prior)})")
        for c in r.contributions:
            sign = "for" if c.effect > 0 else "against"
            state = "present" if c.present else "absent"
            ref = f"; {md_escape(c.reference)}" if c.reference else ""
            lines.append(f"  - {sign}: {md_escape(label.get(c.finding, c.finding))} ({state}), "
                         f"LR {c.likelihood_ratio:g}, log-odds {c.effect:+.2f} — {c.provenance}{ref}")
    lines += ["", "## Plan", ""]
    if result.plan_withheld:
        lines.append(md_escape(result.plan_withheld))
    for item in result.plan:
        tags = [f"guidance v{item.version}, {item.status}"]
        if item.conflict:
            tags.append(f"sources disagree ({item.conflict_type}): for {', '.join(item.sources_for) or '—'}; "
                        f"against {', '.join(item.sources_against) or '—'}")
        if item.safety_override:
            tags.append(f"safety override: {item.safety_override}")
        lines.append(f"- **{md_escape(item.label)}** — {STANCE_WORDS[item.stance]}: {md_escape(item.advice)} "
                     f"_({md_escape('; '.join(tags))})_")
    lines += ["", "## Guidance versions used", ""]
    for item in result.plan:
        approver = f", approved by {md_escape(item.approver)}" if item.approver else ""
        lines.append(f"- {item.topic}: version {item.version} ({item.status}{approver}); strength {item.strength}, "
                     f"certainty {item.certainty}")
    return "\n".join(lines) + "\n"


PHASE_PLAIN = {"acute": "while it is sore now", "recovery": "while it settles and you return to activity",
               "prevention": "to keep it from coming back"}


def triage_headline(level: str) -> str:
    """The triage in one line, as the page's banner, the note and the handout all say it."""
    return f"Triage: {level.upper()} — {TRIAGE_HEADLINES.get(level, '')}."


def triage_reason_line(kb: KnowledgeBase, reason: Any) -> str:
    """One fired red-flag rule as Markdown: what, how urgent, because of which findings, what to do, basis."""
    because = ", ".join(md_escape(kb.findings[f].label) if f in kb.findings else md_escape(f) for f in reason.findings)
    return (f"**{md_escape(reason.label)}** ({reason.level}) — because: {because}. "
            f"**Action:** {md_escape(reason.action)} _Basis: {md_escape(reason.reference)}_")


def patient_handout(kb: KnowledgeBase, result: Assessment) -> str:
    """The plan in plain words for the patient: what to do, what to avoid, when to seek care, the basis.

    Markdown; `hipguide.pdf.handout_pdf` prints it. When to seek care uses the triage's own words.
    """
    phase = result.case.phase
    lines = ["# Your self-care plan", "", f"For the {phase} phase: {PHASE_PLAIN.get(phase, phase)}.", ""]
    if result.plan_withheld or result.triage.level == "emergency":
        lines += ["**Please seek medical care today, as your physiotherapist has advised.** "
                  "Do not start the self-care below until a doctor has seen you.", ""]
    elif result.triage.level == "urgent":
        lines += ["**Your physiotherapist has asked you to see a doctor soon.** Until then, follow this plan.", ""]
    do = [item for item in result.plan if item.stance in ("recommend", "conditional")]
    avoid = [item for item in result.plan if item.stance == "advise_against"]
    lines += ["## What to do", ""]
    lines += [f"- **{md_escape(item.label)}** ({STANCE_WORDS[item.stance].lower()}): {md_escape(item.advice)}"
              for item in do] or ["- Your physiotherapist will give you advice at your next visit."]
    lines += ["", "## What to avoid", ""]
    lines += [f"- **{md_escape(item.label)}**: {md_escape(item.advice)}" for item in avoid] or ["- Nothing specific for now."]
    lines += ["", "## When to seek care", ""]
    if result.triage.reasons:
        lines += [f"**{md_escape(triage_headline(result.triage.level))}**", ""]
        lines += [f"- {triage_reason_line(kb, r)}" for r in result.triage.reasons]
        lines.append("")
    lines += [md_escape(HANDOUT_DISCLAIMER), ""]
    lines += ["## What this plan is based on", ""]
    if result.plan_conditions:
        likely = ", ".join(f"{md_escape(kb.conditions[c].label)}" for c in result.plan_conditions if c in kb.conditions)
        lines.append(f"- What your physiotherapist found points most to: {likely}. This is a working explanation "
                     "that your physiotherapist will keep checking.")
    for item in result.plan:
        basis = f"guidance version {item.version}, {'approved' if item.status == 'approved' else 'draft, not yet approved'}"
        if item.conflict:
            basis += "; the sources disagree on this, and the reasons for the choice are recorded"
        lines.append(f"- {md_escape(item.label)}: {md_escape(basis)}.")
    if result.plan_withheld:
        lines.append(f"- {md_escape(result.plan_withheld)}")
    return "\n".join(lines) + "\n"
