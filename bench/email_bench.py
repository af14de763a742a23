"""Email fan-out: render once per (kind, language, content), then personalise by substitution.

    python -m bench.email_bench           # 100,000 subscribers, naive baseline on 2,000
    python -m bench.email_bench --quick   # 10,000 and 300

Builds a synthetic newsroom from the sample one (20 topics, 20 releases in up to 6 languages, some
translations missing), and synthetic subscribers (6 languages, 1-3 topics, immediate/daily/weekly).
Each subscriber gets one message: an alert for a release on one of their topics, or the daily or
weekly digest of their topics. Reports the time to render the distinct messages, messages/s
personalised, peak memory of the fan-out at 10% and 100% of the subscribers (flat = the prepared
messages are bounded, nothing grows per subscriber), the naive rate (Jinja2 + MJML + `email` MIME
assembly per subscriber) measured in the same run, the ratio, and the per-message cost of DKIM.
"""

from __future__ import annotations

import email
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from newsroom.config import Settings, load_settings
from newsroom.content.loader import load_newsroom, revision_of
from newsroom.gate import Published, gate
from newsroom.render import email as email_render
from newsroom.render import urls
from newsroom.render.email import Content, DkimSigner, Interest, Kind, MessageCache, personalise
from newsroom.render.email_context import Frequency, wrap_plain
from newsroom.subscribers.tokens import make_token

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 12, 20, 14, 0, tzinfo=UTC)
LANGUAGES = {"en": 0.40, "es": 0.25, "zh": 0.10, "ru": 0.10, "ar": 0.08, "ht": 0.07}
FREQUENCIES: dict[Frequency, float] = {"immediate": 0.5, "daily": 0.3, "weekly": 0.2}
EXTRA_TOPIC_LABELS = {
    "en": "Civic topic {n}",
    "es": "Tema cívico {n}",
    "ru": "Гражданская тема {n}",
    "zh": "公民议题 {n}",
    "ar": "موضوع مدني {n}",
    "ht": "Sijè sivik {n}",
}
KEYS = ["bench-secret"]

Subscriber = tuple[int, str, Frequency, tuple[str, ...]]
Job = tuple[Kind, str, Content, int, str]  # kind, language, content, subscriber id, address


def build_newsroom(root: Path) -> Settings:
    """The sample newsroom with 20 topics and each public sample release cloned into 20 releases."""
    shutil.copytree(REPO / "releases", root / "releases")
    toml = (REPO / "newsroom.toml").read_text(encoding="utf-8")
    extra = [f"civic-{n:02d}" for n in range(8, 21)]
    for n, topic in enumerate(extra, start=8):
        labels = "\n".join(f'{code} = "{label.format(n=n)}"' for code, label in EXTRA_TOPIC_LABELS.items())
        toml += f"\n[topics.{topic}]\n{labels}\n"
    (root / "newsroom.toml").write_text(toml, encoding="utf-8")
    settings = load_settings(root, environ={})
    topics = list(settings.topics)
    samples = [r for r in gate(load_newsroom(settings), NOW).releases]
    for k in range(20):
        _clone(samples[k % len(samples)], k, [topics[k], topics[(k + 7) % 20]], root)
    return settings


def _clone(release: object, k: int, topics: list[str], root: Path) -> None:
    from newsroom.content.models import Release

    assert isinstance(release, Release)
    folder = root / "releases" / "bench" / f"2024-12-{1 + k % 19:02d}-bench-{k:02d}"
    shutil.copytree(release.folder, folder)
    original = folder / f"{release.language}.md"
    text = original.read_text(encoding="utf-8")
    text = re.sub(r"^topics: .*$", f"topics: [{', '.join(topics)}]", text, count=1, flags=re.M)
    text = re.sub(r"^slug: .*\n", "", text, flags=re.M)
    text = re.sub(r"^status: .*$", "status: published", text, count=1, flags=re.M)
    original.write_text(text, encoding="utf-8")
    revision = revision_of(original.read_bytes())
    for translation in folder.glob("*.md"):
        if translation != original:
            body = translation.read_text(encoding="utf-8")
            body = re.sub(r"^revision: .*$", f'revision: "{revision}"', body, count=1, flags=re.M)
            translation.write_text(body, encoding="utf-8")


def subscribers(count: int, topics: list[str], seed: int = 6) -> list[Subscriber]:
    rng = random.Random(seed)
    languages, language_weights = zip(*LANGUAGES.items(), strict=True)
    frequencies, frequency_weights = zip(*FREQUENCIES.items(), strict=True)
    return [
        (
            number,
            rng.choices(languages, language_weights)[0],
            rng.choices(frequencies, frequency_weights)[0],
            tuple(sorted(rng.sample(topics, rng.choice((1, 1, 2, 2, 3))))),
        )
        for number in range(1, count + 1)
    ]


def jobs(people: list[Subscriber], view: Published) -> list[Job]:
    """One message per subscriber, sorted so equal contents are adjacent (as a queue batches them)."""
    releases = sorted(view.releases, key=lambda r: r.slug)
    day_end = datetime(2024, 12, 20, 5, 0, tzinfo=UTC)  # midnight in New York
    periods = {
        "daily": (day_end - timedelta(days=1), day_end),
        "weekly": (day_end - timedelta(days=7), day_end),
    }
    out: list[Job] = []
    for number, language, frequency, topics in people:
        address = f"reader{number}@example.org"
        if frequency == "immediate":
            release = next(r for r in releases if topics[0] in r.meta.topics)
            matched = tuple(t for t in topics if t in release.meta.topics)
            out.append(
                ("alert", language, Content(Interest("immediate", matched), (release,)), number, address)
            )
        else:
            start, end = periods[frequency]
            inside = tuple(
                r for r in releases if start <= r.release_time < end and set(topics) & set(r.meta.topics)
            )
            content = Content(Interest(frequency, topics), inside, (start, end))
            out.append((frequency, language, content, number, address))
    out.sort(key=lambda job: (job[0], job[1], repr(job[2].key())))
    return out


def fan_out(work: list[Job], settings: Settings) -> dict[str, float]:
    """Render each distinct message once and personalise every job; wall and CPU seconds of each."""
    cache = MessageCache(settings, NOW)
    totals = dict.fromkeys(("render", "render_cpu", "personal", "personal_cpu", "bytes"), 0.0)
    for kind, language, content, number, address in work:
        wall, cpu = time.perf_counter(), time.process_time()
        prepared = cache.get(kind, language, content)
        wall_rendered, cpu_rendered = time.perf_counter(), time.process_time()
        totals["bytes"] += len(personalise(prepared, number, address, keys=KEYS))
        totals["personal"] += time.perf_counter() - wall_rendered
        totals["personal_cpu"] += time.process_time() - cpu_rendered
        totals["render"] += wall_rendered - wall
        totals["render_cpu"] += cpu_rendered - cpu
    totals["renders"] = cache.renders
    return totals


def peak_memory(work: list[Job], settings: Settings) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    fan_out(work, settings)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def naive(work: list[Job], settings: Settings) -> tuple[float, float]:
    """The slow way, per subscriber: context, Jinja2, MJML, `email` MIME assembly. (wall, CPU) seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    for kind, language, content, number, address in work:
        naive_message(kind, language, content, number, address, settings)
    return time.perf_counter() - wall, time.process_time() - cpu


def naive_message(
    kind: Kind, language: str, content: Content, number: int, address: str, s: Settings
) -> bytes:
    context = email_render._context(kind, language, content, s, NOW)
    unsubscribe = make_token(number, "unsubscribe", NOW, KEYS)
    context["unsubscribe_url"] = s.site.base_url + urls.unsubscribe(unsubscribe)
    context["preferences_url"] = s.site.base_url + urls.preferences(
        make_token(number, "preferences", NOW, KEYS)
    )
    environment = email_render._environment(language)
    html = email_render.mjml2html(environment.get_template(f"{kind}.mjml").render(context), fonts={})
    text = wrap_plain(environment.get_template(f"{kind}.txt").render(context))
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((s.site_name(language), "news@news.example.gov"))
    message["To"] = address
    message["Subject"] = context["subject"]
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = f"<naive.{number}@news.example.gov>"
    message["Content-Language"] = language
    message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>, <mailto:unsubscribe@news.example.gov>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


def dkim_cost(work: list[Job], settings: Settings, tmp: Path) -> float | None:
    """Seconds per message to personalise and DKIM-sign (RSA-2048), or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    key = tmp / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True
    )
    signer = DkimSigner("bench", "news.example.gov", key.read_bytes())
    cache = MessageCache(settings, NOW)
    started = time.perf_counter()
    for kind, language, content, number, address in work:
        personalise(cache.get(kind, language, content), number, address, keys=KEYS, dkim=signer)
    return (time.perf_counter() - started) / len(work)


def check_sample(work: list[Job], settings: Settings) -> None:
    """A few personalised messages must parse as two-part emails with the subscriber's own links."""
    cache = MessageCache(settings, NOW)
    for kind, language, content, number, address in work[:: max(1, len(work) // 7)]:
        message = email.message_from_bytes(
            personalise(cache.get(kind, language, content), number, address, keys=KEYS), policy=policy.default
        )
        assert message.get_content_type() == "multipart/alternative", kind
        assert message["To"] == address and f".{number}@" in message["Message-ID"]
        assert message["Content-Language"] == language


def sampled(work: list[Job], count: int) -> list[Job]:
    """`count` jobs spread evenly over the work (every kind and language represented)."""
    step = max(1, len(work) // count)
    return work[::step][:count]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    total, slice_size = (10_000, 300) if quick else (100_000, 2_000)
    with tempfile.TemporaryDirectory(prefix="newsroom-email-bench-") as folder:
        tmp = Path(folder)
        settings = build_newsroom(tmp / "newsroom")
        view = gate(load_newsroom(settings), NOW)
        people = subscribers(total, list(settings.topics))
        work = jobs(people, view)
        check_sample(work, settings)
        report(work, settings, slice_size, tmp, len(view.releases))
    return 0


def report(work: list[Job], settings: Settings, slice_size: int, tmp: Path, releases: int) -> None:
    fast = fan_out(work, settings)
    tenth = peak_memory(sampled(work, len(work) // 10), settings)
    full = peak_memory(work, settings)
    naive_slice = sampled(work, slice_size)
    naive_wall, naive_cpu = naive(naive_slice, settings)
    dkim = dkim_cost(sampled(work, 300), settings, tmp)
    count = len(work)
    fast_wall = count / (fast["render"] + fast["personal"])
    fast_cpu = count / (fast["render_cpu"] + fast["personal_cpu"])
    rows = [
        ("subscribers = messages", f"{count:,}", f"6 languages, 20 topics, {releases} releases"),
        ("distinct messages rendered", f"{fast['renders']:,.0f}", "Jinja2 + MJML + MIME, once each"),
        ("time to render", f"{fast['render']:.2f} s", f"{fast['render_cpu']:.2f} s CPU"),
        ("time to personalise", f"{fast['personal']:.2f} s", f"{fast['personal_cpu']:.2f} s CPU"),
        ("personalised", f"{count / fast['personal']:,.0f} msg/s",
         f"{count / fast['personal_cpu']:,.0f}/s CPU"),
        ("fan-out, render included", f"{fast_wall:,.0f} msg/s", f"{fast_cpu:,.0f}/s CPU"),
        ("average message", f"{fast['bytes'] / count / 1024:.1f} KiB", "text + HTML, quoted-printable"),
        ("peak memory, 10% of them", f"{tenth / 2**20:.1f} MiB", "tracemalloc, fan-out only"),
        ("peak memory, all of them", f"{full / 2**20:.1f} MiB", "flat: the prepared cache is bounded"),
        (f"naive on {len(naive_slice):,}", f"{len(naive_slice) / naive_wall:,.0f} msg/s",
         f"{len(naive_slice) / naive_cpu:,.0f}/s CPU"),
    ]  # fmt: skip
    if dkim is not None:
        rows.append(("with DKIM (RSA-2048)", f"{1 / dkim:,.0f} msg/s", f"{dkim * 1000:.1f} ms each, dkimpy"))
    ratio = fast_cpu / (len(naive_slice) / naive_cpu)
    verdict = "OK" if ratio >= 10 else "BELOW TARGET"
    rows.append(("ratio vs naive (CPU)", f"{ratio:.1f}x", f"target >= 10x: {verdict}"))
    rows.append(("ratio vs naive (wall)", f"{fast_wall / (len(naive_slice) / naive_wall):.1f}x", "same run"))
    for label, value, note in rows:
        print(f"  {label:<28} {value:>14}  {note}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
