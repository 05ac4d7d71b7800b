"""Editorial writes: every change is validated first, saved as one git commit by the signed-in editor,
and refused when another editor saved the same file since the editor's form was built (no update is ever lost).

A save goes, under the clone's lock: finish any interrupted save → fetch the central repository →
version check (the commit the form was built from against the file's last commit now) → build the
new files from what git holds → validate the whole knowledge base with them overlaid → write, commit
and push them together (`gitstore`). History, diffs and blame are read back from git.

Four eyes: a change to a decision is always saved as a draft; it becomes `approved` only when an
approver other than the author of its last version approves it unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from git import GitCommandError

from .assessment import assess
from .gitstore import BlameLine, Editor, KnowledgeRepo, PushRefused, Save, StoreError, message
from .knowledge import KnowledgeBase, load_knowledge, sha256_text
from .models import ID_PATTERN, Claim, Guidance, Source
from .yamlio import KnowledgeError, Problem, dump_yaml, load_yaml_text

MAX_SOURCE_CHARS = 500_000
PUSH_ATTEMPTS = 3  # a refused push is retried after fetching, as long as the editor's files are untouched
# Fields an approval may not change: everything but the status, the approver, the version number and the date.
APPROVAL_FIELDS = frozenset({"status", "approver", "version", "date"})


class EditError(Exception):
    """A change that was refused. `problems` lists why; nothing was written."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = problems or []
        super().__init__(message)


class StaleVersionError(EditError):
    """Another editor saved this file after the form was built. Both versions are kept for the editor."""

    def __init__(self, path: str, theirs: str, yours: str, version: str = ""):
        self.path, self.theirs, self.yours, self.version = path, theirs, yours, version
        super().__init__(f"{path} was changed by another editor after you opened it; your version was not saved")


@dataclass(frozen=True)
class SaveResult:
    path: str
    commit: str
    files: list[str]
    action: str
    topic: str | None = None
    number: int | None = None  # the guidance version number, for a guidance save
    status: str | None = None


def as_editor(editor: Editor | str) -> Editor:
    if isinstance(editor, Editor):
        return editor if editor.id.strip() else Editor("")
    return Editor((editor or "").strip(), (editor or "").strip())


def file_version(root: Path, rel: str) -> str:
    """The version token an editor holds: the id of the commit that last changed the file ('' when git has none)."""
    return KnowledgeRepo.of(root).version(rel)


def snapshot(root: Path, rel: str) -> tuple[str, str | None]:
    """(version, text) of a file from one commit: what a form is built from, and the version it checks against."""
    return KnowledgeRepo.of(root).snapshot(rel)


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


def field_problem(error: dict[str, Any]) -> str:
    """A pydantic error as "field.path: message", so an editor knows which field to fix."""
    where = ".".join(str(x) for x in error.get("loc", ()))
    msg = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _read(root: Path, rel: str) -> Any:
    path = safe_path(root, rel)
    return _plain(load_yaml_text(path.read_text(encoding="utf-8"), rel)) if path.exists() else None


def _save(root: Path, editor: Editor, bases: dict[str, str | None],
          build: Callable[[], tuple[dict[str, str], str, SaveResult]]) -> SaveResult:
    """The one path every editorial write takes (see the module's docstring). `build` runs under the lock,
    after the version check, and returns (files, commit message, result)."""
    if not editor.id.strip():
        raise EditError("a signed-in editor is required: every save is recorded under their name")
    for rel in bases:
        safe_path(root, rel)
    try:
        store = KnowledgeRepo.of(root)
        with store.locked():
            store.recover()
            for _attempt in range(PUSH_ATTEMPTS):
                store.sync(force=True, held=True)
                dirty = store.uncommitted(list(bases))
                if dirty:
                    raise EditError(f"{', '.join(dirty)} has changes that are not committed to git; commit or discard "
                                    "them first, so a save cannot sweep them up")
                for rel, base in bases.items():
                    current = store.version(rel)
                    if base is not None and not store.saw(base, current):
                        raise StaleVersionError(rel, theirs=store.show(rel) or "", yours="", version=current)
                files, text, result = build()
                for rel in files:
                    safe_path(root, rel)
                try:
                    load_knowledge(root, overlay=files)
                except KnowledgeError as exc:
                    raise EditError("the change was refused: it does not validate", exc.problems) from None
                try:
                    commit = store.commit_files(files, editor, text)
                except PushRefused:
                    continue  # someone pushed first: fetch theirs and check the versions again
                return replace(result, commit=commit, files=list(files))
            raise EditError("the central knowledge repository kept refusing the save (others saving at the same "
                            "moment); nothing was saved, try again")
    except (StoreError, OSError, GitCommandError) as exc:  # the last saved version is untouched (see gitstore)
        detail = _git_detail(exc) if isinstance(exc, GitCommandError) else str(exc)
        raise EditError(f"not saved: {detail}") from None


def _git_detail(exc: GitCommandError) -> str:
    lines = [ln.strip() for ln in str(exc.stderr or exc).splitlines() if ln.strip() and "stderr:" not in ln]
    return lines[0] if lines else "git refused the commit"


def _stale_with_yours(exc: StaleVersionError, yours: str) -> StaleVersionError:
    return StaleVersionError(exc.path, exc.theirs, yours, exc.version)


def _today(today: dt.date | None) -> str:
    return (today or dt.date.today()).isoformat()


def _approval_check(store: KnowledgeRepo, rel: str, editor: Editor, before: dict[str, Any] | None,
                    after: dict[str, Any]) -> str:
    """Four eyes: returns the author of the version being approved, or refuses."""
    if not editor.can_approve:
        raise EditError(f"{editor.id} is not on the approvers list: save the decision as a draft for an approver to approve")
    if before is None:
        raise EditError("a new decision is saved as a draft first; another approver then approves it")
    changed = [r["field"] for r in diff(before, after) if r["field"].split(".")[0].split("[")[0] not in APPROVAL_FIELDS]
    if changed:
        raise EditError("approval needs a second person: a change to the decision ("
                        + ", ".join(changed[:5]) + ") is saved as a draft first, then another approver approves it unchanged")
    if before.get("status") == "approved":
        raise EditError("this version is already approved")
    last = store.history([rel], limit=1)
    author = last[0].author if last else ""
    if author and author in {editor.id, editor.email, editor.display}:
        raise EditError(f"four eyes: you ({editor.id}) wrote the last version of this decision, so another approver must approve it")
    return author


def save_guidance(root: Path, topic: str, changes: dict[str, Any], editor: Editor | str, base_version: str | None,
                  note: str = "", today: dt.date | None = None) -> SaveResult:
    """Save an editor's decision for one topic. `changes` holds guidance fields (phases, rationale, …).

    The version number goes up by one and the date is today's; `base_version` is the commit the editor's
    form was built from (None only for a brand-new file). A change is saved as a draft; `status:
    approved` in `changes` is an approval (see `_approval_check`). Raises EditError / StaleVersionError.
    """
    who = as_editor(editor)
    rel = f"guidance/{check_new_id(topic, 'topic')}.yaml"
    store_box: dict[str, Any] = {}

    def build() -> tuple[dict[str, str], str, SaveResult]:
        before = _read(root, rel)
        data = {**(dict(before) if before else {"topic": topic, "version": 0}), **_plain(changes)}
        data["topic"] = topic
        data["version"] = int((before or {}).get("version", 0)) + 1
        data["date"] = _today(today)
        drafted_by = None
        if changes.get("status") == "approved":  # asked for explicitly: an approval, never inherited
            drafted_by = _approval_check(KnowledgeRepo.of(root), rel, who, before, _plain(data))
            data["approver"] = who.id
        else:
            data["status"], data["approver"] = "draft", None
        try:
            g = Guidance.model_validate(data)
        except ValueError as exc:
            raise EditError("the decision is not valid", [Problem(rel, 1, field_problem(e))
                                                          for e in getattr(exc, "errors", lambda: [])()]) from None
        text = dump_yaml(guidance_document(g))
        store_box["text"] = text
        action = "approve_guidance" if g.status == "approved" else "save_guidance"
        summary = (f"Approve {topic} guidance version {g.version}" if g.status == "approved"
                   else f"Save {topic} guidance version {g.version} (draft)")
        msg = message(note, summary, {"Action": action, "Topic": topic, "Version": str(g.version), "Status": g.status,
                                      "Drafted-By": drafted_by})
        return {rel: text}, msg, SaveResult(rel, "", [], action, topic, g.version, g.status)

    try:
        return _save(root, who, {rel: base_version}, build)
    except StaleVersionError as exc:
        yours = store_box.get("text") or _yours_guidance(root, topic, changes, today)
        raise _stale_with_yours(exc, yours) from None


def _yours_guidance(root: Path, topic: str, changes: dict[str, Any], today: dt.date | None) -> str:
    """The editor's version as it would have been written (for the side-by-side view of a refused save)."""
    rel = f"guidance/{topic}.yaml"
    theirs = _read(root, rel) or {"topic": topic, "version": 0}
    data = {**theirs, **_plain(changes), "topic": topic, "date": _today(today)}
    try:
        return dump_yaml(guidance_document(Guidance.model_validate(data)))
    except ValueError:
        return dump_yaml(data)


def approve_guidance(root: Path, topic: str, approver: Editor, base_version: str, note: str = "",
                     today: dt.date | None = None) -> SaveResult:
    """Approve the topic's decision exactly as it stands at `base_version` (four eyes: not by its last author)."""
    return save_guidance(root, topic, {"status": "approved"}, approver, base_version, note=note, today=today)


def add_source(root: Path, fields: dict[str, Any], text: str, editor: Editor | str, note: str = "") -> SaveResult:
    """Add a source: its verbatim text beside a metadata file, both checked and committed together."""
    who = as_editor(editor)
    source_id = check_new_id(str(fields.get("id", "")), "source id")
    if not text.strip():
        raise EditError("the source text is empty")
    if len(text) > MAX_SOURCE_CHARS:
        raise EditError(f"the source text is too long ({len(text):,} characters; limit {MAX_SOURCE_CHARS:,})")
    if "\x00" in text:
        raise EditError("the source text contains NUL characters")
    rel_yaml, rel_text = f"sources/{source_id}.yaml", f"sources/{source_id}.txt"
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

    def build() -> tuple[dict[str, str], str, SaveResult]:
        if safe_path(root, rel_yaml).exists() or safe_path(root, rel_text).exists():
            raise EditError(f"a source with id {source_id!r} already exists")
        msg = message(note, f"Add source {source_id}", {"Action": "add_source", "Source": source_id})
        return {rel_yaml: dump_yaml(doc), rel_text: text}, msg, SaveResult(rel_yaml, "", [], "add_source")

    return _save(root, who, {rel_yaml: None, rel_text: None}, build)  # new files: "already exists" is the check


def add_claim(root: Path, topic: str, claim: dict[str, Any], editor: Editor | str, base_version: str | None,
              disposition: dict[str, Any] | None = None, guidance_base_version: str | None = None,
              today: dt.date | None = None, note: str = "") -> SaveResult:
    """Tag a claim: the quote must be verbatim in its source (checked by the full validation).

    A claim that takes part in a conflict needs a disposition in the topic's guidance; pass it as
    `disposition` ({disposition, reason}) and it is committed with the claim, as a new draft version
    of the guidance (`guidance_base_version`: the commit the editor's view of the guidance came from).
    """
    who = as_editor(editor)
    rel = f"claims/{check_new_id(topic, 'topic')}.yaml"
    try:
        new = Claim.model_validate(claim)
    except ValueError as exc:
        raise EditError("the claim is not valid", [Problem(rel, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                                                   for e in getattr(exc, "errors", lambda: [])()]) from None
    new_doc = new.model_dump(mode="json", exclude_none=True)
    g_rel = f"guidance/{topic}.yaml"
    bases = {rel: base_version, **({g_rel: guidance_base_version} if disposition else {})}
    yours: dict[str, str] = {}

    def build() -> tuple[dict[str, str], str, SaveResult]:
        doc = _read(root, rel) or {"topic": topic, "claims": []}
        doc.setdefault("claims", []).append(new_doc)
        files = {rel: dump_yaml(doc)}
        trailers: dict[str, str | None] = {"Action": "add_claim", "Topic": topic, "Claim": new.id}
        if disposition:
            g_data = _read(root, g_rel)
            if g_data is None:
                raise EditError(f"topic {topic!r} has no adopted guidance to record the disposition in")
            g_data["dispositions"] = [d for d in g_data.get("dispositions") or [] if d.get("claim") != new.id]
            g_data["dispositions"].append({"claim": new.id, "disposition": disposition.get("disposition"),
                                           "reason": (disposition.get("reason") or "").strip()})
            g_data["version"] = int(g_data.get("version", 0)) + 1
            g_data["date"] = _today(today)
            g_data["status"], g_data["approver"] = "draft", None  # a changed decision needs approving again
            try:
                g = Guidance.model_validate(g_data)
            except ValueError as exc:
                raise EditError("the disposition is not valid", [Problem(g_rel, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                                                                 for e in getattr(exc, "errors", lambda: [])()]) from None
            files[g_rel] = dump_yaml(guidance_document(g))
            trailers.update({"Version": str(g.version), "Status": g.status})
        yours.update(files)
        msg = message(note, f"Add claim {new.id} to {topic}", trailers)
        return files, msg, SaveResult(rel, "", [], "add_claim", topic)

    try:
        return _save(root, who, bases, build)
    except StaleVersionError as exc:
        raise _stale_with_yours(exc, yours.get(exc.path, dump_yaml(new_doc))) from None


def confirm_source_text(root: Path, source_id: str, editor: Editor | str, base_version: str | None,
                        note: str = "") -> SaveResult:
    """After re-checking a changed source's claims, record its current text hash (clears "needs review")."""
    who = as_editor(editor)
    rel = f"sources/{check_new_id(source_id, 'source id')}.yaml"

    def build() -> tuple[dict[str, str], str, SaveResult]:
        doc = _read(root, rel)
        if doc is None:
            raise EditError(f"there is no source {source_id!r}")
        text = safe_path(root, f"sources/{doc['text']}").read_text(encoding="utf-8")
        doc["text_sha256"] = sha256_text(text)
        msg = message(note, f"Confirm the re-checked text of source {source_id}",
                      {"Action": "confirm_source_text", "Source": source_id})
        return {rel: dump_yaml(doc)}, msg, SaveResult(rel, "", [], "confirm_source_text")

    return _save(root, who, {rel: base_version}, build)


# --- reading the history back from git ------------------------------------------------------------

def topic_files(topic: str) -> list[str]:
    return [f"guidance/{topic}.yaml", f"claims/{topic}.yaml"]


def history(root: Path, topic: str | None = None, limit: int = 300) -> list[Save]:
    """Every save (commit) that touched the knowledge, or one topic's guidance and claims, newest first."""
    try:
        store = KnowledgeRepo.of(root)
    except StoreError:
        return []
    return store.history(topic_files(topic) if topic else None, limit=limit)


def guidance_versions(root: Path, topic: str, limit: int = 60) -> list[dict[str, Any]]:
    """The versions of a topic's guidance in git, oldest first: {version (commit), number, at, editor, note, status, drafted_by, document}."""
    try:
        store = KnowledgeRepo.of(root)
    except StoreError:
        return []
    rel = f"guidance/{topic}.yaml"
    out = []
    for save in reversed(store.history([rel], limit=limit)):
        text = store.show(rel, save.id)
        document = _document(text, rel) if text is not None else None
        out.append({"version": save.id, "number": (document or {}).get("version"), "at": save.date, "editor": save.author,
                    "note": save.note, "status": (document or {}).get("status"), "approver": (document or {}).get("approver"),
                    "drafted_by": save.trailers.get("Drafted-By"), "document": document})
    return out


def _document(text: str, rel: str) -> dict[str, Any] | None:
    try:
        data = load_yaml_text(text, rel)
    except KnowledgeError:
        return None
    return _plain(data) if isinstance(data, dict) else None


def version_diff(root: Path, rel: str, old: str, new: str) -> str:
    """The unified diff of one file between two versions (commit ids)."""
    return KnowledgeRepo.of(root).diff(rel, old, new)


def blame(root: Path, rel: str) -> list[BlameLine]:
    """Who wrote each line of a knowledge file, in which save."""
    safe_path(root, rel)
    return KnowledgeRepo.of(root).blame(rel)


def recover_interrupted_save(root: Path) -> bool:
    """Finish or undo a save a crash interrupted; cheap when there is none (one file check)."""
    try:
        store = KnowledgeRepo.of(root)
    except StoreError:
        return False
    if not store.interrupted():
        return False
    with store.locked(blocking=False) as got:  # held: a save is running now, and it clears its own journal
        return store.recover() if got else False


def sync_knowledge(root: Path) -> bool:
    """Pick up other replicas' saves (a fetch at most every few seconds; see gitstore.sync_interval)."""
    if not KnowledgeRepo.exists_for(root):
        return False
    try:
        store = KnowledgeRepo.of(root)
        recover_interrupted_save(root)
        return store.sync()
    except StoreError:
        return False


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
