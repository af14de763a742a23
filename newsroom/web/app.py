"""The subscription web app: `create_app(settings)` gives the FastAPI app, `run_web(...)` serves it.

Pages (templates/web/, in the visitor's language; newsroom.web.views):
    GET/POST /subscribe                  the form; always answers "check your email or phone"
    GET/POST /confirm/<token>            double opt-in: a button, so link scanners confirm nothing
    GET/POST /preferences/<token>        language, topics, frequency, channels, the number for texts
    GET/POST /unsubscribe/<token>        one button; POST is also RFC 8058 one-click (no cookie, 200)
    POST     /resubscribe/<token>        the goodbye page's way back
JSON API under /api/ (newsroom.web.api), described at /api/openapi.json.
The SMS gateway's calls, GET /sms/inbound and GET /sms/dlr: newsroom.web.sms (docs/sms.md).

Handlers are thin: forms.py validates, actions.py changes the database (one transaction each) and
queues messages, pages.py renders. Database work runs in the thread pool so a slow query never stalls
the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from newsroom.config import Settings
from newsroom.errors import ConfigError
from newsroom.subscribers.db import open_database
from newsroom.web.pages import STATIC
from newsroom.web.security import Limits, RateLimiter, SecurityHeaders, check_secret_for

Clock = Callable[[], datetime]
T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Web:
    """What every handler shares: settings, the database, the clock and the rate limiters."""

    settings: Settings
    engine: Engine
    clock: Clock = system_clock
    limits: Limits = field(default_factory=Limits)
    per_client: RateLimiter = field(init=False)
    per_target: RateLimiter = field(init=False)

    _inline: bool = field(init=False)

    def __post_init__(self) -> None:
        self.per_client = RateLimiter(self.limits.per_client)
        self.per_target = RateLimiter(self.limits.per_target)
        self._inline = self.engine.dialect.name == "sqlite"

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run a database action: in the thread pool (PostgreSQL), or right here (SQLite).

        SQLite lets one writer in at a time and makes the others poll with sleeps (busy_timeout), and
        its calls take a millisecond or two: running them one after another on the event loop costs
        less than handing each to a thread (measured: bench/web_bench.py).
        """
        if self._inline:
            return function(*args)
        return await run_in_threadpool(function, *args)

    def allow_subscribe(self, client: str, target: str) -> bool:
        """Both buckets must have a token; the target's is only spent if the client's allowed it."""
        return self.per_client.allow(f"client:{client}") and self.per_target.allow(f"target:{target}")


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock = system_clock,
    limits: Limits | None = None,
    environ: dict[str, str] | None = None,
    site_dir: Path | None = None,
) -> FastAPI:
    """The web app for `settings` (the database is created or migrated on first use).

    site_dir: also serve the built static site from there (one origin for a local preview: the
    site's "Subscribe" links and the app's "News" links then both work).
    """
    from newsroom.web import api, messages, sms, views  # noqa: F401 - messages registers its builders

    check_secret_for(environ)
    web = Web(settings, engine or open_database(settings), clock, limits or Limits())
    app = FastAPI(
        title=f"{settings.site.name}: subscriptions",
        summary="Subscribe, confirm, change preferences and unsubscribe, as JSON.",
        docs_url=None,  # Swagger UI needs inline script and a CDN; the schema is at openapi_url
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    views.add_pages(app, web)
    app.include_router(api.router_for(web), prefix="/api")
    app.include_router(sms.router_for(web))  # Kannel's calls: /sms/inbound, /sms/dlr
    if site_dir is not None:
        # Last, so the app's routes win; read through the `site` symlink on every request.
        app.mount("/", StaticFiles(directory=site_dir, html=True, check_dir=False), name="site")
    return app


def run_web(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8001,
    log_level: str = "info",
    site_dir: Path | None = None,
) -> None:
    """Serve the app with uvicorn until interrupted (`newsroom web`)."""
    import uvicorn

    app = create_app(settings, site_dir=site_dir)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True)


class BackgroundWeb:
    """The app served by uvicorn in a thread, beside something else (`newsroom serve`, tests).

    web = BackgroundWeb(settings, port=8001).start()   # returns once it accepts connections
    ...
    web.stop()
    """

    def __init__(
        self, settings: Settings, host: str = "127.0.0.1", port: int = 8001, site_dir: Path | None = None
    ) -> None:
        import uvicorn

        self.url = f"http://{host}:{port}"
        app = create_app(settings, site_dir=site_dir)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="newsroom-web", daemon=True)

    def start(self, timeout: float = 15.0) -> BackgroundWeb:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the web app did not start on {self.url} (is the port in use?)")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
