"""Simulated physiotherapists for `make load` (Locust), over Streamlit's own WebSocket protocol, no browser.

Each simulated physiotherapist opens the assessment once, then sees patient after patient:

1. records the patient's age, then 10-20 answers taken from a shipped vignette (its present findings
   as "Yes", its checked-and-absent ones as "No", topped up with "No" answers to other findings on the
   page), in the order the page shows them, 3-6 s apart;
2. changes the phase once, part-way through;
3. downloads the clinical note, and checks that it holds this patient's age and findings;
4. clicks "New patient" and starts again.

Finding controls are found by their user keys (`pt.f.<finding>`, `pt.phase`, `pt.age`), as the page
draws them in its deltas. The page draws one tab of findings at a time: a finding in another tab is
reached by opening its tab first (`ui.finding_tab`, a click of its own). A widget inside a fragment
reruns only its fragment, as in the browser.

Measured (Locust's request events, plus every sample kept for the driver): "click" = a widget change
sent -> `script_finished` received; "open" = health check + WebSocket + first script run;
"download" = the note's URL from the server + its GET. A script exception on the page, a failed run,
a note that does not hold the patient's findings, or a closed socket is an error.

The stepped user count (CapacityShape) is driven by bench/load.py; run that, not this file.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import gevent
from locust import LoadTestShape, User, events, task

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from streamlit_client import ProtocolError, StreamlitClient  # noqa: E402

from hipguide.exports import md_escape  # noqa: E402
from hipguide.knowledge import DEFAULT_KNOWLEDGE_DIR, load_knowledge  # noqa: E402
from ui.assessment_data import finding_tabs  # noqa: E402

FINDING_PREFIX, PHASE_KEY, AGE_KEY, FINDING_TAB_KEY = "pt.f.", "pt.phase", "pt.age", "ui.finding_tab"
YES, NO = "Yes", "No"  # the finding controls' options as shown

KB = load_knowledge(os.environ.get("HIPGUIDE_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR)
VIGNETTES = [v for _, v in sorted(KB.vignettes.items())]
# The page draws one tab of findings at a time: each finding's tab, and every finding in the page's order.
TAB_OF = finding_tabs(KB)
PAGE_ORDER = list(TAB_OF)

# Every sample of this run, for the step measurements: (end time, kind, seconds, ok).
SAMPLES: list[tuple[float, str, float, bool]] = []
ERRORS: list[tuple[float, str]] = []
OPEN_SESSIONS = [0]  # simulated physiotherapists whose page is open
_user_numbers = itertools.count()


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--think", default="3,6", help="think time between clicks, min,max seconds")
    parser.add_argument("--source-addresses", default="", help="comma-separated loopback source addresses, one per user in turn")
    parser.add_argument("--steps", default="10,20", help="user counts to measure, in order")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured at each step")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after a step's users are all open, before measuring")
    parser.add_argument("--open-rate", type=float, default=5.0, help="users opened per second")
    parser.add_argument("--target-p95-ms", type=float, default=300.0)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds this run may take at most")
    parser.add_argument("--refine", action="store_true", help="after a failed step, measure once between it and the last good one")
    parser.add_argument("--server-pids", default="", help="pids of the servers, for their memory")
    parser.add_argument("--result-file", default="", help="where to write the step results (JSON)")


class Physiotherapist(User):
    """One clinician at one workstation: the assessment page open, patient after patient."""

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.number = next(_user_numbers)
        sources = [s for s in (options.source_addresses or "").split(",") if s]
        self.source = sources[self.number % len(sources)] if sources else None
        lo, hi = (float(x) for x in (options.think or "3,6").split(","))
        self.think_range = (lo, hi)
        self.random = random.Random(self.number)
        self.client: StreamlitClient | None = None
        try:
            self._open()
        except (ProtocolError, OSError):
            self._close()  # counted already; the first task opens the page again

    def on_stop(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
            OPEN_SESSIONS[0] -= 1

    def _open(self) -> None:
        self.client = StreamlitClient(self.host, source_address=self.source)
        OPEN_SESSIONS[0] += 1
        self._measure("open", "open the assessment", self.client.open)

    def _think(self) -> None:
        gevent.sleep(self.random.uniform(*self.think_range))

    def _fire(self, kind: str, name: str, seconds: float, size: int, error: Exception | None) -> None:
        SAMPLES.append((time.monotonic(), kind, seconds, error is None))
        if error is not None:
            ERRORS.append((time.monotonic(), f"{name}: {error}"))
        self.environment.events.request.fire(request_type=kind, name=name, response_time=seconds * 1000,
                                             response_length=size, exception=error, context={})

    def _measure(self, kind: str, name: str, action):
        t0 = time.perf_counter()
        try:
            result = action()
        except (ProtocolError, OSError) as exc:
            self._fire(kind, name, time.perf_counter() - t0, 0, exc)
            raise
        if result.exceptions:
            error = ProtocolError(f"the page shows an exception: {result.exceptions[0][:200]}")
            self._fire(kind, name, result.seconds, result.bytes, error)
            raise error
        self._fire(kind, name, result.seconds, result.bytes, None)
        return result

    def _click(self, name: str, key: str, value) -> None:
        self._think()
        self._measure("click", name, lambda: self.client.set(key, value))

    @task
    def assess_patients(self) -> None:
        try:
            if self.client is None:
                self._open()
            self._one_patient()
        except (ProtocolError, OSError):
            # Counted already; start afresh as a clinician would reload the page.
            self._close()
            self._think()

    def _one_patient(self) -> None:
        client = self.client
        vignette = self.random.choice(VIGNETTES)
        answers = {f: YES for f in vignette.findings if f in TAB_OF}
        answers.update({f: NO for f in vignette.absent if f in TAB_OF})
        wanted = self.random.randint(10, 20)
        others = [f for f in PAGE_ORDER if f not in answers]
        for fid in self.random.sample(others, max(0, min(len(others), wanted - len(answers)))):
            answers[fid] = NO
        order = [f for f in PAGE_ORDER if f in answers][:20]  # tab by tab, in the order the page shows them
        age = vignette.age if vignette.age is not None else self.random.randint(18, 80)
        phase_at = self.random.randint(len(order) // 2, len(order))

        self._click("age", AGE_KEY, age)
        phase_word = None
        for i, fid in enumerate(order):
            if i == phase_at:
                phase_word = self._change_phase()
            if FINDING_PREFIX + fid not in client.widgets:  # its tab is not open: open it, as a clinician would
                self._click("open a tab of findings", FINDING_TAB_KEY, TAB_OF[fid])
            self._click("answer a finding", FINDING_PREFIX + fid, answers[fid])
        if phase_word is None:
            phase_word = self._change_phase()
        self._think()
        self._download_note(age, phase_word, [f for f in order if answers[f] == YES])
        self._think()
        new_patient = client.find("button", "new patient")
        if new_patient is None:
            raise ProtocolError("no 'New patient' button on the page")
        self._measure("click", "new patient", lambda: client.click(new_patient))

    def _change_phase(self) -> str:
        phase = self.client.widget(PHASE_KEY)
        current = self.client.values.get(PHASE_KEY) or phase.options[0]
        choice = self.random.choice([o for o in phase.options if o != current])
        self._click("change the phase", PHASE_KEY, choice)
        return choice

    def _download_note(self, age: int, phase_word: str, present: list[str]) -> None:
        note = self.client.find("download_button", "note")
        t0 = time.perf_counter()
        try:
            if note is None:
                raise ProtocolError("no clinical-note download on the page")
            seconds, body = self.client.download(note)
            text = body.decode("utf-8")
            missing = [f for f in present if md_escape(KB.findings[f].label) not in text]
            if f"{age}" not in text or phase_word.lower() not in text.lower() or missing:
                raise ProtocolError(f"the note does not hold this patient's age {age}, phase {phase_word} and "
                                    f"findings (missing: {missing[:3]})")
        except (ProtocolError, OSError, UnicodeDecodeError) as exc:
            self._fire("download", "clinical note", time.perf_counter() - t0, 0, exc)
            raise ProtocolError(str(exc)) from exc
        self._fire("download", "clinical note", seconds, len(body), None)


# --- the stepped user count ----------------------------------------------------------------------

def percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between the closest ranks (as numpy's default)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def server_cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            return float("nan")
    return total


def server_memory_mb(pids: list[int]) -> list[float]:
    import psutil

    out = []
    for pid in pids:
        try:
            out.append(psutil.Process(pid).memory_info().rss / 2**20)
        except psutil.Error:
            out.append(float("nan"))
    return out


class CapacityShape(LoadTestShape):
    """Step the users up until p95 click -> script finished exceeds the target or anything fails.

    At each step: open the step's users, wait until every page is open and `--settle` seconds more,
    then measure `--window` seconds. A step passes when the window's p95 is within the target and the
    step saw no error. With `--refine`, the first failing step is followed by one step half-way back to
    the last passing one. The run stops by itself after its `--budget`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.results: list[dict] = []
        self.queue: list[int] | None = None
        self.phase = "ramp"
        self.phase_started = 0.0
        self.step_started = 0.0
        self.errors_before = 0
        self.refined = False
        self.cpu_at_start = 0.0

    def _opts(self):
        return self.runner.environment.parsed_options

    def _pids(self) -> list[int]:
        return [int(p) for p in self._opts().server_pids.split(",") if p]

    def _finish(self, stopped: str) -> None:
        path = self._opts().result_file
        if path:
            Path(path).write_text(json.dumps({"steps": self.results, "errors": [e for _, e in ERRORS[:50]],
                                              "error_count": len(ERRORS), "stopped": stopped}, indent=2), encoding="utf-8")

    def tick(self):
        opts = self._opts()
        now = time.monotonic()
        if self.queue is None:
            self.queue = [int(s) for s in opts.steps.split(",") if s.strip()]
            pids = self._pids()
            # The servers' memory before any simulated physiotherapist: the intercept of memory per session.
            self.results.append({"sessions": 0, "clicks": 0, "p50_ms": None, "p95_ms": None, "errors": 0, "passed": None,
                                 "server_rss_mb": [round(m, 1) for m in server_memory_mb(pids)], "baseline": True})
            self._next_phase("ramp", now)
        if not self.queue or self.get_run_time() > opts.budget:
            # "budget": time ran out with steps left, so the capacity found is a lower bound.
            self._finish("budget" if self.queue else "done")
            return None
        users = self.queue[0]
        if self.phase == "ramp":
            if OPEN_SESSIONS[0] >= users and self.get_current_user_count() == users:
                self._next_phase("settle", now)
        elif self.phase == "settle" and now - self.phase_started >= opts.settle:
            self._next_phase("measure", now)
        elif self.phase == "measure" and now - self.phase_started >= opts.window:
            self._record(users, self.phase_started, now)
        return users, opts.open_rate

    def _next_phase(self, phase: str, now: float) -> None:
        self.phase, self.phase_started = phase, now
        if phase == "measure":
            self.cpu_at_start = server_cpu_seconds(self._pids())
        if phase == "ramp":
            self.step_started = now
            self.errors_before = len(ERRORS)

    def _record(self, users: int, start: float, end: float) -> None:
        opts = self._opts()
        clicks = [s for t, kind, s, ok in SAMPLES if kind == "click" and start <= t <= end and ok]
        errors = len(ERRORS) - self.errors_before
        p95 = percentile(clicks, 95) * 1000
        passed = errors == 0 and len(clicks) > 0 and p95 <= opts.target_p95_ms
        pids = self._pids()
        cpu = server_cpu_seconds(pids) - self.cpu_at_start
        step = {"sessions": users, "clicks": len(clicks),
                "p50_ms": round(percentile(clicks, 50) * 1000, 1) if clicks else None,
                "p95_ms": round(p95, 1) if clicks else None, "max_ms": round(max(clicks, default=0) * 1000, 1), "errors": errors,
                "passed": passed, "server_rss_mb": [round(m, 1) for m in server_memory_mb(pids)],
                "window_s": round(end - start, 1),
                # Server CPU per click (all its threads, divided by the clicks in the window): steadier than
                # latency on a busy machine, and what a rerun costs.
                "server_cpu_ms_per_click": round(cpu * 1000 / len(clicks), 1) if clicks else None,
                "clicks_per_s": round(len(clicks) / (end - start), 2) if end > start else 0,
                "downloads_ms_p50": round(statistics.median(
                    [s for t, k, s, ok in SAMPLES if k == "download" and ok and start <= t <= end] or [0]) * 1000, 1)}
        self.results.append(step)
        print(f"[load] {users:>4} sessions: p50 {step['p50_ms'] or 0:>7.1f} ms  p95 {step['p95_ms'] or 0:>7.1f} ms  "
              f"{len(clicks):>5} clicks  {errors} errors  server CPU {step['server_cpu_ms_per_click']} ms/click  RSS {step['server_rss_mb']} MB  "
              f"{'PASS' if passed else 'FAIL'}", flush=True)
        self.queue.pop(0)
        if not passed:
            good = [r["sessions"] for r in self.results if r["passed"] is True and r["sessions"] < users]
            last_good = max(good, default=0)
            middle = (last_good + users) // 2 if good else users // 2
            self.queue = [middle] if opts.refine and not self.refined and users - last_good > 10 and middle > 0 else []
            self.refined = True
        self._next_phase("ramp", time.monotonic())
