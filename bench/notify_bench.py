"""Alerts and digests end to end: plan with `notify`/`digest`, then `deliver` into the outbox.

    python -m bench.notify_bench           # 100,000 subscribers, naive baseline on 2,000
    python -m bench.notify_bench --quick   # 10,000 and 300

The synthetic newsroom and subscribers are email_bench's (20 topics, 20 releases in up to 6 languages,
subscribers in 6 languages with 1-3 topics, half immediate, 30% daily, 20% weekly), in a SQLite
database. At 01:00 New York time on 13 December 2024 it plans the alerts of the releases that became
public in the last 24 hours, yesterday's daily digest and last week's weekly digest, then delivers
everything into the outbox (Maildir files). Reported: time to plan, time spent rendering (Jinja2 +
MJML + MIME, once per distinct message; measured inside the run), messages/s into the outbox, how much
the process grew while delivering the first 10% and the remaining 90% (flat: nothing per
subscriber is kept), and the naive rate on an evenly spread slice of the same messages sent again
through the same worker and outbox, with builders that run Jinja2 + MJML + MIME for every recipient.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from bench import email_bench
from bench.delivery_bench import measure
from newsroom.config import Settings, load_settings
from newsroom.delivery import email_builders
from newsroom.delivery import notify as planning
from newsroom.delivery.base import Message
from newsroom.delivery.messages import BuildContext, MessageBuilder, Notification, Recipient, load_builders
from newsroom.delivery.worker import deliver
from newsroom.render import email as email_render
from newsroom.render.email import Content, Kind, PreparedMessage
from newsroom.subscribers import store
from newsroom.subscribers.db import open_database

NOW = datetime(2024, 12, 13, 6, 0, tzinfo=UTC)  # 01:00 in New York: the 12th is over


def seed(engine: Engine, people: list[email_bench.Subscriber]) -> None:
    """The subscribers with their one email subscription each, in a few big INSERTs."""
    chunk = 5000
    with engine.begin() as conn:
        for start in range(0, len(people), chunk):
            part = people[start : start + chunk]
            conn.execute(
                insert(store.subscribers),
                [
                    {"id": n, "email": f"reader{n}@example.org", "phone": None, "language": language,
                     "status": "active", "created_at": NOW, "confirmed_at": NOW}
                    for n, language, _frequency, _topics in part
                ],
            )  # fmt: skip
            conn.execute(
                insert(store.subscriptions),
                [
                    {"id": n, "subscriber_id": n, "channel": "email", "all_topics": False,
                     "frequency": frequency}
                    for n, _language, frequency, _topics in part
                ],
            )  # fmt: skip
            conn.execute(
                insert(store.subscription_topics),
                [{"subscription_id": n, "topic": t} for n, _l, _f, topics in part for t in topics],
            )


class RenderClock:
    """Counts and times every prepare_message (a render) during delivery."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0
        self.original: Callable[..., Any] = email_render.prepare_message

    def __enter__(self) -> RenderClock:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.count += 1

        email_render.prepare_message = timed  # MessageCache looks it up in the module on each miss
        return self

    def __exit__(self, *exc: object) -> None:
        email_render.prepare_message = self.original  # type: ignore[assignment]


def plan_everything(settings: Settings, engine: Engine) -> dict[str, int]:
    alerts = planning.notify(settings, NOW, engine=engine)
    daily = planning.digest(settings, "daily", NOW, engine=engine)
    weekly = planning.digest(settings, "weekly", NOW, engine=engine, day=date(2024, 12, 4))
    return {"alerts": alerts.emails, "daily": daily.planned, "weekly": weekly.planned}


class RenderEveryTime:
    """A MessageCache stand-in that renders on every call: the naive way, per subscriber."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings, self.now = settings, now

    def get(self, kind: Kind, language: str, content: Content) -> PreparedMessage:
        return email_render.prepare_message(kind, language, content, self.settings, self.now)


def naive_builders() -> dict[tuple[str, str], MessageBuilder]:
    """The same builders, but Jinja2 + MJML + MIME run for every recipient (no cache, no reuse)."""

    def naive(real: MessageBuilder) -> MessageBuilder:
        def build(context: BuildContext, notification: Notification, recipient: Recipient) -> Message:
            context.memo[email_builders._CACHE] = RenderEveryTime(context.settings, context.now)
            context.memo.pop(email_builders._LAST, None)
            return real(context, notification, recipient)

        return build

    return {key: naive(builder) for key, builder in load_builders().items()}


def requeue_sample(engine: Engine, count: int) -> int:
    """Put `count` delivered messages, spread evenly over the queue, back to pending (for the naive run)."""
    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(select(store.deliveries.c.id).order_by(store.deliveries.c.id))]
        chosen = ids[:: max(1, len(ids) // count)][:count]
        for start in range(0, len(chosen), 500):
            conn.execute(
                update(store.deliveries)
                .where(store.deliveries.c.id.in_(chosen[start : start + 500]))
                .values(status="pending", next_attempt_at=NOW, attempts=0, claimed_by=None, claimed_at=None)
            )
    return len(chosen)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    total, slice_size = (10_000, 300) if quick else (100_000, 2_000)
    with tempfile.TemporaryDirectory(prefix="newsroom-notify-bench-") as folder:
        root = Path(folder) / "newsroom"
        email_bench.build_newsroom(root)
        settings = load_settings(root, environ={"NEWSROOM_DATABASE_URL": f"sqlite:///{folder}/bench.db"})
        engine = open_database(settings)
        people = email_bench.subscribers(total, list(settings.topics))
        seed(engine, people)
        planned = measure(lambda: plan_everything(settings, engine))
        queued = sum(planned.result.values())
        with RenderClock() as renders:
            first = measure(lambda: deliver(settings, NOW, engine=engine, limit=queued // 10))
            rest = measure(lambda: deliver(settings, NOW, engine=engine))
        sent = first.result.sent + rest.result.sent
        seconds = first.seconds + rest.seconds
        files = sum(1 for _ in (settings.outbox_dir / "email" / "new").iterdir())
        sample = requeue_sample(engine, slice_size)
        naive = measure(lambda: deliver(settings, NOW, engine=engine, builders=naive_builders()))
        engine.dispose()
    rate = sent / seconds
    naive_rate = naive.result.sent / naive.seconds
    counts = planned.result
    verdict = "OK" if rate >= 10 * naive_rate else "BELOW TARGET"
    rows = [
        ("subscribers", f"{total:,}", "6 languages, 20 topics, 20 releases; SQLite"),
        ("queued", f"{queued:,}", f"{counts['alerts']:,} alerts, {counts['daily']:,} daily, "
         f"{counts['weekly']:,} weekly digests"),
        ("time to plan", f"{planned.seconds:.2f} s", "notify + digest daily + digest weekly"),
        ("distinct messages rendered", f"{renders.count:,}", "Jinja2 + MJML + MIME, once each"),
        ("time to render", f"{renders.seconds:.2f} s", "inside the delivery below"),
        ("delivered into outbox/", f"{sent:,} in {seconds:.1f} s", f"{files:,} .eml files"),
        ("messages/s into outbox/", f"{rate:,.0f}/s", "claim, build, personalise, write, record"),
        ("growth, first 10%", f"{first.growth_mb:.1f} MiB", "imports, releases, caches fill"),
        ("growth, remaining 90%", f"{rest.growth_mb:.1f} MiB", "flat: nothing kept per subscriber"),
        (f"naive on {sample:,}", f"{naive_rate:,.0f} msg/s",
         "same run, same worker/outbox; Jinja2 + MJML + MIME per subscriber"),
        ("ratio vs naive", f"{rate / naive_rate:.1f}x", f"target >= 10x: {verdict}"),
    ]  # fmt: skip
    for label, value, note in rows:
        print(f"  {label:<28} {value:>18}  {note}")
    return 0 if sent == queued == files and naive.result.sent == sample else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
