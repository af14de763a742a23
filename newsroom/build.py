"""The orchestrator: `publish` runs every stage in order, like a script.

check -> gate -> (site, pdf, feeds, notify, deliver as those capabilities land). Every stage receives
the gated `Published` view, never the raw newsroom, so nothing embargoed can leak into an output.
Each stage must be idempotent: a second `publish` with the same inputs and `now` does no new work.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from newsroom.config import Settings
from newsroom.content.loader import Meanwhile, load_newsroom
from newsroom.content.models import Newsroom
from newsroom.content.scan import RELEASE_CACHE, ReleaseScan
from newsroom.diagnostics import Diagnostic, errors, promote_warnings
from newsroom.errors import ContentError
from newsroom.gate import Published, gate


@dataclass
class Run:
    """What one publish run works with; stages read it and add their summaries."""

    settings: Settings
    now: datetime
    newsroom: Newsroom
    published: Published
    summaries: list[str] = field(default_factory=list)


Stage = Callable[[Run], str]


def _site(run: Run) -> str:
    from newsroom.render.builder import build_site  # the renderers import this module's check()

    return build_site(run.settings, run.published).summary()


def _prepare_site(settings: Settings, cold: bool) -> None:
    from newsroom.render.builder import prepare_renderers

    prepare_renderers(settings, cold)


def _notify(run: Run) -> str:
    from newsroom.delivery.notify import notify_stage  # the database stack: only when publishing

    return notify_stage(run)


def _deliver(run: Run) -> str:
    from newsroom.delivery.worker import deliver_stage

    return deliver_stage(run)


# Stages after the gate, in order; each returns a one-line summary of the work it did.
# The site (pages, feeds, sitemaps, PDFs) before anything is sent: alerts link to pages that must exist.
# Notify after the site (alerts link to its pages), deliver last: it sends what earlier stages queued.
STAGES: list[tuple[str, Stage]] = [("site", _site), ("notify", _notify), ("deliver", _deliver)]


def check(
    settings: Settings,
    *,
    strict: bool = False,
    scan: ReleaseScan | None = None,
    meanwhile: Meanwhile | None = None,
) -> tuple[Newsroom, list[Diagnostic]]:
    """Load and validate everything; with strict, warnings count as errors. `meanwhile`: see
    load_newsroom."""
    cache = settings.root / RELEASE_CACHE
    newsroom = load_newsroom(settings, cache=cache, scan=scan, meanwhile=meanwhile)
    diagnostics = list(newsroom.diagnostics)
    return newsroom, promote_warnings(diagnostics) if strict else diagnostics


def valid_newsroom(
    settings: Settings,
    *,
    strict: bool = False,
    refusal: str = "nothing was published",
    scan: ReleaseScan | None = None,
    meanwhile: Meanwhile | None = None,
) -> Newsroom:
    """The loaded newsroom, or a ContentError listing every error (and what was therefore not done)."""
    newsroom, diagnostics = check(settings, strict=strict, scan=scan, meanwhile=meanwhile)
    # The releases live as long as the run: keep the cycle collector from rescanning them (at
    # 10,000 releases its full passes were a third of a rebuild).
    gc.freeze()
    problems = errors(diagnostics)
    if problems:
        listing = "\n".join(d.format() for d in problems)
        raise ContentError(f"{listing}\n{len(problems)} error(s): {refusal}")
    return newsroom


def publish(settings: Settings, now: datetime, *, strict: bool = False) -> Run:
    """Run every stage; an invalid release stops the run before anything is written."""
    newsroom = valid_newsroom(settings, strict=strict, meanwhile=partial(_prepare_site, settings))
    published = gate(newsroom, now)
    run = Run(settings, now, newsroom, published)
    run.summaries.append(
        f"gate: {len(published.releases)} public, {len(published.withdrawn)} withdrawn at {now.isoformat()}"
    )
    for name, stage in STAGES:
        run.summaries.append(f"{name}: {stage(run)}")
    return run
