"""The SMS gateway's two calls into the web app (Kannel: docs/sms.md).

    GET /sms/inbound?from=%p&to=%P&text=%b[&key=<secret>]   a text to the short code (sms-service get-url)
    GET /sms/dlr?ref=..&sig=..&status=%d&answer=%A&at=%T      what became of a text we sent (dlr-url)

/sms/inbound answers with the keyword reply as the body (Kannel texts it back to the sender) and
`reply_headers(reply)` (X-Kannel-Coding: 2 for Cyrillic, Arabic, Chinese); an empty body sends
nothing. Who may call it:
- NEWSROOM_KANNEL_INBOUND_SECRET set: only calls carrying it as `key=` (add `&key=<secret>` to the
  get-url in kannel.conf); needed whenever Kannel runs on another host;
- not set: only calls from this machine (127.0.0.1/::1, as uvicorn sees them: behind a proxy, the
  proxy's X-Forwarded-For). Anything else gets 403, and nothing is read or written.
/sms/dlr needs no secret: each dlr-url is signed (newsroom.delivery.kannel.dlr_url); a forged or
altered one gets 403.

These endpoints are for machines: plain-text answers, not in the OpenAPI description.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

import phonenumbers
from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine

from newsroom.config import Settings, secret
from newsroom.delivery import sms_reports
from newsroom.delivery.kannel import DeliveryReport, parse_delivery_report, reply_headers
from newsroom.delivery.sms_inbound import InboundOutcome, handle_inbound
from newsroom.render import urls
from newsroom.web.app import Web
from newsroom.web.forms import DEFAULT_PHONE_REGION
from newsroom.web.views import client_of

log = logging.getLogger(__name__)
MAX_TEXT = 1600  # ten concatenated parts: anything longer is not a text message
INBOUND_SECRET = "kannel_inbound_secret"  # NEWSROOM_KANNEL_INBOUND_SECRET


def router_for(web: Web) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(urls.SMS_INBOUND)
    async def inbound(request: Request) -> Response:
        query = request.query_params
        if not _inbound_allowed(client_of(request), query.get("key", "")):
            return Response("forbidden\n", status_code=403, media_type="text/plain")
        sender = sender_number(query.get("from", ""))
        if not sender:
            return Response("missing from\n", status_code=400, media_type="text/plain")
        text = query.get("text", "")[:MAX_TEXT]
        outcome = await web.run(_handle, web.engine, web.settings, sender, text, web)
        headers = reply_headers(outcome.reply)
        return Response(outcome.reply.encode("utf-8"), headers=headers)

    @router.get(urls.SMS_DLR)
    async def delivery_report(request: Request) -> Response:
        try:
            report = parse_delivery_report(dict(request.query_params))
        except ValueError as exc:
            log.warning("refused a delivery report from %s: %s", client_of(request), exc)
            return Response("forbidden\n", status_code=403, media_type="text/plain")
        recorded = await web.run(_record, web.engine, report, web)
        return Response(f"{recorded.state}\n", media_type="text/plain")

    return router


def _handle(engine: Engine, settings: Settings, sender: str, text: str, web: Web) -> InboundOutcome:
    with engine.begin() as conn:
        return handle_inbound(conn, settings, sender=sender, text=text, now=web.clock())


def _record(engine: Engine, report: DeliveryReport, web: Web) -> sms_reports.Recorded:
    with engine.begin() as conn:
        return sms_reports.record_report(conn, report, web.clock())


def _inbound_allowed(client: str, key: str) -> bool:
    expected = secret(INBOUND_SECRET)
    if expected:
        return hmac.compare_digest(key.encode(), expected.encode())
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:  # "unknown", or a name: not provably this machine
        return False


def sender_number(raw: str) -> str:
    """The sender in the form numbers are stored in (E.164: +15185550100) when it reads as a number.

    SMSCs send "+1518...", "001518..." or national forms ("1518...", "518..."; read in the web
    form's region, US); what does not parse (alphanumeric senders) is kept as given, so a STOP is
    never lost to parsing.
    """
    raw = raw.strip()
    if not raw:
        return ""
    candidate = "+" + raw[2:] if raw.startswith("00") else raw
    try:
        number = phonenumbers.parse(candidate, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
