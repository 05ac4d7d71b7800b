"""The editorial store: the git repository that holds the knowledge folder.

Every editorial write is one git commit, with the signed-in editor as its author and the editor's
note as its message, so history, diffs between any two versions and "who wrote this line" are
git's own. In development the repository is the project's; in production it is a knowledge
repository cloned on each replica from one central (bare) repository.

GitPython drives the real `git` binary: commits, fetches and pushes behave exactly as they do on the
command line (hooks, credential helpers, SSH configuration), and git itself makes a commit atomic.

A save runs under a lock file in the repository's git directory:
  recover an interrupted save → fetch and fast-forward → (the caller checks versions and validates)
  → note the save in a journal → write the files → commit only those files → push → clear the journal.
An exception on the way undoes the files and the commit; a hard crash leaves the journal, and the
next save (or the next rerun of a page) finishes or undoes it. A push refused because another
replica pushed first undoes the local commit, fetches theirs and raises `PushRefused`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import git
from git.refs.symbolic import SymbolicReference

REMOTE_ENV = "HIPGUIDE_KNOWLEDGE_REMOTE"  # the git remote of the central repository; unset on a single machine
SYNC_ENV = "HIPGUIDE_SYNC_SECONDS"
DEFAULT_SYNC_SECONDS = 15.0  # a replica fetches the central repository at most this often
JOURNAL = "hipguide-save-in-progress.json"
LOCK = "hipguide-editor.lock"
COMMITTER = ("HipGuide editor", "hipguide-editor@localhost")  # the app commits; the editor is the author
TRAILER = re.compile(r"^HipGuide-([A-Za-z-]+): ?(.*)$")
_RECORD, _FIELD = "\x1e", "\x1f"


class StoreError(Exception):
    """The git repository could not do what was asked; nothing was saved."""


class PushRefused(StoreError):
    """The central repository refused the push because someone pushed first; the local commit was undone."""


@dataclass(frozen=True)
class Editor:
    """A signed-in editor: `id` is the identity from sign-in (an e-mail address from OIDC, or an allow-listed name)."""

    id: str
    name: str = ""
    can_approve: bool = False

    @property
    def display(self) -> str:
        return self.name or self.id

    @property
    def email(self) -> str:
        if "@" in self.id:
            return self.id
        return re.sub(r"[^a-z0-9._-]+", ".", self.id.lower()).strip(".") + "@editors.invalid"


@dataclass(frozen=True)
class Save:
    """One commit that touched the knowledge: an editorial save, or a change made directly in git."""

    id: str
    author: str
    author_name: str
    date: str
    note: str
    files: list[str]
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str | None:
        if self.trailers.get("Topic"):
            return self.trailers["Topic"]
        topics = {f.split("/", 1)[1].removesuffix(".yaml") for f in self.files if f.startswith(("guidance/", "claims/"))}
        return topics.pop() if len(topics) == 1 else None

    def to_dict(self) -> dict:
        return {"id": self.id, "author": self.author, "author_name": self.author_name, "date": self.date,
                "note": self.note, "files": self.files, "topic": self.topic,
                "action": self.trailers.get("Action"), "status": self.trailers.get("Status"),
                "drafted_by": self.trailers.get("Drafted-By")}


@dataclass(frozen=True)
class BlameLine:
    line: int
    text: str
    commit: str
    author: str
    date: str
    note: str


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it: each file all or nothing."""
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


def sync_interval() -> float:
    try:
        return max(0.0, float(os.environ.get(SYNC_ENV, DEFAULT_SYNC_SECONDS)))
    except ValueError:
        return DEFAULT_SYNC_SECONDS


# Per process, keyed by repository: when it last fetched. Repository state only, never patient data.
_last_fetch: dict[str, float] = {}
_fetching = threading.Lock()
_stores: dict[str, KnowledgeRepo] = {}
_not_repos: set[str] = set()
_stores_lock = threading.Lock()


NO_COMMIT = "the knowledge repository has no commit yet: commit the knowledge folder first"


class KnowledgeRepo:
    """The git repository holding one knowledge folder; paths in and out are relative to that folder."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        try:
            self.repo = git.Repo(self.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise StoreError(f"the knowledge folder {self.root.name}/ is not in a git repository, so saves cannot be "
                             "recorded: make it one (git init, then commit the folder) or clone the knowledge repository") from None
        top = Path(self.repo.working_tree_dir or self.root).resolve()
        prefix = self.root.relative_to(top).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"
        self.git_dir = Path(self.repo.git_dir)

    @classmethod
    def of(cls, root: Path | str) -> KnowledgeRepo:
        key = str(Path(root).resolve())
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                store = _stores[key] = cls(root)
            return store

    @classmethod
    def exists_for(cls, root: Path | str) -> bool:
        """Whether `root` is in a git repository (remembered either way: a page rerun asks every time)."""
        key = str(Path(root).resolve())
        if key in _stores:
            return True
        if key in _not_repos:
            return False
        try:
            cls.of(root)
        except StoreError:
            _not_repos.add(key)
            return False
        return True

    @classmethod
    def forget(cls, root: Path | str) -> None:
        with _stores_lock:
            _stores.pop(str(Path(root).resolve()), None)

    # --- reading -----------------------------------------------------------------------------------

    def path(self, rel: str) -> str:
        return self.prefix + rel

    def head(self) -> str:
        try:
            return self.repo.git.rev_parse("--verify", "HEAD")
        except git.GitCommandError:
            raise StoreError(NO_COMMIT) from None

    def require_commit(self) -> str:
        """The current commit id; StoreError when there is none to save on top of (read from git's files, no process)."""
        head = self.head_id()
        if not head:
            raise StoreError(NO_COMMIT)
        return head

    def head_id(self) -> str:
        """The current commit id read from git's files (no process started): a cheap cache key for history views."""
        try:
            return SymbolicReference.dereference_recursive(self.repo, "HEAD")
        except (ValueError, OSError):
            return ""

    def version(self, rel: str, rev: str = "HEAD") -> str:
        """The id of the last commit that changed `rel` ('' when git has never held it)."""
        try:
            return self.repo.git.log("-1", "--format=%H", rev, "--", self.path(rel))
        except git.GitCommandError:
            return ""

    def show(self, rel: str, rev: str = "HEAD") -> str | None:
        """The text of `rel` at `rev` (None when it did not exist there)."""
        try:
            return self.repo.git.show(f"{rev}:{self.path(rel)}", strip_newline_in_stdout=False)
        except git.GitCommandError:
            return None

    def saw(self, base: str, current: str) -> bool:
        """Whether an editor who started from commit `base` has seen the change `current` (same or an ancestor)."""
        if not current or current == base:
            return True
        if not base:
            return False
        try:
            self.repo.git.merge_base("--is-ancestor", current, base)
        except git.GitCommandError as exc:
            if exc.status == 1:
                return False
            raise StoreError(f"unknown version {base!r}: use an id that `history` reports") from None
        return True

    def snapshot(self, rel: str) -> tuple[str, str | None]:
        """(version, text) of `rel` from one commit, so a form and its version token always agree."""
        head = self.head()
        return self.version(rel, head), self.show(rel, head)

    def history(self, rels: list[str] | None = None, limit: int = 300) -> list[Save]:
        """Commits that touched the given files (or the whole knowledge folder), newest first."""
        paths = [self.path(r) for r in rels] if rels else [self.prefix or "."]
        fmt = _RECORD + _FIELD.join(["%H", "%an", "%ae", "%aI", "%B"]) + _FIELD
        try:
            out = self.repo.git.log(f"--max-count={limit}", "--name-only", f"--format={fmt}", "HEAD", "--", *paths)
        except git.GitCommandError:
            return []
        saves = []
        for record in out.split(_RECORD)[1:]:
            sha, name, email, date, body, names = record.split(_FIELD)
            note_lines, trailers = [], {}
            for line in body.strip().splitlines():
                found = TRAILER.match(line)
                if found:
                    trailers[found.group(1)] = found.group(2).strip()
                else:
                    note_lines.append(line)
            files = [n.removeprefix(self.prefix) for n in names.split("\n") if n.strip() and n.startswith(self.prefix)]
            saves.append(Save(sha, email if not email.endswith("@editors.invalid") else name, name, date,
                              "\n".join(note_lines).strip(), files, trailers))
        return saves

    def diff(self, rel: str, old: str, new: str) -> str:
        """The unified diff of `rel` between two versions."""
        return self.repo.git.diff(old, new, "--", self.path(rel))

    def blame(self, rel: str) -> list[BlameLine]:
        """Who wrote each line of `rel` as it is now, and in which save."""
        out, n = [], 1
        for commit, lines in self.repo.blame("HEAD", self.path(rel)) or []:
            when = dt.datetime.fromtimestamp(commit.authored_date, dt.UTC).replace(microsecond=0).isoformat()
            author = commit.author.email if not str(commit.author.email).endswith("@editors.invalid") else commit.author.name
            for line in lines:
                text = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
                out.append(BlameLine(n, text, commit.hexsha, str(author), when, commit.summary if isinstance(commit.summary, str) else ""))
                n += 1
        return out

    def uncommitted(self, rels: list[str]) -> list[str]:
        """Which of `rels` have changes in the folder that git does not hold (edits a save must not sweep up)."""
        out = self.repo.git.status("--porcelain", "--untracked-files=all", "--", *[self.path(r) for r in rels])
        return [line[3:].removeprefix(self.prefix) for line in out.splitlines() if line.strip()]

    # --- the central repository ---------------------------------------------------------------------

    def tracking(self) -> tuple[str, str] | None:
        """(remote, branch) of the central repository this clone follows, or None on a single machine.

        Opt-in (HIPGUIDE_KNOWLEDGE_REMOTE names the remote), so a developer's checkout of the project is
        never fetched into or pushed from by a running app.
        """
        remote = os.environ.get(REMOTE_ENV, "").strip()
        if not remote:
            return None
        try:
            return remote, self.repo.active_branch.name
        except TypeError:
            raise StoreError("the knowledge clone is not on a branch (detached HEAD): check out the branch it follows") from None

    def sync(self, force: bool = False, held: bool = False) -> bool:
        """Fetch the central repository (at most every `sync_interval()` seconds unless forced) and fast-forward.

        Returns whether the knowledge folder changed. A page rerun that finds another thread fetching, or
        a save in progress, does not wait: it picks the change up on a later rerun. `held`: the caller
        already holds `locked()` (a save).
        """
        tracking = self.tracking()
        if tracking is None:
            return False
        remote, branch = tracking
        key = str(self.git_dir)
        now = time.monotonic()
        if not force and now - _last_fetch.get(key, -1e9) < sync_interval():
            return False
        if not _fetching.acquire(blocking=force):
            return False
        try:
            _last_fetch[key] = now
            try:
                self.repo.git.fetch("--quiet", remote, branch)
            except git.GitCommandError as exc:
                if force:
                    raise StoreError(f"the central knowledge repository cannot be reached: {_first_line(exc)}") from None
                return False
            if self.repo.git.rev_list("--count", "HEAD..FETCH_HEAD") == "0":
                return False
            if held:
                self._fast_forward("FETCH_HEAD")
                return True
            with self.locked(blocking=False) as got:
                if not got:
                    return False
                self._fast_forward("FETCH_HEAD")
            return True
        finally:
            _fetching.release()

    def _fast_forward(self, target: str) -> None:
        try:
            self.repo.git.merge("--ff-only", "--quiet", target)
        except git.GitCommandError as exc:
            raise StoreError(f"this replica's knowledge cannot follow the central repository: {_first_line(exc)}") from None

    # --- writing ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, blocking: bool = True) -> Iterator[bool]:
        """One writer at a time per clone (every thread and process working on this clone)."""
        with open(self.git_dir / LOCK, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def commit_files(self, files: dict[str, str], editor: Editor, message: str) -> str:
        """Write `files`, commit exactly them as one commit by `editor`, push: all or nothing. Returns the commit id.

        Call under `locked()`. Raises PushRefused (nothing kept locally) or StoreError.
        """
        old = self.head()
        rels = list(files)
        journal = self.git_dir / JOURNAL
        atomic_write(journal, json.dumps({"old": old, "files": rels}))
        try:
            for rel, text in files.items():
                write_knowledge_file(self.root / rel, text)
            paths = [self.path(r) for r in rels]
            self.repo.git.add("--", *paths)
            env = {"GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1],
                   "GIT_AUTHOR_NAME": editor.display, "GIT_AUTHOR_EMAIL": editor.email}
            # Per call, not on the shared Git object: other threads keep reading history meanwhile.
            self.repo.git.commit("--only", "--quiet", "--allow-empty-message", "-m", message, "--", *paths, env=env)
            new = self.head()
            self._push(old)
        except BaseException:
            self._undo(old, rels)
            journal.unlink(missing_ok=True)
            raise
        journal.unlink(missing_ok=True)
        return new

    def _push(self, old: str) -> None:
        tracking = self.tracking()
        if tracking is None:
            return
        remote, branch = tracking
        try:
            self.repo.git.push("--quiet", remote, f"HEAD:refs/heads/{branch}")
        except git.GitCommandError as exc:
            text = f"{exc.stderr or ''}{exc.stdout or ''}"
            if any(word in text for word in ("rejected", "non-fast-forward", "fetch first", "stale info")):
                raise PushRefused("another editor's save reached the central repository first") from None
            raise StoreError(f"the central knowledge repository did not take the save: {_first_line(exc)}") from None

    def _undo(self, old: str, rels: list[str]) -> None:
        """Put the branch, the index and the files of `rels` back as they were at `old`."""
        if self.head() != old:
            self.repo.git.reset("--soft", old)
        for rel in rels:
            text = self.show(rel, old)
            target = self.root / rel
            if text is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, text)
        with contextlib.suppress(git.GitCommandError):
            self.repo.git.reset("--quiet", old, "--", *[self.path(r) for r in rels])

    def recover(self) -> bool:
        """Finish or undo a save a crash interrupted (call under `locked()`). Returns whether there was one.

        Not committed yet: the files go back to the last commit. Committed but perhaps not pushed: it is
        pushed now, or undone if the central repository has moved on (the editor never saw it saved).
        """
        journal = self.git_dir / JOURNAL
        if not journal.exists():
            return False
        try:
            data = json.loads(journal.read_text(encoding="utf-8"))
            old, rels = str(data["old"]), [str(r) for r in data["files"]]
        except (ValueError, KeyError, TypeError):
            journal.unlink(missing_ok=True)
            return False
        if self.head() == old:
            self._undo(old, rels)
        else:
            try:
                self._push(old)
            except StoreError:
                self._undo(old, rels)
        journal.unlink(missing_ok=True)
        return True

    def interrupted(self) -> bool:
        return (self.git_dir / JOURNAL).exists()


def write_knowledge_file(path: Path, text: str) -> None:
    """One file of a save (a seam where tests simulate a crash between two files)."""
    atomic_write(path, text)


def message(note: str, summary: str, trailers: dict[str, str | None]) -> str:
    """A commit message: the editor's note (or a summary when they gave none), then HipGuide's trailers."""
    # A note cannot forge a trailer: lines that look like one are dropped from it.
    first = "\n".join(ln for ln in (note or "").strip().splitlines() if not TRAILER.match(ln.strip())).strip() or summary
    lines = [f"HipGuide-{k}: {' '.join(str(v).split())}" for k, v in trailers.items() if v]
    return f"{first}\n\n" + "\n".join(lines) + "\n"


def _first_line(exc: git.GitCommandError) -> str:
    text = str(exc.stderr or exc.stdout or exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("stderr:")]
    return (lines[0] if lines else text)[:300]
