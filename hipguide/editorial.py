"""Editorial writes: every change is validated first, written atomically, audited, and refused when
another editor saved the same file since it was opened (no update is ever lost).

A save goes: lock → version check → validate the whole knowledge base with the change overlaid →
write a temporary file beside the target, fsync, rename over it → append one audit entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .assessment import assess
from .knowledge import KnowledgeBase, load_knowledge, sha256_text
from .models import ID_PATTERN, Claim, Guidance, Source
from .yamlio import KnowledgeError, Problem, dump_yaml, load_yaml_text

AUDIT_LOG = "audit/log.jsonl"
MAX_SOURCE_CHARS = 500_000


class EditError(Exception):
    """A change that was refused. `problems` lists why; nothing was written."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = problems or []
        super().__init__(message)


class StaleVersionError(EditError):
    """Another editor saved this file after it was opened. Both versions are kept for the editor."""

    def __init__(self, path: str, theirs: str, yours: str):
        self.path, self.theirs, self.yours = path, theirs, yours
        super().__init__(f"{path} was changed by another editor after you opened it; your version was not saved")


@dataclass(frozen=True)
class SaveResult:
    path: str
    version_hash: str
    audit_entry: dict[str, Any]


def file_version(root: Path, rel: str) -> str:
    """The version token an editor holds: the sha256 of the file's bytes ('' when it does not exist)."""
    path = root / rel
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def safe_path(root: Path, rel: str) -> Path:
    """Resolve `rel` inside `root` or refuse: no `..`, no absolute paths, no links out."""
    if not rel or rel.startswith(("/", "\\")) or ".." in Path(rel).parts or "\x00" in rel:
        raise EditError(f"refused file name {rel!r}: it must stay inside the knowledge folder")
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise EditError(f"refused file name {rel!r}: it must stay inside the knowledge folder")
    return path


# Names Windows reserves for devices, whatever the extension: a knowledge folder checked out there
# could not hold sources/con.yaml.
_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


def check_new_id(value: str, what: str) -> str:
    if not ID_PATTERN.match(value or "") or len(value) > 60:
        raise EditError(f"{what} {value!r} is not allowed: use 1–60 characters a-z, 0-9 and _, starting with a letter")
    if value in _DEVICE_NAMES:
        raise EditError(f"{what} {value!r} is not allowed: it is a device name on Windows, so its file could not be checked out there")
    return value


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One writer at a time per knowledge folder (all server replicas on this host share it)."""
    lock_path = root / ".editor.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def append_audit(root: Path, entry: dict[str, Any]) -> None:
    path = root / AUDIT_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, sort_keys=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(root: Path) -> list[dict[str, Any]]:
    path = root / AUDIT_LOG
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            with contextlib.suppress(json.JSONDecodeError):
                entries.append(json.loads(line))
    return entries


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists as dotted paths, for a field-by-field diff."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, v in enumerate(value):
            key = v.get("claim") or v.get("id") if isinstance(v, dict) else None
            out.update(flatten(v, f"{prefix}[{key or i}]"))
        return out or {prefix: []}
    return {prefix: value}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    a, b = flatten(before or {}), flatten(after or {})
    return [{"field": k, "before": a.get(k), "after": b.get(k)} for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]


def guidance_document(g: Guidance) -> dict[str, Any]:
    """A guidance record as plain data in FORMAT.md's key order (empty optional lists left out)."""
    data = g.model_dump(mode="json")
    data["date"] = g.date  # written as a plain YAML date, as in the hand-written files
    for key in ("condition_overrides",):
        if not data.get(key):
            data.pop(key, None)
    return data


def _commit(root: Path, rel: str, text: str, base_version: str | None, entry: dict[str, Any],
            overlay: dict[str, str], companions: dict[str, tuple[str | None, dict[str, Any]]] | None = None,
            ) -> SaveResult:
    """Version check, full validation with the change overlaid, atomic write, audit — under the lock.

    `companions` maps an overlay file to (its base version, its own audit entry): a second document
    changed in the same step (a new claim's disposition in its topic's guidance) is version-checked
    and audited like the main one.
    """
    path = safe_path(root, rel)
    companions = companions or {}
    with _locked(root):
        current = file_version(root, rel)
        if base_version is not None and current != base_version:
            theirs = path.read_text(encoding="utf-8") if path.exists() else ""
            raise StaleVersionError(rel, theirs=theirs, yours=text)
        before_versions = {}
        for extra_rel, (extra_base, _) in companions.items():
            before_versions[extra_rel] = file_version(root, extra_rel)
            if extra_base is not None and before_versions[extra_rel] != extra_base:
                extra_path = safe_path(root, extra_rel)
                theirs = extra_path.read_text(encoding="utf-8") if extra_path.exists() else ""
                raise StaleVersionError(extra_rel, theirs=theirs, yours=overlay[extra_rel])
        try:
            load_knowledge(root, overlay={rel: text, **overlay})
        except KnowledgeError as exc:
            raise EditError("the change was refused: it does not validate", exc.problems) from None
        for extra_rel, extra_text in overlay.items():  # companion files (a new source's text) first
            atomic_write(safe_path(root, extra_rel), extra_text)
        atomic_write(path, text)
        new_version = file_version(root, rel)
        entry = {**entry, "file": rel, "version_before": current or None, "version_after": new_version}
        append_audit(root, entry)
        for extra_rel, (_, extra_entry) in companions.items():
            append_audit(root, {**extra_entry, "file": extra_rel, "version_before": before_versions[extra_rel] or None,
                                "version_after": file_version(root, extra_rel)})
    return SaveResult(rel, new_version, entry)


def field_problem(error: dict[str, Any]) -> str:
    """A pydantic error as "field.path: message", so an editor knows which field to fix."""
    where = ".".join(str(x) for x in error.get("loc", ()))
    msg = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def save_guidance(root: Path, topic: str, changes: dict[str, Any], editor: str, base_version: str | None,
                  note: str = "", today: dt.date | None = None) -> SaveResult:
    """Save an editor's decision for one topic. `changes` holds guidance fields (phases, rationale, …).

    The version number goes up by one and the date is today's; `base_version` is the file hash the
    editor opened (None only for a brand-new file). Raises EditError / StaleVersionError.
    """
    editor = (editor or "").strip()
    if not editor:
        raise EditError("an editor name is required for the audit trail")
    rel = f"guidance/{check_new_id(topic, 'topic')}.yaml"
    path = safe_path(root, rel)
    before = load_yaml_text(path.read_text(encoding="utf-8"), rel) if path.exists() else None
    data = {**(dict(before) if before else {"topic": topic, "version": 0}), **changes}
    data["topic"] = topic
    data["version"] = int((before or {}).get("version", 0)) + 1
    data["date"] = (today or dt.date.today()).isoformat()
    try:
        g = Guidance.model_validate(data)
    except ValueError as exc:
        raise EditError("the decision is not valid", [Problem(rel, 1, field_problem(e))
                                                      for e in getattr(exc, "errors", lambda: [])()]) from None
    after = guidance_document(g)
    before_plain = json.loads(json.dumps(before, default=str)) if before else None
    entry = {"at": _now(), "editor": editor, "action": "save_guidance", "topic": topic,
             "version": g.version, "status": g.status, "note": note.strip(),
             "changes": diff(before_plain, after), "before": before_plain, "after": after}
    return _commit(root, rel, dump_yaml(after), base_version, entry, {})


def add_source(root: Path, fields: dict[str, Any], text: str, editor: str) -> SaveResult:
    """Add a source: its verbatim text beside a metadata file, both checked before either is written."""
    editor = (editor or "").strip()
    if not editor:
        raise EditError("an editor name is required for the audit trail")
    source_id = check_new_id(str(fields.get("id", "")), "source id")
    if not text.strip():
        raise EditError("the source text is empty")
    if len(text) > MAX_SOURCE_CHARS:
        raise EditError(f"the source text is too long ({len(text):,} characters; limit {MAX_SOURCE_CHARS:,})")
    if "\x00" in text:
        raise EditError("the source text contains NUL characters")
    rel_yaml, rel_text = f"sources/{source_id}.yaml", f"sources/{source_id}.txt"
    if safe_path(root, rel_yaml).exists():
        raise EditError(f"a source with id {source_id!r} already exists")
    data = {
        "id": source_id, "title": fields.get("title"), "publisher": fields.get("publisher"),
        "author": fields.get("author") or None, "date": fields.get("date") or None,
        "kind": fields.get("kind"), "text": f"{source_id}.txt", "text_sha256": sha256_text(text),
        "duplicate_of": fields.get("duplicate_of") or None, "seed_file": None,
        "attribution": fields.get("attribution") or "Text reproduced verbatim for comparison; © the original publisher.",
        "flags": fields.get("flags") or [],
    }
    try:
        src = Source.model_validate(data)
    except ValueError as exc:
        raise EditError("the source is not valid", [Problem(rel_yaml, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                                                    for e in getattr(exc, "errors", lambda: [])()]) from None
    doc = src.model_dump(mode="json")
    entry = {"at": _now(), "editor": editor, "action": "add_source", "source": source_id,
             "changes": diff(None, doc), "before": None, "after": doc}
    return _commit(root, rel_yaml, dump_yaml(doc), "", entry, {rel_text: text})


def add_claim(root: Path, topic: str, claim: dict[str, Any], editor: str, base_version: str | None,
              disposition: dict[str, Any] | None = None, guidance_base_version: str | None = None,
              today: dt.date | None = None) -> SaveResult:
    """Tag a claim: the quote must be verbatim in its source (checked by the full validation).

    A claim that takes part in a conflict needs a disposition in the topic's guidance; pass it as
    `disposition` ({disposition, reason}) and it is written in the same step, as a new guidance
    version (`guidance_base_version`: the guidance file hash the editor saw).
    """
    editor = (editor or "").strip()
    if not editor:
        raise EditError("an editor name is required for the audit trail")
    rel = f"claims/{check_new_id(topic, 'topic')}.yaml"
    path = safe_path(root, rel)
    doc = load_yaml_text(path.read_text(encoding="utf-8"), rel) if path.exists() else {"topic": topic, "claims": []}
    doc = json.loads(json.dumps(doc, default=str))
    try:
        new = Claim.model_validate(claim)
    except ValueError as exc:
        raise EditError("the claim is not valid", [Problem(rel, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                                                   for e in getattr(exc, "errors", lambda: [])()]) from None
    new_doc = new.model_dump(mode="json", exclude_none=True)
    doc.setdefault("claims", []).append(new_doc)
    entry = {"at": _now(), "editor": editor, "action": "add_claim", "topic": topic, "claim": new.id,
             "changes": diff(None, new_doc), "before": None, "after": new_doc}
    overlay: dict[str, str] = {}
    companions: dict[str, tuple[str | None, dict[str, Any]]] = {}
    if disposition:
        g_rel = f"guidance/{topic}.yaml"
        g_path = safe_path(root, g_rel)
        if not g_path.exists():
            raise EditError(f"topic {topic!r} has no adopted guidance to record the disposition in")
        g_before = json.loads(json.dumps(load_yaml_text(g_path.read_text(encoding="utf-8"), g_rel), default=str))
        g_data = json.loads(json.dumps(g_before))
        g_data["dispositions"] = [d for d in g_data.get("dispositions") or [] if d.get("claim") != new.id]
        g_data["dispositions"].append({"claim": new.id, "disposition": disposition.get("disposition"),
                                       "reason": (disposition.get("reason") or "").strip()})
        g_data["version"] = int(g_data.get("version", 0)) + 1
        g_data["date"] = (today or dt.date.today()).isoformat()
        try:
            g = Guidance.model_validate(g_data)
        except ValueError as exc:
            raise EditError("the disposition is not valid", [Problem(g_rel, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                                                             for e in getattr(exc, "errors", lambda: [])()]) from None
        g_after = guidance_document(g)
        overlay[g_rel] = dump_yaml(g_after)
        companions[g_rel] = (guidance_base_version, {
            "at": entry["at"], "editor": editor, "action": "save_guidance", "topic": topic, "version": g.version,
            "status": g.status, "note": f"disposition for new claim {new.id}", "changes": diff(g_before, g_after),
            "before": g_before, "after": g_after})
    return _commit(root, rel, dump_yaml(doc), base_version, entry, overlay, companions)


def confirm_source_text(root: Path, source_id: str, editor: str, base_version: str | None) -> SaveResult:
    """After re-checking a changed source's claims, record its current text hash (clears "needs review")."""
    editor = (editor or "").strip()
    if not editor:
        raise EditError("an editor name is required for the audit trail")
    rel = f"sources/{check_new_id(source_id, 'source id')}.yaml"
    path = safe_path(root, rel)
    doc = load_yaml_text(path.read_text(encoding="utf-8"), rel)
    doc = json.loads(json.dumps(doc, default=str))
    text = (path.parent / doc["text"]).read_text(encoding="utf-8")
    before_hash, doc["text_sha256"] = doc["text_sha256"], sha256_text(text)
    entry = {"at": _now(), "editor": editor, "action": "confirm_source_text", "source": source_id,
             "changes": [{"field": "text_sha256", "before": before_hash, "after": doc["text_sha256"]}],
             "before": None, "after": None}
    return _commit(root, rel, dump_yaml(doc), base_version, entry, {})


def guidance_history(root: Path, topic: str) -> list[dict[str, Any]]:
    """Every audited version of a topic's guidance, oldest first: {version, at, editor, note, document}."""
    out = []
    for entry in read_audit(root):
        if entry.get("action") == "save_guidance" and entry.get("topic") == topic:
            if not out and entry.get("before"):
                before = entry["before"]
                out.append({"version": before.get("version"), "at": None, "editor": "(shipped)", "note": "",
                            "document": before})
            out.append({"version": entry.get("version"), "at": entry.get("at"), "editor": entry.get("editor"),
                        "note": entry.get("note", ""), "document": entry.get("after")})
    return out


@dataclass(frozen=True)
class ImpactRow:
    vignette: str
    title: str
    stance_before: str | None
    stance_after: str | None
    advice_before: str | None
    advice_after: str | None


def impact_preview(kb: KnowledgeBase, topic: str, proposed: Guidance) -> list[ImpactRow]:
    """Which shipped vignettes' plans change for this topic if the proposed guidance is adopted."""
    changed_kb = replace(kb, guidance={**kb.guidance, topic: proposed})
    rows = []
    for name, vignette in kb.vignettes.items():
        old = {i.topic: i for i in assess(kb, vignette).plan}.get(topic)
        new = {i.topic: i for i in assess(changed_kb, vignette).plan}.get(topic)
        old_key = (old.stance, old.advice) if old else None
        new_key = (new.stance, new.advice) if new else None
        if old_key != new_key:
            rows.append(ImpactRow(name, vignette.title, old.stance if old else None, new.stance if new else None,
                                  old.advice if old else None, new.advice if new else None))
    return rows


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit].strip("_")
    return slug if slug and slug[0].isalpha() else f"s_{slug}" if slug else ""
