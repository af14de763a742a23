"""A token bucket that paces sends to a rate without busy-waiting, and keeps count of what it allowed.

It reserves: each `acquire` books the next free slot under a lock and then sleeps (outside the lock)
until that slot, so any number of threads share one rate and nobody spins. Slots are computed on the
bucket's own clock (GCRA, "generic cell rate algorithm"): with `burst = 1`, two grants are never
closer than `1 / rate` seconds, so any one-second window holds at most `rate` grants.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

_ROUNDING = 1e-9  # seconds


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        keep: int = 100_000,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.rate = rate
        self.burst = burst
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: float | None = None  # the "theoretical arrival time" of the next token
        self.granted = 0
        self.waited = 0.0  # total seconds callers were made to sleep
        self.grant_times: deque[float] = deque(maxlen=keep)  # on the bucket's clock, for accounting

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the time (bucket clock) it was granted."""
        with self._lock:
            now = self._clock()
            due = now
            if self._next_free is not None:
                due = max(now, self._next_free - (self.burst - 1) * self.interval)
                if due - now < _ROUNDING:  # float noise from the subtraction, not a real wait
                    due = now
            self._next_free = max(self._next_free or due, due) + self.interval
            self.granted += 1
            self.grant_times.append(due)
            self.waited += due - now
        if due > now:
            self._sleep(due - now)
        return due

    def most_in_any_second(self) -> int:
        """The largest number of grants inside any one-second window [t, t + 1) (from the kept times)."""
        times = sorted(self.grant_times)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0 - 1e-9:
                start += 1
            best = max(best, end - start + 1)
        return best
