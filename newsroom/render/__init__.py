"""Outputs: one module per format (site, feeds, pdf, email, sms), plus i18n and URLs they share.

Renderers create artifacts and send nothing; they only ever receive the gate's `Published` view.
"""
