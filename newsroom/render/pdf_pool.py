"""A long-lived pool of PDF worker processes, one per core, each importing WeasyPrint once.

WeasyPrint takes ~0.7 s to import and warm up and ~90 ms per release after that, so PDFs are made
by processes that live for the whole build (or the whole server), never one process per PDF. The
builder hands heavy units to `PdfPool.submit`; `render_units` is the simple batch form.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from newsroom.render.base import Artifact, Unit

# The module whose import pulls in WeasyPrint; the fork server imports it once and every worker
# it forks starts with it loaded.
ENGINE_MODULE = "newsroom.render.pdf_engine"


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _start_worker() -> None:
    from newsroom.render.pdf_engine import warm_up

    warm_up()


class PdfPool:
    """Worker processes for heavy units. Use as a context manager, or call `close()`."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # forkserver, not fork: the builder may run threads (progress bars), and forking a
        # threaded process can deadlock; the fork server is a clean single-threaded parent.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([ENGINE_MODULE])
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_start_worker
        )

    def submit(self, unit: Unit) -> Future[list[Artifact]]:
        return self._executor.submit(unit.render, *unit.args)

    def render(self, units: Iterable[Unit]) -> dict[str, list[Artifact]]:
        """Render units in parallel; results by unit name. A failing unit raises its error here."""
        futures = {unit.name: self.submit(unit) for unit in units}
        return {name: future.result() for name, future in futures.items()}

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PdfPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def render_units(units: Iterable[Unit], pool: PdfPool | None = None) -> dict[str, list[Artifact]]:
    """Render a batch of units on `pool`, or on a pool made (and closed) for this batch.

    With no units no pool is started, so a run where nothing changed pays no start-up cost.
    """
    batch = list(units)
    if not batch:
        return {}
    if pool is not None:
        return pool.render(batch)
    with PdfPool(min(default_workers(), len(batch))) as own:
        return own.render(batch)
