"""The HTML pages: read the request, call forms/actions, render a page in the visitor's language.

Every problem a visitor can cause ends on a page in their language: a form with its errors, or
error.html for links that are broken (400), expired (410), no longer valid (404) or used too often
(429). Nothing shows a traceback.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsroom.render import urls
from newsroom.subscribers.store import Subscriber
from newsroom.subscribers.tokens import ExpiredToken, InvalidToken, Purpose, make_token, read_token
from newsroom.web import actions
from newsroom.web.app import Web
from newsroom.web.forms import N_, Errors, read_address, read_choice, read_preferences
from newsroom.web.pages import Page, choose_language, render
from newsroom.web.security import CSRF_COOKIE, CSRF_FIELD, csrf_ok, csrf_token_is_genuine, new_csrf_token

FORM_EXPIRED = N_("This form has expired. Check your answers and send it again.")


class LinkProblem(Exception):
    """A personal link that cannot be used: status code, title and message for error.html."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


def broken() -> LinkProblem:
    return LinkProblem(400, N_("This link does not work"), N_(
        "The link may be incomplete or changed. Copy the whole link from the email, or subscribe again."
    ))  # fmt: skip


def expired() -> LinkProblem:
    return LinkProblem(410, N_("This link has expired"), N_(
        "Confirmation links work for 7 days. Subscribe again and we will send you a new one."
    ))  # fmt: skip


def gone() -> LinkProblem:
    return LinkProblem(404, N_("This link is no longer valid"), N_(
        "We have no subscription for this link any more. You can subscribe again at any time."
    ))  # fmt: skip


class FormData:
    """A posted form as plain strings: `values` (last value of each field) and the chosen `topics`."""

    def __init__(self, values: dict[str, str], topics: list[str]) -> None:
        self.values = values
        self.topics = topics


FORM_FIELDS = ("address", "language", "scope", "frequency", "email", "sms", "phone")


async def read_form(request: Request) -> FormData:
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    for name in FORM_FIELDS:
        values.setdefault(name, "")
    topics = [value for value in form.getlist("topics") if isinstance(value, str)]
    return FormData(values, topics)


def add_pages(app: FastAPI, web: Web) -> None:
    settings = web.settings

    def language(request: Request, explicit: str | None = None, personal: str | None = None) -> str:
        chosen = explicit or request.query_params.get("lang")
        return choose_language(settings, chosen, personal, request.headers.get("accept-language", ""))

    def respond(request: Request, page: Page, status: int = 200, *, csrf: bool = False,
                headers: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
        """Render `page`; pages with a form get the CSRF token (and its cookie when the visitor has none)."""
        new_cookie = ""
        if csrf:
            cookie = request.cookies.get(CSRF_COOKIE)
            page.csrf_token = cookie if cookie and csrf_token_is_genuine(cookie) else new_csrf_token()
            new_cookie = "" if page.csrf_token == cookie else page.csrf_token
        response = HTMLResponse(render(page, settings), status_code=status, headers=headers)
        if new_cookie:
            response.set_cookie(
                CSRF_COOKIE, new_cookie, httponly=True, samesite="strict", path="/",
                secure=request.url.scheme == "https",
            )  # fmt: skip
        return response

    def problem_page(request: Request, problem: LinkProblem, lang: str | None = None) -> HTMLResponse:
        page = Page("error.html", lang or language(request), request.url.path,
                    {"title": problem.title, "message": problem.message})  # fmt: skip
        return respond(request, page, problem.status)

    def subscriber_id(token: str, purpose: Purpose) -> int:
        try:
            return read_token(token, purpose, web.clock())
        except ExpiredToken:
            raise expired() from None
        except InvalidToken:
            raise broken() from None

    async def load(token: str, purpose: Purpose) -> Subscriber:
        try:
            return await web.run(actions.subscriber, web.engine, subscriber_id(token, purpose))
        except actions.UnknownSubscriber:
            raise gone() from None

    def link(purpose: Purpose, subscriber: Subscriber, lang: str) -> str:
        return f"/{purpose}/{make_token(subscriber.id, purpose, web.clock())}?lang={lang}"

    @app.exception_handler(LinkProblem)
    async def _link_problem(request: Request, exc: LinkProblem) -> Response:
        return problem_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_problem(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        title = N_("Page not found") if exc.status_code == 404 else N_("Something went wrong")
        message = N_("Check the address, or start again from the subscription page.")
        return problem_page(request, LinkProblem(exc.status_code, title, message))

    # --- subscribe --------------------------------------------------------------------------------------

    def subscribe_page(request: Request, lang: str, form: dict[str, Any], errors: Errors, status: int = 200,
                       headers: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
        values = {"form": form, "errors": errors.by_field, "first_error": next(iter(errors.by_field), "")}
        return respond(request, Page("subscribe.html", lang, urls.SUBSCRIBE, values), status, csrf=True,
                       headers=headers)  # fmt: skip

    @app.get(urls.SUBSCRIBE, response_class=HTMLResponse, include_in_schema=False)
    async def subscribe_form(request: Request) -> Response:
        lang = language(request)
        form = {"address": "", "language": lang, "scope": "all", "topics": [], "frequency": "immediate"}
        return subscribe_page(request, lang, form, Errors())

    @app.post(urls.SUBSCRIBE, response_class=HTMLResponse, include_in_schema=False)
    async def subscribe_post(request: Request) -> Response:
        posted = await read_form(request)
        lang = language(request, posted.values.get("lang"))
        kept = {**posted.values, "topics": posted.topics}
        errors = Errors()
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), posted.values.get(CSRF_FIELD)):
            errors.add("address", FORM_EXPIRED)
            return subscribe_page(request, lang, kept, errors, 403)
        address = read_address(posted.values.get("address", ""), errors)
        choice = read_choice(posted.values, posted.topics, settings, errors)
        if errors or address is None:
            return subscribe_page(request, lang, kept, errors, 400)
        if not web.allow_subscribe(client_of(request), address.value):
            errors.add("address", N_("Too many requests. Wait a few minutes, then try again."))
            retry = {"Retry-After": str(web.per_target.retry_after())}
            return subscribe_page(request, lang, kept, errors, 429, retry)
        await web.run(actions.subscribe, web.engine, address, choice, "web", web.clock())
        return respond(request, Page("check.html", lang, urls.SUBSCRIBE))

    # --- confirm ----------------------------------------------------------------------------------------

    @app.get("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def confirm_page(request: Request, token: str) -> Response:
        subscriber = await load(token, "confirm")
        lang = language(request, personal=subscriber.language)
        # active with an email subscription: nothing left to confirm (a YES by text activates only SMS,
        # and leaves this link to bring back the email subscription)
        if subscriber.status == "active" and any(sub.channel == "email" for sub in subscriber.subscriptions):
            values = {"address": subscriber.email, "preferences_url": link("preferences", subscriber, lang),
                      "already": True}  # fmt: skip
            return respond(request, Page("confirmed.html", lang, request.url.path, values))
        page = Page("confirm.html", lang, request.url.path, {"address": subscriber.email, "error": ""})
        return respond(request, page, csrf=True)

    @app.post("/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def confirm_post(request: Request, token: str) -> Response:
        posted = await read_form(request)
        subscriber = await load(token, "confirm")
        lang = language(request, posted.values.get("lang"), subscriber.language)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), posted.values.get(CSRF_FIELD)):
            page = Page(
                "confirm.html", lang, request.url.path, {"address": subscriber.email, "error": FORM_EXPIRED}
            )
            return respond(request, page, 403, csrf=True)
        subscriber = await web.run(actions.confirm, web.engine, subscriber.id, web.clock())
        values = {"address": subscriber.email, "preferences_url": link("preferences", subscriber, lang),
                  "already": False}  # fmt: skip
        return respond(request, Page("confirmed.html", lang, request.url.path, values))

    # --- preferences ------------------------------------------------------------------------------------

    def preferences_page(request: Request, subscriber: Subscriber, lang: str, form: dict[str, Any],
                         errors: Errors, status: int = 200, notice: str = "") -> HTMLResponse:  # fmt: skip
        values = {
            "form": form,
            "errors": errors.by_field,
            "first_error": next(iter(errors.by_field), ""),
            "subscriber": subscriber,
            "notice": notice,
            "unsubscribe_url": link("unsubscribe", subscriber, lang),
        }
        return respond(request, Page("preferences.html", lang, request.url.path, values), status, csrf=True)

    @app.get("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def preferences_form(request: Request, token: str) -> Response:
        subscriber = await load(token, "preferences")
        lang = language(request, personal=subscriber.language)
        return preferences_page(request, subscriber, lang, current_preferences(subscriber), Errors())

    @app.post("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def preferences_post(request: Request, token: str) -> Response:
        posted = await read_form(request)
        subscriber = await load(token, "preferences")
        lang = language(request, posted.values.get("lang"), subscriber.language)
        kept = {**posted.values, "topics": posted.topics}
        errors = Errors()
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), posted.values.get(CSRF_FIELD)):
            errors.add("language", FORM_EXPIRED)
            return preferences_page(request, subscriber, lang, kept, errors, 403)
        wanted = read_preferences(posted.values, posted.topics, settings, bool(subscriber.email), errors)
        if errors:
            return preferences_page(request, subscriber, lang, kept, errors, 400)
        new_number = wanted.phone.value if wanted.phone and wanted.phone.value != subscriber.phone else None
        if new_number and not web.allow_subscribe(client_of(request), new_number):
            errors.add("phone", N_("Too many requests. Wait a few minutes, then try again."))
            return preferences_page(request, subscriber, lang, kept, errors, 429)
        outcome = await web.run(
            actions.update_preferences, web.engine, subscriber.id, wanted, "web", web.clock()
        )
        lang = wanted.choice.language  # they may just have chosen another language
        notice = N_("Your preferences are saved.")
        if outcome.text_confirmation_sent:
            notice = N_("Your preferences are saved. We sent a text message: reply YES to start texts.")
        return preferences_page(request, outcome.subscriber, lang, current_preferences(outcome.subscriber),
                                Errors(), notice=notice)  # fmt: skip

    # --- unsubscribe, goodbye, and the way back ---------------------------------------------------------

    @app.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def unsubscribe_page(request: Request, token: str) -> Response:
        """Shows the button; never unsubscribes (link scanners and previews fetch every URL)."""
        subscriber = await load(token, "unsubscribe")
        lang = language(request, personal=subscriber.language)
        if subscriber.status == "unsubscribed":
            values = {"way_back": True, "path_resubscribe": f"/resubscribe/{token}"}
            return respond(request, Page("goodbye.html", lang, request.url.path, values), csrf=True)
        values = {"address": subscriber.email or subscriber.phone,
                  "preferences_url": link("preferences", subscriber, lang)}  # fmt: skip
        return respond(request, Page("unsubscribe.html", lang, request.url.path, values))

    @app.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def unsubscribe_post(request: Request, token: str) -> Response:
        """The page's button and RFC 8058 one-click alike: no cookie or CSRF token needed, always 200.

        The signed token in the URL is the proof (only the address's owner has it). A one-click POST
        (body List-Unsubscribe=One-Click, from a mail client) gets a plain goodbye page and no cookie.
        """
        posted = await read_form(request)
        one_click = posted.values.get("List-Unsubscribe") == "One-Click"
        sid = subscriber_id(token, "unsubscribe")
        if one_click:
            # Mail providers send these in bulk: no cookie, and a page rendered once per language.
            done = await web.run(actions.unsubscribe, web.engine, sid, "email", web.clock())
            return HTMLResponse(one_click_page(language(request, None, done.language)))
        done = await web.run(actions.unsubscribe, web.engine, sid, "web", web.clock())
        lang = language(request, posted.values.get("lang"), done.language)
        values = {"way_back": done.language is not None, "path_resubscribe": f"/resubscribe/{token}"}
        return respond(request, Page("goodbye.html", lang, request.url.path, values), csrf=True)

    @cache
    def one_click_page(lang: str) -> str:
        values = {"way_back": False, "path_resubscribe": ""}
        return render(Page("goodbye.html", lang, urls.SUBSCRIBE, values), settings)

    @app.post("/resubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def resubscribe_post(request: Request, token: str) -> Response:
        posted = await read_form(request)
        subscriber = await load(token, "unsubscribe")
        lang = language(request, posted.values.get("lang"), subscriber.language)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), posted.values.get(CSRF_FIELD)):
            values = {"way_back": True, "error": FORM_EXPIRED, "path_resubscribe": request.url.path}
            page = Page("goodbye.html", lang, request.url.path, values)
            return respond(request, page, 403, csrf=True)
        subscriber = await web.run(actions.resubscribe, web.engine, subscriber.id, web.clock())
        if subscriber.status != "active":
            raise gone()
        values = {"address": subscriber.email or subscriber.phone,
                  "preferences_url": link("preferences", subscriber, lang), "already": False,
                  "welcome_back": True}  # fmt: skip
        return respond(request, Page("confirmed.html", lang, request.url.path, values))


def client_of(request: Request) -> str:
    """The visitor's address (behind a proxy: what uvicorn's --proxy-headers took from it)."""
    return request.client.host if request.client else "unknown"


def current_preferences(subscriber: Subscriber) -> dict[str, Any]:
    """The preferences form filled with what the subscriber has now."""
    by_channel = {sub.channel: sub for sub in subscriber.subscriptions}
    main = by_channel.get("email") or by_channel.get("sms")
    topics = list(main.topics) if main else []
    return {
        "language": subscriber.language,
        "scope": "some" if topics else "all",
        "topics": topics,
        "frequency": main.frequency if main and main.channel == "email" else "immediate",
        "email": "on" if "email" in by_channel else "",
        "sms": "on" if "sms" in by_channel or subscriber.phone else "",
        "phone": subscriber.phone or "",
    }
