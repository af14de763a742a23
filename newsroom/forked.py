"""Work done in forked children while this process does something else (or its share of the same
work); the results come back pickled.

For work on data this process already holds (a fork shares it for free), where a process pool would
cost more than the work, or copy more: each process copies every page of memory it touches, and a
pool's workers do all the work while this process idles. A child ends with os._exit: it runs no
clean-up of the parent's (buffers, atexit handlers, temporary files).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import os
import pickle
import signal
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Forked(Generic[T]):
    """`work()` run in a forked child from now on; `result()` waits for it. None when the child
    could not start, failed or returned None: the caller then does the work itself."""

    def __init__(self, work: Callable[[], T | None]) -> None:
        # (pid, the pipe's reading end)
        self.child: tuple[int, int] | None = _fork(partial(_run_in_child, work))

    def result(self) -> T | None:
        if self.child is None:
            return None
        pid, reading = self.child
        self.child = None
        with os.fdopen(reading, "rb") as pipe:
            data = pipe.read()
        # Not waiting for the child to end: tearing down its copy of this process took 4-7 ms. It
        # wrote only after its work succeeded, and a pickle cut short (the child killed) will not load.
        _leave(pid)
        try:
            result: T | None = pickle.loads(data) if data else None
        except (pickle.UnpicklingError, EOFError):
            return None
        return result


def _fork(run: Callable[[int], object], pipe_bytes: int = 0) -> tuple[int, int] | None:
    """A child that runs `run(the pipe's writing end)` and never returns; here, (its pid, the pipe's
    reading end), or None when it could not start (the caller then does the work itself).
    `pipe_bytes`: a bigger pipe than the default, if the system allows it."""
    _reap()  # children of earlier work (`serve` forks some at every build)
    try:
        reading, writing = os.pipe()
    except OSError:
        return None
    if pipe_bytes:
        with contextlib.suppress(OSError):
            fcntl.fcntl(writing, fcntl.F_SETPIPE_SZ, pipe_bytes)
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        return None
    if pid == 0:
        os.close(reading)
        run(writing)
    os.close(writing)
    return pid, reading


def _leave(pid: int) -> None:
    """Let a child whose results were taken end on its own: it is reaped once it has ended."""
    _EXITING.add(pid)
    _reap()


_EXITING: set[int] = set()  # children whose result was taken: reaped once they have ended


def _reap(*, wait: bool = False) -> None:
    for pid in list(_EXITING):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, 0 if wait else os.WNOHANG)[0] == 0:
                continue  # still ending: next time
        _EXITING.discard(pid)


def reap_children() -> None:
    """Wait for the children still ending (a few ms at most, by now): a process reaps its own, so
    that their CPU time counts as its own (`time`, the benchmarks) and none is left as a zombie."""
    _reap(wait=True)


atexit.register(reap_children)


def _run_in_child(work: Callable[[], object], writing: int) -> None:
    status = 1
    try:
        data = pickle.dumps(work(), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writing, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)


class Tickets(Generic[T]):
    """Tasks numbered 0 to count - 1, shared by this process and forked children (one per other
    core, up to MAX_PROCESSES in all): each takes the next number from a pipe (as make's jobserver
    hands out tokens) until none is left, so whoever is free takes the next. The children start at
    once, with `in_child(number)`, and send each result back as soon as it is done; this process
    joins in with `share`, taking in their results between its own tasks, and does the tasks a
    child that failed left unfinished (and so meets the failure itself).
    Leaving the `with` block on an exception stops the children: they may be writing where the
    caller is about to clean up."""

    def __init__(self, count: int, in_child: Callable[[int], T]) -> None:
        if count * TICKET > MAX_TICKET_BYTES:
            raise ValueError(f"{count} tasks: at most {MAX_TICKET_BYTES // TICKET} fit in the pipe")
        self.count = count
        self.pipe, writing = os.pipe()
        try:
            os.write(writing, b"".join(number.to_bytes(TICKET) for number in range(count)))
        finally:
            os.close(writing)  # the pipe reads as empty once the tickets are gone: nobody can add more
        processes = min(os.cpu_count() or 1, MAX_PROCESSES)
        self.children = [_Child(self.pipe, in_child) for _ in range(processes - 1)]

    def __enter__(self) -> Tickets[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        for child in self.children:
            child.stop()  # only those still running: after `share`, none
        with contextlib.suppress(OSError):
            os.close(self.pipe)

    def share(self, here: Callable[[int], R], theirs: Callable[[int, T], R]) -> dict[int, R]:
        """Every task's result, by number, once none is left and the children have ended: `here(n)`
        for tasks done in this process, `theirs(n, result)` for the children's, taken in as they
        arrive (a child's results are unpickled here: doing it between tasks keeps both cores busy).
        A task a failed child took and did not finish is done here after all (and so meets the
        failure here)."""
        done: dict[int, R] = {}
        while ticket := os.read(self.pipe, TICKET):
            number = int.from_bytes(ticket)
            done[number] = here(number)
            for child in self.children:
                done.update((n, theirs(n, result)) for n, result in child.arrived(wait=False))
        for child in self.children:
            done.update((n, theirs(n, result)) for n, result in child.arrived(wait=True))
        done.update((number, here(number)) for number in range(self.count) if number not in done)
        return done


class _Child(Generic[T]):
    """A forked child doing tickets, and what it has sent back: each result as a 4-byte length and
    a pickle of (number, result), on a pipe of its own."""

    def __init__(self, tickets: int, work: Callable[[int], T]) -> None:
        # a bigger pipe than the default: the child waits less for this process to take its results
        child = _fork(partial(_do_tickets, tickets, work), RESULT_PIPE_BYTES)
        self.pid, self.results = child or (0, -1)  # none: this process does every task
        self.received = bytearray()

    def arrived(self, *, wait: bool) -> list[tuple[int, T]]:
        """The results that have come in whole since last asked; with `wait`, all of them, until
        the child has ended (a result cut short, the child killed while sending it, is left out)."""
        if self.results < 0:
            return []
        os.set_blocking(self.results, wait)
        try:
            while chunk := os.read(self.results, RESULT_PIPE_BYTES):
                self.received += chunk
            self._ended()
        except BlockingIOError:
            pass  # nothing more for now
        found: list[tuple[int, T]] = []
        while len(self.received) >= 4:
            size = int.from_bytes(self.received[:4])
            if len(self.received) < 4 + size:
                break
            found.append(pickle.loads(self.received[4 : 4 + size]))
            del self.received[: 4 + size]
        return found

    def stop(self) -> None:
        """End the child now, if it is still running: its work is unwanted."""
        if self.results < 0:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._ended()

    def _ended(self) -> None:
        os.close(self.results)
        self.results = -1
        _leave(self.pid)  # without waiting for it to end (see Forked.result)


def _do_tickets(tickets: int, work: Callable[[int], object], results: int) -> None:
    status = 1
    try:
        gc.disable()  # a short-lived child keeps what it makes: the collector would only waste time
        while ticket := os.read(tickets, TICKET):
            number = int.from_bytes(ticket)
            data = pickle.dumps((number, work(number)), pickle.HIGHEST_PROTOCOL)
            message = memoryview(len(data).to_bytes(4) + data)
            while message:
                message = message[os.write(results, message) :]
        status = 0
    finally:
        os._exit(status)


# Each process copies the pages of memory it touches (a few hundred MB at 10,000 releases): more
# processes than this would cost more memory than their time is worth.
MAX_PROCESSES = 8
TICKET = 2  # bytes of a task's number: a read this short is never split between two readers
MAX_TICKET_BYTES = 4096  # written at once (PIPE_BUF): never more than an empty pipe holds
RESULT_PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for (fs.pipe-max-size)
