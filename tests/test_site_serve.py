"""`newsroom serve`: the preview server shows the site and picks up an edited release by itself."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import SAMPLE_NOW

LABOR = "labor-statement-winter-jobs"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def _wait_for(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_preview_serves_the_site_and_rebuilds_on_change(sample_root: Path) -> None:
    from newsroom.preview import serve

    said: list[str] = []
    stop = threading.Event()
    worker = threading.Thread(
        target=serve,
        kwargs={"root": sample_root, "now": lambda: SAMPLE_NOW, "say": said.append, "port": 0,
                "interval": 0.2, "stop": stop},
        daemon=True,
    )  # fmt: skip
    worker.start()
    assert _wait_for(lambda: any("serving" in line for line in said)), said
    base = re.search(r"http://127\.0\.0\.1:\d+", next(line for line in said if "serving" in line))
    assert base is not None
    status, html = _get(f"{base.group(0)}/en/releases/{LABOR}/")
    assert status == 200 and "Marisol Ortega" in html
    status, html = _get(f"{base.group(0)}/en/no-such-page/")
    assert status == 404 and "Page not found" in html

    original = next(sample_root.glob(f"releases/*/*-{LABOR}/en.md"))
    original.write_text(
        original.read_text().replace("Marisol Ortega", "Marisol Ortega-Diaz"), encoding="utf-8"
    )

    assert _wait_for(lambda: "Ortega-Diaz" in _get(f"{base.group(0)}/en/releases/{LABOR}/")[1]), said
    assert _wait_for(lambda: any("units rendered" in line for line in said[1:])), said
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
