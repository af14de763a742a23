"""Problems found in input files, reported as `path:line: severity: message (fix: hint)`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in one file, with the line to look at and how to fix it."""

    path: str
    line: int
    severity: Severity
    message: str
    hint: str = ""

    def format(self) -> str:
        text = f"{self.path}:{self.line}: {self.severity.value}: {self.message}"
        return f"{text} (fix: {self.hint})" if self.hint else text


def relative(path: Path, root: Path) -> str:
    """The path as the user typed it relative to the newsroom root, when it lies inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def warnings(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.WARNING]


def promote_warnings(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: every warning counts as an error."""
    return [Diagnostic(d.path, d.line, Severity.ERROR, d.message, d.hint) for d in diagnostics]


def to_json(diagnostics: list[Diagnostic]) -> str:
    records = [{**asdict(d), "severity": d.severity.value} for d in sorted(diagnostics)]
    summary = {"errors": len(errors(diagnostics)), "warnings": len(warnings(diagnostics))}
    return json.dumps({"diagnostics": records, **summary}, ensure_ascii=False, indent=2)
