"""The subscription web app (see app.py)."""
