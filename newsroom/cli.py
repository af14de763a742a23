"""The `newsroom` command: parse options, call a stage, turn errors into messages."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from newsroom import build, cli_notify, cli_sms, cli_subscribers
from newsroom.config import Settings, find_root, load_settings, read_settings
from newsroom.content.times import parse_zoned, resolve_now
from newsroom.diagnostics import Diagnostic, errors, to_json, warnings
from newsroom.errors import NewsroomError
from newsroom.lazy import LazyConsole
from newsroom.scaffold import scaffold_release
from newsroom.status import rows_as_dicts, status_rows


class NewsroomTyper(typer.Typer):
    """A Typer app whose commands turn NewsroomError into a message on stderr and exit status 1."""

    def command(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(function)
            def reporting(*call_args: Any, **call_kwargs: Any) -> Any:
                try:
                    return function(*call_args, **call_kwargs)
                except NewsroomError as exc:
                    LazyConsole(stderr=True, highlight=False, soft_wrap=True).print(
                        exc.message, style="red", markup=False
                    )
                    raise typer.Exit(exc.exit_code) from exc

            return register(reporting)

        return decorator


app = NewsroomTyper(
    help="Validate press releases and publish them: site, feeds, PDFs, email and SMS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = LazyConsole(highlight=False, soft_wrap=True)


class _Exits:
    # A command that leaves a big heap (a site build holds every release) sets this: `newsroom`
    # then ends without freeing its objects one by one (40 ms at 1,000 releases, 0.1 s at 10,000).
    skip_teardown = False


exits = _Exits()

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="The newsroom folder (holds newsroom.toml); default: here or a parent."),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        envvar="NEWSROOM_NOW",
        help="Run as if it were this time (e.g. '2024-11-25 10:00 America/New_York'); default: the clock.",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


def settings_for(root: Path | None) -> Settings:
    return load_settings(find_root(root or Path.cwd()))


def now_for(option: str | None) -> datetime:
    try:
        return resolve_now(option)
    except ValueError as exc:
        raise NewsroomError(f"--now / NEWSROOM_NOW: {exc}") from exc


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in sorted(diagnostics):
        style = "red" if diagnostic.severity.value == "error" else "yellow"
        console.print(diagnostic.format(), style=style, markup=False)


@app.command()
def check(
    root: RootOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    output: FormatOption = "text",
) -> None:
    """Validate newsroom.toml and every release; list all problems as path:line: message."""
    settings, diagnostics = read_settings(find_root(root or Path.cwd()))
    if settings is None:
        typer.echo(to_json(diagnostics)) if output == "json" else _print_diagnostics(diagnostics)
        raise typer.Exit(1)
    newsroom, diagnostics = build.check(settings, strict=strict)
    if output == "json":
        typer.echo(to_json(diagnostics))
    else:
        _print_diagnostics(diagnostics)
        files = sum(len(r.languages) for r in newsroom.releases)
        console.print(
            f"{len(errors(diagnostics))} error(s), {len(warnings(diagnostics))} warning(s); "
            f"{len(newsroom.releases)} release(s) in {files} file(s) loaded cleanly",
            markup=False,
        )
    if errors(diagnostics):
        raise typer.Exit(1)


@app.command()
def status(root: RootOption = None, now: NowOption = None, output: FormatOption = "text") -> None:
    """Show every release: draft, scheduled (embargoed), public or withdrawn at NOW."""
    settings = settings_for(root)
    moment = now_for(now)
    newsroom, _ = build.check(settings)
    rows = status_rows(newsroom, moment)
    if output == "json":
        typer.echo(
            json.dumps(
                {"now": moment.isoformat(), "releases": rows_as_dicts(rows)}, ensure_ascii=False, indent=2
            )
        )
        return
    zone = settings.zone
    from rich.table import Table

    table = Table(title=f"Releases at {moment.astimezone(zone):%Y-%m-%d %H:%M %Z}", title_justify="left")
    for column in ("State", "Release time", "Slug", "Office", "Languages", "Missing", "Stale"):
        table.add_column(column)
    colours = {"scheduled": "yellow", "public": "green", "draft": "dim", "withdrawn": "red"}
    for row in rows:
        table.add_row(
            f"[{colours[row.state]}]{row.state}[/]",
            f"{datetime.fromisoformat(row.release_time).astimezone(zone):%Y-%m-%d %H:%M %Z}",
            row.slug,
            row.office,
            " ".join(row.languages),
            " ".join(row.missing) or "-",
            f"[yellow]{' '.join(row.stale)}[/]" if row.stale else "-",
        )
    LazyConsole(highlight=False, width=max(console.width, 150)).print(table)
    if newsroom.diagnostics:
        console.print(f"{len(newsroom.diagnostics)} problem(s) found: run `newsroom check`.", markup=False)


@app.command()
def new(
    slug: Annotated[str, typer.Argument(help="Short name for URLs, e.g. flu-clinics.")],
    title: Annotated[str, typer.Option(help="The headline.")] = "TODO: headline",
    kind: Annotated[str, typer.Option(help="press-release, media-advisory or statement.")] = "press-release",
    release: Annotated[
        str | None,
        typer.Option(help="Release time, e.g. '2024-12-20 10:00' (site time zone) or with a zone."),
    ] = None,
    office: Annotated[str | None, typer.Option(help="Office id from newsroom.toml.")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Topic id (repeat for several).")] = None,
    translate: Annotated[list[str] | None, typer.Option(help="Add a translation stub (repeat).")] = None,
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Create a release folder with the original and translation stubs (as a draft)."""
    settings = settings_for(root)
    if kind not in ("press-release", "media-advisory", "statement"):
        raise NewsroomError(f"--kind {kind!r}: use press-release, media-advisory or statement")
    when = _release_time(release, settings, now_for(now))
    written = scaffold_release(
        settings,
        slug=slug,
        title=title,
        kind=kind,
        release=when,
        office=office or next(iter(settings.offices)),
        topics=topic or [next(iter(settings.topics))],
        translations=translate or [],
    )
    for path in written:
        console.print(f"created {path.relative_to(settings.root)}", markup=False)
    console.print("Fill in the TODOs, set `status: published`, then run `newsroom check`.", markup=False)


def _release_time(text: str | None, settings: Settings, now: datetime) -> datetime:
    if text is None:
        tomorrow = (now.astimezone(settings.zone) + timedelta(days=1)).date()
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=settings.zone)
    try:
        return parse_zoned(text).astimezone(settings.zone)
    except ValueError:
        try:
            return datetime.fromisoformat(text).replace(tzinfo=settings.zone)
        except ValueError as exc:
            raise NewsroomError(f"--release {text!r}: write it like '2024-12-20 10:00'") from exc


@app.command()
def publish(
    root: RootOption = None,
    now: NowOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """The main job: check, apply the embargo gate at NOW, then run every output stage."""
    settings = settings_for(root)
    run = build.publish(settings, now_for(now), strict=strict)
    for summary in run.summaries:
        console.print(summary, markup=False)


@app.command("pdf")
def pdf_preview(
    slug: Annotated[str, typer.Argument(help="The release's slug, e.g. new-york-experience.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language code; default: the original's.")
    ] = None,
    root: RootOption = None,
    now: NowOption = None,
) -> None:
    """Write one release's PDF for staff; before its release time it says EMBARGOED UNTIL ..."""
    from newsroom.render.pdf import preview_pdf

    settings = settings_for(root)
    newsroom, _ = build.check(settings)
    release = next((r for r in newsroom.releases if r.slug == slug), None)
    data = preview_pdf(newsroom, slug, lang or (release.language if release else ""), now_for(now))
    out.write_bytes(data)
    console.print(f"wrote {out} ({len(data) // 1024} KB)", markup=False)


@app.command("build")
def build_site_command(
    root: RootOption = None,
    now: NowOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    no_pdf: Annotated[
        bool, typer.Option("--no-pdf", help="Pages, feeds and sitemaps only: a quick preview, no PDFs.")
    ] = False,
) -> None:
    """Build the static site/ from what is public at NOW (only what changed is rendered)."""
    from newsroom.render.builder import build_at

    settings = settings_for(root)
    report = build_at(settings, now_for(now), strict=strict, pdfs=not no_pdf)
    typer.echo(f"site: {report.summary()} -> {settings.site_dir}")  # plain text: no rich to import
    exits.skip_teardown = True  # the process holds every release; see __main__.run


@app.command()
def serve(
    root: RootOption = None,
    now: NowOption = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8000,
    no_pdf: Annotated[
        bool, typer.Option("--no-pdf", help="Pages, feeds and sitemaps only: quicker rebuilds, no PDFs.")
    ] = False,
) -> None:
    """Preview the site on 127.0.0.1:PORT (rebuilt whenever a release or template changes), and the
    site with the subscription web app on PORT+1."""
    from newsroom.preview import serve as serve_site
    from newsroom.web.app import BackgroundWeb

    settings = settings_for(root)
    moment = now_for(now) if now else None
    web_app = BackgroundWeb(settings, port=port + 1, site_dir=settings.site_dir).start()
    console.print(f"site and subscription app: {web_app.url}/", markup=False)
    try:
        serve_site(
            settings.root,
            lambda: moment or now_for(None),
            lambda text: console.print(text, markup=False),
            port=port,
            pdfs=not no_pdf,
        )
    finally:
        web_app.stop()


@app.command()
def web(
    root: RootOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8001,
    with_site: Annotated[
        bool, typer.Option("--with-site", help="Also serve the built site/ (one origin).")
    ] = False,
) -> None:
    """Serve the subscription web app (subscribe, confirm, preferences, unsubscribe, /api/)."""
    from newsroom.web.app import run_web

    settings = settings_for(root)
    run_web(settings, host=host, port=port, site_dir=settings.site_dir if with_site else None)


# Subscribers and delivery (newsroom/cli_subscribers.py): `newsroom subscribers ...`, `newsroom deliver`.
cli_subscribers.register(app, NewsroomTyper)
# SMS (newsroom/cli_sms.py): `newsroom sms preview SLUG`, `newsroom sms reply TEXT`.
cli_sms.register(app, NewsroomTyper)
# Alerts and digests (newsroom/cli_notify.py): `newsroom notify`, `newsroom digest daily|weekly`.
cli_notify.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
