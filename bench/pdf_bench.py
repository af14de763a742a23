"""PDF benchmark: PDFs per second cold, and what a run costs when nothing changed.

    python -m bench.pdf_bench [--releases 1000] [--seed 7]

Builds a seeded corpus of releases (English originals, some translated into the sample
newsroom's other languages, a few with an image) in a temporary folder, then times:
  cold       every PDF rendered on the 2-worker pool (pool start-up reported apart)
  no-change  the pdf stage again with the same inputs: keys, cache and file checks only
  one-change one translation edited: the stage renders exactly one PDF (includes pool start-up)
The target is a no-change run under 2 s at 1,000 releases.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsroom.config import load_settings
from newsroom.content.loader import load_newsroom
from newsroom.gate import gate
from newsroom.render.pdf import pdf_units
from newsroom.render.pdf_pool import PdfPool
from newsroom.render.pdf_stage import render_pdfs

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_NO_CHANGE_SECONDS = 2.0

VOCABULARY = {
    "en": "the state will residents services online office public health program people city new "
    "plan county support access community families workers schools help year open free",
    "es": "el estado los residentes servicios en línea oficina salud pública programa personas ciudad "
    "nuevo plan condado apoyo acceso comunidad familias trabajadores escuelas ayuda",
    "ru": "штат жители услуги онлайн управление здравоохранение программа люди город новый план округ "
    "поддержка доступ сообщество семьи работники школы помощь год",
    "zh": "州政府 居民 服务 网上 办公室 公共卫生 项目 人们 城市 新 计划 县 支持 "
    "社区 家庭 劳动者 学校 帮助 今年 免费",
    "ar": "الولاية السكان الخدمات الإلكترونية المكتب الصحة العامة البرنامج الناس المدينة جديد "
    "الخطة المقاطعة الدعم الوصول المجتمع الأسر العمال المدارس المساعدة",
    "ht": "eta a moun yo sèvis sou entènèt biwo sante piblik pwogram vil la nouvo plan konte "
    "sipò aksè kominote fanmi travayè lekòl èd ane gratis",
}
WORDS = {language: words.split() for language, words in VOCABULARY.items()}
END = {"zh": "。", "ar": ".", "en": ".", "es": ".", "ru": ".", "ht": "."}


def paragraph(rng: random.Random, language: str, sentences: int) -> str:
    joiner = "" if language == "zh" else " "
    out = []
    for _ in range(sentences):
        words = rng.choices(WORDS[language], k=rng.randint(8, 18))
        sentence = joiner.join(words)
        out.append(sentence[0].upper() + sentence[1:] + END[language])
    return (" " if language != "zh" else "").join(out)


def body(rng: random.Random, language: str) -> str:
    parts = [paragraph(rng, language, rng.randint(3, 5)) for _ in range(rng.randint(4, 7))]
    bullets = "\n".join(f"- {paragraph(rng, language, 1)}" for _ in range(rng.randint(2, 4)))
    parts.insert(2, bullets)
    return "\n\n".join(parts) + "\n"


def write_corpus(root: Path, count: int, seed: int) -> None:
    """`count` releases under root/releases, deterministic for a seed."""
    rng = random.Random(seed)
    shutil.copy(REPO / "newsroom.toml", root / "newsroom.toml")
    image = next((REPO / "releases").rglob("*.png"))
    offices = ["governor", "health", "dmv", "labor", "city-digital"]
    topics = ["government-services", "technology", "health", "transportation", "jobs"]
    start = datetime(2022, 1, 3, 10, 0, tzinfo=UTC)
    for number in range(count):
        when = start + timedelta(hours=17 * number)
        slug = f"release-{number:05d}"
        folder = root / "releases" / f"{when:%Y}" / f"{when:%Y-%m-%d}-{slug}"
        folder.mkdir(parents=True)
        with_image = rng.random() < 0.1
        if with_image:
            shutil.copy(image, folder / "photo.png")
        images = (
            "images:\n  - src: photo.png\n    alt: Four colored blocks on a gray base.\n"
            if with_image
            else ""
        )
        title = paragraph(rng, "en", 1)[:90].rstrip(".")
        original = (
            f"---\ntitle: {json.dumps(title)}\nkind: press-release\n"
            f"release: {when:%Y-%m-%d %H:%M} UTC\ndateline: ALBANY, N.Y.\n"
            f"office: {rng.choice(offices)}\ntopics: [{rng.choice(topics)}]\n"
            f"summary: {json.dumps(paragraph(rng, 'en', 1))}\n"
            "contacts:\n  - name: Press Office\n    email: press.office@exec.example.gov\n"
            f'    phone: "+1 518 555 0142"\n{images}---\n{body(rng, "en")}'
        )
        (folder / "en.md").write_text(original, encoding="utf-8")
        revision = hashlib.sha256(original.encode("utf-8")).hexdigest()[:12]
        for language in ("es", "ru", "zh", "ar", "ht"):
            if rng.random() < 0.15:
                title = json.dumps(paragraph(rng, language, 1)[:80], ensure_ascii=False)
                translated = f'---\nrevision: "{revision}"\ntitle: {title}\n---\n{body(rng, language)}'
                (folder / f"{language}.md").write_text(translated, encoding="utf-8")


def measure(count: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pdf-bench-") as temporary:
        root = Path(temporary)
        write_corpus(root, count, seed)
        settings = load_settings(root, environ={})
        started = time.perf_counter()
        published = gate(load_newsroom(settings), NOW)
        load_seconds = time.perf_counter() - started
        out, cache = root / "site", root / "var" / "pdf-cache.json"
        pdfs = len(list(pdf_units(published)))

        with PdfPool(2) as pool:
            started_pool = time.perf_counter()
            first = next(iter(pdf_units(published)))
            pool.render([first, first])  # both workers up and warm
            pool_seconds = time.perf_counter() - started_pool
            started = time.perf_counter()
            cold = render_pdfs(published, out, cache, pool)
            cold_seconds = time.perf_counter() - started

        started = time.perf_counter()
        again = render_pdfs(published, out, cache)  # no pool given: none is started when nothing changed
        no_change_seconds = time.perf_counter() - started

        translation = next(settings.releases_dir.rglob("ru.md"))
        translation.write_text(
            translation.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8"
        )
        edited = gate(load_newsroom(settings), NOW)
        started = time.perf_counter()
        one = render_pdfs(edited, out, cache)
        one_change_seconds = time.perf_counter() - started

    assert cold.rendered == pdfs and again.rendered == 0 and one.rendered == 1, (cold, again, one)
    return {
        "releases": count,
        "pdfs": pdfs,
        "load_and_gate_s": load_seconds,
        "pool_start_s": pool_seconds,
        "cold_s": cold_seconds,
        "cold_pdfs_per_s": pdfs / cold_seconds,
        "no_change_s": no_change_seconds,
        "one_change_s": one_change_seconds,
        "load_average_1min": os.getloadavg()[0],  # other work on the machine slows the cold figure
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.releases, args.seed)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"pdf: {figures['releases']} releases, {figures['pdfs']} PDFs")
        print(f"  pool start (2 workers, WeasyPrint warm): {figures['pool_start_s']:.2f} s")
        print(f"  cold: {figures['cold_s']:.1f} s = {figures['cold_pdfs_per_s']:.1f} PDFs/s")
        verdict = "ok" if figures["no_change_s"] < TARGET_NO_CHANGE_SECONDS else "TOO SLOW"
        print(
            f"  no-change run: {figures['no_change_s']:.3f} s"
            f" (target < {TARGET_NO_CHANGE_SECONDS} s: {verdict})"
        )
        print(f"  one changed translation: {figures['one_change_s']:.2f} s (1 PDF, pool started for it)")
        print(
            f"  (loading + gating the corpus, not part of the pdf stage: {figures['load_and_gate_s']:.2f} s)"
        )
        print(
            f"  (load average during the run: {figures['load_average_1min']:.1f} on {os.cpu_count()} cores)"
        )
    return 0 if figures["no_change_s"] < TARGET_NO_CHANGE_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
