"""Work in forked children: results come back, failures come back as None, children are reaped."""

from __future__ import annotations

import os
import signal
import time

import pytest

from newsroom import forked
from newsroom.forked import Forked, Tickets


def _fails() -> int:
    raise MemoryError


def _killed() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 1


def test_a_child_returns_its_result_and_a_failing_or_killed_one_none() -> None:
    assert Forked(lambda: {"answer": [42]}).result() == {"answer": [42]}
    assert Forked(_fails).result() is None
    assert Forked(_killed).result() is None


def test_children_whose_results_were_taken_are_reaped() -> None:
    children = [Forked(os.getpid) for _ in range(10)]
    pids = [child.result() for child in children]
    assert len(set(pids)) == 10 and os.getpid() not in pids
    forked.reap_children()  # what the command does before it ends
    assert not forked._EXITING
    for pid in pids:
        with pytest.raises(ChildProcessError):  # reaped: no zombie is left behind
            os.waitpid(pid, os.WNOHANG)


def _slow_square(number: int) -> tuple[int, int]:
    time.sleep(0.002)
    return number * number, os.getpid()


def test_tickets_share_every_task_once_between_this_process_and_its_children() -> None:
    with Tickets(200, _slow_square) as tickets:
        done = tickets.share(lambda n: (*_slow_square(n), "here"), lambda n, result: (*result, "there"))
    assert sorted(done) == list(range(200))
    assert all(square == number * number for number, (square, _, _) in done.items())
    workers = {(pid, where) for _, pid, where in done.values()}
    assert (os.getpid(), "here") in workers  # this process's results, as `here` made them
    assert all(where == "there" for pid, where in workers if pid != os.getpid())  # the children's
    assert len(workers) == min(os.cpu_count() or 1, forked.MAX_PROCESSES)


def _dies_halfway(number: int) -> tuple[int, int]:
    if number >= 100:
        os.kill(os.getpid(), signal.SIGKILL)
    return _slow_square(number)


def test_the_task_a_child_killed_halfway_held_is_done_here() -> None:
    with Tickets(200, _dies_halfway) as tickets:
        done = tickets.share(lambda n: (*_slow_square(n), "here"), lambda _, result: (*result, "there"))
    assert sorted(done) == list(range(200))
    assert all(square == number * number for number, (square, _, _) in done.items())
    # what the child sent before it died was kept; from its first task past 99 on, all was done here
    assert all(number < 100 for number, (_, _, where) in done.items() if where == "there")
