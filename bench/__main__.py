"""`make bench` (python -m bench [--quick]): each area's benchmark in its own process, one table each.

A benchmark that exits non-zero (e.g. its counts do not add up) makes the whole run exit 1.
"""

from __future__ import annotations

import subprocess
import sys

AREAS = ("pdf_bench", "email_bench", "notify_bench", "delivery_bench", "sms_bench", "web_bench")


def main(argv: list[str]) -> int:
    failed = []
    for area in AREAS:
        print(f"\n== bench.{area} {' '.join(argv)}".rstrip(), flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{area}", *argv], check=False).returncode:
            failed.append(area)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
