"""Site build benchmark: newsroom against Pelican and Hugo on the same generated corpus, in one run.

    python -m bench.site_bench            # 1,000 and 10,000 releases
    python -m bench.site_bench --quick    # 200 releases, one cold run each: a smoke test

For each corpus size and each tool it measures a cold build (in a fresh copy of the inputs: no output,
no caches; see fresh_copy), a rebuild with nothing changed, and a rebuild after one release changed
(the newest published one: it sits on the most listing pages and feeds), each as a subprocess. Times
are medians of --runs runs (default: 3 up to 1,000 releases, 1 above, where a Pelican build takes
minutes; rebuilds at least 3). Every timed build starts after a sync, so none pays for writing out
an earlier one's files. The cold builds go in rounds, every tool once a round, so the builds a
ratio compares are seconds apart (see measure_size). Timed runs are not disturbed by memory
sampling; peak memory comes from one more cold build that is sampled (and from every run's largest
process).

Pages are counted the same way for every tool: the .html files in its output tree, leaving out
redirect pages (http-equiv="refresh" in the head: Hugo's page/1/ aliases, newsroom's SMS short links).
Feeds, sitemaps and assets are built by each tool as configured but not counted as pages. Tools write
different page sets (newsroom writes every release in every site language, with a fallback note where a
translation is missing), so files/s (the same Markdown input files ÷ cold build time) is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO

from bench.corpus import NOW, NOW_TEXT, Corpus, GeneratedRelease, write_corpus
from bench.measure import MIB, Measurement, median_of, run_measured
from bench.peers import Peers, find_or_install, made_by_our_python, venv_path, versions

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
HEAD_BYTES = 2048  # where a redirect page says so (a long headline may push it past 1 KiB)
GIB = 1024 * MIB
# rebuilds are timed this many times at least, also where a cold build is timed once (above 1,000
# releases): one rebuild is a single sample of a VM whose speed drifts by up to 2x over minutes
REBUILD_RUNS = 3
TOOLS = ("newsroom", "pelican", "hugo")
SERVE_TIMEOUT = 600  # seconds for `newsroom serve` to make its first build and the changed ones
# ext4 without a journal will not reuse an inode freed in the last 60 s, or 360 s while its inode
# table block is unwritten (see fresh_copy). The sync after deleting writes those blocks, but the
# builds that follow allocate inodes in the same tables and make them dirty again: four minutes after a
# full run deleted its trees, newsroom's cold build at 1,000 releases took 1.51-1.63 s (CPU 2.7-3.0
# s) against 1.08-1.20 s (CPU 1.9-2.1 s) on a settled disk, while Pelican's, which makes a fifth of
# the folders, hardly changed (4.15-4.51 s against 3.96-4.27 s). So six minutes and a little more.
SETTLE_SECONDS = 370
LAST_DELETE = ".last-delete"  # in --out: when the previous run deleted its trees


@dataclass(frozen=True)
class Tool:
    """How to build one tree with one tool, and what a cold build deletes first."""

    name: str
    tree: Path
    command: list[str]
    output: Path
    keep: tuple[str, ...]  # the inputs: a cold build runs in a fresh copy of these alone
    changed_file: Path  # the newest release's original, edited for the one-change rebuild
    env: dict[str, str]


@dataclass
class Row:
    size: int
    tool: str
    note: str = ""  # why there are no figures ("n/a: ...")
    runs: int = 0
    inputs: int = 0  # Markdown files in the tool's tree (the same releases for every tool)
    pages: int = 0
    cold: float | None = None
    cold_cpu: float | None = None
    no_change: float | None = None
    one_change: float | None = None
    serve_change: float | None = None  # newsroom only: the rebuild `newsroom serve` does on a change
    peak_bytes: int = 0

    @property
    def pages_per_second(self) -> float | None:
        return self.pages / self.cold if self.cold else None

    @property
    def inputs_per_second(self) -> float | None:
        return self.inputs / self.cold if self.cold else None


# ---------------------------------------------------------------- tools


def newsroom_env() -> dict[str, str]:
    """The environment newsroom builds in; BENCH_NEWSROOM_PYTHONPATH points it at another checkout."""
    # PYTHONDONTWRITEBYTECODE (set in this sandbox) would have every run compile newsroom's modules
    # again; an installed copy has them compiled, as Pelican's are, so it is dropped
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSROOM_NOW", "PYTHONDONTWRITEBYTECODE")}
    # builds run inside the corpus, so the code to measure must be on an absolute path, ahead of any
    # installed copy of the package: this checkout, unless told otherwise
    env["PYTHONPATH"] = str(Path(os.environ.get("BENCH_NEWSROOM_PYTHONPATH") or REPO).resolve())
    return env


def newsroom_available(cwd: Path) -> str:
    """'' when `newsroom build` exists in the code being measured, else why not."""
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "build", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env=newsroom_env(),
        cwd=cwd,
    )
    return "" if result.returncode == 0 else "not available (no `newsroom build` command yet)"


def newest_public(corpus: Corpus) -> GeneratedRelease:
    public = [r for r in corpus.releases if r.status == "published" and r.time <= NOW]
    return max(public, key=lambda r: (r.time, r.slug))


def make_tools(corpus: Corpus, peers: Peers) -> dict[str, Tool | str]:
    """Each tool, or the reason it cannot run."""
    newest = newest_public(corpus)
    plain_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEWSROOM_NOW")}
    tools: dict[str, Tool | str] = {}
    tools["newsroom"] = newsroom_available(corpus.newsroom) or Tool(
        "newsroom",
        corpus.newsroom,
        # HTML, feeds and sitemaps as the peers build them; PDFs are measured by bench.pdf_bench
        [
            sys.executable,
            "-m",
            "newsroom",
            "build",
            "--no-pdf",
            "--root",
            str(corpus.newsroom),
            "--now",
            NOW_TEXT,
        ],
        corpus.newsroom / "site",
        ("newsroom.toml", "releases"),
        corpus.newsroom / "releases" / newest.folder / "en.md",
        newsroom_env(),
    )
    tools["pelican"] = (
        f"n/a: {peers.problems.get('pelican', 'not installed')}"
        if peers.pelican is None
        else Tool(
            "pelican",
            corpus.pelican,
            [str(peers.pelican), "content", "-o", "output", "-s", "pelicanconf.py", "--quiet"],
            corpus.pelican / "output",
            ("pelicanconf.py", "content"),
            corpus.pelican / "content" / f"{newest.time:%Y}" / f"{newest.slug}.en.md",
            plain_env,
        )
    )
    tools["hugo"] = (
        f"n/a: {peers.problems.get('hugo', 'not installed')}"
        if peers.hugo is None
        else Tool(
            "hugo",
            corpus.hugo,
            [
                str(peers.hugo),
                "--quiet",
                "--destination",
                "public",
                "--cacheDir",
                str(corpus.hugo / ".hugo_cache"),
                "--clock",
                NOW.isoformat(),
            ],
            corpus.hugo / "public",
            ("hugo.toml", "content", "layouts"),
            corpus.hugo / "content" / "releases" / newest.slug / "index.en.md",
            plain_env,
        )
    )
    return tools


# ---------------------------------------------------------------- measuring


def count_pages(output: Path) -> int:
    pages = 0
    for path in output.rglob("*.html"):
        with path.open("rb") as page:
            pages += b'http-equiv="refresh"' not in page.read(HEAD_BYTES)
    return pages


def fresh_copy(tool: Tool, run: int) -> Tool:
    """The tool's inputs copied to a path no build has used, and the tool pointed at it.

    Cold builds run in such a copy, not in a tree emptied with rm -rf: this VM's ext4 is mounted
    without a journal, where the kernel avoids reusing a deleted inode for up to five minutes, and
    folders created right where thousands were just deleted get slower with every repetition
    (newsroom at 1,000 releases: 2.1, 2.9, 4.0 s in place; 2.0 s each time in fresh copies).
    Every tool is measured the same way.

    The kernel's check (ext4 `find_inode_bit` -> `recently_deleted`) skips each free inode whose
    deletion time is under 60 s old (360 s while its inode table block is dirty), one by one: in a
    build started right after a run deleted its trees, `perf` put 38% of newsroom's CPU samples in
    it. So nothing is deleted until the run is over, and a run starts only once the previous run's
    deletions have settled (wait_for_settled_inodes)."""
    tree = tool.tree.with_name(f"{tool.tree.name}-cold-{run}")
    tree.mkdir()
    for name in tool.keep:
        source = tool.tree / name
        if source.is_dir():
            shutil.copytree(source, tree / name)
        else:
            shutil.copy2(source, tree / name)
    old = str(tool.tree)  # the copy's writes go out before the clock starts: see _build
    return replace(
        tool,
        tree=tree,
        command=[arg.replace(old, str(tree)) for arg in tool.command],
        output=tree / tool.output.relative_to(tool.tree),
        changed_file=tree / tool.changed_file.relative_to(tool.tree),
    )


def set_aside(path: Path, trash: Path) -> Path:
    """Move an earlier run's tree out of the way, to be deleted when this run is over: deleting it
    now would slow the builds measured next (see fresh_copy)."""
    if path.exists():
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / f"{path.name}-{time.time_ns()}")
    return path


def speed_probe() -> str:
    """How fast this VM is right now, the best of three of two fixed pieces of Python: a loop, and
    400,000 small objects made and looked up at random (the slow spells show in the second: a run
    whose Pelican build took 8.7 s instead of 4.8 s had the loop at its usual speed). It runs in a
    process of its own: a forked child's max RSS starts at its parent's, so the memory it takes
    here would show in every tool's peak."""
    result = subprocess.run(
        [sys.executable, "-c", "from bench.site_bench import _probe; print(_probe())"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stdout.strip() or f"failed: {result.stderr.strip()[-200:]}"


def _probe() -> str:
    loop = objects = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for number in range(2_000_000):
            total += number
        middle = time.perf_counter()
        table = {f"key-{number}": [number, str(number)] for number in range(400_000)}
        keys = list(table)
        random.Random(1).shuffle(keys)
        total = sum(table[key][0] for key in keys)
        loop, objects = min(loop, middle - start), min(objects, time.perf_counter() - middle)
        del table, keys
    return f"loop {loop:.2f} s, objects {objects:.2f} s"


def wait_for_settled_inodes(out: Path, say: Callable[[str], None]) -> None:
    """Sleep until the inodes the previous run freed may be reused without a scan (see fresh_copy).
    Deletions by anything else on the machine are beyond the benchmark's knowledge."""
    os.sync()
    try:
        deleted = float((out / LAST_DELETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    wait = deleted + SETTLE_SECONDS - time.time()
    if wait > 0:
        say(f"waiting {wait:.0f} s for the inodes the last run freed to settle (see fresh_copy) ...")
        time.sleep(wait)


def delete_trash(trash: Path, out: Path) -> None:
    """Delete this run's set-aside trees, written to disk at once (see SETTLE_SECONDS)."""
    shutil.rmtree(trash, ignore_errors=True)
    os.sync()
    out.mkdir(parents=True, exist_ok=True)
    (out / LAST_DELETE).write_text(f"{time.time():.0f}\n", encoding="utf-8")


def measure_size(
    tools: list[Tool], corpus: Corpus, runs: int, log: Path, say: Callable[[str], None]
) -> list[Row]:
    """Every tool on one corpus. The cold builds go round by round, each tool once a round, so the
    builds a ratio compares run seconds apart: this VM's speed drifts over minutes, and measuring
    one tool after another put them in different phases (ratios from 4.1x to 5.4x in one hour)."""
    rows = {
        tool.name: Row(corpus.count, tool.name, runs=runs, inputs=corpus.markdown_files) for tool in tools
    }
    colds: dict[str, list[Measurement]] = {tool.name: [] for tool in tools}
    copies: dict[str, Tool] = {}  # each tool's last cold build: its rebuilds run there
    for run in range(runs):
        for tool in tools:
            if rows[tool.name].note:
                continue
            copy = fresh_copy(tool, run)
            result = _build(rows[tool.name], copy, f"cold {run + 1}/{runs}", log, say)
            if result is not None:
                colds[tool.name].append(result)
                copies[tool.name] = copy
    for tool in tools:
        row = rows[tool.name]
        if not row.note:
            _measure_rebuilds(row, tool, copies[tool.name], colds[tool.name], log, say)
    return list(rows.values())


def _build(
    row: Row, copy: Tool, label: str, log: Path, say: Callable[[str], None], sample_memory: bool = False
) -> Measurement | None:
    # what was written before (a fresh copy's inputs, an earlier build's files) goes out first: the
    # rebuilds follow a cold build of 34,000 files at 10,000 releases, whose writeback otherwise ran
    # into the next timed build (a no-change rebuild right after one: 1.22 s, after a sync 1.04 s)
    os.sync()
    result = run_measured(copy.command, copy.tree, log, env=copy.env, sample_memory=sample_memory)
    say(
        f"  {copy.name} {label}: {result.seconds:.2f} s ({result.cpu_seconds:.2f} s CPU), "
        f"{result.peak_bytes / MIB:.0f} MiB"
    )
    if not result.ok:
        row.note = f"failed (exit {result.returncode}); see {log}"
        return None
    return result


def _measure_rebuilds(
    row: Row, pristine: Tool, tool: Tool, colds: list[Measurement], log: Path, say: Callable[[str], None]
) -> None:
    """After the cold builds: pages, peak memory, the no-change and one-change rebuilds (in the
    last cold build's tree), and for newsroom the one change inside `serve`."""
    runs = max(row.runs, REBUILD_RUNS)
    row.pages = count_pages(tool.output)
    # memory in a cold build of its own: sampling a process tree slows it (see run_measured)
    memory = _build(row, fresh_copy(pristine, runs), "cold, memory sampled", log, say, sample_memory=True)
    if memory is None:
        return
    no_changes = [_build(row, tool, f"no change {run + 1}/{runs}", log, say) for run in range(runs)]
    original = tool.changed_file.read_bytes()
    one_changes: list[Measurement | None] = []
    try:
        for run in range(runs):
            edit = f"\n\nUpdate {run + 1}: the service desk now opens at {8 + run}:30 a.m. on weekdays.\n"
            tool.changed_file.write_bytes(original + edit.encode())
            one_changes.append(_build(row, tool, f"one change {run + 1}/{runs}", log, say))
    finally:
        tool.changed_file.write_bytes(original)
    all_runs = [*colds, *no_changes, *one_changes]
    if any(m is None for m in all_runs):
        return
    row.cold = median_of(colds).seconds
    row.cold_cpu = median_of(colds).cpu_seconds
    row.no_change = median_of([m for m in no_changes if m]).seconds
    row.one_change = median_of([m for m in one_changes if m]).seconds
    row.peak_bytes = max(m.peak_bytes for m in [*all_runs, memory] if m)
    if tool.name == "newsroom":
        row.serve_change = measure_serve_rebuild(tool, runs, log, say)


def measure_serve_rebuild(tool: Tool, runs: int, log: Path, say: Callable[[str], None]) -> float | None:
    """The one-change rebuild inside `newsroom serve --no-pdf`, which keeps the loaded releases,
    compiled templates and catalogs between builds: the median of the times it reports."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [*tool.command, "--port", str(port)]
    command[command.index("build")] = "serve"
    env = {**tool.env, "PYTHONUNBUFFERED": "1"}  # each line as soon as it is printed
    server = subprocess.Popen(
        command, cwd=tool.tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    original = tool.changed_file.read_bytes()
    times: list[float] = []
    try:
        assert server.stdout is not None
        lines = _lines_until(server.stdout, time.monotonic() + SERVE_TIMEOUT)
        if _next_build(lines, log) is None:  # the first build (nothing changed since the CLI's)
            return None
        for run in range(runs):
            edit = f"\n\nServe update {run + 1}: the service desk now opens at {8 + run}:45 a.m.\n"
            tool.changed_file.write_bytes(original + edit.encode())
            seconds = _next_build(lines, log)
            if seconds is None:
                return None
            say(f"  newsroom serve one change {run + 1}/{runs}: {seconds:.2f} s")
            times.append(seconds)
    finally:
        tool.changed_file.write_bytes(original)
        server.terminate()
        server.wait(timeout=30)
    return sorted(times)[len(times) // 2] if times else None


def _lines_until(stream: IO[str], deadline: float) -> Iterator[str]:
    """Lines from `stream` until it ends or the deadline passes (a stuck server fails the measure)."""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([stream], [], [], left)
        if not ready:
            return
        line = stream.readline()
        if not line:
            return
        yield line


def _next_build(lines: Iterator[str], log: Path) -> float | None:
    """Seconds of the next build `serve` reports ("site: ... in 0.42 s"); None if it stops first."""
    with log.open("a", encoding="utf-8") as record:
        for line in lines:
            record.write(line)
            found = re.search(r"^site: .* in ([0-9.]+) s$", line.strip())
            if found:
                return float(found.group(1))
            if line.startswith("build failed"):
                return None
    return None


# ---------------------------------------------------------------- report


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| releases | tool | cold runs | pages | cold build s | cold CPU s | pages/s | files/s "
        "| no-change rebuild s | one-change rebuild s | one change in serve s | peak memory MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.note:
            lines.append(f"| {row.size:,} | {row.tool} | | {row.note} | | | | | | | | |")
            continue
        rate = row.pages_per_second
        lines.append(
            f"| {row.size:,} | {row.tool} | {row.runs} | {row.pages:,} | {_seconds(row.cold)} | "
            f"{_seconds(row.cold_cpu)} | "
            f"{_rate(rate)} | {_rate(row.inputs_per_second)} | {_seconds(row.no_change)} | "
            f"{_seconds(row.one_change)} | {_seconds(row.serve_change)} | {row.peak_bytes / MIB:,.0f} |"
        )
    return "\n".join(lines)


def ratios(rows: list[Row]) -> list[str]:
    """Each target as a line: the ratio measured, the target, PASS/FAIL, or why it cannot be judged."""
    lines: list[str] = []
    for size in sorted({row.size for row in rows}):
        by_tool = {row.tool: row for row in rows if row.size == size and not row.note}
        ours, pelican, hugo = by_tool.get("newsroom"), by_tool.get("pelican"), by_tool.get("hugo")
        lines.append(f"{size:,} releases:")
        if ours and pelican and ours.pages_per_second and pelican.pages_per_second:
            ratio = ours.pages_per_second / pelican.pages_per_second
            lines.append(_verdict("newsroom pages/s ÷ Pelican pages/s", ratio, ratio >= 5, ">= 5x"))
        else:
            lines.append("  newsroom pages/s ÷ Pelican pages/s: n/a (needs both)")
        if ours and hugo and ours.cold and hugo.cold:
            ratio = ours.cold / hugo.cold
            lines.append(_verdict("newsroom cold time ÷ Hugo cold time", ratio, ratio <= 2, "<= 2x"))
        else:
            lines.append("  newsroom cold time ÷ Hugo cold time: n/a (needs both)")
        if pelican and hugo and pelican.pages_per_second and hugo.pages_per_second:
            lines.append(
                f"  (for scale: Hugo pages/s ÷ Pelican pages/s = "
                f"{hugo.pages_per_second / pelican.pages_per_second:.1f}x)"
            )
        if ours and size >= 10_000:
            change = ours.one_change or 0.0
            lines.append(f"  newsroom one-change rebuild: {change:.2f} s (target < 1 s) {_mark(change < 1)}")
            if ours.serve_change is not None:
                served = ours.serve_change
                verdict = f"{served:.2f} s (target < 1 s) {_mark(served < 1)}"
                lines.append(f"  newsroom one-change rebuild in `serve`: {verdict}")
            peak = ours.peak_bytes / GIB
            lines.append(f"  newsroom peak memory: {peak:.2f} GiB (target < 1 GiB) {_mark(peak < 1)}")
    return lines


def _verdict(label: str, ratio: float, passed: bool, target: str) -> str:
    return f"  {label} = {ratio:.2f}x (target {target}) {_mark(passed)}"


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 releases, one run each")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None)
    parser.add_argument(
        "--runs", type=int, default=None, help="runs per measurement (default 3 up to 1,000 releases, else 1)"
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS)
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sizes = args.sizes or ([200] if args.quick else [1000, 10_000])
    wanted = args.tools.split(",")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    load_at_start = " ".join(f"{value:.1f}" for value in os.getloadavg())
    probe_at_start = speed_probe()
    trash = args.out / "trash"
    if venv_path().exists() and not made_by_our_python(venv_path()):
        say(f"{venv_path()} was made by another Python: making it again")
        set_aside(venv_path(), trash)
    peers = find_or_install(venv_path())
    for name, why in peers.problems.items():
        say(f"{name}: n/a: {why}")
    rows: list[Row] = []
    wait_for_settled_inodes(args.out, say)
    for size in sizes:
        say(f"writing a corpus of {size:,} releases ...")
        corpus = write_corpus(size, set_aside(args.out / f"corpus-{size}", trash))
        say(f"  {corpus.markdown_files:,} Markdown files per tool")
        runs = args.runs or (1 if args.quick or size > 1000 else 3)
        log = args.out / f"site-bench-{size}.log"
        log.unlink(missing_ok=True)
        tools: list[Tool] = []
        for name, tool in make_tools(corpus, peers).items():
            if name not in wanted:
                continue
            if isinstance(tool, str):
                say(f"  {name}: {tool}")
                rows.append(Row(size, name, note=tool))
            else:
                tools.append(tool)
        rows.extend(measure_size(tools, corpus, runs, log, say))
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Site build at {NOW_TEXT}; {os.cpu_count()} CPUs; times are medians of the runs shown.")
    print(f"Load average at the start: {load_at_start}; at the end: {load} (other work skews wall times).")
    print(
        f"Speed probe (see speed_probe): {probe_at_start} at the start, {speed_probe()} at the end "
        "(this VM's speed drifts by up to 2x over minutes, and not for every tool alike)."
    )
    print(f"newsroom: the code in {newsroom_env()['PYTHONPATH']}")
    print(f"python (newsroom and Pelican): {sys.version.split()[0]}, {getattr(sys, '_base_executable', '')}")
    for name, version in versions(peers).items():
        print(f"{name}: {version}")
    print(table(rows))
    print("\n".join(ratios(rows)))
    results = args.out / "site-bench.json"
    results.write_text(json.dumps([asdict(row) for row in rows], indent=2), encoding="utf-8")
    delete_trash(trash, args.out)  # last: deleting slows what comes next (see fresh_copy)
    return 1 if any(row.note.startswith("failed") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
