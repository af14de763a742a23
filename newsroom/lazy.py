"""Modules imported on first use, so `newsroom build` does not pay for the database stack.

The CLI registers every command at start-up; the subscriber and notification commands need
SQLAlchemy, Alembic and psycopg (a third of a second to import), the site build needs none of them.
This is the LazyLoader recipe from the importlib documentation.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def lazy_module(name: str) -> ModuleType:
    """`name`, executed the first time one of its attributes is read."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


class LazyConsole:
    """A rich `Console(**options)`, made the first time it is used: importing rich costs 25 ms that
    a command printing one plain line (`newsroom build`) need not pay."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)

    def made(self) -> Console:
        """The Console itself, for code that takes one."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console
