"""Command line: `python -m hipguide <command>` (see README and the project contract).

Every error is a clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from .assessment import AssessmentError, assess
from .conflicts import compute_conflicts
from .coverage import coverage
from .knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, load_knowledge
from .vignettes import load_vignettes, run_vignettes
from .yamlio import KnowledgeError, load_yaml_file


def _kb(args: argparse.Namespace) -> KnowledgeBase:
    return load_knowledge(args.knowledge)


def cmd_validate(args: argparse.Namespace) -> int:
    kb = _kb(args)
    n_claims = sum(len(c) for c in kb.claims.values())
    n_conflicts = sum(1 for tc in kb.conflicts.values() if tc.conflict)
    for warning in kb.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"knowledge valid: {len(kb.sources)} sources, {n_claims} claims, {len(kb.topics)} topics, "
        f"{n_conflicts} conflicts, {len(kb.conditions)} conditions, {len(kb.findings)} findings, "
        f"{len(kb.red_flags)} red-flag rules, {len(kb.outcome_measures)} outcome measures, {len(kb.vignettes)} vignettes"
    )
    return 0


def sources_json(kb: KnowledgeBase) -> list[dict]:
    return [
        {
            "id": s.id, "title": s.title, "publisher": s.publisher,
            "path": f"sources/{s.text}", "flags": [f.flag for f in s.flags], "duplicate_of": s.duplicate_of,
            "author": s.author, "date": s.date, "kind": s.kind, "voice": kb.voice(s.id),
            "text_changed": s.id in kb.changed_sources,
        }
        for s in kb.sources.values()
    ]


def conflicts_json(kb: KnowledgeBase) -> list[dict]:
    out = []
    for topic, tc in compute_conflicts(kb).items():
        g = kb.guidance.get(topic)
        adopted = None
        if g is not None:
            adopted = {
                "stance": g.phases["acute"].stance,  # the contract's single stance: the acute phase
                "advice": g.phases["acute"].advice,
                "rationale": g.rationale, "certainty": g.certainty, "status": g.status,
                "phases": {p: {"stance": a.stance, "advice": a.advice} for p, a in g.phases.items()},
                "strength": g.strength, "version": g.version, "approver": g.approver, "date": g.date.isoformat(),
            }
        out.append({
            "topic": topic, "conflict": tc.conflict, "type": tc.kind, "types": tc.kinds,
            "claims": [{"source": c.source, "stance": c.stance, "quote": c.quote, "id": c.id,
                        "phases": c.scope.phases, "target": c.scope.target, "manner": c.scope.manner,
                        "voice": kb.voice(c.source)} for c in tc.claims],
            # Independent voices per side: a duplicated article is one voice.
            "voices_for": tc.sources_for(), "voices_against": tc.sources_against(), "opposing_pairs": tc.pair_count,
            "adopted": adopted,
        })
    return out


def cmd_sources(args: argparse.Namespace) -> int:
    kb = _kb(args)
    if args.json:
        print(json.dumps(sources_json(kb), indent=2, ensure_ascii=False))
    else:
        for s in sources_json(kb):
            dup = f" (version of {s['duplicate_of']})" if s["duplicate_of"] else ""
            print(f"{s['id']}{dup}: {s['title']} — {', '.join(s['flags']) or 'no flags'}")
    return 0


def cmd_conflicts(args: argparse.Namespace) -> int:
    kb = _kb(args)
    rows = conflicts_json(kb)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            mark = f"CONFLICT ({', '.join(r['types'])})" if r["conflict"] else "no conflict"
            print(f"{r['topic']}: {mark}; {len(r['claims'])} claims")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    report = coverage(_kb(args))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{report.advice_sentences} sentence(s) read as advice: {len(report.covered)} covered by a claim, "
          f"{len(report.not_advice)} marked not advice, {len(report.uncovered)} uncovered")
    if report.uncovered:
        print("\nUncovered (tag a claim, or mark the sentence not advice in not_advice.yaml with a reason):")
        for row in report.uncovered:
            print(f"  sources/{row.source}.txt:{row.line}: {row.sentence}")
    if report.not_advice:
        print("\nMarked not advice:")
        for row in report.not_advice:
            print(f"  sources/{row.source}.txt:{row.line}: {row.sentence}\n      reason: {row.reason}")
    for source, sentence in report.stale_marks:
        print(f"warning: not_advice.yaml marks a sentence of {source} that no longer reads as uncovered advice: "
              f"{sentence[:70]!r}", file=sys.stderr)
    return 0


def cmd_assess(args: argparse.Namespace) -> int:
    kb = _kb(args)
    path = Path(args.case)
    try:
        case = load_yaml_file(path, str(path))
    except KnowledgeError as exc:  # the case file, not the knowledge: one clear line
        raise AssessmentError(str(exc.problems[0])) from None
    if not isinstance(case, dict):
        raise AssessmentError(f"{path}: a case must be a mapping with 'findings' (see the contract)")
    case = {k: v for k, v in case.items() if k not in ("title", "notes", "expect")}
    result = assess(kb, case)
    if args.fhir:
        from .fhir import RecordError, bundle_json

        try:
            print(bundle_json(kb, result, args.visit_date), end="")
        except RecordError as exc:  # our own bundle failed the R4 check: a defect, reported plainly
            raise AssessmentError(f"the visit record is not valid FHIR R4: {exc}") from None
    elif args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"triage: {result.triage.level}")
        for r in result.triage.reasons:
            print(f"  red flag: {r.label} ({', '.join(r.findings)}) → {r.action}")
        for r in result.differential[:5]:
            print(f"  {r.probability:6.1%}  {r.condition}")
    return 0


def cmd_vignettes(args: argparse.Namespace) -> int:
    kb = _kb(args)
    directory = Path(args.dir) if args.dir else kb.root / "vignettes"
    vignettes = kb.vignettes if not args.dir else load_vignettes(directory)
    results = run_vignettes(kb, vignettes)
    for r in results:
        status = "PASS" if r.passed else "FAIL"
        detail = "" if r.passed else " — " + "; ".join(r.failures)
        print(f"{status} {r.name}: {r.title}{detail}")
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if results and passed == len(results) else 1


def _visit_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", type=Path, default=DEFAULT_KNOWLEDGE_DIR,
                        help="knowledge directory (default: the repository's knowledge/)")
    parser = argparse.ArgumentParser(prog="python -m hipguide", description="HipGuide engine", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", parents=[common], help="check the whole knowledge base").set_defaults(func=cmd_validate)
    p = sub.add_parser("sources", parents=[common], help="list sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources)
    p = sub.add_parser("conflicts", parents=[common], help="topics, claims, conflicts and adopted guidance")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_conflicts)
    p = sub.add_parser("coverage", parents=[common],
                       help="source sentences that read as advice and no claim covers, and those marked not advice")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_coverage)
    p = sub.add_parser("assess", parents=[common], help="assess one case file")
    p.add_argument("case")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the result as JSON")
    output.add_argument("--fhir", action="store_true", help="the visit as a FHIR R4 Bundle (JSON) to keep in the clinic's record")
    p.add_argument("--visit-date", type=_visit_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                   help="the visit's date in the FHIR record (default: today)")
    p.set_defaults(func=cmd_assess)
    p = sub.add_parser("vignettes", parents=[common], help="run vignette files")
    p.add_argument("dir", nargs="?")
    p.set_defaults(func=cmd_vignettes)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    except AssessmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
