"""`newsroom sms preview` and `newsroom sms reply` show what phones will get."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from newsroom.cli import app


def test_preview_prints_each_language_with_its_segments(sample_root: Path) -> None:
    result = CliRunner().invoke(app, ["sms", "preview", "new-york-experience", "--root", str(sample_root)])
    assert result.exit_code == 0, result.output
    assert (
        "── ru: 2/2 UCS-2 segment(s), 103 units\nГубернатор Хокул запустила стратегию NYX https://"
        in result.output
    )
    assert "Для отписки ответьте STOP" in result.output
    assert "── zh: 2/2 UCS-2 segment(s), 134 units, text cut to fit" in result.output


def test_preview_of_an_unknown_slug_says_how_to_fix_it(sample_root: Path) -> None:
    result = CliRunner().invoke(app, ["sms", "preview", "no-such-release", "--root", str(sample_root)])
    assert result.exit_code == 1
    assert "no valid release with slug 'no-such-release' (fix: see `newsroom status`)" in result.output
    assert "Traceback" not in result.output


def test_reply_shows_the_intent_and_the_reply(sample_root: Path) -> None:
    result = CliRunner().invoke(app, ["sms", "reply", "Alto", "--root", str(sample_root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "intent: stop",
        "State News: ya no le enviaremos mensajes. Responda START para volver a suscribirse.",
    ]
