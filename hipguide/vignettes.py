"""Worked cases with expected results: the clinical regression suite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .assessment import assess
from .knowledge import KnowledgeBase, _Collector
from .models import TRIAGE_ORDER, Vignette
from .yamlio import KnowledgeError


@dataclass(frozen=True)
class VignetteResult:
    name: str
    title: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def check_vignette(kb: KnowledgeBase, name: str, vignette: Vignette) -> VignetteResult:
    result = assess(kb, vignette)
    ranked = [r.condition for r in result.differential]
    exp = vignette.expect
    failures = []
    if exp.top1 and ranked[0] != exp.top1:
        failures.append(f"top1 is {ranked[0]}, expected {exp.top1}")
    for cond in exp.top3_contains:
        if cond not in ranked[:3]:
            failures.append(f"{cond} not in top 3 ({', '.join(ranked[:3])})")
    level = result.triage.level
    if exp.triage and level != exp.triage:
        failures.append(f"triage is {level}, expected {exp.triage}")
    if exp.triage_at_least and TRIAGE_ORDER[level] < TRIAGE_ORDER[exp.triage_at_least]:
        failures.append(f"triage is {level}, expected at least {exp.triage_at_least}")
    fired = {r.rule for r in result.triage.reasons}
    for rule in exp.red_flag_rules:
        if rule not in fired:
            failures.append(f"rule {rule} did not fire ({', '.join(sorted(fired)) or 'none fired'})")
    unchecked = {u.rule for u in result.triage.not_assessed}
    for rule in exp.not_assessed_rules:
        if rule not in unchecked:
            failures.append(f"rule {rule} is not reported as not assessed")
    plan = {item.topic: item.stance for item in result.plan}
    for topic, stance in exp.plan_stance.items():
        if plan.get(topic) != stance:
            failures.append(f"plan stance for {topic} is {plan.get(topic, 'absent')}, expected {stance}")
    for topic in exp.not_in_plan:
        if topic in plan:
            failures.append(f"plan contains {topic}, expected it absent")
    return VignetteResult(name, vignette.title, failures)


def load_vignettes(directory: Path) -> dict[str, Vignette]:
    """Vignettes from any directory (held-out cases), validated like knowledge files: every problem
    reported as `path:line: message` by the same collector that checks the knowledge base."""
    col = _Collector(directory.resolve())
    out: dict[str, Vignette] = {}
    for path in sorted(directory.resolve().glob("*.yaml")):
        vignette = col.model(Vignette, col.yaml(path), path)
        if vignette is not None:
            out[path.stem] = vignette
    if col.problems:
        raise KnowledgeError(col.problems)
    return out


def run_vignettes(kb: KnowledgeBase, vignettes: dict[str, Vignette]) -> list[VignetteResult]:
    return [check_vignette(kb, name, v) for name, v in vignettes.items()]
