"""Watch for anything written to disk while a block runs (Python audit events), for the privacy tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
FILE_EVENTS = ("os.rename", "os.replace", "os.remove", "os.unlink", "os.mkdir", "os.truncate", "shutil.copyfile",
               "shutil.move", "tempfile.mkstemp", "tempfile.mkdtemp")
_watchers: list[list[str]] = []


def _hook(event: str, args: tuple) -> None:
    if not _watchers:
        return
    opened_for_writing = event == "open" and (
        (isinstance(args[1], str) and any(m in args[1] for m in "wax+"))
        or (isinstance(args[2], int) and bool(args[2] & WRITE_FLAGS)))
    if opened_for_writing or event in FILE_EVENTS:
        for writes in _watchers:
            writes.append(f"{event} {args[0]}")


sys.addaudithook(_hook)  # once per test process; it does nothing unless a block is being watched


@contextmanager
def disk_writes() -> Iterator[list[str]]:
    """`with disk_writes() as writes:` — afterwards `writes` lists every file opened for writing (or moved,
    removed, created) inside the block, by any thread of this process."""
    writes: list[str] = []
    _watchers.append(writes)
    try:
        yield writes
    finally:
        _watchers.remove(writes)
