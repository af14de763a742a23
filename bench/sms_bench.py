"""SMS benchmark: `python -m bench.sms_bench [--quick] [--subscribers N] [--messages M] [--no-kannel]`.

1. Composition for 100,000 synthetic subscribers across the six languages, two ways: composing
   each subscriber's alert (the baseline a naive notifier would do) and composing once per
   (release, language) then looking it up per subscriber (what newsroom does). Prints both rates
   and the ratio, plus the segments the fan-out would cost.
2. Queueing in SQLite: one alert planned for 100,000 SMS subscribers (deliveries/s), then the
   delivery worker claiming, building (composed alert per subscriber language) and recording
   20,000 of them into a transport that only counts (so this is newsroom's own speed).
3. Messages/s through a real Kannel (bearerbox + smsbox on loopback) to fakesmsc, for 2,000
   messages: how fast smsbox accepts them over one keep-alive connection, and how fast they reach
   the handset. The throttle is set far above that, so this is the gateway's own capacity.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from newsroom.config import Settings, load_settings
from newsroom.content.loader import load_newsroom
from newsroom.content.models import Release
from newsroom.delivery.base import OutgoingSms, Sent
from newsroom.delivery.kannel import KannelTransport
from newsroom.gate import gate
from newsroom.render.sms import SmsAlert, alerts_by_language, compose_alert

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 12, 20, 14, 0, tzinfo=UTC)
# A plausible mix for a state with large Spanish, Chinese, Russian, Haitian and Arabic communities.
WARM_UP = 100
LANGUAGE_MIX = {"en": 0.55, "es": 0.22, "zh": 0.08, "ru": 0.06, "ht": 0.05, "ar": 0.04}


def synthetic_subscribers(count: int, seed: int = 8) -> list[tuple[str, str]]:
    """(phone number, language) pairs, reproducible."""
    chooser = random.Random(seed)
    languages = chooser.choices(list(LANGUAGE_MIX), weights=list(LANGUAGE_MIX.values()), k=count)
    return [(f"+1518{5550000 + n:07d}", language) for n, language in enumerate(languages)]


def bench_compose(
    settings: Settings, releases: tuple[Release, ...], subscribers: list[tuple[str, str]]
) -> None:
    release = releases[0]
    naive_count = min(len(subscribers), 20_000)  # per-subscriber composing is slow; time a sample
    started = time.perf_counter()
    for _phone, language in subscribers[:naive_count]:
        compose_alert(release, language, settings)
    naive_rate = naive_count / (time.perf_counter() - started)

    started = time.perf_counter()
    segments: Counter[str] = Counter()
    for release in releases:
        alerts: dict[str, SmsAlert] = alerts_by_language(release, settings)
        for _phone, language in subscribers:
            alert = alerts[language]
            segments[alert.count.encoding] += alert.count.segments
    elapsed = time.perf_counter() - started
    fanout_rate = len(subscribers) * len(releases) / elapsed
    print(f"compose per subscriber (baseline): {naive_rate:12,.0f} alerts/s  ({naive_count:,} timed)")
    print(
        f"compose once per language, fan out: {fanout_rate:12,.0f} alerts/s  "
        f"({len(subscribers):,} subscribers x {len(releases)} releases in {elapsed:.2f} s)"
    )
    print(f"  ratio: {fanout_rate / naive_rate:,.0f}x the baseline")
    print(f"  segments to send: {dict(segments)} (total {sum(segments.values()):,})")


def bench_kannel(settings: Settings, messages: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.sms_support import settings_for_gateway
    from tests.support.kannel import KannelGateway, kannel_missing

    if kannel_missing():
        print(f"kannel: skipped ({kannel_missing()})")
        return
    release = load_newsroom(settings).by_slug("new-york-experience")
    texts = {language: compose_alert(release, language, settings).text for language in ("en", "ru")}
    # Kannel logs at "info": at "debug" it writes several lines per message.
    with KannelGateway("http://127.0.0.1:9/sms/inbound", log_level=1) as gateway:
        fast = settings_for_gateway(settings, gateway, messages_per_second=1_000_000)
        with KannelTransport(fast, password=gateway.password) as transport:
            for number in range(WARM_UP):  # first connections and Kannel's queues warm up untimed
                transport.send(OutgoingSms(f"+1518555{number:04d}", "warm-up"), f"warm-{number}")
        _wait_until_shown(gateway, WARM_UP)
        started = time.perf_counter()
        with KannelTransport(fast, password=gateway.password) as transport:
            for number in range(messages):
                language = "ru" if number % 4 == 0 else "en"
                outcome = transport.send(
                    OutgoingSms(f"+1518{5550000 + number:07d}", texts[language]), f"b-{number}"
                )
                if not isinstance(outcome, Sent):
                    raise SystemExit(f"message {number} was not accepted: {outcome}")
        accepted = time.perf_counter() - started
        _wait_until_shown(gateway, WARM_UP + messages, timeout=max(60.0, messages / 20))
        arrived = time.perf_counter() - started
    print(
        f"kannel sendsms accepted: {messages / accepted:10,.0f} messages/s ({messages:,} in {accepted:.2f} s)"
    )
    print(
        f"kannel to fakesmsc:      {messages / arrived:10,.0f} messages/s (all arrived after {arrived:.2f} s)"
    )


def _wait_until_shown(gateway: object, count: int, timeout: float = 60.0) -> None:
    from tests.sms_support import handset_messages

    deadline = time.monotonic() + timeout
    while len(handset_messages(gateway.phone_inbox)) < count:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(handset_messages(gateway.phone_inbox))} of {count} arrived")  # type: ignore[attr-defined]
        time.sleep(0.05)


class CountingTransport:
    """Takes every message and counts it: the worker's own speed, without a gateway's."""

    name = "counting"

    def __init__(self) -> None:
        self.count = 0

    def open(self) -> None:
        pass

    def send(self, message: object, reference: str) -> Sent:
        self.count += 1
        return Sent()

    def close(self) -> None:
        pass


def bench_queue(settings: Settings, subscribers: list[tuple[str, str]], deliver_count: int) -> None:
    from newsroom.delivery.sms_alerts import plan_sms_alert
    from newsroom.delivery.worker import deliver
    from newsroom.subscribers import store
    from newsroom.subscribers.db import engine_for, migrate
    from newsroom.subscribers.store import Subscription

    release = gate(load_newsroom(settings), NOW).by_slug("new-york-experience")
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as folder:
        url = f"sqlite:///{folder}/newsroom.db"
        local = Settings(
            settings.root,
            settings.file.model_copy(
                update={"database": settings.file.database.model_copy(update={"url": url})}
            ),
        )
        engine = engine_for(url)
        migrate(engine)
        with engine.begin() as conn:
            for number, language in subscribers:
                subscriber = store.insert_subscriber(
                    conn, email=None, phone=number, language=language, status="active", now=NOW
                )
                store.set_subscription(conn, subscriber, Subscription("sms", "immediate", ()))
        started = time.perf_counter()
        with engine.begin() as conn:
            planned = plan_sms_alert(conn, local, release, NOW)
        queued = time.perf_counter() - started
        sink = CountingTransport()
        report = deliver(local, NOW, engine=engine, transports={"sms": sink}, limit=deliver_count)
        engine.dispose()
    print(
        f"queue one alert (SQLite):   {planned / queued:12,.0f} deliveries/s ({planned:,} in {queued:.2f} s)"
    )
    print(
        f"worker build + record:      {report.rate:12,.0f} messages/s "
        f"({report.sent:,} in {report.seconds:.2f} s, batches of {local.delivery.batch_size})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 10,000 subscribers, 200 messages")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--deliver", type=int, default=20_000)
    parser.add_argument("--no-kannel", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.subscribers, options.messages, options.deliver = 10_000, 200, 2_000
    settings = load_settings(REPO, environ={})
    published = gate(load_newsroom(settings), NOW)
    subscribers = synthetic_subscribers(options.subscribers)
    bench_compose(settings, published.releases, subscribers)
    bench_queue(settings, subscribers, options.deliver)
    if not options.no_kannel:
        bench_kannel(settings, options.messages)


if __name__ == "__main__":
    main()
