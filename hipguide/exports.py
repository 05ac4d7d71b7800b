"""Exports: the clinical note (Markdown, for the record) and the plain-language patient handout.

Both are built in memory and handed to the browser; nothing about a patient is written to disk.
Text from sources and editors is emitted as Markdown-escaped text, never as HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .assessment import Assessment
    from .knowledge import KnowledgeBase
    from .visits import VisitRecord

DISCLAIMER = ("HipGuide supports, and does not replace, clinical judgement. Probabilities are estimates from "
              "published and estimated likelihood ratios; check the basis shown before acting on them.")
HANDOUT_DISCLAIMER = ("This sheet is general self-care advice agreed with your physiotherapist. Stop and seek "
                      "care if your pain gets much worse, you feel unwell or feverish, you notice numbness in the "
                      "saddle area, or you have new problems controlling your bladder or bowel.")
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


def knowledge_escape(kb: KnowledgeBase) -> Callable[[str], str]:
    """md_escape for the knowledge's own text (labels, actions, advice, references), remembered with the
    knowledge base: the note escapes the same few hundred strings on every rerun. Knowledge only: text
    about a patient (an age band, a note, an uploaded record) goes through md_escape itself."""
    memo: dict[str, str] = kb.derived("md_escaped_knowledge_text", dict)

    def escape(text: str) -> str:
        found = memo.get(text)
        if found is None:
            found = memo[text] = md_escape(text)
        return found

    return escape


def pct(p: float) -> str:
    """A probability as shown to clinicians; the engine's bounds (1%, 97%) read as "≤1%" and "≥97%"."""
    return "≤1%" if p <= 0.01 else "≥97%" if p >= 0.97 else f"{p:.0%}"


def clinical_note(kb: KnowledgeBase, result: Assessment, earlier: Sequence[VisitRecord] = (),
                  visit_date: dt.date | None = None) -> str:
    """The note for the record; with earlier visit records, the outcome figures' change since them."""
    known = knowledge_escape(kb)  # the knowledge's own text; what comes from the patient's record is escaped as it comes
    label = {fid: f.label for fid, f in kb.findings.items()}
    cond = {cid: c.label for cid, c in kb.conditions.items()}
    lines = ["# HipGuide assessment note", "", f"_{DISCLAIMER}_", "", f"**Phase:** {result.case.phase}"]
    lines.append(f"**Age:** {result.case.age if result.case.age is not None else 'not recorded'}")
    lines.append(f"**Sex:** {result.case.sex or 'not recorded'}")
    lines += ["", "## Findings", ""]
    lines += [f"- Present: {known(label[f])}" for f in result.case.findings] or ["- None recorded as present"]
    lines += [f"- Checked, absent: {known(label[f])}" for f in result.case.absent]
    lines += outcome_note_lines(kb, result, earlier, visit_date)
    tri = result.triage
    lines += ["", f"## Triage: {tri.level.upper()} — {tri.headline}", ""]
    for r in tri.reasons:
        fired = ", ".join(known(label.get(f, f)) for f in r.findings)
        kind = "safety-netting" if r.safety_net else r.level
        review = f" Review within {r.review_within_weeks} week(s)." if r.review_within_weeks else ""
        lines.append(f"- **{known(r.label)}** ({kind}) — because: {fired}. Action: {known(r.action)}{review} "
                     f"_Basis: {known(r.reference)}_")
    if not tri.red_flag:
        lines.append("- No red flag recorded. Routine physiotherapy management.")
    note = tri.not_assessed_note()
    if note:
        lines.append(f"- {md_escape(note)}")
    for c in result.cautions.values():
        lines.append(f"- Examination caution — {known(label.get(c.finding, c.finding))}: {known(c.warning)}")
    lines += ["", "## Differential (post-test probability per condition)", "", f"_{md_escape(result.sufficiency_note)}_", ""]
    if result.none_fits:
        lines += [f"**None of these fits.** {md_escape(result.none_fits_note or '')}", ""]
        lines += [f"- Consider: {known(o.label)}. {known(o.action)}" for o in result.consider] + [""]
    lines += [f"_{md_escape(note)}_" for note in result.notes]
    rules = {r.id: r.label for r in kb.composite_rules}
    for r in result.differential:
        lines.append(f"- **{known(cond[r.condition])}**: {pct(r.probability)} "
                     f"(pre-test {pct(r.prior)}, {md_escape(r.prior_basis)})")
        for c in r.contributions:
            name = known(rules.get(c.finding, label.get(c.finding, c.finding)))
            state = ("positive" if c.present else "negative") if c.rule else ("present" if c.present else "absent")
            basis = f"; {known(c.reference or c.reason)}" if (c.reference or c.reason) else ""
            if not c.counted:
                instead = known(rules.get(c.instead or "", label.get(c.instead or "", c.instead or "")))
                lines.append(f"  - not counted: {name} ({state}), LR {c.likelihood_ratio:g} — same evidence as {instead}")
                continue
            sign = "for" if c.effect > 0 else "against"
            lines.append(f"  - {sign}: {name} ({state}), LR {c.likelihood_ratio:g}, log-odds {c.effect:+.2f} "
                         f"— {c.provenance.replace('_', ' ')}{basis}")
    lines += ["", "## Plan", ""]
    if result.plan_withheld:
        lines.append(md_escape(result.plan_withheld))
    lines += [f"_{md_escape(note)}_" for note in result.plan_notes]
    for w in result.withheld:
        lines.append(f"- **{known(w.label)}** — not offered: {md_escape(w.reason)}")
    for item in result.plan:
        tags = [f"guidance v{item.version}, {item.status}"]
        if item.conflict:
            tags.append(f"sources disagree ({item.conflict_type}): for {', '.join(item.sources_for) or '—'}; "
                        f"against {', '.join(item.sources_against) or '—'}")
        if item.safety_override:
            tags.append(f"safety override: {item.safety_override}")
        lines.append(f"- **{known(item.label)}** — {STANCE_WORDS[item.stance]}: {known(item.advice)} "
                     f"_({md_escape('; '.join(tags))})_")
    lines += ["", "## Guidance versions used", ""]
    for item in result.plan:
        approver = f", approved by {md_escape(item.approver)}" if item.approver else ""
        lines.append(f"- {item.topic}: version {item.version} ({item.status}{approver}); strength {item.strength}, "
                     f"certainty {item.certainty}")
    return "\n".join(lines) + "\n"


PHASE_PLAIN = {"acute": "while it is sore now", "recovery": "while it settles and you return to activity",
               "prevention": "to keep it from coming back"}


def patient_handout(kb: KnowledgeBase, result: Assessment, earlier: Sequence[VisitRecord] = (),
                    visit_date: dt.date | None = None) -> str:
    """The plan in plain words for the patient: what to do, what to avoid, how the scores have moved,
    when to seek care, and the basis.

    Markdown; `hipguide.pdf.handout_pdf` prints it. "When to seek care" gives the triage in the banner's
    own words: its level and headline, and each red flag's action word for word.
    """
    tri = result.triage
    phase = result.case.phase
    lines = ["# Your self-care plan", "", f"For the {phase} phase: {PHASE_PLAIN.get(phase, phase)}.", ""]
    if result.plan_withheld or tri.level == "emergency":
        lines += ["**Please seek medical care today, as your physiotherapist has advised.** Do not start any "
                  "self-treatment until you have been seen.", ""]
    elif tri.level == "urgent":
        lines += ["**Your physiotherapist has asked you to see a doctor soon.** Until then, follow only the advice "
                  "below.", ""]
    do = [item for item in result.plan if item.stance in ("recommend", "conditional")]
    avoid = [item for item in result.plan if item.stance == "advise_against"]
    if do:
        lines += ["## Your plan", ""]
        lines += [f"- **{md_escape(item.label)}** ({STANCE_WORDS[item.stance].lower()}): {md_escape(item.advice)}"
                  for item in do]
        lines.append("")
    if avoid:
        lines += ["## What to avoid", ""]
        lines += [f"- **{md_escape(item.label)}**: {md_escape(item.advice)}" for item in avoid]
        lines.append("")
    if result.withheld:
        lines += ["## Not for now", "", "Please do not start these until a doctor has seen you:", ""]
        lines += [f"- {md_escape(w.label)}" for w in result.withheld]
        lines.append("")
    lines += progress_handout_lines(kb, result, earlier, visit_date)
    lines += ["## When to seek care", ""]
    if tri.red_flags:
        lines += [f"**Triage: {tri.level.upper()} — {md_escape(tri.headline)}.**", ""]
        lines += [f"- **{md_escape(r.label)}** — {md_escape(r.action)}" for r in tri.red_flags]
        lines.append("")
    reviews = [r.review_within_weeks for r in tri.safety_nets if r.review_within_weeks]
    if reviews and tri.level == "routine":
        weeks = min(reviews)
        lines += [f"**Review:** come back within {weeks} week{'s' if weeks != 1 else ''} if your pain is not clearly "
                  "easing, and sooner if it gets worse, wakes you every night, or you lose weight without trying.", ""]
    lines += [md_escape(HANDOUT_DISCLAIMER), ""]
    lines += ["## What this plan is based on", ""]
    if result.plan_conditions and not result.plan_withheld:
        likely = ", ".join(md_escape(kb.conditions[c].label) for c in result.plan_conditions if c in kb.conditions)
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


# --- outcome measures and progress ----------------------------------------------------------------

def _progress(kb: KnowledgeBase, result: Assessment, earlier: Sequence[VisitRecord], visit_date: dt.date | None):
    from .outcomes import progress

    return progress(kb, [r.visit for r in earlier], (visit_date or dt.date.today(), result.case.outcomes))


def outcome_note_lines(kb: KnowledgeBase, result: Assessment, earlier: Sequence[VisitRecord] = (),
                       visit_date: dt.date | None = None) -> list[str]:
    """The note's outcome section: each figure with its MCID and basis, and the change since earlier visits."""
    from .outcomes import mcid_line, number, outcome_values, short_date

    outcomes = result.case.outcomes
    values = outcome_values(outcomes)
    if not values and not earlier:
        return []
    lines = ["", "## Outcome measures", ""]
    if not values:
        lines.append("- None recorded at this visit.")
    changes = _progress(kb, result, earlier, visit_date)
    for mid, value in values.items():
        m = kb.outcome_measures.get(mid)
        name = md_escape(m.label) if m else mid
        scale = f"/{m.max}" if m else ""
        better = f", {m.better} is better" if m else ""
        lines.append(f"- **{name}**: {number(value)}{scale}{better}. {md_escape(mcid_line(m)) if m else ''}".rstrip())
        if mid == "psfs" and outcomes and outcomes.psfs:
            names = outcomes.psfs_activities or [""] * len(outcomes.psfs)
            for i, (activity, score) in enumerate(zip(names, outcomes.psfs, strict=True)):
                lines.append(f"  - {md_escape(activity.strip() or f'Activity {i + 1}')}: {score}/10")
        if mid == "lefs" and outcomes and outcomes.lefs_items:
            lines.append("  - Total of all 20 items.")
        for key, words in (("last", "Since the last visit"), ("baseline", "Since the first visit")):
            if change := changes.get(mid, {}).get(key):
                lines.append(f"  - {words}: {md_escape(change.statement)}")
    if earlier:
        lines += ["", "## Earlier visits (records uploaded for comparison)", ""]
        from .visits import ordered, record_summary

        for record in ordered(earlier):
            lines.append(f"- {md_escape(short_date(record.date))} {record.date.year}: {md_escape(record_summary(kb, record))}")
    return lines


HANDOUT_VERDICT = {"improved": "an improvement big enough to matter", "worse": "worse by an amount that matters",
                   "no_important_change": "about the same"}
HANDOUT_NAMES = {"nprs": "Pain now", "lefs": "Everyday activities (LEFS)", "psfs": "The activities you chose (PSFS)"}


def progress_handout_lines(kb: KnowledgeBase, result: Assessment, earlier: Sequence[VisitRecord] = (),
                           visit_date: dt.date | None = None) -> list[str]:
    """Plain words for the patient: today's scores and how they compare with the last visit."""
    from .outcomes import number, outcome_values, short_date

    values = outcome_values(result.case.outcomes)
    if not values:
        return []
    changes = _progress(kb, result, earlier, visit_date)
    lines = ["## Your progress", ""]
    for mid, value in values.items():
        m = kb.outcome_measures.get(mid)
        text = f"- **{HANDOUT_NAMES.get(mid, mid)}**: {number(value)} out of {m.max if m else '?'}"
        change = changes.get(mid, {}).get("last") or changes.get(mid, {}).get("baseline")
        if change:
            text += f" ({number(change.before)} on {short_date(change.since)}): {HANDOUT_VERDICT[change.verdict]}"
        lines.append(text)
    return [*lines, ""]
