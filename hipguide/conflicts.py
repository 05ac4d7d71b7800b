"""Where the sources conflict: computed from the claims, never typed by hand.

A topic conflicts when independent voices (a duplicated article counted once) take opposing stances.
Each opposing pair of claims is classified:
  direct       same scope (overlapping phases and target), opposite advice;
  conditional  the phases do not overlap (avoid while overloaded, recommended for prevention);
  scope        the advice is aimed at structures that do not overlap (SI joint versus deep rotators).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .models import Claim

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

ConflictType = Literal["direct", "conditional", "scope"]
SEVERITY: dict[str, int] = {"direct": 3, "conditional": 2, "scope": 1}
FOR = frozenset({"recommend", "conditional"})
AGAINST = frozenset({"advise_against"})


@dataclass(frozen=True)
class ClaimPair:
    supporting: Claim
    opposing: Claim
    kind: ConflictType


@dataclass
class TopicConflict:
    topic: str
    claims: list[Claim]
    pairs: list[ClaimPair] = field(default_factory=list)
    voices: dict[str, set[str]] = field(default_factory=dict)  # stance -> independent voices

    @property
    def conflict(self) -> bool:
        return bool(self.pairs)

    @property
    def kind(self) -> ConflictType | None:
        if not self.pairs:
            return None
        return max((p.kind for p in self.pairs), key=SEVERITY.__getitem__)

    @property
    def kinds(self) -> list[ConflictType]:
        return sorted({p.kind for p in self.pairs}, key=SEVERITY.__getitem__, reverse=True)

    @property
    def conflicting_claim_ids(self) -> set[str]:
        return {c.id for p in self.pairs for c in (p.supporting, p.opposing)}

    def sources_for(self) -> list[str]:
        return sorted({c.source for c in self.claims if c.stance in FOR})

    def sources_against(self) -> list[str]:
        return sorted({c.source for c in self.claims if c.stance in AGAINST})


def classify_pair(kb: KnowledgeBase, a: Claim, b: Claim) -> ConflictType:
    if not kb.targets_overlap(a.scope.target, b.scope.target):
        return "scope"
    if a.scope.phases and b.scope.phases and not set(a.scope.phases) & set(b.scope.phases):
        return "conditional"
    return "direct"


def topic_conflict(kb: KnowledgeBase, topic: str) -> TopicConflict:
    claims = kb.claims.get(topic, [])
    result = TopicConflict(topic=topic, claims=list(claims))
    for c in claims:
        result.voices.setdefault(c.stance, set()).add(kb.voice(c.source))
    for a in claims:
        if a.stance not in FOR:
            continue
        for b in claims:
            if b.stance in AGAINST and kb.voice(a.source) != kb.voice(b.source):
                result.pairs.append(ClaimPair(a, b, classify_pair(kb, a, b)))
    return result


def compute_conflicts(kb: KnowledgeBase) -> dict[str, TopicConflict]:
    """Every topic (in topic order), with its claims and opposing pairs."""
    order = list(kb.topics) + sorted(set(kb.claims) - set(kb.topics))
    return {topic: topic_conflict(kb, topic) for topic in order}
