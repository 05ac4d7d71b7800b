"""Replicas on different machines: each has its own clone, and all share one central (bare) repository.

A save commits and pushes; a push refused because another replica pushed first takes the refused-save
path (nothing lost, both versions kept) or, when the other save touched other files, is simply retried;
every replica picks up the others' saves on a later rerun, fetching at most every N seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gitkb import central_and_replicas, git, init_repo
from minikb import write_mini_kb

from hipguide import gitstore
from hipguide.editorial import StaleVersionError, file_version, history, save_guidance, sync_knowledge
from hipguide.gitstore import Editor
from hipguide.knowledge import load_knowledge

ANA = Editor("ana@clinic.example", "Ana")
BEN = Editor("ben@clinic.example", "Ben")
ICE = "guidance/ice.yaml"


@pytest.fixture
def replicas(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path]:
    """(central, knowledge folder of replica 1, of replica 2)."""
    write_mini_kb(tmp_path / "seed" / "knowledge")
    init_repo(tmp_path / "seed")
    central, (one, two) = central_and_replicas(tmp_path / "seed", tmp_path)
    monkeypatch.setenv("HIPGUIDE_KNOWLEDGE_REMOTE", "origin")
    monkeypatch.setenv("HIPGUIDE_SYNC_SECONDS", "0")
    gitstore._last_fetch.clear()
    return central, one / "knowledge", two / "knowledge"


def rationale(who: str) -> dict:
    return {"rationale": f"Rationale by {who}, long enough to explain the claims."}


def said(text: str) -> str:
    return yaml.safe_load(text)["rationale"]


def central_log(central: Path) -> list[str]:
    return git(central, "log", "--format=%an: %s", "main").splitlines()


def test_a_save_on_one_replica_is_served_by_the_other_after_its_next_sync(replicas) -> None:
    central, one, two = replicas
    save_guidance(one, "ice", rationale("Ana"), ANA, file_version(one, ICE), note="from replica one")
    assert central_log(central)[0] == "Ana: from replica one"
    assert "Ana" not in said((two / ICE).read_text(encoding="utf-8"))
    assert sync_knowledge(two) is True
    assert "Ana" in load_knowledge(two).guidance["ice"].rationale
    assert history(two, "ice")[0].author == ANA.id


def test_replicas_fetch_at_most_every_n_seconds(replicas, monkeypatch) -> None:
    _central, one, two = replicas
    monkeypatch.setenv("HIPGUIDE_SYNC_SECONDS", "3600")
    clock = [1000.0]
    monkeypatch.setattr(gitstore.time, "monotonic", lambda: clock[0])
    assert sync_knowledge(two) is False  # fetched: nothing new yet
    save_guidance(one, "ice", rationale("Ana"), ANA, file_version(one, ICE))
    clock[0] += 60
    assert sync_knowledge(two) is False  # within the interval: no fetch at all
    assert "Ana" not in said((two / ICE).read_text(encoding="utf-8"))
    clock[0] += 3600
    assert sync_knowledge(two) is True
    assert "Ana" in said((two / ICE).read_text(encoding="utf-8"))


def test_two_editors_on_two_machines_save_the_same_topic_nothing_is_lost(replicas) -> None:
    central, one, two = replicas
    base_one, base_two = file_version(one, ICE), file_version(two, ICE)
    save_guidance(one, "ice", rationale("Ana"), ANA, base_one, note="Ana's decision")
    with pytest.raises(StaleVersionError) as caught:
        save_guidance(two, "ice", rationale("Ben"), BEN, base_two, note="Ben's decision")
    assert "Ana" in said(caught.value.theirs) and "Ben" in said(caught.value.yours)
    assert central_log(central)[0] == "Ana: Ana's decision"
    assert git(two, "status", "--porcelain") == ""
    # Ben keeps his input, starts from Ana's version and saves over it knowingly: both stay in history.
    save_guidance(two, "ice", rationale("Ben"), BEN, caught.value.version, note="Ben's decision")
    assert central_log(central)[:2] == ["Ben: Ben's decision", "Ana: Ana's decision"]


def _race(monkeypatch, first: Path, topic: str) -> list[str]:
    """Make replica one save `topic` (and push) just after replica two has fetched, before it pushes."""
    real, fired = gitstore.write_knowledge_file, []

    def write(path: Path, text: str) -> None:
        if not fired:
            fired.append(topic)
            monkeypatch.setattr(gitstore, "write_knowledge_file", real)
            save_guidance(first, topic, rationale("Ana"), ANA, file_version(first, f"guidance/{topic}.yaml"), note="Ana first")
        real(path, text)

    monkeypatch.setattr(gitstore, "write_knowledge_file", write)
    return fired


def test_a_push_refused_on_the_same_file_takes_the_refused_save_path(replicas, monkeypatch) -> None:
    central, one, two = replicas
    base = file_version(two, ICE)
    fired = _race(monkeypatch, one, "ice")
    with pytest.raises(StaleVersionError) as caught:
        save_guidance(two, "ice", rationale("Ben"), BEN, base, note="Ben second")
    assert fired
    assert "Ana" in said(caught.value.theirs) and "Ben" in said(caught.value.yours)
    assert central_log(central)[0] == "Ana: Ana first"
    assert git(two, "status", "--porcelain") == ""
    assert "Ana" in said((two / ICE).read_text(encoding="utf-8"))  # replica two now serves Ana's save


def test_a_push_refused_for_another_files_change_is_retried_and_both_saves_kept(replicas, monkeypatch) -> None:
    central, one, two = replicas
    fired = _race(monkeypatch, one, "strengthening")
    save_guidance(two, "ice", rationale("Ben"), BEN, file_version(two, ICE), note="Ben second")
    assert fired
    assert central_log(central)[:2] == ["Ben: Ben second", "Ana: Ana first"]
    assert "Ana" in said((two / "guidance/strengthening.yaml").read_text(encoding="utf-8"))
