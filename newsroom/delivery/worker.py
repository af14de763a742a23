"""`deliver`: claim due deliveries in batches, build each message, send it, record the outcome.

Any number of workers may run at once (on PostgreSQL, on several machines): claims never overlap
(see newsroom.delivery.queue). Each outcome is committed right after its message is sent, so a
crash loses at most the one message in flight (queue.py explains the recovery). Ctrl-C (SIGINT) asks
the run to stop: the batch in flight is finished and recorded, nothing else is claimed.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from newsroom.config import Settings
from newsroom.delivery import queue
from newsroom.delivery.base import Outcome, PermanentFailure, Sent, TemporaryFailure, Transport
from newsroom.delivery.messages import (
    BuildContext,
    MessageBuilder,
    Notification,
    Recipient,
    builder_for,
    load_builders,
)
from newsroom.delivery.outbox import OutboxTransport, safe_name
from newsroom.delivery.smtp import SmtpTransport
from newsroom.errors import DeliveryError
from newsroom.subscribers import store
from newsroom.subscribers.db import open_database


@dataclass
class DeliveryReport:
    """What one `deliver` run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    recovered: int = 0  # stale claims of a dead worker put back in the queue at the start
    batches: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    transports: dict[str, str] = field(default_factory=dict)  # channel -> transport name

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.suppressed

    @property
    def rate(self) -> float:
        return self.handled / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if not self.handled and not self.recovered:
            return "nothing due to send" + ("; stopped by Ctrl-C" if self.interrupted else "")
        via = ", ".join(f"{channel} via {name}" for channel, name in sorted(self.transports.items()))
        text = (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, {self.suppressed} suppressed"
            f" in {self.seconds:.1f} s ({self.rate:.0f}/s)"
        )
        if via:
            text += f"; {via}"
        if self.recovered:
            text += f"; {self.recovered} stale claim(s) recovered"
        if self.interrupted:
            text += "; stopped by Ctrl-C after the batch in flight (the rest stays queued)"
        return text


def transports_for(settings: Settings) -> dict[str, Transport]:
    """The transport per channel, as [delivery] in newsroom.toml chooses."""
    outbox = OutboxTransport(settings.outbox_dir)
    chosen: dict[str, Transport] = {"email": outbox, "sms": outbox}
    if settings.delivery.email_transport == "smtp":
        chosen["email"] = SmtpTransport(settings.delivery.smtp)
    if settings.delivery.sms_transport != "outbox":
        chosen["sms"] = _sms_gateway(settings)
    return chosen


def _sms_gateway(settings: Settings) -> Transport:
    """The SMS gateway transport (Kannel), provided by newsroom.delivery.sms_gateway when present."""
    try:
        from newsroom.delivery import sms_gateway
    except ImportError as exc:
        raise DeliveryError(
            f"sms_transport = {settings.delivery.sms_transport!r} needs newsroom.delivery.sms_gateway "
            "(fix: set [delivery] sms_transport = 'outbox')"
        ) from exc
    transport: Transport = sms_gateway.transport_for(settings)
    return transport


def deliver(
    settings: Settings,
    now: datetime,
    *,
    engine: Engine | None = None,
    transports: dict[str, Transport] | None = None,
    builders: dict[tuple[str, str], MessageBuilder] | None = None,
    worker: str | None = None,
    limit: int | None = None,
    progress: bool = False,
    stop: threading.Event | None = None,
    console: Console | None = None,
) -> DeliveryReport:
    """Send every due delivery (at most `limit`); returns counts. `now` dates claims and retries."""
    own_engine = engine is None
    run = _Run(
        settings=settings,
        now=now,
        engine=engine or open_database(settings),
        transports=transports or transports_for(settings),
        builders=load_builders() if builders is None else builders,
        worker=worker or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}",
        stop=stop or threading.Event(),
    )
    try:
        with _stop_on_sigint(run.stop):
            return run.go(limit, progress, console)
    finally:
        if own_engine:
            run.engine.dispose()


@dataclass
class _Run:
    settings: Settings
    now: datetime
    engine: Engine
    transports: dict[str, Transport]
    builders: dict[tuple[str, str], MessageBuilder]
    worker: str
    stop: threading.Event
    report: DeliveryReport = field(default_factory=DeliveryReport)
    notifications: dict[int, Notification] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    file_keys: dict[int, str] = field(default_factory=dict)
    sent_recorder: queue.SentRecorder | None = None  # set in go(), on the recorder connection

    def go(self, limit: int | None, progress: bool, console: Console | None) -> DeliveryReport:
        with self.engine.begin() as conn:
            self.report.recovered = queue.recover_stale(conn, self.now)
            due = queue.count_due(conn, self.now)
        total = min(due, limit) if limit is not None else due
        context = BuildContext(self.settings, self.now)
        opened: dict[str, Transport] = {}
        bar = _progress_bar(console) if progress and total else None
        try:
            with bar or nullcontext(), self.engine.connect() as connection:
                recorder = _recorder(connection)
                self.sent_recorder = queue.SentRecorder(recorder)
                task = bar.add_task("Delivering", total=total, counts="") if bar else None
                while not self.stop.is_set() and (limit is None or self.report.handled < limit):
                    size = self.settings.delivery.batch_size
                    if limit is not None:
                        size = min(size, limit - self.report.handled)
                    with self.engine.begin() as conn:
                        batch = queue.claim_batch(conn, self.worker, self.clock(), size)
                    if not batch:
                        break
                    self.report.batches += 1
                    self._send_batch(batch, context, opened, recorder, bar, task)
        finally:
            for transport in {id(t): t for t in opened.values()}.values():
                transport.close()
            self.report.seconds = time.perf_counter() - self.started
            self.report.interrupted = self.stop.is_set()
        return self.report

    def clock(self) -> datetime:
        """The run's `now` moved on by the time the run has taken (claims and retries are dated by it)."""
        return self.now + timedelta(seconds=time.perf_counter() - self.started)

    def _send_batch(
        self,
        batch: list[queue.Claimed],
        context: BuildContext,
        opened: dict[str, Transport],
        recorder: Connection,
        bar: Progress | None,
        task: Any,
    ) -> None:
        """Send one claimed batch; whatever happens, no claim is left dangling."""
        to_send = self._drop_suppressed(batch)
        if bar is not None:
            bar.update(task, advance=len(batch) - len(to_send), counts=self._counts())
        done = 0
        try:
            for claimed in to_send:
                self._record(recorder, claimed, self._send_one(claimed, context, opened))
                done += 1
                if bar is not None:
                    bar.update(task, advance=1, counts=self._counts())
        finally:
            if self.sent_recorder is not None:
                self.sent_recorder.collect()  # every "sent" of the batch is recorded before we go on
            untouched = [claimed.id for claimed in to_send[done:]]
            if untouched:  # a builder or transport raised: give the rest back to the queue as it was
                with self.engine.begin() as conn:
                    queue.release(conn, untouched)

    def _send_one(
        self, claimed: queue.Claimed, context: BuildContext, opened: dict[str, Transport]
    ) -> Outcome:
        notification = self._notification(claimed.notification_id)
        builder = builder_for(self.builders, notification.kind, claimed.channel)
        recipient = Recipient(
            claimed.id,
            claimed.subscriber_id,
            claimed.channel,
            claimed.address,
            claimed.language,
            claimed.frequency,
            claimed.topics,
        )
        message = builder(context, notification, recipient)
        reference = f"{claimed.id:09d}-{self._file_key(notification)}-{claimed.channel}"
        return self._transport(claimed.channel, opened).send(message, reference)

    def _drop_suppressed(self, batch: list[queue.Claimed]) -> list[queue.Claimed]:
        """The send-time suppression check: one query per batch; suppressed deliveries are never sent."""
        with self.engine.begin() as conn:
            reasons = store.suppressed_among(conn, sorted({claimed.address for claimed in batch}))
            blocked: dict[str, list[int]] = {}
            for claimed in batch:
                reason = reasons.get(claimed.address)
                kind = self._notification(claimed.notification_id, conn).kind
                if store.is_blocking(reason, kind):
                    blocked.setdefault(str(reason), []).append(claimed.id)
            for reason, ids in blocked.items():
                queue.mark_suppressed(conn, ids, reason)
        skipped = {delivery_id for ids in blocked.values() for delivery_id in ids}
        self.report.suppressed += len(skipped)
        return [claimed for claimed in batch if claimed.id not in skipped]

    def _record(self, recorder: Connection, claimed: queue.Claimed, outcome: Outcome) -> None:
        """Commit one outcome at once (the recorder connection autocommits each statement)."""
        now = self.clock()
        if isinstance(outcome, Sent):
            if self.sent_recorder is None:
                queue.record_sent(recorder, claimed.id, outcome.provider_id, now)
            else:
                self.sent_recorder(claimed.id, outcome.provider_id, now)
            self.report.sent += 1
        elif isinstance(outcome, TemporaryFailure):
            if self.sent_recorder is not None:
                self.sent_recorder.collect()  # the connection is free again
            retrying = queue.record_temporary(
                recorder, claimed, outcome.reason, now, self.settings.delivery.max_attempts
            )
            if retrying:
                self.report.retrying += 1
            else:
                self.report.failed += 1
        elif isinstance(outcome, PermanentFailure):
            with self.engine.begin() as conn:
                queue.record_permanent(conn, claimed, outcome.reason, now)
            self.report.failed += 1

    def _notification(self, notification_id: int, conn: Connection | None = None) -> Notification:
        cached = self.notifications.get(notification_id)
        if cached is None:
            with nullcontext(conn) if conn is not None else self.engine.connect() as reader:
                row = store.get_notification(reader, notification_id)
            if row is None:
                raise DeliveryError(f"notification {notification_id} vanished while queued")
            cached = Notification(row["id"], row["kind"], row["key"], row["payload"])
            self.notifications[notification_id] = cached
        return cached

    def _file_key(self, notification: Notification) -> str:
        key = self.file_keys.get(notification.id)
        if key is None:
            key = self.file_keys[notification.id] = safe_name(notification.key)
        return key

    def _transport(self, channel: str, opened: dict[str, Transport]) -> Transport:
        transport = opened.get(channel)
        if transport is None:
            transport = self.transports.get(channel)
            if transport is None:
                raise DeliveryError(f"no transport for channel {channel!r}")
            if transport not in opened.values():
                transport.open()
            opened[channel] = transport
            self.report.transports[channel] = transport.name
        return transport

    def _counts(self) -> str:
        r = self.report
        return f"{r.sent} sent · {r.retrying} retry · {r.failed} failed · {r.suppressed} suppressed"


def _recorder(connection: Connection) -> Connection:
    """The connection outcomes are written on: each statement commits on its own, at once.

    On PostgreSQL with synchronous_commit off: a commit no longer waits for its WAL flush (a disk
    sync per message would cap delivery near 150 messages/s here). A crash of the *worker* still
    loses nothing committed; only a crash of the database server itself can lose the last fraction
    of a second of outcomes, whose deliveries are then recovered as stale claims and sent again.
    """
    recorder = connection.execution_options(isolation_level="AUTOCOMMIT")
    if recorder.dialect.name == "postgresql":
        recorder.exec_driver_sql("SET synchronous_commit = off")
    return recorder


class _RateColumn(ProgressColumn):
    """Messages per second over the last few seconds."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f}/s", style="cyan")


def _progress_bar(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _stop_on_sigint(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C: finish the batch in flight, then stop. Second Ctrl-C: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, _request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _PublishRun(Protocol):
    settings: Settings
    now: datetime


def deliver_stage(run: _PublishRun) -> str:
    """The `deliver` stage of `newsroom publish`: send whatever is due at the run's `now`."""
    return deliver(run.settings, run.now).summary()
