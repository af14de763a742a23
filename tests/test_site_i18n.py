"""Every extracted string of every domain is translated in every catalog."""

from __future__ import annotations

from newsroom.render.i18n_tool import extract_domain, missing_translations


def test_every_catalog_translates_every_string() -> None:
    missing = missing_translations()
    listing = "\n".join(f"{lang}/{domain}.po: {ids}" for (lang, domain), ids in sorted(missing.items()))
    assert missing == {}, f"untranslated strings (run `make i18n`, then translate):\n{listing}"


def test_site_strings_are_extracted_from_templates_and_code() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_domain("site") if m.id}
    assert "Back to top" in ids  # templates/site/base.html
    assert "Available in %(language)s only" in ids  # newsroom/render/site_pages.py
