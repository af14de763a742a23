"""Random bytes and random YAML into the loader: only our own diagnostics come out, never a traceback."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom

REPO = Path(__file__).resolve().parents[1]
FIELDS = ["title", "kind", "release", "office", "topics", "summary", "sms", "contacts", "images",
          "event", "status", "revision", "corrections", "tittle", "slug"]  # fmt: skip

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
front_matter = st.dictionaries(st.sampled_from(FIELDS), yaml_values, max_size=8)


def make_root(tmp_path: Path) -> Path:
    root = tmp_path
    if not (root / "newsroom.toml").exists():
        (root / "newsroom.toml").write_text((REPO / "newsroom.toml").read_text())
    folder = root / "releases" / "2024" / "2024-01-01-fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), name=st.sampled_from(["en.md", "ru.md"]))
@example(data=b"a: &x [*x]\n---\n", name="en.md")  # a recursive alias
@example(data=b"a: &a [1,1,1,1]\nb: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b]\n---\n", name="en.md")
@example(data=b"title: !!python/object:os.system x\n---\n", name="en.md")
@example(data=b"? [1, 2]\n: 3\n---\n", name="en.md")
@example(data=b"release: !!timestamp 2024-01-01\n---\n", name="en.md")
@example(data=b"\xff\xfe---\n", name="ru.md")
def test_random_bytes_give_diagnostics_not_tracebacks(tmp_path: Path, data: bytes, name: str) -> None:
    folder = make_root(tmp_path)
    for old in folder.glob("*.md"):
        old.unlink()
    (folder / name).write_bytes(b"---\n" + data)
    newsroom = load_newsroom(load_settings(tmp_path, environ={}))
    assert all(d.line >= 1 for d in newsroom.diagnostics)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=front_matter, body=st.text(max_size=200))
def test_random_front_matter_gives_diagnostics_not_tracebacks(
    tmp_path: Path, meta: dict[str, object], body: str
) -> None:
    folder = make_root(tmp_path)
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
    (folder / "en.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    newsroom = load_newsroom(load_settings(tmp_path, environ={}))
    assert newsroom.releases or newsroom.diagnostics
