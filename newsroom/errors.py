"""The exception tree: every error a user can cause becomes one readable message, never a traceback."""

from __future__ import annotations

import click


class NewsroomError(click.ClickException):
    """Base of every error newsroom reports to a user; the CLI prints its message and exits 1."""


class ConfigError(NewsroomError):
    """newsroom.toml (or an environment override) is missing or invalid."""


class ContentError(NewsroomError):
    """Release files have errors; the message lists every one of them."""


class RenderError(NewsroomError):
    """An output could not be rendered."""


class DeliveryError(NewsroomError):
    """A message could not be handed to a transport."""
