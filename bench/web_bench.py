"""Load check of the subscription web app: one-click unsubscribes and subscribes over loopback.

    python -m bench.web_bench            # 3,000 one-click unsubscribes, 1,000 subscribes
    python -m bench.web_bench --quick    # 400 and 200

The app runs under uvicorn (one process, SQLite in WAL mode) in a subprocess; this process is the
client: CLIENTS threads, each with one keep-alive http.client connection, each request timed.
Rate limits are raised for the run (every request comes from 127.0.0.1). Afterwards the consent log
is counted: exactly one "unsubscribe" record per subscriber and one "subscribe" per request, or the
run fails (exit 1). Target: >= 500 one-click unsubscribes/s with p99 < 100 ms on the 2-core machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
CLIENTS = 8
TARGET_RATE = 500.0
TARGET_P99_MS = 100.0


@dataclass
class Phase:
    name: str
    latencies: list[float]
    seconds: float
    errors: int
    server_cpu: float = 0.0  # seconds of CPU the app's process used during the phase

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def cpu_ms(self) -> float:
        """The app's CPU per request: what the machine's load cannot inflate much."""
        return self.server_cpu / len(self.latencies) * 1000 if self.latencies else 0.0

    def row(self) -> str:
        return (
            f"{self.name:<22} {len(self.latencies):>6} {self.rate:>9.0f} {self.percentile(0.5):>8.1f}"
            f" {self.percentile(0.99):>8.1f} {max(self.latencies, default=0) * 1000:>8.1f} {self.errors:>6}"
            f" {self.cpu_ms:>8.2f}"
        )


# --- the server side (a subprocess) ---------------------------------------------------------------------


def serve(root: Path, port: int) -> None:
    import uvicorn

    from newsroom.config import load_settings
    from newsroom.web.app import create_app
    from newsroom.web.security import Limit, Limits

    settings = load_settings(
        root, environ={"NEWSROOM_DATABASE_URL": f"sqlite:///{root / 'var' / 'bench.db'}"}
    )
    unlimited = Limits(per_client=Limit(10**9, 1), per_target=Limit(10**9, 1))
    app = create_app(settings, limits=unlimited)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the client side ------------------------------------------------------------------------------------


def seed(root: Path, count: int) -> list[str]:
    """`count` active subscribers; their unsubscribe URL paths."""
    from newsroom.config import load_settings
    from newsroom.subscribers import store
    from newsroom.subscribers.db import open_database
    from newsroom.subscribers.tokens import make_token

    settings = load_settings(
        root, environ={"NEWSROOM_DATABASE_URL": f"sqlite:///{root / 'var' / 'bench.db'}"}
    )
    engine = open_database(settings)
    now = datetime.now(UTC)
    paths = []
    with engine.begin() as conn:
        for number in range(count):
            sid = store.insert_subscriber(
                conn, email=f"reader{number}@example.com", phone=None, language="en", status="active", now=now
            )
            store.set_subscription(conn, sid, store.Subscription(channel="email"))
            paths.append(f"/unsubscribe/{make_token(sid, 'unsubscribe', now)}")
    engine.dispose()
    return paths


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(name: str, port: int, jobs: list[tuple[str, bytes, dict[str, str]]], pid: int) -> Phase:
    """Send every (path, body, headers) POST, CLIENTS connections in parallel; time each request."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    slices = [jobs[i::CLIENTS] for i in range(CLIENTS)]

    def client(mine: list[tuple[str, bytes, dict[str, str]]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times = []
        failed = 0
        for path, body, headers in mine:
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(times)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(part,)) for part in slices]
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Phase(name, latencies, elapsed, errors[0], cpu_seconds(pid) - cpu_before)


def csrf_session(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/subscribe")
    response = connection.getresponse()
    html = response.read().decode()
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    connection.close()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found and cookie, "no CSRF token on the subscribe page"
    return cookie, found.group(1)


def count_consent(root: Path) -> dict[str, int]:
    from sqlalchemy import create_engine

    from newsroom.subscribers import store

    engine = create_engine(f"sqlite:///{root / 'var' / 'bench.db'}")
    with engine.connect() as conn:
        counts = store.count_consent_actions(conn)
    engine.dispose()
    return counts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the app exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the app did not start within 15 s")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        serve(Path(argv[1]), int(argv[2]))
        return 0
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK") == "1"
    unsubscribes, subscribes = (400, 200) if quick else (3000, 1000)
    root = Path(tempfile.mkdtemp(prefix="web-bench-"))
    try:
        shutil.copy(REPO / "newsroom.toml", root / "newsroom.toml")
        paths = seed(root, unsubscribes)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.web_bench", "--serve", str(root), str(port)], env=env
        )
        try:
            wait_for(port, server)
            return measure(root, port, paths, subscribes, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def measure(root: Path, port: int, paths: list[str], subscribes: int, pid: int) -> int:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    run_phase("warm-up", port, [("/subscribe", b"", form)] * CLIENTS, pid)  # 403s (no token); not shown
    one_click_jobs = [(p, b"List-Unsubscribe=One-Click", form) for p in paths]
    one_click = run_phase("one-click unsubscribe", port, one_click_jobs, pid)
    cookie, token = csrf_session(port)
    headers = {**form, "Cookie": cookie}
    bodies = [
        urlencode({"address": f"new{n}@example.org", "language": "es", "scope": "all", "frequency": "daily",
                   "lang": "es", "csrf_token": token}).encode()
        for n in range(subscribes)
    ]  # fmt: skip
    subscribe = run_phase("subscribe (form)", port, [("/subscribe", body, headers) for body in bodies], pid)
    counts = count_consent(root)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"web app under uvicorn (1 process, SQLite WAL), {CLIENTS} keep-alive clients on loopback")
    print(f"{os.cpu_count()} cores, load average {load} (other work slows every figure but CPU ms/req)")
    print(
        f"{'phase':<22} {'requests':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
        f" {'CPU ms/req':>8}"
    )
    for phase in (one_click, subscribe):
        print(phase.row())
    print(f"consent log: {json.dumps(counts, sort_keys=True)}")
    exact = counts.get("unsubscribe", 0) == len(paths) and counts.get("subscribe", 0) == subscribes
    errors = one_click.errors + subscribe.errors
    verdict = "exact" if exact else "WRONG"
    print(
        f"consent records {verdict}: {counts.get('unsubscribe', 0)}/{len(paths)} unsubscribe, "
        f"{counts.get('subscribe', 0)}/{subscribes} subscribe"
    )
    met = one_click.rate >= TARGET_RATE and one_click.percentile(0.99) < TARGET_P99_MS
    target = f">= {TARGET_RATE:.0f} one-click/s, p99 < {TARGET_P99_MS:.0f} ms"
    print(f"target ({target}): {'met' if met else 'NOT met'}; the app's CPU allows about "
          f"{1000 / one_click.cpu_ms if one_click.cpu_ms else 0:.0f} one-click/s per core")  # fmt: skip
    return 0 if exact and not errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
