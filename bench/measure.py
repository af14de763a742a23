"""Run a command and measure it: wall time and peak memory of its whole process tree.

Peak memory is the larger of
- the sum of proportional set sizes (PSS: private pages plus a fair share of shared ones, so forked
  workers' shared pages count once in total) over the command and all its descendants, sampled every
  100 ms from /proc (RSS where smaps_rollup cannot be read), and
- the largest single process's max RSS as the kernel reports it to wait4() (catches spikes between samples;
  a child's starts at the RSS of the process that spawned it, so the benchmark keeps itself small: 160 MB
  after writing the 10,000-release corpus, below every tool's peak there).

CPU time (user + system, from wait4) is reported beside wall time: on a shared machine it varies far less.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.1
MIB = 1024 * 1024


@dataclass(frozen=True)
class Measurement:
    seconds: float  # wall clock
    peak_bytes: int
    returncode: int
    cpu_seconds: float = 0.0  # user + system, the command and the descendants it waited for

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_measured(
    command: Sequence[str],
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
    sample_memory: bool = True,
) -> Measurement:
    """Run `command` in `cwd` with output appended to `log`; a run over `timeout` is killed (rc -9).

    Without `sample_memory` the peak is only the largest process's max RSS, and the run is timed
    undisturbed: reading smaps_rollup walks a process's page tables (10 ms for 600 MB), so sampling
    a large process tree every 100 ms costs it a tenth of a core or more."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}  (in {cwd})\n".encode())
        out.flush()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = _TreeSampler(process.pid)
        if sample_memory:
            sampler.start()
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        # wait4, not Popen.wait: it hands back this child's own resource usage
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        if sample_memory:
            sampler.stop()
    peak = max(sampler.peak_bytes, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(seconds, peak, process.returncode, cpu)


class _TreeSampler(threading.Thread):
    """Polls the memory of a process and its descendants until stopped; keeps the largest total."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            total = sum(_memory_bytes(pid) for pid in _tree(self.pid))
            self.peak_bytes = max(self.peak_bytes, total)
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(_children(current))
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    except OSError:  # the process (or thread) ended between listing and reading
        pass
    return children


def _memory_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:  # gone, or smaps_rollup not readable: fall back to RSS
        pass
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE_SIZE


def median_of(runs: Sequence[Measurement]) -> Measurement:
    """The median time and the highest peak memory of successful runs (the first failure if any)."""
    failed = [run for run in runs if not run.ok]
    if failed:
        return failed[0]
    return Measurement(
        statistics.median(run.seconds for run in runs),
        max(run.peak_bytes for run in runs),
        0,
        statistics.median(run.cpu_seconds for run in runs),
    )
