"""Data shaping for the source comparison: the topic × voice matrix, claims grouped by stance, the
paragraph a quote sits in, and which topic a click on the matrix means.

Plain functions over a `KnowledgeBase`; no Streamlit import, so every piece is unit-tested.
Text that ends up in Markdown is escaped with `exports.md_escape` here or by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .conflicts import SEVERITY
from .exports import STANCE_WORDS, md_escape
from .knowledge import normalise_text
from .models import PHASES, Claim

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

STANCE_ORDER: tuple[str, ...] = ("recommend", "conditional", "neutral", "advise_against")
# Stance colours (colour-blind safe: blue for, orange against, grey neutral); "mixed" when one voice says both.
STANCE_COLOURS: dict[str, str] = {
    "recommend": "#1f77b4",
    "conditional": "#9ecae9",
    "neutral": "#bdbdbd",
    "advise_against": "#e6550d",
    "mixed": "#756bb1",
    "silent": "#f5f5f5",
}
STANCE_GLYPH: dict[str, str] = {"recommend": "+", "conditional": "±", "neutral": "·", "advise_against": "−",
                                "mixed": "±−", "silent": ""}
CELL_WORDS: dict[str, str] = {**STANCE_WORDS, "mixed": "Mixed (for and against)", "silent": "Silent"}
CONFLICT_WORDS: dict[str, str] = {
    "direct": "direct: same scope, opposite advice",
    "conditional": "conditional: different phases (e.g. avoid while overloaded, fine for prevention)",
    "scope": "scope: aimed at different structures",
}
CONFLICT_COLUMN = "⚡ conflict"


# --- voices -------------------------------------------------------------------------------------

def voice_label(kb: KnowledgeBase, source_id: str) -> str:
    """`deep_rotator_v2 (same article as deep_rotator_v1)` for a duplicate; the plain id otherwise."""
    voice = kb.voice(source_id)
    return source_id if voice == source_id else f"{source_id} (same article as {voice})"


def voices(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Independent voice -> the sources that speak for it (the original first), in source order."""
    out: dict[str, list[str]] = {}
    for sid in kb.sources:
        out.setdefault(kb.voice(sid), [])
    for sid in kb.sources:
        members = out[kb.voice(sid)]
        if sid == kb.voice(sid):
            members.insert(0, sid)
        else:
            members.append(sid)
    return out


def voice_title(kb: KnowledgeBase, voice: str) -> str:
    """Column heading for a voice: its id, plus `+ v2` style note when duplicates are merged into it."""
    members = voices(kb).get(voice, [voice])
    return voice if len(members) == 1 else f"{voice} (= {', '.join(members[1:])})"


# --- claims -------------------------------------------------------------------------------------

def claims_by_stance(kb: KnowledgeBase, topic: str, *, phase: str | None = None,
                     sources: Iterable[str] | None = None) -> dict[str, list[Claim]]:
    """The topic's claims grouped by stance in STANCE_ORDER (empty stances left out)."""
    keep = set(sources) if sources is not None else None
    out: dict[str, list[Claim]] = {}
    for stance in STANCE_ORDER:
        chosen = [c for c in kb.claims.get(topic, []) if c.stance == stance and claim_in_phase(c, phase)
                  and (keep is None or c.source in keep or kb.voice(c.source) in keep)]
        if chosen:
            out[stance] = chosen
    return out


def claim_in_phase(claim: Claim, phase: str | None) -> bool:
    """A claim speaks to a phase when it names it, or names no phase at all."""
    return phase is None or not claim.scope.phases or phase in claim.scope.phases


def scope_text(kb: KnowledgeBase, claim: Claim) -> str:
    phases = ", ".join(claim.scope.phases) if claim.scope.phases else "any phase"
    target = kb.targets[claim.scope.target].label if claim.scope.target in kb.targets else claim.scope.target
    text = f"{phases} · target: {target}"
    if claim.scope.population:
        text += f" · population: {claim.scope.population}"
    return text


def cell_stance(stances: Iterable[str]) -> str:
    """One cell's stance from a voice's claims on a topic: one stance, `mixed` (for and against) or `silent`."""
    found = set(stances)
    if not found:
        return "silent"
    if len(found) == 1:
        return next(iter(found))
    if "advise_against" in found and found & {"recommend", "conditional"}:
        return "mixed"
    for stance in STANCE_ORDER:  # e.g. recommend + neutral: the firmest advice
        if stance in found:
            return stance
    return "silent"  # pragma: no cover


# --- the matrix ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatrixFilters:
    conflicts_only: bool = False
    phase: str | None = None
    sources: tuple[str, ...] | None = None  # source ids (or voices); None = all


def matrix_rows(kb: KnowledgeBase, filters: MatrixFilters | None = None) -> list[dict[str, Any]]:
    """One row per (topic, independent voice) cell plus one `conflict` cell per topic row.

    Rows are in display order: topics in topics.yaml order, voices in source order; the chart keeps it.
    """
    f = filters or MatrixFilters()
    wanted = None if f.sources is None else {kb.voice(s) for s in f.sources}
    voice_map = {v: m for v, m in voices(kb).items() if wanted is None or v in wanted}
    rows: list[dict[str, Any]] = []
    for topic, tc in kb.conflicts.items():
        if topic not in kb.topics:
            continue
        if f.conflicts_only and not tc.conflict:
            continue
        label = kb.topics[topic].label
        kind = tc.kind
        topic_row = f"{label}  ⚡ {kind}" if kind else label
        for voice, members in voice_map.items():
            claims = [c for c in tc.claims if c.source in members and claim_in_phase(c, f.phase)]
            stance = cell_stance(c.stance for c in claims)
            rows.append({
                "kind": "cell", "topic": topic, "topic_label": topic_row, "voice": voice,
                "voice_label": voice_title(kb, voice), "stance": stance, "stance_words": CELL_WORDS[stance],
                "glyph": STANCE_GLYPH[stance], "claims": len(claims),
                "sources": ", ".join(sorted({c.source for c in claims})),
                "quote": _preview(claims[0].quote) if claims else "",
                "conflict": kind or "none",
            })
        rows.append({
            "kind": "conflict", "topic": topic, "topic_label": topic_row, "voice": CONFLICT_COLUMN,
            "voice_label": CONFLICT_COLUMN, "stance": "", "stance_words": CONFLICT_WORDS.get(kind or "", "no conflict"),
            "glyph": kind or "", "claims": 0, "sources": "", "quote": "", "conflict": kind or "none",
        })
    return rows


def matrix_axes(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The y (topic row) and x (voice column) orders of the matrix, as they first appear in `rows`."""
    ys = list(dict.fromkeys(r["topic_label"] for r in rows))
    xs = list(dict.fromkeys(r["voice_label"] for r in rows if r["kind"] == "cell"))
    return ys, [*xs, CONFLICT_COLUMN] if rows else xs


def _preview(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def conflict_summary(kb: KnowledgeBase, topic: str) -> str:
    tc = kb.conflicts.get(topic)
    if tc is None or not tc.conflict:
        return "no conflict"
    kinds = sorted(tc.kinds, key=SEVERITY.__getitem__, reverse=True)
    return " + ".join(kinds)


# --- selection ----------------------------------------------------------------------------------

SELECTION_PARAMS: tuple[str, ...] = ("cell", "glyph")  # the matrix's rectangles and the stance marks on them


def selected_cell(selection: Any, previous: tuple[str | None, str | None] | None = None,
                  params: tuple[str, ...] = SELECTION_PARAMS) -> tuple[str | None, str | None]:
    """(topic, voice) that a click on the matrix chose, from Streamlit's selection state; (None, None) if none.

    Accepts the `st.altair_chart(..., on_select="rerun")` return value (attribute or dict access):
    `{"selection": {"cell": [{"topic": "ice", "voice": "medshun"}], "glyph": {}}}`. The rectangles and
    the stance marks keep separate selections; when both hold a point, the one that differs from
    `previous` (the cell seen on the last rerun) is the newer click.
    """
    found = _selected_points(selection, params)
    if not found:
        return None, None
    fresh = [pair for pair in found if pair != previous]
    return fresh[0] if fresh else found[0]


def _selected_points(selection: Any, params: tuple[str, ...]) -> list[tuple[str, str | None]]:
    if selection is None:
        return []
    sel = selection.get("selection") if isinstance(selection, Mapping) else getattr(selection, "selection", None)
    if sel is None:
        return []
    out: list[tuple[str, str | None]] = []
    for param in params:
        points = sel.get(param) if isinstance(sel, Mapping) else getattr(sel, param, None)
        if not points:
            continue
        if isinstance(points, Mapping):  # a single point
            points = [points]
        for point in points:
            if isinstance(point, Mapping) and point.get("topic"):
                voice = point.get("voice")
                out.append((str(point["topic"]), str(voice) if voice and voice != CONFLICT_COLUMN else None))
                break
    return out


# --- quotes in context --------------------------------------------------------------------------

_PARA_SPLIT = re.compile(r"\n\s*\n")
_WS = re.compile(r"\s+")
LONG_PARAGRAPH = 500


def paragraphs(text: str) -> list[str]:
    """Paragraphs of a source text (blank-line separated; a text without blank lines splits on lines)."""
    parts = [p.strip() for p in _PARA_SPLIT.split(text) if p.strip()]
    if len(parts) <= 1 and text.count("\n") > 1:
        parts = [p.strip() for p in text.splitlines() if p.strip()]
    return parts


@dataclass(frozen=True)
class QuoteInContext:
    before: str
    quote: str  # as it reads in the source (original characters), or the claim's quote when not found
    after: str
    found: bool


def quote_in_paragraph(text: str, quote: str) -> QuoteInContext:
    """The paragraph of `text` containing `quote` (compared normalised), split around the quote."""
    target = normalise_text(quote)
    if not target:
        return QuoteInContext("", quote, "", False)
    for para in paragraphs(text):
        span = _find_normalised(para, target)
        if span is not None:
            start, end = span
            para, start, end = _narrow(para, start, end)
            return QuoteInContext(para[:start], para[start:end], para[end:], True)
    # Across a paragraph break: show the whole quote as its own context.
    if target in normalise_text(text):
        return QuoteInContext("", quote, "", True)
    return QuoteInContext("", quote, "", False)


def _narrow(para: str, start: int, end: int, limit: int = LONG_PARAGRAPH) -> tuple[str, int, int]:
    """A long paragraph made of lines (a bulleted list) is cut to the quote's lines and one line either side."""
    if len(para) <= limit:
        return para, start, end
    if "\n" not in para:
        return _narrow_sentences(para, start, end)
    lines = para.split("\n")
    bounds, pos = [], 0
    for line in lines:
        bounds.append((pos, pos + len(line)))
        pos += len(line) + 1
    first = next(i for i, (a, b) in enumerate(bounds) if b >= start)
    last = next(i for i, (a, b) in enumerate(bounds) if b >= end)
    lo, hi = max(first - 1, 0), min(last + 1, len(lines) - 1)
    offset = bounds[lo][0]
    cut = para[offset:bounds[hi][1]]
    prefix = "… " if lo > 0 else ""
    suffix = " …" if hi < len(lines) - 1 else ""
    return prefix + cut + suffix, start - offset + len(prefix), end - offset + len(prefix)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'‘(])")


def _narrow_sentences(para: str, start: int, end: int) -> tuple[str, int, int]:
    """A long prose paragraph cut to the quote's sentences and one sentence either side."""
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(para)), len(para)]
    first = max(i for i, c in enumerate(cuts[:-1]) if c <= start)
    last = min(i for i, c in enumerate(cuts[1:]) if c >= end)
    lo, hi = max(first - 1, 0), min(last + 1, len(cuts) - 2)
    offset = cuts[lo]
    cut = para[offset:cuts[hi + 1]].rstrip()
    prefix = "… " if lo > 0 else ""
    suffix = " …" if cuts[hi + 1] < len(para) else ""
    return prefix + cut + suffix, start - offset + len(prefix), end - offset + len(prefix)


def _find_normalised(para: str, target: str) -> tuple[int, int] | None:
    """Span in `para` (original characters) whose normalised form equals `target`, or None."""
    # Build the normalised paragraph with a map from each normalised character back to the original.
    norm_chars: list[str] = []
    index: list[int] = []
    folded = para.translate(_fold_table())
    prev_space = True
    for i, ch in enumerate(folded):
        if ch.isspace():
            if prev_space:
                continue
            norm_chars.append(" ")
            index.append(i)
            prev_space = True
        else:
            norm_chars.append(ch)
            index.append(i)
            prev_space = False
    norm = "".join(norm_chars)
    pos = norm.find(target)
    if pos < 0:
        return None
    start = index[pos]
    end = index[pos + len(target) - 1] + 1
    return start, end


def _fold_table() -> dict[int, str]:
    from .knowledge import _QUOTE_FOLD  # the exact folding the verbatim check uses
    return _QUOTE_FOLD


def md_quote_in_context(context: QuoteInContext) -> str:
    """The paragraph as escaped Markdown with the quote in bold (and marked when it was not found)."""
    quote = f":orange-background[**{md_escape(_oneline(context.quote))}**]"
    body = f"{md_escape(_oneline(context.before))}{quote}{md_escape(_oneline(context.after))}"
    return body if context.found else f"{quote} _(not found verbatim in the current source text)_"


def md_blockquote(text: str) -> str:
    """Escaped text as a Markdown blockquote (every line prefixed, so the quote cannot break out)."""
    return "\n".join(f"> {md_escape(line)}" if line.strip() else ">" for line in text.strip().splitlines())


def _oneline(text: str) -> str:
    return _WS.sub(" ", text)


def phases_in_order(phases: Iterable[str]) -> list[str]:
    have = set(phases)
    return [p for p in PHASES if p in have]


def verbatim_check(source_text: str, quote: str) -> bool:
    """The same verbatim test the knowledge validation applies to a claim's quote."""
    q = normalise_text(quote)
    return bool(q) and q in normalise_text(source_text)


def choose_topic(allowed: list[str], clicked: str | None, last_click: str | None, picked: str | None) -> str | None:
    """The topic to show: a fresh click on the matrix wins, then the topic picker, then the first allowed topic.

    A click stays in the chart's selection across reruns, so only a click that differs from the last one
    seen (`last_click`) counts as fresh; otherwise picking another topic would be overridden by an old click.
    """
    if clicked and clicked != last_click and clicked in allowed:
        return clicked
    if picked and picked in allowed:
        return picked
    if clicked and clicked in allowed:
        return clicked
    return allowed[0] if allowed else None


@dataclass(frozen=True)
class CheckRow:
    criterion: str
    verdict: str  # "ok" | "concern" | "not flagged"
    detail: str
    evidence: list[str]


CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Author", ("no_named_author", "placeholder_byline")),
    ("Date", ("no_date",)),
    ("References", ("no_references", "uncited_study_claims")),
    ("Commercial interest", ("product_promotion", "affiliate_links")),
    ("Duplicated content", ("duplicated_content",)),
    ("Basis of the advice", ("mechanism_only", "anecdotal_evidence")),
    ("Balance and safety", ("discusses_alternatives", "safety_netting")),
)


def credibility_checklist(kb: KnowledgeBase, source_id: str) -> list[CheckRow]:
    """The JAMA-benchmark style card of one source: each criterion, a verdict and the evidence for it."""
    src = kb.sources[source_id]
    flags = {f.flag: f for f in src.flags}
    duplicates = [sid for sid, s in kb.sources.items() if s.duplicate_of == source_id]
    rows = []
    for criterion, names in CHECKS:
        found = [flags[n] for n in names if n in flags]
        evidence = [f"{f.flag.replace('_', ' ')}: {f.evidence}" + (f" ({f.note})" if f.note else "") for f in found]
        if criterion == "Balance and safety":
            verdict = "ok" if found else "not flagged"
            detail = "; ".join(f.flag.replace("_", " ") for f in found) or "no mention of alternatives or when to seek care"
        elif found:
            verdict, detail = "concern", "; ".join(f.flag.replace("_", " ") for f in found)
        else:
            verdict, detail = "ok", _ok_detail(criterion, src.author, src.date)
        if criterion == "Duplicated content":
            if src.duplicate_of:
                verdict = "concern"
                detail = f"same article as {src.duplicate_of}: counted as one voice with it"
            elif duplicates:
                verdict = "concern"
                detail = f"also published as {', '.join(duplicates)}: counted as one voice"
        rows.append(CheckRow(criterion, verdict, detail, evidence))
    return rows


def _ok_detail(criterion: str, author: str | None, date: str | None) -> str:
    if criterion == "Author":
        return f"named: {author}" if author else "not flagged"
    if criterion == "Date":
        return f"dated: {date}" if date else "not flagged"
    return "not flagged"


def md_source_text(text: str) -> str:
    """A whole source text as inert Markdown: every paragraph escaped, separated by blank lines."""
    return "\n\n".join(md_escape(_oneline(p)) for p in paragraphs(text))


# --- credibility beside the claims ----------------------------------------------------------------

KIND_WORDS: dict[str, str] = {"consumer_health": "consumer health site", "practitioner_blog": "practitioner's blog",
                              "clinic_marketing": "clinic marketing", "product_marketing": "product marketing"}


@dataclass(frozen=True)
class VoiceCredibility:
    """One independent voice on one side of a topic, with what an editor weighs it by."""

    voice: str
    sources: tuple[str, ...]  # the versions of the article that speak on this side
    kind: str
    concerns: tuple[str, ...]  # credibility flags against it (flag ids), over all its versions
    positives: tuple[str, ...]  # positive signals (discusses alternatives, safety-netting)

    def words(self) -> str:
        """`product marketing · ⚠ product promotion, no references · ✓ safety netting` (plain text)."""
        parts = [KIND_WORDS.get(self.kind, self.kind.replace("_", " "))]
        if self.concerns:
            parts.append("⚠ " + ", ".join(f.replace("_", " ") for f in self.concerns))
        if self.positives:
            parts.append("✓ " + ", ".join(f.replace("_", " ") for f in self.positives))
        return " · ".join(parts)


def voice_credibility(kb: KnowledgeBase, voice: str, sources: Iterable[str] | None = None) -> VoiceCredibility:
    """The credibility of a voice: the flags of every version of the article (or of `sources` only)."""
    members = tuple(sources) if sources is not None else tuple(voices(kb).get(voice, [voice]))
    concerns: dict[str, None] = {}
    positives: dict[str, None] = {}
    for sid in members:
        for f in kb.sources[sid].flags if sid in kb.sources else []:
            (positives if f.positive else concerns).setdefault(f.flag, None)
    kind = kb.sources[voice].kind if voice in kb.sources else "consumer_health"
    return VoiceCredibility(voice, members, kind, tuple(concerns), tuple(positives))


def source_flags_text(kb: KnowledgeBase, source_id: str) -> str:
    """The credibility line shown beside each claim: its source's kind and flags (plain text, to escape)."""
    return kb.derived(("source_flags_text", source_id),
                      lambda: voice_credibility(kb, source_id, [source_id]).words())


def sides(kb: KnowledgeBase, topic: str) -> dict[str, list[VoiceCredibility]]:
    """The independent voices for (recommend / conditional) and against a topic, each with its flags.

    A duplicated article is one voice; its flags are those of every version that speaks on that side.
    """
    def build() -> dict[str, list[VoiceCredibility]]:
        tc = kb.conflicts.get(topic)
        out: dict[str, list[VoiceCredibility]] = {"for": [], "against": []}
        if tc is None:
            return out
        for side, stances in (("for", ("recommend", "conditional")), ("against", ("advise_against",))):
            members: dict[str, list[str]] = {}
            for c in tc.claims:
                if c.stance in stances:
                    found = members.setdefault(kb.voice(c.source), [])
                    if c.source not in found:
                        found.append(c.source)
            out[side] = [voice_credibility(kb, v, members[v]) for v in sorted(members)]
        return out
    return kb.derived(("sides", topic), build)


def sides_summary(kb: KnowledgeBase, topic: str) -> str:
    """`For: 2 independent voices (…) · Against: 1 independent voice (…)`, as plain text to escape."""
    parts = []
    for side, label in (("for", "For"), ("against", "Against")):
        found = sides(kb, topic)[side]
        n = len(found)
        who = "; ".join(f"{v.voice}" + (f" (= {', '.join(s for s in v.sources if s != v.voice)})"
                                        if any(s != v.voice for s in v.sources) else "")
                        + f" — {v.words()}" for v in found)
        parts.append(f"{label}: {n} independent voice{'s' if n != 1 else ''}" + (f": {who}" if who else ""))
    return "\n".join(parts)
