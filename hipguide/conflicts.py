"""Where the sources conflict: computed from the claims, never typed by hand.

A topic conflicts when independent voices (a duplicated article counted once) take opposing stances.
Each opposing pair of claims is classified:
  direct       same scope (overlapping phases and target), opposite advice;
  conditional  the phases do not overlap (avoid while overloaded, recommended for prevention);
  scope        the advice is aimed at structures that do not overlap (SI joint versus deep rotators).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .models import Claim

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

ConflictType = Literal["direct", "conditional", "scope"]
SEVERITY: dict[str, int] = {"direct": 3, "conditional": 2, "scope": 1}
FOR = frozenset({"recommend", "conditional"})
AGAINST = frozenset({"advise_against"})


@dataclass
class TopicConflict:
    topic: str
    claims: list[Claim]
    pair_count: int = 0  # opposing pairs of claims from different voices
    pair_kinds: set[ConflictType] = field(default_factory=set)
    conflicting_claim_ids: set[str] = field(default_factory=set)
    voices: dict[str, set[str]] = field(default_factory=dict)  # stance -> independent voices

    @property
    def conflict(self) -> bool:
        return self.pair_count > 0

    @property
    def kind(self) -> ConflictType | None:
        return max(self.pair_kinds, key=SEVERITY.__getitem__) if self.pair_kinds else None

    @property
    def kinds(self) -> list[ConflictType]:
        return sorted(self.pair_kinds, key=SEVERITY.__getitem__, reverse=True)

    def sources_for(self) -> list[str]:
        return sorted({c.source for c in self.claims if c.stance in FOR})

    def sources_against(self) -> list[str]:
        return sorted({c.source for c in self.claims if c.stance in AGAINST})


Scope = tuple[str, frozenset[str]]  # (target, phases): all a pair's classification depends on


def classify(kb: KnowledgeBase, a: Scope, b: Scope) -> ConflictType:
    if not kb.targets_overlap(a[0], b[0]):
        return "scope"
    if a[1] and b[1] and not a[1] & b[1]:
        return "conditional"
    return "direct"


def topic_conflict(kb: KnowledgeBase, topic: str) -> TopicConflict:
    """Opposing pairs, counted per scope bucket: linear in claims, not quadratic."""
    claims = kb.claims.get(topic, [])
    result = TopicConflict(topic=topic, claims=list(claims))
    buckets: dict[bool, dict[Scope, list[tuple[Claim, str]]]] = {True: {}, False: {}}
    for c in claims:
        voice = kb.voice(c.source)
        result.voices.setdefault(c.stance, set()).add(voice)
        if c.stance in FOR or c.stance in AGAINST:
            scope = (c.scope.target, frozenset(c.scope.phases))
            buckets[c.stance in FOR].setdefault(scope, []).append((c, voice))
    for scope_for, supporting in buckets[True].items():
        voices_for = Counter(v for _, v in supporting)
        for scope_against, opposing in buckets[False].items():
            voices_against = Counter(v for _, v in opposing)
            same_voice = sum(n * voices_against[v] for v, n in voices_for.items())
            count = len(supporting) * len(opposing) - same_voice
            if not count:
                continue
            result.pair_count += count
            result.pair_kinds.add(classify(kb, scope_for, scope_against))
            # A claim takes part when the other side has a voice other than its own.
            for side, other in ((supporting, voices_against), (opposing, voices_for)):
                total = sum(other.values())
                result.conflicting_claim_ids.update(c.id for c, v in side if total - other[v] > 0)
    return result


def compute_conflicts(kb: KnowledgeBase) -> dict[str, TopicConflict]:
    """Every topic (in topic order), with its claims and opposing pairs."""
    order = list(kb.topics) + sorted(set(kb.claims) - set(kb.topics))
    return {topic: topic_conflict(kb, topic) for topic in order}
