"""`make load`: how many physiotherapists one HipGuide process, and two replicas behind nginx, serve.

Starts the servers on loopback, runs Locust (bench/locustfile.py: simulated physiotherapists speaking
Streamlit's WebSocket protocol) with a stepped user count, and finds the largest count at which the
95th percentile of click -> script finished is within 300 ms with no error. Then prints the table
and writes:

  bench/load.json        {"one_process": {"sessions", "p50_ms", "p95_ms"}, "two_replicas": {...},
                          "errors", "memory_per_session_mb", "machine"}
  bench/load_steps.json  every step measured (sessions, clicks, p50, p95, errors, server memory), the
                         settings, and how nginx spread the sessions over the replicas

`python bench/load.py --table` prints the README table from those two files without running anything.
`--quick` is a short run with few users (the test suite's smoke test uses the same pieces).

Bounded: one Locust run per set-up, each stopping itself after its budget (killed 60 s later if it
has not); every request goes to 127.0.0.0/8. The whole run takes at most about eight minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from streamlit_server import Nginx, StreamlitServer, copy_knowledge, nginx_binary  # noqa: E402

TARGET_P95_MS = 300.0
TARGET_SESSIONS_ONE = 40          # the target for one process
TARGET_TWO_REPLICAS_FACTOR = 1.5  # two replicas serve at least this many times one process
ONE_PROCESS_STEPS = [10, 25, 40, 55, 70, 90, 110, 130, 160]
BUDGET_S = 210.0                  # per set-up
LOAD_JSON, STEPS_JSON = BENCH / "load.json", BENCH / "load_steps.json"


# --- machine ---------------------------------------------------------------------------------------

def machine() -> str:
    import importlib.metadata as md

    cpu = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB"
    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
            f"Streamlit {md.version('streamlit')}; Locust {md.version('locust')}; load generator on the same "
            f"machine; load average {load:.1f} at the start")


# --- nginx's ip_hash, to give the simulated workstations addresses it spreads evenly -------------------

def ip_hash_peer(address: str, peers: int) -> int:
    """The upstream nginx's ip_hash picks for an IPv4 client with equal weights (first three octets)."""
    h = 89
    for octet in (int(x) for x in address.split(".")[:3]):
        h = (h * 113 + octet) % 6271
    return h % peers


def balanced_sources(count: int, peers: int) -> list[str]:
    """`count` loopback addresses (127.x.y.1) that ip_hash sends to the peers in turn."""
    by_peer: list[list[str]] = [[] for _ in range(peers)]
    for second in range(1, 255):
        for third in range(1, 255):
            address = f"127.{second}.{third}.1"
            by_peer[ip_hash_peer(address, peers)].append(address)
            if min(len(b) for b in by_peer) * peers >= count:
                return [by_peer[i % peers][i // peers] for i in range(count)]
    raise ValueError(f"cannot find {count} balanced loopback addresses")


def replica_split(nginx: Nginx, ports: list[int]) -> dict[str, int]:
    """WebSocket sessions per replica, from nginx's access log (a WebSocket is logged when it closes)."""
    log = nginx.tmp / "access.log"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return {str(p): sum(1 for line in lines if "/_stcore/stream" in line and f"upstream=127.0.0.1:{p}" in line)
            for p in ports}


# --- one Locust run --------------------------------------------------------------------------------

def run_locust(url: str, steps: list[int], pids: list[int], *, out: Path, budget: float, window: float, settle: float,
               spawn_rate: float, sources: list[str] | None = None, think: str = "3,6", refine: bool = True,
               knowledge: Path | None = None, log: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "locust", "-f", str(BENCH / "locustfile.py"), "--headless", "--host", url,
           "--only-summary", "--loglevel", "WARNING", "--steps", ",".join(map(str, steps)),
           "--window", str(window), "--settle", str(settle), "--open-rate", str(spawn_rate),
           "--target-p95-ms", str(TARGET_P95_MS), "--budget", str(budget), "--think", think,
           "--server-pids", ",".join(map(str, pids)), "--result-file", str(out)]
    if refine:
        cmd.append("--refine")
    if sources:
        cmd += ["--source-addresses", ",".join(sources)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if knowledge is not None:
        env["HIPGUIDE_KNOWLEDGE_DIR"] = str(knowledge)
    handle = open(log, "wb") if log else None  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=handle or subprocess.STDOUT,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + budget + 60
        for raw in proc.stdout:  # the step lines as they come
            line = raw.decode("utf-8", "replace").rstrip()
            if line.startswith("[load]"):
                print("   ", line[7:], flush=True)
            if time.monotonic() > deadline:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=10)
        if handle:
            handle.close()
    if not out.exists():
        from streamlit_server import tail

        raise RuntimeError(f"Locust wrote no results (exit {proc.returncode}):\n{tail(log)}")
    return json.loads(out.read_text(encoding="utf-8"))


def measured(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in steps if not s.get("baseline")]


def capacity(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest passing step below the first failing one."""
    steps = measured(steps)
    failed = [s["sessions"] for s in steps if not s["passed"]]
    limit = min(failed, default=float("inf"))
    good = [s for s in steps if s["passed"] and s["sessions"] < limit]
    if not good:
        first = steps[0] if steps else {"p50_ms": None, "p95_ms": None}
        return {"sessions": 0, "p50_ms": first["p50_ms"], "p95_ms": first["p95_ms"]}
    best = max(good, key=lambda s: s["sessions"])
    return {"sessions": best["sessions"], "p50_ms": best["p50_ms"], "p95_ms": best["p95_ms"]}


def memory_per_session(steps: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of the servers' total memory against open sessions, MB per session."""
    points = [(s["sessions"], sum(s["server_rss_mb"])) for s in steps if s["server_rss_mb"]]
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points), 2)


def warm_up(url: str) -> None:
    """One session through the page before measuring: imports, knowledge and chart templates are loaded
    once per process, and belong to neither the first step's latency nor memory per session."""
    from streamlit_client import StreamlitClient

    client = StreamlitClient(url)
    try:
        client.open()
        key = client.keys("pt.f.")[0]
        client.set(key, client.widget(key).options[0])
    finally:
        client.close()


# --- the two set-ups ---------------------------------------------------------------------------------

def one_process(tmp: Path, knowledge: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\none process ({'quick' if args.quick else 'steps ' + ','.join(map(str, args.steps))})", flush=True)
    with StreamlitServer(knowledge, log_dir=tmp) as server:
        warm_up(server.url)
        run = run_locust(server.url, args.steps, [server.proc.pid], out=tmp / "one.json", budget=args.budget,
                         window=args.window, settle=args.settle, spawn_rate=args.spawn_rate, knowledge=knowledge,
                         refine=not args.quick, think=args.think, log=tmp / "locust-one.log")
        run["server_log_tracebacks"] = server.log.read_text(errors="replace").count("Traceback")
    return run


def two_replicas(tmp: Path, knowledge: Path, args: argparse.Namespace, one: dict[str, Any]) -> dict[str, Any] | None:
    if nginx_binary() is None:
        print("\ntwo replicas: SKIPPED, nginx is not installed", flush=True)
        return None
    base = capacity(one["steps"])["sessions"] or args.steps[0]
    if args.quick:
        steps = args.steps
    else:
        stride = max(10, round(base / 4 / 5) * 5)
        steps = [base + k * stride for k in range(0, 12) if base + k * stride <= max(3 * base, base + 2 * stride)]
    print(f"\ntwo replicas behind nginx (steps {','.join(map(str, steps))})", flush=True)
    servers = [StreamlitServer(knowledge, log_dir=tmp) for _ in range(2)]
    started: list[Any] = []
    try:
        for server in servers:
            started.append(server.start())
            warm_up(server.url)
        ports = [s.port for s in servers]
        proxy = Nginx(tmp / "nginx", ports).start()
        started.append(proxy)
        sources = balanced_sources(max(steps) + 20, 2)
        run = run_locust(proxy.url, steps, [s.proc.pid for s in servers], out=tmp / "two.json", budget=args.budget,
                         window=args.window, settle=args.settle, spawn_rate=args.spawn_rate, sources=sources,
                         knowledge=knowledge, refine=not args.quick, think=args.think, log=tmp / "locust-two.log")
        run["server_log_tracebacks"] = sum(s.log.read_text(errors="replace").count("Traceback") for s in servers)
    finally:
        for item in reversed(started):
            item.stop()
    run["sessions_per_replica"] = replica_split(proxy, ports)  # complete once nginx has closed the WebSockets
    return run


# --- output --------------------------------------------------------------------------------------

def table(load: dict[str, Any], detail: dict[str, Any] | None = None) -> str:
    """The README table (Markdown) from bench/load.json (and the steps, when given)."""
    def verdict(ok: bool | None) -> str:
        return "" if ok is None else "PASS" if ok else "FAIL"

    one, two = load["one_process"], load.get("two_replicas")
    rows = ["| set-up | physiotherapists within 300 ms p95 | click → script finished p50 / p95 | target | |",
            "|---|---|---|---|---|",
            f"| one process | **{one['sessions']}** | {one['p50_ms']} / {one['p95_ms']} ms | ≥ {TARGET_SESSIONS_ONE} | "
            f"{verdict(one['sessions'] >= TARGET_SESSIONS_ONE)} |"]
    if two:
        factor = two["sessions"] / one["sessions"] if one["sessions"] else None
        shown = f"{factor:.2f}×" if factor is not None else "n/a"
        rows.append(f"| two replicas behind nginx | **{two['sessions']}** ({shown}) | {two['p50_ms']} / {two['p95_ms']} ms"
                    f" | ≥ {TARGET_TWO_REPLICAS_FACTOR}× one process | {verdict(factor is not None and factor >= TARGET_TWO_REPLICAS_FACTOR)} |")
    memory = load["memory_per_session_mb"]
    rows += ["", f"Errors: {load['errors']}. Memory per open session: "
                 f"{'n/a' if memory is None else f'{memory} MB'} (slope of the server's memory against open sessions). "
                 f"Machine: {load['machine']}."]
    if detail:
        rows += ["", "| set-up | sessions | clicks | p50 ms | p95 ms | errors | server memory MB | |", "|---|---|---|---|---|---|---|---|"]
        for name, key in (("one process", "one_process"), ("two replicas", "two_replicas")):
            for s in measured((detail.get(key) or {}).get("steps", [])):
                rows.append(f"| {name} | {s['sessions']} | {s['clicks']} | {s['p50_ms']} | {s['p95_ms']} | {s['errors']} | "
                            f"{' + '.join(str(m) for m in s['server_rss_mb'])} | {'PASS' if s['passed'] else 'FAIL'} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", action="store_true", help="print the README table from bench/load.json and exit")
    parser.add_argument("--quick", action="store_true", help="a short run: 3 then 6 users, 10 s windows")
    parser.add_argument("--steps", default=None, help="user counts for one process (default: 10,25,40,55,...)")
    parser.add_argument("--only", choices=["one", "two"], help="run one set-up only")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the result (default bench/load.json; a --quick run writes nothing unless given)")
    args = parser.parse_args(argv)

    if args.table:
        detail = json.loads(STEPS_JSON.read_text(encoding="utf-8")) if STEPS_JSON.exists() else None
        print(table(json.loads((args.out or LOAD_JSON).read_text(encoding="utf-8")), detail))
        return 0

    args.steps = [int(s) for s in args.steps.split(",")] if args.steps else ([3, 6] if args.quick else ONE_PROCESS_STEPS)
    args.window, args.settle = (10.0, 2.0) if args.quick else (20.0, 5.0)
    args.spawn_rate, args.think = 5.0, "3,6"
    args.budget = 60.0 if args.quick else BUDGET_S
    info = machine()
    print(f"HipGuide load test: simulated physiotherapists over Streamlit's WebSocket protocol\n  machine: {info}\n"
          f"  target: p95 click -> script finished <= {TARGET_P95_MS:.0f} ms, no errors; "
          f"{args.window:.0f} s measured per step after all users are open", flush=True)
    with tempfile.TemporaryDirectory(prefix="hipguide-load-") as tmp_name:
        tmp = Path(tmp_name)
        knowledge = copy_knowledge(tmp / "knowledge")
        one = one_process(tmp, knowledge, args) if args.only != "two" else {"steps": [], "error_count": 0}
        two = two_replicas(tmp, knowledge, args, one) if args.only != "one" else None
    runs = [r for r in (one, two) if r]
    errors = sum(r["error_count"] for r in runs) + sum(r.get("server_log_tracebacks", 0) for r in runs)
    load = {"one_process": capacity(one["steps"]),
            "two_replicas": capacity(two["steps"]) if two else None,
            "errors": errors,
            "memory_per_session_mb": memory_per_session(one["steps"]) if one["steps"] else None,
            "machine": info}
    detail = {"settings": {"target_p95_ms": TARGET_P95_MS, "window_s": args.window, "settle_s": args.settle,
                           "think_s": args.think, "spawn_rate": args.spawn_rate, "quick": args.quick},
              "one_process": one, "two_replicas": two, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for name, r in (("one process", one), ("two replicas", two)):
        if r and r.get("stopped") == "budget":
            print(f"  {name}: the time budget ran out with steps left; its figure is a lower bound", flush=True)
        if r and measured(r["steps"]) and all(s["passed"] for s in measured(r["steps"])):
            print(f"  {name}: every step passed; its figure is a lower bound (give larger --steps)", flush=True)
    for r in runs:
        for message in r.get("errors", [])[:5]:
            print(f"  error: {message}", flush=True)
    print("\n" + table(load, detail))
    out = args.out or (None if args.quick else LOAD_JSON)
    if out is not None:
        steps_out = STEPS_JSON if out == LOAD_JSON else out.with_name(out.stem + "_steps.json")
        out.write_text(json.dumps(load, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        steps_out.write_text(json.dumps(detail, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwritten: {out} and {steps_out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
