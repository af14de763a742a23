"""The exception tree: every error a user can cause becomes one readable message, never a traceback.

The CLI (`newsroom.cli.NewsroomTyper`) catches `NewsroomError` at the edge, prints its message and
exits 1; the web app turns it into a friendly page.
"""

from __future__ import annotations


class NewsroomError(Exception):
    """Base of every error newsroom reports to a user."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(NewsroomError):
    """newsroom.toml (or an environment override) is missing or invalid."""


class ContentError(NewsroomError):
    """Release files have errors; the message lists every one of them."""


class RenderError(NewsroomError):
    """An output could not be rendered."""


class DeliveryError(NewsroomError):
    """A message could not be handed to a transport."""
