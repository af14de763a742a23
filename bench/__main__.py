"""`make bench`: the site benchmark, then every other area's benchmark that exists, each as a subprocess.

    python -m bench            # full runs
    python -m bench --quick    # smoke runs (also when BENCH_QUICK=1)

Each module prints its own table; a module that is not in this checkout is listed as skipped. A benchmark
that exits non-zero (e.g. its counts do not add up) makes the whole run exit 1.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

AREAS = (
    ("site", "bench.site_bench"),
    ("pdf", "bench.pdf_bench"),
    ("email", "bench.email_bench"),
    ("notify", "bench.notify_bench"),
    ("delivery", "bench.delivery_bench"),
    ("sms", "bench.sms_bench"),
    ("web", "bench.web_bench"),
)


def accepts_quick(module: str) -> bool:
    """Whether the module knows --quick: an unknown flag makes argparse exit 2. Read from its source,
    not from `--help`, since some modules parse argv by hand and would run in full."""
    spec = importlib.util.find_spec(module)
    source = Path(spec.origin) if spec and spec.origin else None
    return source is not None and source.is_file() and "--quick" in source.read_text(encoding="utf-8")


def run_area(title: str, module: str, quick: bool) -> int | None:
    """The module's exit code, or None when this checkout does not have it."""
    if importlib.util.find_spec(module) is None:
        print(f"\n== {title}: skipped ({module} is not in this checkout)", flush=True)
        return None
    flag = ["--quick"] if quick and accepts_quick(module) else []
    note = " (has no --quick: full run)" if quick and not flag else ""
    print(f"\n== {title} ({' '.join([module, *flag])}){note}", flush=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", module, *flag]
    code = subprocess.run(command, check=False).returncode
    print(f"-- {title}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
    return code


def main(argv: list[str]) -> int:
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK") == "1"
    results = {title: run_area(title, module, quick) for title, module in AREAS}
    failed = [title for title, code in results.items() if code not in (None, 0)]
    ran = [title for title, code in results.items() if code is not None]
    print(f"\n== bench: ran {', '.join(ran) or 'nothing'}; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
