"""The token bucket that paces SMS sends: the rate holds, nobody spins, threads share one rate."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest

from newsroom.delivery.throttle import TokenBucket


class ManualClock:
    """A clock that only moves when someone sleeps: counts every sleep, so spinning would show."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_the_rate_holds_and_each_wait_is_one_sleep() -> None:
    clock = ManualClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    grants = [bucket.acquire() for _ in range(35)]
    assert bucket.granted == 35
    assert bucket.most_in_any_second() == 10
    assert grants == pytest.approx([1000.0 + n / 10 for n in range(35)])
    assert len(clock.sleeps) == 34  # one sleep per wait: no polling
    assert clock.now == pytest.approx(1003.4)


def test_a_burst_allows_that_many_at_once_then_the_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(10, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(35):
        bucket.acquire()
    assert bucket.most_in_any_second() == 14  # 5 at once, then one every 0.1 s
    assert len(clock.sleeps) == 30


def test_an_idle_bucket_does_not_bank_more_than_its_burst() -> None:
    clock = ManualClock()
    bucket = TokenBucket(2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 60  # a quiet minute
    for _ in range(4):
        bucket.acquire()
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5])  # no catching up on the idle minute


def test_threads_share_one_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(50, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(25)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(bucket.grant_times)
    assert len(times) == 100 and len(set(times)) == 100  # every slot handed out once
    assert min(b - a for a, b in pairwise(times)) == pytest.approx(0.02)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (5, 0)])
def test_nonsense_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate, burst)
