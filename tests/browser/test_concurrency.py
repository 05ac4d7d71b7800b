"""Many clinicians at once: 20 browser sessions on one server, and two replicas behind nginx."""

from __future__ import annotations

import re
import statistics
import time

import pytest
import yaml
from gitkb import central_and_replicas, git
from sessions import distinct_cases, run_sessions
from streamlit_server import Nginx, StreamlitServer, copy_knowledge, require_nginx
from ui_helpers import main_text, new_page, open_app, set_finding, wait_idle, wait_quiet

from hipguide import editorial
from hipguide.assessment import assess
from hipguide.exports import pct
from hipguide.knowledge import load_knowledge

SESSIONS = 20
FINDINGS_EACH = 2
# How long the sessions may take is the benchmark's business (`make bench`, TARGET_CONCURRENT_WALL_S); this
# test checks that each session sees only its own assessment. The guard only stops a hung run.
HANG_GUARD_S = 300.0


def test_twenty_sessions_each_see_only_their_own_assessment(app_server, knowledge_tmp, browser):
    import sessions

    kb = load_knowledge(knowledge_tmp)
    cases = distinct_cases(kb, SESSIONS, FINDINGS_EACH)
    results, wall = run_sessions(app_server.url, kb, cases, budget_s=HANG_GUARD_S)
    problems = []
    for r in results:
        expected = assess(kb, {"findings": r.findings})
        if r.errors:
            problems.append(f"session {r.index}: {r.errors}")
            continue
        own = {kb.findings[f].label for f in r.findings}
        if r.present is None or set(r.present) != own:
            problems.append(f"session {r.index}: lists {r.present} as present, its own are {sorted(own)}")
        drawn_present = set(r.present_controls) - {"Phase"}  # the open tab's controls
        if not drawn_present or not drawn_present <= own:
            problems.append(f"session {r.index}: its open tab shows {sorted(drawn_present)} as present, its own are {sorted(own)}")
        want_order = [c.condition for c in expected.differential]
        if r.order is None or r.order[:3] != want_order[:3]:
            problems.append(f"session {r.index} {r.findings}: differential {r.order} is not its own {want_order}")
        want_shown = {c.condition: pct(c.probability) for c in expected.differential}
        wrong = {cid: (shown, want_shown[cid]) for cid, shown in r.shown.items() if shown != want_shown[cid]}
        if wrong:
            problems.append(f"session {r.index} {r.findings}: probabilities shown {wrong} (shown, own)")
    assert not problems, "\n".join(problems)
    assert "Traceback" not in app_server.log.read_text(encoding="utf-8", errors="replace")
    phases = dict(sessions.PHASES)
    concurrent = phases["done"] - phases["all_open"]
    latencies = sorted(x for r in results for x in r.latencies)
    print(f"\n{SESSIONS} sessions: all open after {phases['all_open']:.1f} s, recorded and read back in {concurrent:.1f} s "
          f"(whole test {wall:.1f} s); click -> rerun p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {latencies[round(0.95 * (len(latencies) - 1))] * 1000:.0f} ms")


SYNC_SECONDS = "1"  # how often a replica fetches the central repository (production default: 15 s)


@pytest.fixture
def replicas(tmp_path, browser, monkeypatch):
    """Two replicas as on two machines: each with its own clone of one central (bare) repository, behind nginx."""
    require_nginx()
    seed = copy_knowledge(tmp_path / "seed")
    central, clones = central_and_replicas(seed, tmp_path)
    env = {"HIPGUIDE_KNOWLEDGE_REMOTE": "origin", "HIPGUIDE_SYNC_SECONDS": SYNC_SECONDS}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # this test process saves as replica one would
    servers = [StreamlitServer(clone, log_dir=tmp_path, env=env) for clone in clones]
    started: list = []
    try:
        for server in servers:
            started.append(server.start())
        proxy = Nginx(tmp_path / "nginx", [s.port for s in servers]).start()
        started.append(proxy)
        yield central, servers, proxy
    finally:
        for item in reversed(started):
            item.stop()


def _upstream_of_last_request(proxy: Nginx) -> int:
    lines = (proxy.tmp / "access.log").read_text(encoding="utf-8").splitlines()
    ports = [int(m.group(1)) for line in lines if (m := re.search(r"upstream=127\.0\.0\.1:(\d+)", line))]
    assert ports, "nginx logged no upstream"
    return ports[-1]


def test_two_replicas_with_their_own_clones_serve_each_others_saves(replicas, browser, artifacts):
    central, servers, proxy = replicas
    kb = load_knowledge(servers[0].knowledge_dir)
    vignette = kb.vignettes["01_runner_deep_buttock_after_hills"]

    # A clinician's session through nginx: the page, its WebSocket and its reruns all go through the proxy.
    context, page = new_page(browser)
    try:
        open_app(page, proxy.url)
        for fid in vignette.findings[:4]:
            set_finding(page, kb, fid, "present")
        wait_idle(page)
        assert "Triage: ROUTINE" in main_text(page)
        sticky = _upstream_of_last_request(proxy)
        assert sticky in {s.port for s in servers}
    finally:
        context.close()
    # nginx logs the WebSocket when it closes: the upgrade (101) went through the proxy to the same replica.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        websocket = [line for line in (proxy.tmp / "access.log").read_text().splitlines() if "/_stcore/stream" in line]
        if websocket:
            break
        time.sleep(0.2)
    assert websocket and all(" 101 " in line and f":{sticky}" in line for line in websocket), websocket
    other = next(s for s in servers if s.port != sticky)

    # A session on the other replica shows the current ice advice in its plan...
    marker = "Replica check: the new advice saved through replica one reaches replica two."
    context, page = new_page(browser)
    try:
        open_app(page, other.url)
        wait_quiet(page)
        assert marker not in main_text(page)

        # ...an editor saves a decision through the engine on the sticky replica's clone (a commit, pushed)...
        shared = next(s for s in servers if s.port == sticky).knowledge_dir
        rel = "guidance/ice.yaml"
        doc = yaml.safe_load((shared / rel).read_text(encoding="utf-8"))
        phases = {p: {"stance": a["stance"], "advice": a["advice"]} for p, a in doc["phases"].items()}
        for phase in phases.values():
            phase["advice"] = marker
        editorial.save_guidance(shared, "ice", {"phases": phases}, editor="Replica One Editor",
                                base_version=editorial.file_version(shared, rel), note="replica test")

        assert "replica test" in git(central, "log", "-1", "--format=%s")

        # ...and the other replica serves it on a rerun once its fetch interval has passed (the clinician
        # records findings; its own clone fetches from the central repository).
        time.sleep(float(SYNC_SECONDS) + 0.2)
        set_finding(page, kb, vignette.findings[0], "present")
        wait_quiet(page)
        assert marker in main_text(page), "the other replica did not pick up the saved guidance"
        from ui_helpers import screenshot

        screenshot(page, artifacts / "replica_after_save.png")
    finally:
        context.close()
    assert editorial.history(other.knowledge_dir, "ice")[0].author_name == "Replica One Editor"
