"""What Kannel's delivery reports say about sent texts, recorded on the delivery row.

The dlr-url (newsroom.delivery.kannel.dlr_url) carries the worker's delivery reference
("<delivery id, 9 digits>-<notification>-sms"), signed; the web app's `/sms/dlr` checks the
signature (`kannel.parse_delivery_report`) and calls `record_report` in a transaction:

- every report sets deliveries.dlr_status / dlr_answer / dlr_at, except that a final state
  (delivered, undelivered, rejected) is never overwritten by a late "accepted" or "buffered";
- "rejected" (the SMSC refused the number: not a mobile, barred, does not exist) is permanent, like
  a hard bounce: the delivery becomes failed, the number is suppressed ("bounce") and the consent log
  gets "bounce" (source sms);
- "undelivered" is recorded only: a phone switched off for the message's validity period ends that
  way too, and suppressing it would drop a resident who simply had no signal. But
  UNDELIVERED_IN_A_ROW (3) final reports for one number that are all "undelivered" (no "delivered"
  between them) mean the number is dead or given to someone else: suppressed as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from newsroom.delivery.kannel import DeliveryReport
from newsroom.subscribers import store

FINAL_STATES = ("delivered", "undelivered", "rejected")
PERMANENT_STATES = ("rejected",)
UNDELIVERED_IN_A_ROW = 3
_DELIVERY_ID = re.compile(r"(\d+)-")


@dataclass(frozen=True)
class Recorded:
    delivery_id: int | None  # None: the reference names no delivery we have (erased, or not ours)
    state: str
    suppressed: bool  # the number was suppressed because of this report


def delivery_id_of(reference: str) -> int | None:
    """The delivery row id at the start of a worker's reference, or None."""
    found = _DELIVERY_ID.match(reference)
    return int(found.group(1)) if found else None


def record_report(conn: Connection, report: DeliveryReport, now: datetime) -> Recorded:
    """Record one delivery report on its delivery (see the module docstring for the rules)."""
    deliveries = store.deliveries
    delivery_id = delivery_id_of(report.reference)
    if delivery_id is None:
        return Recorded(None, report.state, False)
    row = (
        conn.execute(select(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.channel == "sms"))
        .mappings()
        .first()
    )
    if row is None:
        return Recorded(None, report.state, False)
    if row["dlr_status"] in FINAL_STATES and report.state not in FINAL_STATES:
        return Recorded(delivery_id, str(row["dlr_status"]), False)  # a late, weaker report
    values: dict[str, object] = {"dlr_status": report.state, "dlr_answer": report.answer[:255], "dlr_at": now}
    first_time = row["dlr_status"] != report.state  # Kannel may call the same report twice
    permanent = first_time and report.state in PERMANENT_STATES
    if permanent:
        values.update(status="failed", last_error=f"SMSC {report.state}: {report.answer}"[:300])
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))
    if first_time and report.state == "undelivered":
        permanent = _undelivered_in_a_row(conn, str(row["address"]))
    if permanent:
        _suppress(conn, row["subscriber_id"], str(row["address"]), report, delivery_id, now)
    return Recorded(delivery_id, report.state, permanent)


def _undelivered_in_a_row(conn: Connection, address: str) -> bool:
    """The number's last UNDELIVERED_IN_A_ROW final reports all say "undelivered"."""
    deliveries = store.deliveries
    latest = conn.execute(
        select(deliveries.c.dlr_status)
        .where(deliveries.c.address == address, deliveries.c.dlr_status.in_(FINAL_STATES))
        .order_by(deliveries.c.dlr_at.desc(), deliveries.c.id.desc())
        .limit(UNDELIVERED_IN_A_ROW)
    ).scalars()
    states = list(latest)
    return len(states) == UNDELIVERED_IN_A_ROW and all(state == "undelivered" for state in states)


def _suppress(
    conn: Connection,
    subscriber_id: int,
    address: str,
    report: DeliveryReport,
    delivery_id: int,
    now: datetime,
) -> None:
    """Like a hard bounce: the number is suppressed and the consent log says why (once)."""
    if store.suppression_of(conn, address) not in (None, *store.LIFTABLE_REASONS):
        return  # already bounced, complained or blocked: nothing new to record
    store.suppress(conn, address, "bounce", now, detail=f"SMSC {report.state}: {report.answer}"[:300])
    store.log_consent(
        conn, subscriber_id=subscriber_id, address=address, channel="sms", action="bounce", source="sms",
        now=now, detail={"state": report.state, "answer": report.answer[:160], "delivery_id": delivery_id},
    )  # fmt: skip
