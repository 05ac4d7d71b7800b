"""Data shaping for the assessment page: from the engine's result to rows and lines the page shows.

Plain Python (no Streamlit): every function here takes the knowledge base and an `Assessment` and
returns rows or text, so it can be tested without a browser. No clinical rule lives here; the engine
decides, this module only arranges what it decided for display.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hipguide.assessment import Assessment, ConditionResult, NextQuestion, red_flag_screen_findings
from hipguide.exports import STANCE_WORDS, md_escape, pct
from hipguide.knowledge import KnowledgeBase
from hipguide.models import Finding

PRESENT, ABSENT = "present", "absent"
STATE_WORDS = {PRESENT: "Present", ABSENT: "Absent"}

# The order a consultation runs, and the words the page uses for each group. The red-flag screen
# comes first (IFOMPT framework), and so can never scroll out of sight at the end of the tab strip.
FINDING_GROUPS: tuple[tuple[str, str], ...] = (
    ("red_flag", "Red flags"),
    ("onset", "History"),
    ("location", "Location"),
    ("aggravator", "Aggravators"),
    ("nerve", "Nerve signs"),
    ("examination", "Exam"),
    ("risk", "Risk"),
)

STANCE_BADGE_COLOUR = {"recommend": "green", "conditional": "blue", "advise_against": "red", "neutral": "gray"}


_LABEL_SPECIAL = re.compile(r"([\\`*_\[\]<>~|$:])")
_LABEL_LEADING = re.compile(r"^(\s*)(\d+(?=[.)])|)([#>+\-.)])")


def label_escape(text: str) -> str:
    """Escape knowledge text for a widget label (a single line of Markdown).

    Like `md_escape`, but only the characters that can start markup in one line (emphasis, code, links,
    directives, maths, HTML, a leading list or heading marker), so a screen reader's label keeps its
    plain punctuation: "Low back pain (lumbar region)" stays as it is.
    """
    escaped = _LABEL_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _LABEL_LEADING.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), escaped)


GROUP_TITLES = dict(FINDING_GROUPS)


def group_titles(groups: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(group, title) in consultation order; a group the page has no words for yet comes last, as named."""
    return [*FINDING_GROUPS, *((g, g.replace("_", " ").capitalize()) for g in groups if g not in GROUP_TITLES)]


def finding_tab_title(group: str, title: str) -> str:
    """The tab's label, which is also its state in the session: the red-flag tab carries a flag."""
    return (":material/flag: " if group == "red_flag" else "") + title


def findings_by_group(kb: KnowledgeBase) -> dict[str, list[Finding]]:
    """Findings per group, in the knowledge file's order (which follows a consultation).

    The red-flag tab holds the whole red-flag screen: the red-flag questions and the risk factors the
    rules depend on, so a clinician screening for red flags never has to hunt in another tab."""
    screen = red_flag_screen_findings(kb)
    out: dict[str, list[Finding]] = {group: [] for group, _ in FINDING_GROUPS}
    out["red_flag"] = [kb.findings[f] for f in screen]
    for finding in kb.findings.values():
        if finding.id not in screen:
            out.setdefault(finding.group, []).append(finding)
    return out


@dataclass(frozen=True)
class FindingControl:
    """What the page shows for one finding: its label and tooltip, escaped once per knowledge base."""

    id: str
    label: str        # Markdown for a widget label
    help: str | None  # how to test it and what counts as positive


def finding_controls(kb: KnowledgeBase) -> tuple[tuple[str, str, tuple[FindingControl, ...]], ...]:
    """(group, tab title, controls) for each group that has findings, in consultation order."""

    def build() -> tuple[tuple[str, str, tuple[FindingControl, ...]], ...]:
        groups = findings_by_group(kb)
        return tuple((group, title, tuple(FindingControl(f.id, label_escape(f.label), finding_help(f)) for f in groups[group]))
                     for group, title in group_titles(groups) if groups.get(group))

    return kb.derived("finding_controls", build)


PRESENT_WORD, ABSENT_WORD, LIST_SEPARATOR = "Present:", "Absent:", " · "


def recorded_summary(kb: KnowledgeBase, result: Assessment) -> str:
    """Every finding recorded so far, whichever tab holds it: only the open tab's controls are drawn."""
    if not result.case.findings and not result.case.absent:
        return "Nothing recorded yet: every finding is *not assessed*."

    def names(ids: Any) -> str:
        return LIST_SEPARATOR.join(label_escape(kb.findings[f].label) for f in ids if f in kb.findings) or "none"

    return f"**{PRESENT_WORD}** {names(result.case.findings)}  \n**{ABSENT_WORD}** {names(result.case.absent)}"


def red_flag_screen(kb: KnowledgeBase, result: Assessment) -> str:
    """One line on how far the red-flag screen has got, shown above the findings."""
    red_flags = red_flag_screen_findings(kb)
    present = [f for f in red_flags if f in result.case.findings]
    asked = sum(1 for f in red_flags if f in result.case.findings or f in result.case.absent)
    text = f"**Red-flag screen:** {asked} of {len(red_flags)} asked"
    if present:
        text += f", **{len(present)} present**: " + ", ".join(md_escape(kb.findings[f].label) for f in present)
    return text + "."


def finding_tabs(kb: KnowledgeBase) -> dict[str, str]:
    """Each finding's tab label (the tab's state in the session), in the page's order: worked out once."""
    return kb.derived("finding_tabs", lambda: {c.id: finding_tab_title(group, title)
                                               for group, title, controls in finding_controls(kb) for c in controls})


def finding_help(finding: Finding) -> str | None:
    """The one-line how-to and what counts as positive, for a tooltip."""
    parts = []
    if finding.how_to:
        parts.append(f"**How:** {md_escape(finding.how_to)}")
    if finding.positive_if:
        parts.append(f"**Positive if:** {md_escape(finding.positive_if)}")
    return "  \n".join(parts) or None


def case_from_states(states: Mapping[str, str | None], phase: str | None, age: int | float | None,
                     sex: str | None = None) -> dict[str, Any]:
    """A case for the engine from the per-finding states (present / absent / not assessed = None)."""
    case: dict[str, Any] = {
        "findings": sorted(f for f, v in states.items() if v == PRESENT),
        "absent": sorted(f for f, v in states.items() if v == ABSENT),
        "phase": phase or "acute",
    }
    if age is not None:
        case["age"] = int(age)
    if sex is not None:
        case["sex"] = sex
    return case


# --- triage -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TriageBanner:
    kind: str      # "error" | "warning" | "success" | "info": the Streamlit alert to use
    text: str      # Markdown, knowledge text escaped


def _reason_line(kb: KnowledgeBase, r: Any) -> str:
    because = ", ".join(md_escape(kb.findings[f].label) if f in kb.findings else md_escape(f) for f in r.findings)
    review = f" Review within {r.review_within_weeks} week{'s' if r.review_within_weeks != 1 else ''}." if r.review_within_weeks else ""
    return (f"- **{md_escape(r.label)}** ({r.level}) — because: {because}. "
            f"**Action:** {md_escape(r.action)}{review} _Basis: {md_escape(r.reference)}_")


def triage_banner(kb: KnowledgeBase, result: Assessment) -> TriageBanner:
    """The banner at the top: level, which rules fired, because of which findings, and what to do.

    Red flags come first, then safety-netting for single weak flags, then the checks that could not be
    made because the age or sex is not recorded (never counted as negative).
    """
    tri = result.triage
    level = tri.level
    head = f"**Triage: {level.upper()}** — {md_escape(tri.headline)}."
    lines = [head]
    if tri.red_flags:
        lines += ["", *(_reason_line(kb, r) for r in tri.red_flags)]
    if tri.safety_nets:
        lines += ["", "**Safety-netting** (a single weak flag: routine care with a review date):", "",
                  *(_reason_line(kb, r) for r in tri.safety_nets)]
    note = tri.not_assessed_note()
    if note:
        lines += ["", f":material/help: **{md_escape(note)}**"]
    pending_serious = any(u.level != "routine" for u in tri.not_assessed)
    if level == "emergency":
        kind = "error"
    elif level == "urgent" or pending_serious:
        kind = "warning"
    elif tri.reasons or note:
        kind = "info"
    else:
        red_flags = red_flag_screen_findings(kb)
        assessed = set(result.case.findings) | set(result.case.absent)
        asked = sum(1 for f in red_flags if f in assessed)
        present = [f for f in red_flags if f in result.case.findings]
        if red_flags and asked == len(red_flags) and not present:
            return TriageBanner("success", f"{head} No red flag: all {len(red_flags)} red-flag questions answered and negative.")
        if red_flags and asked == len(red_flags):
            named = ", ".join(md_escape(kb.findings[f].label) for f in present)
            return TriageBanner("info", f"{head} Red-flag screen complete; no rule fired. Recorded: {named}.")
        return TriageBanner("info", f"{head} No red flag recorded so far; {len(red_flags) - asked} of {len(red_flags)} "
                                    "red-flag questions not yet asked (not asked is not negative).")
    return TriageBanner(kind, "\n".join(lines))


def withheld_lines(result: Assessment) -> list[str]:
    """The self-care left out of the plan because it contradicts the triage action, with the reason."""
    return [f"- **{md_escape(w.label)}** — {md_escape(w.reason)}" for w in result.withheld]


def caution_line(kb: KnowledgeBase, caution: Any) -> str:
    """A warning beside a test that could harm this patient, naming what makes it unsafe."""
    rules = {r.id: r.label for r in kb.red_flags}
    because = ", ".join(md_escape(kb.findings[b].label if b in kb.findings else rules.get(b, b)) for b in caution.because)
    return f"**{md_escape(kb.findings[caution.finding].label)}:** {md_escape(caution.warning)} (because: {because})"


# --- differential -------------------------------------------------------------------------------

def differential_rows(kb: KnowledgeBase, result: Assessment) -> list[dict[str, Any]]:
    """One row per condition, most likely first, for the differential chart."""
    plan = set(result.plan_conditions)
    return [
        {
            "condition": r.condition,
            "label": kb.conditions[r.condition].label,
            "rank": i,
            "probability": r.probability,
            "prior": r.prior,
            "shown": pct(r.probability),
            "prior_shown": pct(r.prior),
            "role": "Guides the plan" if r.condition in plan else "Other condition",
            "caption": f"{kb.conditions[r.condition].label} — {pct(r.probability)}",
            "prior_basis": f"{r.prior_basis}: {kb.conditions[r.condition].prior_provenance}",
        }
        for i, r in enumerate(result.differential)
    ]


NOT_COUNTED = "not counted"


def _evidence_name(kb: KnowledgeBase, item: str) -> str:
    rules = kb.derived("rule_labels", lambda: {r.id: r.label for r in kb.composite_rules})
    return rules.get(item) or (kb.findings[item].label if item in kb.findings else item)


def contribution_rows(kb: KnowledgeBase, r: ConditionResult) -> list[dict[str, Any]]:
    """Each recorded finding's effect on one condition: log-odds, for or against, LR and its basis.

    Counted evidence comes first. A finding that was not counted (a stronger one in its dependence
    group counted, or a composite rule stands for it) is listed with the evidence that counted
    instead; its bar shows what it would have added, in grey, and adds nothing to the total.
    """
    rows = []
    lim = max((abs(c.would_be) for c in r.contributions), default=1.0) * 1.05
    ordered = sorted(r.contributions, key=lambda c: (not c.counted, -c.effect if c.counted else -c.would_be))
    for i, c in enumerate(ordered):
        label = _evidence_name(kb, c.finding)
        if c.rule:
            members = ", ".join(_evidence_name(kb, f) for f in c.findings)
            label = f"{label} [{members}]"
            recorded = "Rule positive" if c.present else "Rule negative"
        else:
            recorded = STATE_WORDS[PRESENT if c.present else ABSENT]
        lr_kind = "LR+" if c.present else "LR−"
        basis = "published" if c.provenance == "published" else "clinical estimate"
        group = kb.dependence_groups[c.group].label if c.group in kb.dependence_groups else "—"
        if c.counted:
            counted = "Counted"
            direction = "for" if c.effect > 0 else "against"
        else:
            instead = _evidence_name(kb, c.instead) if c.instead else "another finding"
            counted = (f"Not counted: part of {instead}" if any(rule.id == c.instead for rule in kb.composite_rules)
                       else f"Not counted: {instead} counted instead (same evidence)")
            direction = NOT_COUNTED
        rows.append({
            "order": i,
            "caption": (f"{label} ({recorded.lower()}) — {lr_kind} {c.likelihood_ratio:g}, {basis}"
                        + ("" if c.counted else " — not counted")),
            "lim_lo": -lim,
            "lim_hi": lim,
            "finding": label,
            "recorded": recorded,
            "direction": direction,
            "effect": round(c.effect, 3),
            "shown_effect": round(c.effect if c.counted else c.would_be, 3),
            "lr": c.likelihood_ratio,
            "lr_kind": lr_kind,
            "provenance": basis,
            "counted": counted,
            "group": group,
            "reference": c.reference or c.reason or "—",
        })
    return rows


def explain_summary(kb: KnowledgeBase, r: ConditionResult) -> str:
    """One sentence: from pre-test (and its basis) to post-test, and what moved it most."""
    label = md_escape(kb.conditions[r.condition].label)
    text = (f"**{label}**: pre-test {pct(r.prior)} ({md_escape(r.prior_basis)}) → post-test {pct(r.probability)}")
    if r.clamped:
        text += (" (shown within 1–97%: the small studies behind the ratios cannot support a figure beyond that)")
    if not r.contributions:
        return text + ". No recorded finding changes this condition yet."
    top_for = [md_escape(_evidence_name(kb, c.finding)) for c in r.supporting[:2]]
    top_against = [md_escape(_evidence_name(kb, c.finding)) for c in r.against[:2]]
    if top_for:
        text += f". Most for: {', '.join(top_for)}"
    if top_against:
        text += f". Most against: {', '.join(top_against)}"
    skipped = sum(1 for c in r.contributions if not c.counted)
    if skipped:
        text += (f". {skipped} finding(s) not counted on their own: a combined rule or a stronger finding of the "
                 "same kind already counts that evidence")
    return text + "."


def none_fits_text(kb: KnowledgeBase, result: Assessment) -> str:
    """The "none of these fits" message: why, and the causes outside the list to examine or refer for."""
    lines = [f"**None of these fits.** {md_escape(result.none_fits_note or '')}", ""]
    for o in result.consider:
        because = (" (because: " + ", ".join(md_escape(_evidence_name(kb, f)) for f in o.because) + ")") if o.because else ""
        lines.append(f"- **{md_escape(o.label)}**{because}: {md_escape(o.action)} _Basis: {md_escape(o.reference)}_")
    return "\n".join(lines)


def question_effects(kb: KnowledgeBase, result: Assessment, q: NextQuestion, per_question: int = 2,
                     min_shift: float = 0.05) -> list[str]:
    """What one answer would do: "_condition_ (x% now): if positive → y%, if negative → z%".

    The conditions it would move by at least `min_shift` either way (at most `per_question`, largest
    shift first), or else the one it moves most.
    """
    current = {r.condition: r.probability for r in result.differential}

    def shift(cid: str) -> float:
        return max(abs(q.if_present[cid] - current[cid]), abs(q.if_absent[cid] - current[cid]))

    ranked = sorted(q.if_present, key=shift, reverse=True)
    shown = [cid for cid in ranked if shift(cid) >= min_shift][:per_question] or ranked[:1]
    return [f"_{md_escape(kb.conditions[cid].label)}_ ({pct(current[cid])} now): if positive → **{pct(q.if_present[cid])}**, "
            f"if negative → **{pct(q.if_absent[cid])}**" for cid in shown]


def next_question_lines(kb: KnowledgeBase, result: Assessment) -> list[str]:
    """The next best questions as Markdown lines: "if positive → x%, if negative → y%"."""
    lines = []
    for q in result.next_questions:
        finding = kb.findings.get(q.finding)
        if finding is None or not q.if_present:
            continue
        how = f"  \n  How: {md_escape(finding.how_to)}" if finding.how_to and finding.group == "examination" else ""
        lines.append(f"- **{md_escape(finding.label)}**  \n  " + "  \n  ".join(question_effects(kb, result, q)) + how)
    return lines


def leading_line(kb: KnowledgeBase, result: Assessment, n: int = 3) -> str:
    """The top of the differential in words, for reading without the chart."""
    return "**Most likely:** " + " · ".join(
        f"{i + 1}. {md_escape(kb.conditions[r.condition].label)} **{pct(r.probability)}**"
        for i, r in enumerate(result.differential[:n]))


# --- plan ---------------------------------------------------------------------------------------

def plan_badges(item: Any) -> str:
    """The Markdown badges on a plan card: stance, disagreement, draft, safety override, needs review."""
    badges = [f":{STANCE_BADGE_COLOUR.get(item.stance, 'gray')}-badge[{STANCE_WORDS.get(item.stance, item.stance)}]"]
    if item.conflict:
        kind = f" ({item.conflict_type})" if item.conflict_type else ""
        badges.append(f":orange-badge[:material/bolt: Sources disagree{kind}]")
    if item.status == "draft":
        badges.append(":gray-badge[:material/edit_note: DRAFT — not yet approved]")
    if item.safety_override:
        badges.append(f":red-badge[:material/shield: Safety override: {md_escape(item.safety_override)}]")
    if item.needs_review:
        badges.append(":violet-badge[:material/rate_review: Needs review]")
    return " ".join(badges)


def plan_caption(kb: KnowledgeBase, item: Any) -> str:
    """The small print under a plan card: guidance version and status, and which sources say what."""
    parts = [f"Guidance v{item.version}, {item.status}"]
    if item.approver:
        parts.append(f"approved by {md_escape(item.approver)}")
    parts.append(f"strength {item.strength.replace('_', ' ')}, certainty {item.certainty.replace('_', ' ')}")
    if item.conflict:
        parts.append(f"for: {md_escape(', '.join(item.sources_for) or '—')}; against: {md_escape(', '.join(item.sources_against) or '—')}")
    if item.condition and item.condition in kb.conditions:
        parts.append(f"specific to {md_escape(kb.conditions[item.condition].label)}")
    return " · ".join(parts)
