"""Headless Chromium for the browser tests: Debian's, driven by Playwright.

A module of browser tests sets ``pytestmark = needs_chromium`` and takes the ``browser``
fixture (tests/conftest.py). With CI=true (.ci/run installs Chromium and Playwright) the
tests must run, not skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REQUIRED = os.environ.get("CI") == "true"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the networking flags, Chromium stalls on a closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(
    not REQUIRED and (not Path(CHROMIUM).exists()
                      or importlib.util.find_spec("playwright") is None),
    reason="no Chromium or Playwright (apt-get install chromium; pip install playwright)")
