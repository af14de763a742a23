"""Delivery benchmark: queue and deliver to N subscribers through the outbox and through SMTP.

    python -m bench.delivery_bench                 # 100,000 subscribers, SQLite (+ PostgreSQL if configured)
    python -m bench.delivery_bench --count 5000    # a quick run
    python -m bench.delivery_bench --pg-url postgresql://postgres@127.0.0.1:5432/test

For each database: plan (INSERT ... SELECT of the whole audience), deliver through the outbox
(Maildir files), deliver through SMTP to a local aiosmtpd server running in its own process, and,
in the same run against the same server, a bare smtplib loop sending the same messages over one
connection: the ceiling. Prints messages/s for each, the SMTP/bare ratio (target: at least 0.70)
and the memory each delivery adds to the process while it runs (target: flat, i.e. not growing with
N; compare a --count 10000 run with a 100,000 one). PostgreSQL runs in a scratch schema that is
dropped afterwards; its URL comes from --pg-url or NEWSROOM_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import smtplib
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, insert, text

from newsroom.config import Settings, load_settings
from newsroom.delivery import queue
from newsroom.delivery.messages import BuildContext, Notification, Recipient, build_test_email
from newsroom.delivery.outbox import OutboxTransport
from newsroom.delivery.smtp import SmtpTransport
from newsroom.delivery.worker import DeliveryReport, deliver
from newsroom.subscribers import store
from newsroom.subscribers.db import engine_for, migrate

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)
LANGUAGES = ("en", "es", "ru", "zh", "ar", "ht")
ROUNDS = 5


# --- a local SMTP server in its own process (so it does not share our GIL) ---------------------------


def _serve(port: int, count: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 Ok: queued"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def smtp_server() -> Iterator[tuple[int, Any]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    count = multiprocessing.Value("q", 0)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(port, count, ready, stop), daemon=True)
    process.start()
    if not ready.wait(30):
        raise RuntimeError("the benchmark SMTP server did not start")
    try:
        yield port, count
    finally:
        stop.set()
        process.join(10)


# --- memory: the most the process grew while a phase ran ---------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    seconds: float
    growth_mb: float  # peak RSS during the phase minus RSS before it
    result: Any


def measure(work: Callable[[], Any]) -> Measured:
    before = _rss()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    peak = max(peak, _rss())
    return Measured(seconds, (peak - before) / 2**20, result)


# --- the scenario -------------------------------------------------------------------------------------


def seed(engine: Engine, count: int) -> None:
    """`count` active email subscribers (everything, immediately), in a few big INSERTs."""
    chunk = 5000
    with engine.begin() as conn:
        for start in range(0, count, chunk):
            ids = range(start + 1, min(start + chunk, count) + 1)
            conn.execute(
                insert(store.subscribers),
                [
                    {
                        "id": i,
                        "email": f"reader{i}@example.org",
                        "phone": None,
                        "language": LANGUAGES[i % len(LANGUAGES)],
                        "status": "active",
                        "created_at": NOW,
                        "confirmed_at": NOW,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(store.subscriptions),
                [
                    {
                        "id": i,
                        "subscriber_id": i,
                        "channel": "email",
                        "all_topics": True,
                        "frequency": "immediate",
                    }
                    for i in ids
                ],
            )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("subscribers", "subscriptions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})"))


def plan(engine: Engine, key: str) -> int:
    with engine.begin() as conn:
        notification = store.ensure_notification(conn, kind="test", key=key, payload={}, now=NOW)
        return queue.plan_audience(conn, notification, "email", NOW)


def deliver_some(
    settings: Settings, now: datetime, engine: Engine, transport: SmtpTransport, size: int
) -> int:
    return deliver(settings, now, engine=engine, transports={"email": transport}, limit=size).sent


def combine(rounds: list[Measured], handled: int) -> Measured:
    """Several rounds of one phase as one: total time, the largest growth, what they handled."""
    return Measured(sum(r.seconds for r in rounds), max(r.growth_mb for r in rounds), handled)


def bare_loop(settings: Settings, port: int, count: int, first: int = 0) -> int:
    """The ceiling: the same messages over one smtplib connection, nothing else."""
    context = BuildContext(settings, NOW)
    notification = Notification(0, "test", "test:bare", {})
    smtp = smtplib.SMTP("127.0.0.1", port, socket.gethostname())
    for i in range(first + 1, first + count + 1):
        message = build_test_email(
            context, notification, Recipient(i, i, "email", f"reader{i}@example.org", LANGUAGES[i % 6])
        )
        smtp.sendmail(message.envelope_from, [message.envelope_to], message.data)  # type: ignore[union-attr]
    smtp.quit()
    return count


def run_database(label: str, url: str, count: int, root: Path, batch_size: int) -> dict[str, Any]:
    environ = {"NEWSROOM_DATABASE_URL": url}
    settings = load_settings(root, environ=environ)
    delivery = settings.file.delivery.model_copy(update={"batch_size": batch_size})
    settings = Settings(root, settings.file.model_copy(update={"delivery": delivery}))
    engine = engine_for(url)
    migrate(engine)
    seed(engine, count)
    figures: dict[str, Any] = {"database": label, "count": count}

    planned = measure(lambda: plan(engine, "test:outbox"))
    figures["plan"] = (planned.result, planned.seconds)
    outbox = OutboxTransport(root / "outbox")
    report = measure(lambda: deliver(settings, NOW, engine=engine, transports={"email": outbox}))
    figures["outbox"] = report
    shutil.rmtree(root / "outbox", ignore_errors=True)

    with smtp_server() as (port, received):
        smtp_config = settings.delivery.smtp.model_copy(update={"port": port})
        plan(engine, "test:smtp")
        later = NOW + timedelta(seconds=1)
        transport = SmtpTransport(smtp_config, password="")
        # Interleaved rounds: this machine's load drifts, and both sides should see the same drift.
        smtp_rounds: list[Measured] = []
        bare_rounds: list[Measured] = []
        share = -(-count // ROUNDS)
        for first in range(0, count, share):
            size = min(share, count - first)
            smtp_rounds.append(measure(partial(deliver_some, settings, later, engine, transport, size)))
            bare_rounds.append(measure(partial(bare_loop, settings, port, size, first)))
        figures["smtp"] = combine(smtp_rounds, sum(r.result for r in smtp_rounds))
        figures["bare"] = combine(bare_rounds, sum(r.result for r in bare_rounds))
        figures["received"] = received.value
    engine.dispose()
    return figures


def rate(measured: Measured, handled: int) -> float:
    return handled / measured.seconds if measured.seconds else 0.0


def line(name: str, measured: Measured, sent: int, note: str) -> str:
    speed = rate(measured, sent)
    return (
        f"  {name:<7} {sent:>9,} sent in {measured.seconds:7.2f} s  {speed:>7,.0f}/s"
        f"  memory +{measured.growth_mb:5.1f} MB  {note}"
    )


def show(figures: dict[str, Any]) -> None:
    count = figures["count"]
    planned, plan_seconds = figures["plan"]
    outbox: Measured = figures["outbox"]
    smtp: Measured = figures["smtp"]
    bare: Measured = figures["bare"]
    outbox_report: DeliveryReport = outbox.result
    smtp_rate, bare_rate = rate(smtp, smtp.result), rate(bare, bare.result)
    print(f"\n== {figures['database']}: {count:,} subscribers")
    print(f"  plan    {planned:>9,} queued in {plan_seconds:7.2f} s  {planned / plan_seconds:>7,.0f}/s")
    print(line("outbox", outbox, outbox_report.sent, "Maildir files"))
    print(line("smtp", smtp, smtp.result, f"newsroom deliver, {ROUNDS} rounds interleaved with bare"))
    print(line("bare", bare, bare.result, "bare smtplib loop, one connection: the ceiling"))
    ratio = smtp_rate / bare_rate if bare_rate else 0.0
    verdict = "ok" if ratio >= 0.70 else "BELOW TARGET 0.70"
    print(f"  smtp/bare = {ratio:.2f} ({verdict}); server received {figures['received']:,} of {2 * count:,}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="subscribers (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 subscribers")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--pg-url", default=os.environ.get("NEWSROOM_TEST_DATABASE_URL", ""))
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.count = min(args.count, 2000)
    with tempfile.TemporaryDirectory(prefix="newsroom-bench-") as scratch:
        root = Path(scratch)
        shutil.copy(REPO / "newsroom.toml", root / "newsroom.toml")
        if args.only != "postgresql":
            show(
                run_database(
                    "SQLite", f"sqlite:///{root / 'var' / 'bench.db'}", args.count, root, args.batch_size
                )
            )
        if args.only != "sqlite":
            if not args.pg_url:
                print("\n== PostgreSQL: skipped (pass --pg-url or set NEWSROOM_TEST_DATABASE_URL)")
                return
            with pg_schema(args.pg_url) as url:
                show(run_database("PostgreSQL", url, args.count, root, args.batch_size))


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = engine_for(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
