"""The web app's defences: CSRF tokens, rate limits, security headers, and the production key check.

CSRF (signed double submit). A form page sets the cookie `newsroom_csrf` to `<nonce>.<hmac>` and puts
the same value in a hidden field; a form POST is accepted only when field and cookie are equal and the
HMAC (keyed with the site secret) is genuine. A cross-site page can neither read the cookie nor plant
a valid one (it cannot sign), and the cookie is SameSite=Strict besides. Forms reached through a
personal link (unsubscribe) need no CSRF token: the signed token in the URL is the capability, and
RFC 8058 one-click POSTs arrive without cookies by design.

Rate limits. Token buckets kept in memory per process: one per client address (what the form is
posted from) and one per target address (what it asks us to write to), so nobody can use the form to
mail-bomb a third person. Several app processes keep separate buckets; the limits are per process,
which still bounds every target to (processes x capacity). Behind a reverse proxy, run uvicorn with
--proxy-headers so the client address is the visitor's, not the proxy's.

Production. NEWSROOM_ENV says where we run: "development" (the default; also "dev", "test") or
anything else (e.g. "production", "staging"). Outside development the app refuses to start while tokens
would be signed with the public development key (NEWSROOM_SECRET_KEY unset) or a key shorter than 32
characters.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsroom.errors import ConfigError
from newsroom.subscribers.tokens import is_development_key, signing_keys

CSRF_COOKIE = "newsroom_csrf"
CSRF_FIELD = "csrf_token"
DEVELOPMENT_ENVS = frozenset({"", "development", "dev", "test"})
MIN_KEY_LENGTH = 32

# No script at all; styles only from our own stylesheet (no inline style attributes either).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Personal links carry tokens: never send them to another site in a Referer header.
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cache-control", b"no-store"),
]


def environment_name(environ: dict[str, str] | None = None) -> str:
    return (environ if environ is not None else os.environ).get("NEWSROOM_ENV", "").strip().lower()


def check_secret_for(environ: dict[str, str] | None = None) -> None:
    """Refuse to run outside development with the development key or a short one."""
    env = environment_name(environ)
    if env in DEVELOPMENT_ENVS:
        return
    keys = signing_keys()
    if is_development_key(keys):
        raise ConfigError(
            f"NEWSROOM_ENV={env}: refusing to start with the development signing key "
            '(fix: set NEWSROOM_SECRET_KEY to a long random value, e.g. python -c "import secrets; '
            'print(secrets.token_urlsafe(48))")'
        )
    if len(keys[-1]) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"NEWSROOM_ENV={env}: NEWSROOM_SECRET_KEY is shorter than {MIN_KEY_LENGTH} characters "
            "(fix: use a long random value)"
        )


# --- CSRF -------------------------------------------------------------------------------------------------


def _csrf_mac(nonce: str) -> str:
    key = hashlib.sha256(("newsroom.csrf:" + signing_keys()[-1]).encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token() -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_csrf_mac(nonce)}"


def csrf_token_is_genuine(token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, mac = token.split(".")
    return hmac.compare_digest(mac, _csrf_mac(nonce))


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    """A form POST passes when the field repeats the cookie and the cookie was signed by us."""
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode(), field.encode()) and csrf_token_is_genuine(cookie)


# --- rate limits --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A token bucket: `capacity` requests at once, then one more every `refill_seconds`."""

    capacity: float
    refill_seconds: float


@dataclass(frozen=True)
class Limits:
    per_client: Limit = Limit(capacity=20, refill_seconds=30)  # a family or an office behind one NAT
    per_target: Limit = Limit(capacity=3, refill_seconds=600)  # confirmation messages to one address


class RateLimiter:
    """Token buckets by key, in memory, bounded to `max_keys` (the least recently used go first)."""

    def __init__(
        self, limit: Limit, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        now = self.clock()
        with self._lock:
            tokens, updated = self._buckets.pop(key, (self.limit.capacity, now))
            tokens = min(self.limit.capacity, tokens + (now - updated) / self.limit.refill_seconds)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return allowed

    def retry_after(self) -> int:
        return max(1, round(self.limit.refill_seconds))


# --- headers ------------------------------------------------------------------------------------------------


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response (cheaper than BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
