"""Loading and validating the knowledge base: every file, every cross-reference, every quote.

`load_knowledge` returns a `KnowledgeBase` or raises `KnowledgeError` carrying *all* problems found,
each as `path:line: message`. Nothing here imports Streamlit.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .bodymap import centroid, inside
from .conflicts import AGAINST, FOR, TopicConflict, compute_conflicts
from .models import (
    PHASES,
    BodyMapFile,
    Claim,
    ClaimsFile,
    CompositeRule,
    Condition,
    ConditionsFile,
    DependenceGroup,
    EvidenceRulesFile,
    Finding,
    FindingsFile,
    Guidance,
    LikelihoodRatio,
    LikelihoodRatiosFile,
    Muscle,
    NotAdviceFile,
    NotAdviceMark,
    Outline,
    OutsideCause,
    OutsideCausesFile,
    RedFlagRule,
    RedFlagsFile,
    ReferralZonesFile,
    Region,
    Source,
    Topic,
    TopicsFile,
    Vignette,
)
from .outcomes import OutcomeMeasure, OutcomeMeasuresFile, measure_problems
from .yamlio import KnowledgeError, LineDict, Problem, line_of, load_yaml_text, read_text

DEFAULT_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"

M = TypeVar("M", bound=BaseModel)
D = TypeVar("D")

_QUOTE_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
                             "–": "-", "—": "-", "‐": "-", "\u00a0": " "})


_FOLD_PAIRS = tuple((chr(k), v) for k, v in _QUOTE_FOLD.items())


def normalise_text(text: str) -> str:
    """Fold typographic quotes, dashes and runs of whitespace, so a verbatim check ignores only those."""
    # One str.replace per folded character is several times faster than str.translate on long
    # source texts; str.split() splits on exactly the whitespace that a regex \s matches. Every
    # folded character is outside ASCII, and an ASCII-only text (most quotes) says so in O(1).
    if not text.isascii():
        for typographic, plain in _FOLD_PAIRS:
            if typographic in text:
                text = text.replace(typographic, plain)
    return " ".join(text.split())


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Target:
    id: str
    label: str
    within: str | None


@dataclass
class KnowledgeBase:
    root: Path
    topics: dict[str, Topic]
    targets: dict[str, Target]
    sources: dict[str, Source]
    source_texts: dict[str, str]
    claims: dict[str, list[Claim]]  # by topic, in file order
    guidance: dict[str, Guidance]
    conditions: dict[str, Condition]
    findings: dict[str, Finding]
    likelihood_ratios: dict[str, dict[str, LikelihoodRatio]]  # condition -> finding -> LR
    red_flags: list[RedFlagRule]
    muscles: dict[str, Muscle]
    regions: list[Region]
    vignettes: dict[str, Vignette]
    file_hashes: dict[str, str]  # relative path -> sha256 of the bytes, for editors' version checks
    warnings: list[Problem] = field(default_factory=list)
    dependence_groups: dict[str, DependenceGroup] = field(default_factory=dict)
    composite_rules: list[CompositeRule] = field(default_factory=list)
    outside_causes: list[OutsideCause] = field(default_factory=list)
    outlines: list[Outline] = field(default_factory=list)  # body_map.yaml: the body's outline per view
    conflicts: dict[str, TopicConflict] = field(default_factory=dict)  # filled once loading succeeds
    outcome_measures: dict[str, OutcomeMeasure] = field(default_factory=dict)  # NPRS, LEFS, PSFS with their MCIDs
    not_advice: list[NotAdviceMark] = field(default_factory=list)  # sentences editors marked "not advice"
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: Hashable, build: Callable[[], D]) -> D:
        """A value worked out once from this knowledge base and kept with it, such as display text.

        Knowledge only: a knowledge base is shared by every session, so nothing about a patient may
        ever be part of `key` or of what `build` returns.
        """
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = build()
            return value

    @cached_property
    def version(self) -> str:
        """A digest of every file's content: the same knowledge gives the same digest, any edit a new one."""
        return sha256_text("\n".join(f"{path} {digest}" for path, digest in sorted(self.file_hashes.items())))

    @cached_property
    def claims_by_id(self) -> dict[str, Claim]:
        return {c.id: c for claims in self.claims.values() for c in claims}

    def voice(self, source_id: str) -> str:
        """The independent voice a source speaks for: a duplicate speaks for its original."""
        seen: set[str] = set()
        while (src := self.sources.get(source_id)) and src.duplicate_of and source_id not in seen:
            seen.add(source_id)
            source_id = src.duplicate_of
        return source_id

    @cached_property
    def changed_sources(self) -> frozenset[str]:
        """Sources whose text no longer matches the hash their claims were checked against."""
        return frozenset(sid for sid, src in self.sources.items()
                         if sha256_text(self.source_texts[sid]) != src.text_sha256)

    @cached_property
    def guidance_needing_review(self) -> dict[str, list[str]]:
        """Topic -> reasons its adopted guidance needs review (a source it relied on has changed)."""
        changed = self.changed_sources
        out: dict[str, list[str]] = {}
        for topic, guidance in self.guidance.items():
            reasons = [f"the text of {sid} changed since this decision" for sid in sorted(changed)
                       if any(c.source == sid for c in self.claims.get(topic, []))]
            for sid, digest in sorted(guidance.source_hashes.items()):
                if sid in self.sources and sid not in changed and digest != self.sources[sid].text_sha256:
                    reasons.append(f"{sid} was re-checked after this decision was made")
            reasons += [reason for _, reason in self.claims_awaiting_disposition(topic)]
            if reasons:
                out[topic] = reasons
        return out

    def claims_awaiting_disposition(self, topic: str) -> list[tuple[Claim, str]]:
        """Claims that oppose the adopted stance in a phase they speak to, with no disposition for them as
        they now read: a new claim, or one whose stance changed since the decision (`claim_stances`).

        The living guideline: each one keeps the decision "needs review", naming the claim, until an
        editor records a disposition for it.
        """
        g = self.guidance.get(topic)
        if g is None:
            return []
        disposed = {d.claim for d in g.dispositions}
        out = []
        for c in self.claims.get(topic, []):
            opposed = [p for p in (c.scope.phases or PHASES)
                       if (c.stance in FOR and g.phases[p].stance in AGAINST)
                       or (c.stance in AGAINST and g.phases[p].stance in FOR)]
            if not opposed:
                continue
            then = g.claim_stances.get(c.id)
            if c.id in disposed and (then is None or then == c.stance):
                continue
            adopted = ", ".join(f"{p}: {g.phases[p].stance}" for p in opposed)
            why = (f"changed from {then} to {c.stance} since this decision" if c.id in disposed
                   else f"is {c.stance} and has no disposition")
            out.append((c, f"claim {c.id} ({c.source}) {why}; it opposes the adopted stance ({adopted})"))
        return out

    def target_chain(self, target: str) -> list[str]:
        chain = []
        while target and target not in chain:
            chain.append(target)
            target = self.targets[target].within if target in self.targets else None
        return chain

    @cached_property
    def _chains(self) -> dict[str, frozenset[str]]:
        return {t: frozenset(self.target_chain(t)) for t in self.targets}

    def targets_overlap(self, a: str, b: str) -> bool:
        chains = self._chains
        return a in chains.get(b, {b}) or b in chains.get(a, {a})


class _Collector:
    """Gathers problems across files instead of stopping at the first."""

    def __init__(self, root: Path, overlay: dict[str, str] | None = None):
        self.root = root
        self._root_text = root.as_posix()
        self._root_prefix = self._root_text.rstrip("/") + "/"
        self.overlay = overlay or {}  # relative path -> text that replaces (or adds) that file
        # Files are parsed without line bookkeeping; the first problem in a file re-parses it with lines.
        self._texts: dict[int, tuple[Any, str, str]] = {}
        self._with_lines: dict[int, Any] = {}
        self.problems: list[Problem] = []
        self.file_hashes: dict[str, str] = {}
        self._plain_scalars: dict[str, Any] = {}  # shared by this load's files: "null" is read once, not once a file

    def below_root(self, path: Path) -> str | None:
        """The path relative to the root, or None if it lies outside.

        Plain string work on the path's text: a large base asks this thousands of times, and
        pathlib's relative_to parses both paths every time.
        """
        text = path.as_posix()
        if text == self._root_text:
            return "."
        return text[len(self._root_prefix):] if text.startswith(self._root_prefix) else None

    def rel(self, path: Path) -> str:
        below = self.below_root(path)
        return path.as_posix() if below is None else below

    def shown(self, path: Path) -> str:
        # Paths are reported as the user typed the knowledge dir: knowledge/claims/ice.yaml
        below = self.below_root(path)
        if below is None:
            return str(path)
        if below == ".":
            return self.root.name or "."
        return f"{self.root.name}/{below}" if self.root.name else below

    def add(self, path: Path | str, line: int, message: str) -> None:
        shown = self.shown(path) if isinstance(path, Path) else path
        self.problems.append(Problem(shown, line, message))

    def add_at(self, path: Path, data: Any, loc: tuple[Any, ...], message: str) -> None:
        """A problem at the line of `loc` in a file's data (looked up now: only problems pay for lines)."""
        self.add(path, self.line(data, loc), message)

    def yaml(self, path: Path) -> Any:
        rel = self.rel(path)
        shown = self.shown(path)
        try:
            if rel in self.overlay:
                text = self.overlay[rel]
            elif not path.exists():
                self.add(path, 1, "file is missing")
                return None
            else:
                text = read_text(path, shown)
            self.file_hashes[rel] = sha256_text(text)
            data = load_yaml_text(text, shown, keep_lines=False, plain_scalars=self._plain_scalars)
            self._texts[id(data)] = (data, text, shown)
            return data
        except KnowledgeError as exc:
            self.problems.extend(exc.problems)
            return None

    def line(self, data: Any, loc: tuple[Any, ...]) -> int:
        """The line of `loc` inside a file's data, re-parsing the file with lines on first need."""
        if not isinstance(data, LineDict) and id(data) in self._texts:
            if id(data) not in self._with_lines:
                _, text, shown = self._texts[id(data)]
                self._with_lines[id(data)] = load_yaml_text(text, shown, keep_lines=True)
            data = self._with_lines[id(data)]
        return line_of(data, loc)

    def model(self, model: type[M], data: Any, path: Path) -> M | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            self.add(path, 1, f"expected a mapping at the top of the file, found {type(data).__name__}")
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = tuple(err["loc"])
                where = ".".join(str(p) for p in loc)
                message = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    message = f"unknown key {loc[-1]!r}"
                elif err["type"] == "missing":
                    message = f"missing required key {loc[-1]!r}"
                elif where:
                    message = f"{where}: {message}"
                # Whole-record checks name the key they are about first ("approver: …"): point at it.
                if (m := re.match(r"^(\w+): ", message)) and err["type"] != "extra_forbidden":
                    parent = loc if err["type"] not in ("missing",) else loc[:-1]
                    node_loc = (*parent, m.group(1)) if not where else loc
                    line = self.line(data, node_loc)
                else:
                    line = self.line(data, loc)
                self.add(path, line, message)
            return None


def _check_body_map(bm: BodyMapFile, raw: Any, path: Path, findings: dict[str, Finding], col: _Collector) -> None:
    """One outline per view; each region inside its view's outline; every location finding on the map."""
    outlines: dict[str, Any] = {}
    for i, outline in enumerate(bm.outlines):
        if outline.view in outlines:
            col.add_at(path, raw, ("outlines", i, "view"), f"a second outline for the {outline.view} view")
        outlines.setdefault(outline.view, outline)
    for i, region in enumerate(bm.regions):
        outline = outlines.get(region.view)
        if bm.outlines and outline is None:
            col.add_at(path, raw, ("regions", i, "view"), f"no outline for the {region.view} view")
        elif outline is not None and not inside(centroid(list(region.polygon)), list(outline.polygon)):
            col.add_at(path, raw, ("regions", i, "polygon"), f"region {region.id!r} lies outside the {region.view} outline")
    mapped = {r.finding for r in bm.regions}
    for fid, finding in findings.items():
        if finding.group == "location" and fid not in mapped:
            col.add_at(path, raw, ("regions",), f"location finding {fid!r} has no region on the body map")


def _index(items: list[Any], path: Path, raw: Any, list_key: str, col: _Collector, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        if item.id in out:
            col.add_at(path, raw, (list_key, i, "id"), f"duplicate {kind} id {item.id!r}")
        out[item.id] = item
    return out


def _check_file_name(col: _Collector, path: Path, raw: Any, key: str, value: str, known: dict[str, Any] | None) -> None:
    """One record per file: its id (or topic) must match the file name, and be a known one."""
    if value != path.stem:
        col.add_at(path, raw, (key,), f"{key} {value!r} must match its file name {path.stem!r}")
    if known and value not in known:
        col.add_at(path, raw, (key,), f"unknown {key} {value!r}")


def _yaml_files(col: _Collector, directory: Path) -> list[Path]:
    """The YAML files of a folder, including ones only in the overlay (an editor's unsaved new file)."""
    found = set(directory.glob("*.yaml")) if directory.is_dir() else set()
    prefix = col.rel(directory) + "/"
    found |= {col.root / rel for rel in col.overlay if rel.startswith(prefix) and rel.endswith(".yaml") and "/" not in rel[len(prefix):]}
    return sorted(found)


def _source_text(col: _Collector, path: Path) -> str:
    rel = col.rel(path)
    if rel in col.overlay:
        return col.overlay[rel]
    return read_text(path, col.shown(path))


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a load builds its many small, acyclic objects.

    A large knowledge base makes hundreds of thousands of dicts, strings and models, and each
    allocation burst triggers a collection that walks every older object again: on the 100x
    synthetic base that is over a third of the load. Plain reference counting still frees
    everything; the collector resumes (if it was on) the moment the load ends, error or not.

    What the load built lives as long as the knowledge base, so it goes straight to the oldest
    generation (freeze, then unfreeze: two list splices) rather than being walked by the next
    young collection and again by the middle one, which cost about 70 ms after a 100x load. The
    next full collection still looks at it. Skipped if anything else holds objects frozen, so
    theirs stay frozen.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def load_knowledge(root: Path | str | None = None, overlay: dict[str, str] | None = None) -> KnowledgeBase:
    """Load and validate everything under `root`; raise KnowledgeError listing every problem.

    `overlay` maps relative paths to replacement texts: an editor's change is validated in full
    before anything is written.
    """
    with _cycle_collector_paused():
        return _load_knowledge(root, overlay)


def _load_knowledge(root: Path | str | None, overlay: dict[str, str] | None) -> KnowledgeBase:
    root = Path(root) if root is not None else DEFAULT_KNOWLEDGE_DIR
    root = root.resolve()
    col = _Collector(root, overlay)
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), 1, "knowledge directory not found")])

    # --- topics and targets
    p_topics = root / "topics.yaml"
    raw_topics = col.yaml(p_topics)
    tf = col.model(TopicsFile, raw_topics, p_topics)
    topics = _index(tf.topics, p_topics, raw_topics, "topics", col, "topic") if tf else {}

    p_targets = root / "targets.yaml"
    raw_targets = col.yaml(p_targets)
    targets: dict[str, Target] = {}
    if isinstance(raw_targets, dict) and isinstance(raw_targets.get("targets"), list):
        for i, t in enumerate(raw_targets["targets"]):
            if not isinstance(t, dict) or not isinstance(t.get("id"), str):
                col.add_at(p_targets, raw_targets, ("targets", i), "each target needs an id")
                continue
            targets[t["id"]] = Target(t["id"], str(t.get("label") or t["id"]), t.get("within"))
        for i, t in enumerate(targets.values()):
            if t.within and t.within not in targets:
                col.add_at(p_targets, raw_targets, ("targets", i, "within"), f"unknown target {t.within!r}")
    elif raw_targets is not None:
        col.add(p_targets, 1, "expected a 'targets' list")

    # --- sources and their texts
    sources: dict[str, Source] = {}
    source_texts: dict[str, str] = {}
    source_files = _yaml_files(col, root / "sources")
    if not source_files:
        col.add(root / "sources", 1, "no sources found (expected sources/<id>.yaml)")
    source_raw: dict[str, tuple[Path, Any]] = {}
    for path in source_files:
        raw = col.yaml(path)
        src = col.model(Source, raw, path)
        if src is None:
            continue
        _check_file_name(col, path, raw, "id", src.id, None)
        if src.id in sources:
            col.add_at(path, raw, ("id",), f"duplicate source id {src.id!r}")
            continue
        text_path = path.parent / src.text
        try:
            text = _source_text(col, text_path)
        except KnowledgeError as exc:
            if not text_path.exists():
                col.add_at(path, raw, ("text",), f"source text {src.text!r} not found beside this file")
            else:
                col.problems.extend(exc.problems)
            continue
        if not text.strip():
            col.add(text_path, 1, "source text is empty")
        col.file_hashes[col.rel(text_path)] = sha256_text(text)
        sources[src.id] = src
        source_texts[src.id] = text
        source_raw[src.id] = (path, raw)
    normalised_texts = {sid: normalise_text(t) for sid, t in source_texts.items()}
    for sid, src in sources.items():
        path, raw = source_raw[sid]
        if src.duplicate_of is not None and src.duplicate_of not in sources:
            col.add_at(path, raw, ("duplicate_of",), f"duplicate_of names unknown source {src.duplicate_of!r}")
        if src.duplicate_of == sid:
            col.add_at(path, raw, ("duplicate_of",), "a source cannot be a duplicate of itself")
        for i, flag in enumerate(src.flags):
            # Evidence that reads as a quote must be one; a described pattern is allowed to paraphrase.
            ev = flag.evidence.strip()
            if ev.startswith(('"', "“")) and normalise_text(ev.strip('"“”')) not in normalised_texts[sid]:
                col.add_at(path, raw, ("flags", i, "evidence"), f"flag {flag.flag}: quoted evidence not found in the source text")

    # --- conditions, findings
    p_cond = root / "conditions.yaml"
    raw_cond = col.yaml(p_cond)
    cf = col.model(ConditionsFile, raw_cond, p_cond)
    conditions: dict[str, Condition] = _index(cf.conditions, p_cond, raw_cond, "conditions", col, "condition") if cf else {}

    p_find = root / "findings.yaml"
    raw_find = col.yaml(p_find)
    ff = col.model(FindingsFile, raw_find, p_find)
    findings: dict[str, Finding] = _index(ff.findings, p_find, raw_find, "findings", col, "finding") if ff else {}

    # --- claims
    claims: dict[str, list[Claim]] = {}
    claim_ids: dict[str, str] = {}
    claims_dir = root / "claims"
    claim_files = _yaml_files(col, claims_dir)
    for path in claim_files:
        raw = col.yaml(path)
        cfile = col.model(ClaimsFile, raw, path)
        if cfile is None:
            continue
        _check_file_name(col, path, raw, "topic", cfile.topic, topics)
        rel = col.rel(path)
        for i, claim in enumerate(cfile.claims):
            if claim.id in claim_ids:
                col.add_at(path, raw, ("claims", i, "id"), f"duplicate claim id {claim.id!r} (also in {claim_ids[claim.id]})")
            claim_ids[claim.id] = rel
            if claim.source not in sources:
                col.add_at(path, raw, ("claims", i, "source"), f"unknown source {claim.source!r}")
            elif normalise_text(claim.quote) not in normalised_texts[claim.source]:
                col.add_at(path, raw, ("claims", i, "quote"), f"quote is not verbatim in {claim.source}: {claim.quote[:70]!r}")
            if targets and claim.scope.target not in targets:
                col.add_at(path, raw, ("claims", i, "scope", "target"), f"unknown target {claim.scope.target!r}")
        claims[cfile.topic] = list(cfile.claims)
    all_claims = {c.id: (topic, c) for topic, cl in claims.items() for c in cl}

    # --- guidance
    guidance: dict[str, Guidance] = {}
    guidance_raw: dict[str, tuple[Path, Any]] = {}
    invalid_guidance: set[str] = set()  # reported once, not again as "missing"
    g_dir = root / "guidance"
    for path in _yaml_files(col, g_dir):
        raw = col.yaml(path)
        g = col.model(Guidance, raw, path)
        if g is None:
            invalid_guidance.add(path.stem)
            continue
        _check_file_name(col, path, raw, "topic", g.topic, topics)
        for i, cid in enumerate(g.applies_to):
            if conditions and cid not in conditions:
                col.add_at(path, raw, ("applies_to", i), f"unknown condition {cid!r}")
        for i, ov in enumerate(g.condition_overrides):
            for j, cid in enumerate(ov.conditions):
                if conditions and cid not in conditions:
                    col.add_at(path, raw, ("condition_overrides", i, "conditions", j), f"unknown condition {cid!r}")
        seen_disp: set[str] = set()
        for i, d in enumerate(g.dispositions):
            loc = ("dispositions", i, "claim")
            if d.claim in seen_disp:
                col.add_at(path, raw, loc, f"claim {d.claim!r} has more than one disposition")
            seen_disp.add(d.claim)
            if d.claim not in all_claims:
                col.add_at(path, raw, loc, f"disposition for unknown claim {d.claim!r}")
            elif all_claims[d.claim][0] != g.topic:
                col.add_at(path, raw, loc, f"claim {d.claim!r} belongs to topic {all_claims[d.claim][0]!r}, not {g.topic!r}")
        for cid in g.claim_stances:
            if cid not in all_claims or all_claims[cid][0] != g.topic:
                col.add_at(path, raw, ("claim_stances", cid), f"claim_stances names {cid!r}, not a claim of topic {g.topic!r}")
        for sid in g.source_hashes:
            if sid not in sources:
                col.add_at(path, raw, ("source_hashes", sid), f"source_hashes names unknown source {sid!r}")
        guidance[g.topic] = g
        guidance_raw[g.topic] = (path, raw)

    # --- likelihood ratios
    p_lr = root / "likelihood_ratios.yaml"
    raw_lr = col.yaml(p_lr)
    lf = col.model(LikelihoodRatiosFile, raw_lr, p_lr)
    likelihood_ratios: dict[str, dict[str, LikelihoodRatio]] = {}
    if lf:
        for cid, rows in lf.likelihood_ratios.items():
            if conditions and cid not in conditions:
                col.add_at(p_lr, raw_lr, ("likelihood_ratios", cid), f"unknown condition {cid!r}")
            per: dict[str, LikelihoodRatio] = {}
            for i, row in enumerate(rows):
                loc = ("likelihood_ratios", cid, i, "finding")
                if findings and row.finding not in findings:
                    col.add_at(p_lr, raw_lr, loc, f"unknown finding {row.finding!r}")
                if row.finding in per:
                    col.add_at(p_lr, raw_lr, loc, f"{cid}: finding {row.finding!r} listed twice")
                per[row.finding] = row
            likelihood_ratios[cid] = per
        for cid in conditions:
            if cid not in likelihood_ratios:
                col.add(p_lr, 1, f"condition {cid!r} has no likelihood ratios")

    # --- evidence rules: dependence groups and composite rules (optional file)
    p_ev = root / "evidence_rules.yaml"
    groups: dict[str, DependenceGroup] = {}
    composites: list[CompositeRule] = []
    if p_ev.exists() or col.rel(p_ev) in col.overlay:
        raw_ev = col.yaml(p_ev)
        ev = col.model(EvidenceRulesFile, raw_ev, p_ev)
        if ev:
            groups = _index(ev.dependence_groups, p_ev, raw_ev, "dependence_groups", col, "dependence group")
            member_of: dict[str, str] = {}
            for i, group in enumerate(ev.dependence_groups):
                for j, fid in enumerate(group.findings):
                    loc = ("dependence_groups", i, "findings", j)
                    if findings and fid not in findings:
                        col.add_at(p_ev, raw_ev, loc, f"unknown finding {fid!r}")
                    elif fid in member_of:
                        col.add_at(p_ev, raw_ev, loc, f"finding {fid!r} is already in group {member_of[fid]!r} "
                                                      "(a finding belongs to one group at most)")
                    member_of.setdefault(fid, group.id)
            _index(ev.composite_rules, p_ev, raw_ev, "composite_rules", col, "composite rule")
            for i, rule in enumerate(ev.composite_rules):
                if conditions and rule.condition not in conditions:
                    col.add_at(p_ev, raw_ev, ("composite_rules", i, "condition"), f"unknown condition {rule.condition!r}")
                for j, fid in enumerate(rule.findings):
                    if findings and fid not in findings:
                        col.add_at(p_ev, raw_ev, ("composite_rules", i, "findings", j), f"unknown finding {fid!r}")
                homes = {member_of[f] for f in rule.findings if f in member_of}
                if len(homes) > 1:
                    col.add_at(p_ev, raw_ev, ("composite_rules", i, "findings"),
                               f"the rule's findings sit in different dependence groups ({', '.join(sorted(homes))})")
            composites = list(ev.composite_rules)

    # --- causes outside the differential, for "none of these fits" (optional file)
    p_out = root / "outside_causes.yaml"
    outside: list[OutsideCause] = []
    if p_out.exists() or col.rel(p_out) in col.overlay:
        raw_out = col.yaml(p_out)
        of = col.model(OutsideCausesFile, raw_out, p_out)
        if of:
            _index(of.outside_causes, p_out, raw_out, "outside_causes", col, "outside cause")
            for i, cause in enumerate(of.outside_causes):
                for j, fid in enumerate(cause.when_any):
                    if findings and fid not in findings:
                        col.add_at(p_out, raw_out, ("outside_causes", i, "when_any", j), f"unknown finding {fid!r}")
            outside = list(of.outside_causes)

    # --- red flags
    p_rf = root / "red_flags.yaml"
    raw_rf = col.yaml(p_rf)
    rff = col.model(RedFlagsFile, raw_rf, p_rf)
    red_flags = list(rff.red_flags) if rff else []
    _index(red_flags, p_rf, raw_rf, "red_flags", col, "red-flag rule")
    for i, rule in enumerate(red_flags):
        for key in ("all_of", "any_of"):
            for j, fid in enumerate(getattr(rule, key)):
                if findings and fid not in findings:
                    col.add_at(p_rf, raw_rf, ("red_flags", i, key, j), f"unknown finding {fid!r}")
        for tid, advice in rule.plan_overrides.items():
            if topics and tid not in topics:
                col.add_at(p_rf, raw_rf, ("red_flags", i, "plan_overrides", tid), f"unknown topic {tid!r}")
            elif tid in topics and topics[tid].kind in (rule.withhold or []) and advice.stance in ("recommend", "conditional"):
                # The plan must obey the triage: an override cannot bring back self-care the rule withholds.
                col.add_at(p_rf, raw_rf, ("red_flags", i, "plan_overrides", tid),
                           f"{tid} is {topics[tid].kind} self-care, which this rule withholds: its override may only advise against it")
    rule_ids = {rule.id for rule in red_flags}
    for i, finding in enumerate(ff.findings if ff else []):
        if finding.caution is None:
            continue
        for j, other in enumerate(finding.caution.if_any_finding):
            if other not in findings:
                col.add_at(p_find, raw_find, ("findings", i, "caution", "if_any_finding", j), f"unknown finding {other!r}")
        for j, rid in enumerate(finding.caution.if_any_rule):
            if red_flags and rid not in rule_ids:
                col.add_at(p_find, raw_find, ("findings", i, "caution", "if_any_rule", j), f"unknown red-flag rule {rid!r}")

    # --- referral zones and body map
    p_bm = root / "body_map.yaml"
    raw_bm = col.yaml(p_bm)
    bm = col.model(BodyMapFile, raw_bm, p_bm)
    regions = list(bm.regions) if bm else []
    outlines = list(bm.outlines) if bm else []
    region_ids = _index(regions, p_bm, raw_bm, "regions", col, "region")
    for i, region in enumerate(regions):
        if region.finding is not None and findings and region.finding not in findings:
            col.add_at(p_bm, raw_bm, ("regions", i, "finding"), f"unknown finding {region.finding!r}")
    if bm:
        _check_body_map(bm, raw_bm, p_bm, findings, col)

    p_rz = root / "referral_zones.yaml"
    raw_rz = col.yaml(p_rz)
    rz = col.model(ReferralZonesFile, raw_rz, p_rz)
    muscles: dict[str, Muscle] = _index(rz.muscles, p_rz, raw_rz, "muscles", col, "muscle") if rz else {}
    for i, muscle in enumerate(muscles.values()):
        for key in ("zones", "spillover"):
            for j, rid in enumerate(getattr(muscle, key)):
                if region_ids and rid not in region_ids:
                    col.add_at(p_rz, raw_rz, ("muscles", i, key, j), f"unknown body-map region {rid!r}")
    if cf:
        for i, cond in enumerate(cf.conditions):
            for j, mid in enumerate(cond.muscles):
                if muscles and mid not in muscles:
                    col.add_at(p_cond, raw_cond, ("conditions", i, "muscles", j), f"unknown muscle {mid!r}")

    # --- outcome measures (optional: a knowledge base without the file records no outcome measures)
    outcome_measures: dict[str, OutcomeMeasure] = {}
    p_om = root / "outcome_measures.yaml"
    if p_om.exists() or col.rel(p_om) in col.overlay:
        raw_om = col.yaml(p_om)
        omf = col.model(OutcomeMeasuresFile, raw_om, p_om)
        if omf:
            outcome_measures = _index(omf.outcome_measures, p_om, raw_om, "outcome_measures", col, "outcome measure")
            for loc, message in measure_problems(omf.outcome_measures):
                col.add_at(p_om, raw_om, loc, message)
    # --- sentences editors marked "not advice" (for the coverage report); the file is optional
    not_advice: list[NotAdviceMark] = []
    p_na = root / "not_advice.yaml"
    if p_na.exists() or col.rel(p_na) in col.overlay:
        raw_na = col.yaml(p_na)
        na = col.model(NotAdviceFile, raw_na, p_na)
        seen_marks: set[tuple[str, str]] = set()
        for i, mark in enumerate(na.not_advice if na else []):
            key = (mark.source, normalise_text(mark.sentence))
            if mark.source not in sources:
                col.add_at(p_na, raw_na, ("not_advice", i, "source"), f"unknown source {mark.source!r}")
            elif key[1] not in normalised_texts[mark.source]:
                col.add_at(p_na, raw_na, ("not_advice", i, "sentence"),
                           f"sentence is not verbatim in {mark.source}: {mark.sentence[:70]!r}")
            if key in seen_marks:
                col.add_at(p_na, raw_na, ("not_advice", i, "sentence"), "this sentence is marked twice")
            seen_marks.add(key)
            not_advice.append(mark)

    # --- vignettes
    vignettes: dict[str, Vignette] = {}
    v_dir = root / "vignettes"
    for path in _yaml_files(col, v_dir):
        raw = col.yaml(path)
        v = col.model(Vignette, raw, path)
        if v is None:
            continue
        for key in ("findings", "absent"):
            for j, fid in enumerate(getattr(v, key)):
                if findings and fid not in findings:
                    col.add_at(path, raw, (key, j), f"unknown finding {fid!r}")
        for cid in [v.expect.diagnosis, v.expect.top1, *v.expect.top3_contains]:
            if cid and conditions and cid not in conditions:
                col.add_at(path, raw, ("expect",), f"unknown condition {cid!r}")
        for key in ("red_flag_rules", "not_assessed_rules"):
            for j, rid in enumerate(getattr(v.expect, key)):
                if red_flags and rid not in rule_ids:
                    col.add_at(path, raw, ("expect", key, j), f"unknown red-flag rule {rid!r}")
        vignettes[path.stem] = v

    kb = KnowledgeBase(
        root=root, topics=topics, targets=targets, sources=sources, source_texts=source_texts, claims=claims,
        guidance=guidance, conditions=conditions, findings=findings, likelihood_ratios=likelihood_ratios,
        red_flags=red_flags, muscles=muscles, regions=regions, vignettes=vignettes, file_hashes=col.file_hashes,
        dependence_groups=groups, composite_rules=composites, outside_causes=outside,
        outlines=outlines,
        outcome_measures=outcome_measures,
        not_advice=not_advice,
    )

    # --- rules that need the whole picture: every conflicting topic has reasoned, complete guidance
    kb.conflicts = compute_conflicts(kb)
    for topic, tc in kb.conflicts.items():
        if not tc.conflict or topic in invalid_guidance:
            continue
        if topic not in guidance:
            col.add(root / "guidance" / f"{topic}.yaml", 1, f"topic {topic!r} is in conflict but has no adopted guidance")
            invalid_guidance.add(topic)
            continue
        path, raw = guidance_raw[topic]
        disposed = {d.claim for d in guidance[topic].dispositions}
        for claim_id in sorted(tc.conflicting_claim_ids - disposed):
            col.add_at(path, raw, ("dispositions",), f"conflicting claim {claim_id!r} has no disposition")
    for topic in topics:
        if topic not in guidance and topic not in invalid_guidance:
            col.add(root / "guidance" / f"{topic}.yaml", 1, f"topic {topic!r} has no adopted guidance")

    for sid in sorted(kb.changed_sources):
        path, raw = source_raw[sid]
        kb.warnings.append(Problem(col.shown(path), col.line(raw, ("text_sha256",)),
                                   "source text changed since its claims were checked: claims and decisions need review"))

    if col.problems:
        raise KnowledgeError(col.problems)
    return kb


def knowledge_fingerprint(root: Path | str | None = None) -> tuple[tuple[str, int, int], ...]:
    """A cheap signature of every file under the knowledge dir (path, mtime, size).

    The app re-reads the knowledge when this changes, so an editor's save on one server replica is
    served by the others on their next rerun.
    """
    root = Path(root) if root is not None else DEFAULT_KNOWLEDGE_DIR
    entries: list[tuple[str, int, int]] = []
    _fingerprint_dir(str(root), entries)
    return tuple(entries)


def _fingerprint_dir(directory: str, entries: list[tuple[str, int, int]]) -> None:
    # Every page rerun calls this: scandir's entries carry their paths and types, with no joins.
    try:
        with os.scandir(directory) as found:
            listing = sorted(found, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in listing:
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith("."):  # a knowledge repository's own .git is not knowledge
                _fingerprint_dir(entry.path, entries)
        elif entry.name.endswith((".yaml", ".txt")):
            st = entry.stat()
            entries.append((entry.path, st.st_mtime_ns, st.st_size))
