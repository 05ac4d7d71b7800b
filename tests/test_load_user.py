"""The load test's simulated physiotherapist (bench/locustfile.py) against a real server: a smoke test.

It checks that the Streamlit protocol client does what the page's users do (open, answer, change the
phase, download the note, start a new patient) and that a few Locust users run assessments with every
script run finished and no error. No timing threshold: `make load` measures, the tests only check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from streamlit_client import ProtocolError, StreamlitClient  # noqa: E402
from streamlit_server import StreamlitServer, copy_knowledge  # noqa: E402

from hipguide.exports import md_escape  # noqa: E402
from hipguide.knowledge import load_knowledge  # noqa: E402
from ui.assessment_data import finding_tabs  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    knowledge = copy_knowledge(tmp / "knowledge")
    with StreamlitServer(knowledge, log_dir=tmp) as running:
        running.knowledge = knowledge
        yield running


def test_client_records_a_patient_downloads_the_note_and_starts_a_new_patient(server):
    kb = load_knowledge(server.knowledge)
    client = StreamlitClient(server.url)
    try:
        first = client.open()
        assert first.exceptions == []
        # The controls are found by their keys: the open tab's findings, the tabs, the phase and the age.
        tabs = finding_tabs(kb)
        first_tab = next(iter(tabs.values()))
        assert {f"pt.f.{fid}" for fid, tab in tabs.items() if tab == first_tab} == set(client.keys("pt.f."))
        assert client.widget("ui.finding_tab").kind == "tab_container"
        assert client.widget("pt.phase").options == ["Acute", "Recovery", "Prevention"]
        assert client.widget("pt.age").kind == "number_input"

        vignette = kb.vignettes["01_runner_deep_buttock_after_hills"]
        for fid in vignette.findings[:3]:
            if f"pt.f.{fid}" not in client.widgets:  # another tab: open it, and its findings are drawn
                client.set("ui.finding_tab", tabs[fid])
                assert {f"pt.f.{f}" for f, tab in tabs.items() if tab == tabs[fid]} == set(client.keys("pt.f."))
            run = client.set(f"pt.f.{fid}", "Yes")
            assert run.exceptions == [] and run.messages > 0
        client.set("pt.age", 47)
        client.set("pt.phase", "Recovery")
        _seconds, body = client.download(client.find("download_button", "note"))
        note = body.decode("utf-8")
        assert "**Phase:** recovery" in note and "**Age:** 47" in note
        for fid in vignette.findings[:3]:
            assert f"- Present: {md_escape(kb.findings[fid].label)}" in note

        # "New patient" clears the page's values; the client follows what the server set.
        client.click(client.find("button", "new patient"))
        assert all(client.values.get(f"pt.f.{fid}") is None for fid in vignette.findings[:3] if f"pt.f.{fid}" in client.widgets)
        assert client.values.get("pt.phase") == "Acute"
        _seconds, body = client.download(client.find("download_button", "note"))
        assert "None recorded as present" in body.decode("utf-8")

        with pytest.raises(ProtocolError, match="no option"):
            client.set("pt.phase", "Chronic")
    finally:
        client.close()


def test_a_few_locust_users_finish_every_run_without_errors(server, tmp_path):
    from load import run_locust

    result = run_locust(server.url, [3], [server.proc.pid], out=tmp_path / "steps.json", budget=45, window=6, settle=1,
                        spawn_rate=10, think="0.2,0.6", refine=False, knowledge=server.knowledge, log=tmp_path / "locust.log")
    assert result["error_count"] == 0, result["errors"]
    [baseline, step] = result["steps"]
    assert baseline["baseline"] and baseline["server_rss_mb"][0] > 0
    assert step["sessions"] == 3
    assert step["clicks"] >= 3, step  # every user answered within the window
    assert step["errors"] == 0
    assert "Traceback" not in server.log.read_text(encoding="utf-8", errors="replace")
