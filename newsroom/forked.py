"""Work done in a forked child while this process does something else; the result comes back pickled.

For short pieces of work on data this process already holds (a fork shares it for free), where a
process pool would cost more than the work. The child ends with os._exit: it runs no clean-up of
the parent's (buffers, atexit handlers, temporary files).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Forked(Generic[T]):
    """`work()` run in a forked child from now on; `result()` waits for it. None when the child
    could not start, failed or returned None: the caller then does the work itself."""

    def __init__(self, work: Callable[[], T | None]) -> None:
        self.child: tuple[int, int] | None = None  # (pid, the pipe's reading end)
        try:
            reading, writing = os.pipe()
            pid = os.fork()
        except OSError:
            return
        if pid == 0:
            _run_in_child(work, reading, writing)
        os.close(writing)
        self.child = pid, reading

    def result(self) -> T | None:
        if self.child is None:
            return None
        pid, reading = self.child
        self.child = None
        with os.fdopen(reading, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return None
        result: T | None = pickle.loads(data)
        return result

    def stop(self) -> None:
        """End the child now, its work unwanted."""
        if self.child is None:
            return
        pid, reading = self.child
        self.child = None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.close(reading)
        os.waitpid(pid, 0)


def _run_in_child(work: Callable[[], object], reading: int, writing: int) -> None:
    status = 1
    try:
        os.close(reading)
        data = pickle.dumps(work(), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writing, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)
