"""The SMS gateway the delivery worker sends through when [delivery] sms_transport is not "outbox"."""

from __future__ import annotations

from newsroom.config import Settings
from newsroom.delivery.base import Transport
from newsroom.delivery.kannel import KannelTransport
from newsroom.errors import DeliveryError


def transport_for(settings: Settings) -> Transport:
    if settings.delivery.sms_transport == "kannel":
        return KannelTransport(settings)
    raise DeliveryError(
        f"[delivery] sms_transport = {settings.delivery.sms_transport!r} is not a known SMS gateway "
        "(fix: use 'outbox' or 'kannel')"
    )
