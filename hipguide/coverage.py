"""Coverage of the sources: every sentence that reads as advice is either covered by a claim or marked
"not advice" by an editor, with a reason.

The report is how an editor finds the advice nobody tagged: the tool reads every line, not a person by
chance. A sentence reads as advice when it tells the reader what to do or not do (an imperative), or
says what helps, works, is recommended or should be avoided. The test is deliberately generous: a
sentence it wrongly takes for advice costs an editor one "not advice" mark with a reason, while advice
it missed would stay invisible. A sentence is covered when a claim of the same source (or of another
version of the same article) quotes it, in whole or in part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .knowledge import normalise_text

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

# Sentence ends: . ! ? followed by space and a capital, digit or opening quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'‘(])")
_BULLET = re.compile(r"^\s*(?:[•*\-–]|\d+[.)])\s+")

# Imperatives that open a sentence (after an optional "So," / "Also," / "Simply" style lead-in).
_IMPERATIVES = (
    "apply", "avoid", "be", "check", "consider", "consult", "do", "don't", "don’t", "engage", "ensure",
    "focus", "get", "give", "hold", "incorporate", "keep", "kneel", "lean", "lie", "lift", "listen", "maintain",
    "make", "never", "pay", "perform", "place", "plant", "position", "practice", "practise", "push", "put",
    "remember", "repeat", "rest", "roll", "see", "seek", "set", "sit", "stand", "stop", "stretch", "take",
    "try", "turn", "use", "wrap", "move", "lay",
)
_LEAD_IN = r"(?:(?:so|also|then|simply|however|additionally|finally|instead|in addition|if [^,]+),?\s+)*"
# "Stretching: Perform …", "Hip flexor stretch: Kneel …": a short label before the advice itself.
_LABEL = re.compile(r"^[\w’' -]{2,40}:\s+")
_IMPERATIVE = re.compile(rf"^{_LEAD_IN}(?:{'|'.join(re.escape(w) for w in _IMPERATIVES)})\b", re.IGNORECASE)
_ADVICE_WORDS = re.compile(
    r"\b(?:should(?:n['’]t)?|must|recommend(?:ed|s)?|advis(?:e|able|ed)|it is (?:important|crucial|essential|"
    r"best|vital|beneficial) to|can help|may help|helps? (?:to )?(?:relieve|reduce|prevent|alleviate|restore|"
    r"improve|maintain|release|distribute)|can be (?:very )?effective|is (?:more |very |an? )?(?:effective|"
    r"excellent|good idea|beneficial)|are ineffective|is ineffective|not a solution|make it worse|worsens? "
    r"the|be (?:super )?careful|lifesaver|work in most cases|effective combination|you can|try|avoid|"
    r"don['’]t|do not|never|ideal for|perfect for|we are confident|effective|beneficial|perpetuate|"
    r"exacerbate|aggravate)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceSentence:
    source: str
    line: int  # 1-based line of the source text the sentence is on
    sentence: str  # as it reads in the source


@dataclass(frozen=True)
class CoverageRow:
    source: str
    line: int
    sentence: str
    status: str  # uncovered | not_advice | covered
    reason: str | None = None  # the editor's reason, for a sentence marked not advice
    claims: tuple[str, ...] = ()  # the claims that cover it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "line": self.line, "sentence": self.sentence}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.claims:
            out["claims"] = list(self.claims)
        return out


@dataclass(frozen=True)
class CoverageReport:
    uncovered: list[CoverageRow]
    not_advice: list[CoverageRow]
    covered: list[CoverageRow]
    stale_marks: list[tuple[str, str]]  # (source, sentence) marks that no longer match an advice sentence

    @property
    def advice_sentences(self) -> int:
        return len(self.uncovered) + len(self.not_advice) + len(self.covered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "uncovered": [r.to_dict() for r in self.uncovered],
            "not_advice": [r.to_dict() for r in self.not_advice],
            "summary": {"advice_sentences": self.advice_sentences, "covered": len(self.covered),
                        "not_advice": len(self.not_advice), "uncovered": len(self.uncovered)},
        }


def sentences(source: str, text: str) -> list[SourceSentence]:
    """The sentences of a source text, each with the line it is on (bullets and numbering stripped)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        body = _BULLET.sub("", line).strip()
        if not body:
            continue
        for part in _SENTENCE_END.split(body):
            part = part.strip()
            if part:
                out.append(SourceSentence(source, number, part))
    return out


def reads_as_advice(sentence: str) -> bool:
    """Whether a sentence tells the reader what to do or avoid, or says what helps (generous on purpose)."""
    text = " ".join(sentence.split())
    if len(text.split()) < 3:  # headings and captions
        return False
    return bool(_IMPERATIVE.match(text) or _IMPERATIVE.match(_LABEL.sub("", text, count=1))
                or _ADVICE_WORDS.search(text))


def _covers(quote: str, sentence: str) -> bool:
    return bool(quote) and (quote in sentence or sentence in quote)


def coverage(kb: KnowledgeBase) -> CoverageReport:
    """Every advice sentence of every source: covered by a claim, marked not advice, or uncovered."""
    quotes: dict[str, list[tuple[str, str]]] = {}  # voice -> (normalised quote, claim id)
    for claims in kb.claims.values():
        for c in claims:
            quotes.setdefault(kb.voice(c.source), []).append((normalise_text(c.quote), c.id))
    marks = {(m.source, normalise_text(m.sentence)): m for m in kb.not_advice}
    used: set[tuple[str, str]] = set()
    uncovered, not_advice, covered = [], [], []
    for sid, text in kb.source_texts.items():
        voice_quotes = quotes.get(kb.voice(sid), [])
        for s in sentences(sid, text):
            if not reads_as_advice(s.sentence):
                continue
            norm = normalise_text(s.sentence)
            body = normalise_text(_LABEL.sub("", s.sentence, count=1))  # "Stretching: Perform …" quoted from "Perform"
            by = tuple(cid for q, cid in voice_quotes if _covers(q, norm) or _covers(q, body))
            mark = marks.get((sid, norm))
            if by:
                covered.append(CoverageRow(sid, s.line, s.sentence, "covered", claims=by))
            elif mark is not None:
                used.add((sid, norm))
                not_advice.append(CoverageRow(sid, s.line, s.sentence, "not_advice", reason=mark.reason))
            else:
                uncovered.append(CoverageRow(sid, s.line, s.sentence, "uncovered"))
    stale = [(m.source, m.sentence) for key, m in marks.items() if key not in used]
    return CoverageReport(uncovered, not_advice, covered, stale)
