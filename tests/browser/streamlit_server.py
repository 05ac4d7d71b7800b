"""Start and stop real `streamlit run` servers (and an nginx in front of them) for browser tests and the benchmark.

Nothing here imports Streamlit: servers run as child processes with `sys.executable`, on loopback,
on a free port, reading the knowledge folder named by HIPGUIDE_KNOWLEDGE_DIR.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the temporary-repository helpers shared with the engine tests

from gitkb import init_repo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `.ci/run` installs it
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
EDITOR_PASSPHRASE = "test-passphrase-not-a-secret"  # noqa: S105 - a throwaway for test servers


REQUIRE_ENV = "HIPGUIDE_REQUIRE_BROWSER"  # set to 1 by `.ci/run`: a missing browser fails instead of skipping


def browser_missing_reason() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found: install Debian's chromium (`.ci/run` does) to run the real-browser tests"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install -r requirements.txt)"
    return None


def require_browser() -> None:
    """Skip the calling test loudly when there is no browser, or fail when HIPGUIDE_REQUIRE_BROWSER=1."""
    import pytest

    reason = browser_missing_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(f"!!! REAL-BROWSER TESTS SKIPPED !!! {reason}")


def require_nginx() -> str:
    """The nginx binary; skip loudly without it, or fail when HIPGUIDE_REQUIRE_BROWSER=1 (`.ci/run` installs it)."""
    import pytest

    binary = nginx_binary()
    if binary is not None:
        return binary
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but nginx is not installed", pytrace=False)
    pytest.skip("!!! NGINX NOT INSTALLED: replica test skipped (`.ci/run` installs it) !!!")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    return found or next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)


def copy_knowledge(target: Path, source: Path | None = None) -> Path:
    """A private copy of the knowledge folder (the shipped one by default), as a git repository of its own
    with one commit: editorial saves are commits, and never land in the project's repository."""
    shutil.copytree(source or ROOT / "knowledge", target,
                    ignore=shutil.ignore_patterns(".editor.lock", "audit"))
    return init_repo(target)


def _get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8", "replace")


def wait_http_ok(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before {url} answered\n{tail(log)}")
        try:
            status, body = _get(url)
            if status == 200:
                return
            last = f"HTTP {status}: {body[:200]}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s (last: {last})\n{tail(log)}")


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])



def stop_process_group(proc: subprocess.Popen | None, first: signal.Signals) -> None:
    """Stop a server started in its own session: `first` signal, then SIGKILL after 10 s."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, first)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

class StreamlitServer:
    """`python -m streamlit run <script>` on 127.0.0.1:<free port>, stopped by its process group."""

    def __init__(self, knowledge_dir: Path, *, script: str = "dashboard.py", cwd: Path = ROOT,
                 port: int | None = None, log_dir: Path | None = None, env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None):
        self.knowledge_dir = Path(knowledge_dir)
        self.script, self.cwd = script, Path(cwd)
        self.port = port or free_port()
        self.log = Path(log_dir or tempfile.mkdtemp(prefix="hipguide-log-")) / f"streamlit-{self.port}.log"
        self.env = {**os.environ, "HIPGUIDE_KNOWLEDGE_DIR": str(self.knowledge_dir),
                    "HIPGUIDE_EDITOR_PASSPHRASE": EDITOR_PASSPHRASE, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "streamlit", "run", self.script,
                "--server.headless", "true", "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
                "--server.runOnSave", "false", "--client.showErrorDetails", "full", *self.extra_args]

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "wb")  # noqa: SIM115 - closed by the child's exit
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env, stdout=handle,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        try:
            wait_http_ok(f"{self.url}/_stcore/health", timeout, self.proc, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process_group(self.proc, signal.SIGTERM)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;

events {{
    worker_connections 512;
}}

http {{
    log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream hipguide {{
        ip_hash;  # sticky: a browser's session lives in one replica's memory
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        client_max_body_size 10m;

        location / {{
            proxy_pass http://hipguide;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}

        location /_stcore/stream {{
            proxy_pass http://hipguide;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 86400;
            proxy_buffering off;
        }}
    }}
}}
"""


def nginx_conf(tmp: Path, port: int, upstream_ports: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    return NGINX_CONF.format(tmp=tmp.as_posix(), port=port, servers=servers)


class Nginx:
    """A foreground nginx with its config, pid file and logs in a temporary folder."""

    def __init__(self, tmp: Path, upstream_ports: list[int], port: int | None = None):
        self.tmp, self.port = Path(tmp), port or free_port()
        self.binary = nginx_binary()
        self.conf = self.tmp / "nginx.conf"
        self.upstream_ports = upstream_ports
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Nginx:
        if self.binary is None:
            raise FileNotFoundError("nginx is not installed")
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(nginx_conf(self.tmp, self.port, self.upstream_ports), encoding="utf-8")
        log = self.tmp / "stderr.log"
        handle = open(log, "wb")  # noqa: SIM115
        # -e: the startup error log before the config's own error_log applies (default is under /var/log).
        self.proc = subprocess.Popen([self.binary, "-p", str(self.tmp), "-c", str(self.conf), "-e", str(self.tmp / "error.log")],
                                     stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        handle.close()
        try:
            wait_http_ok(f"{self.url}/_stcore/health", timeout, self.proc, log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process_group(self.proc, signal.SIGQUIT)  # nginx's graceful shutdown
