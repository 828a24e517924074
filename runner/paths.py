"""Where nngrade finds its assignments, reference solutions and fixtures.

One place for every path the project reads, so settings and defaults cannot
drift apart. The default is the checkout this package lives in; the
``NNGRADE_HOME`` environment variable points elsewhere (e.g. a course repo
with its own ``assignments/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def default(cls) -> ProjectPaths:
        configured = os.environ.get("NNGRADE_HOME")
        return cls(Path(configured) if configured else Path(__file__).resolve().parents[1])

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def datasets(self) -> Path:
        """One ``<name>.yaml`` per dataset (runner.datasets.registry)."""
        return self.root / "datasets"

    @property
    def reference_solutions(self) -> Path:
        return self.root / "reference_solutions"

    @property
    def fixtures(self) -> Path:
        return self.root / "tests" / "fixtures" / "notebooks"

    @property
    def probe(self) -> Path:
        """The in-sandbox package; the only project code a sandbox sees."""
        return Path(__file__).resolve().parent / "probe"
