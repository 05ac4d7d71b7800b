"""Where the sources conflict: computed from the claims, never typed by hand.

A topic conflicts when independent voices (a duplicated article counted once) take opposing stances.
Each opposing pair of claims is classified:
  direct       same scope (overlapping phases and target), opposite advice;
  conditional  the phases do not overlap (avoid while overloaded, recommended for prevention);
  scope        the advice is aimed at structures that do not overlap (SI joint versus deep rotators).
Claims limited to different manners ("stretch only gently" against "don't stretch strongly") agree,
so they never form a pair. Pairs are counted between independent voices, so a duplicated article,
or one article making the same point twice, counts once.
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
    pair_count: int = 0  # opposing pairs of independent voices (a duplicated article counts once)
    pair_kinds: set[ConflictType] = field(default_factory=set)
    conflicting_claim_ids: set[str] = field(default_factory=set)
    voices: dict[str, set[str]] = field(default_factory=dict)  # stance -> independent voices
    voice_of: dict[str, str] = field(default_factory=dict)  # source -> the independent voice it speaks for
    # The voice lists, worked out once: a topic's claims do not change after it is built, and every plan asks.
    _voice_lists: dict[frozenset[str] | None, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def conflict(self) -> bool:
        return self.pair_count > 0

    @property
    def kind(self) -> ConflictType | None:
        return max(self.pair_kinds, key=SEVERITY.__getitem__) if self.pair_kinds else None

    @property
    def kinds(self) -> list[ConflictType]:
        return sorted(self.pair_kinds, key=SEVERITY.__getitem__, reverse=True)

    def _voices(self, stances: frozenset[str] | None) -> list[str]:
        known = self._voice_lists.get(stances)
        if known is None:
            known = self._voice_lists[stances] = tuple(sorted({
                self.voice_of.get(c.source, c.source) for c in self.claims if stances is None or c.stance in stances}))
        return list(known)

    def sources_for(self) -> list[str]:
        """The independent voices for (recommend or conditional): a duplicated article is named once."""
        return self._voices(FOR)

    def sources_against(self) -> list[str]:
        """The independent voices against: a duplicated article is named once."""
        return self._voices(AGAINST)

    def all_voices(self) -> list[str]:
        return self._voices(None)


Scope = tuple[str, frozenset[str], str | None]  # (target, phases, manner): all a pair depends on


def manners_agree(a: str | None, b: str | None) -> bool:
    """Advice limited to different manners never opposes ("only gently" and "not strongly" agree)."""
    return a is None or b is None or a == b


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
        voice = result.voice_of.get(c.source)
        if voice is None:  # each source's voice once, not once per claim
            voice = result.voice_of[c.source] = kb.voice(c.source)
        result.voices.setdefault(c.stance, set()).add(voice)
        if c.stance in FOR or c.stance in AGAINST:
            scope = (c.scope.target, frozenset(c.scope.phases), c.scope.manner)
            buckets[c.stance in FOR].setdefault(scope, []).append((c, voice))
    # Which voices each voice opposes: a pair of voices counts once however many claims each makes.
    reach: dict[str, set[str]] = {}
    against_counts = {scope: Counter(v for _, v in opposing) for scope, opposing in buckets[False].items()}
    whole_buckets_taking_part: set[tuple[bool, Scope]] = set()
    for scope_for, supporting in buckets[True].items():
        voices_for = Counter(v for _, v in supporting)
        for scope_against, opposing in buckets[False].items():
            if not manners_agree(scope_for[2], scope_against[2]):
                continue
            voices_against = against_counts[scope_against]
            if len(voices_for) == 1 and voices_for.keys() == voices_against.keys():
                continue  # one voice on both sides: an article does not conflict with itself
            result.pair_kinds.add(classify(kb, scope_for, scope_against))
            against_set = set(voices_against)
            for v in voices_for:
                reach.setdefault(v, set()).update(against_set)
            # A claim takes part when the other side has a voice other than its own: with two or more
            # voices there, every claim of the bucket does (and the bucket need not be looked at again).
            for bucket, side, other in (((True, scope_for), supporting, voices_against),
                                        ((False, scope_against), opposing, voices_for)):
                if bucket in whole_buckets_taking_part:
                    continue
                if len(other) > 1:
                    result.conflicting_claim_ids.update(c.id for c, _ in side)
                    whole_buckets_taking_part.add(bucket)
                else:
                    [only] = other
                    result.conflicting_claim_ids.update(c.id for c, v in side if v != only)
    result.pair_count = sum(len(against - {v}) for v, against in reach.items())
    return result


def compute_conflicts(kb: KnowledgeBase) -> dict[str, TopicConflict]:
    """Every topic (in topic order), with its claims and opposing pairs."""
    order = list(kb.topics) + sorted(set(kb.claims) - set(kb.topics))
    return {topic: topic_conflict(kb, topic) for topic in order}
