"""Browser tests: Playwright for Python driving the machine's Chromium (Debian ``chromium``).

Nothing is downloaded at run time. Without Playwright or a Chromium binary these tests skip
with a message saying what is missing, except under ``CI=true``, where ``.ci/run`` installs
both and a missing browser is an error.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The live server, the seeded database and the demo answers are shared with the service tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "survey_service"))

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium binary: ``RUNXIN_CHROMIUM``, else what Debian's ``chromium`` installs."""
    for candidate in (
        os.environ.get("RUNXIN_CHROMIUM"),
        "/usr/lib/chromium/chromium",  # the real binary (`dpkg -L chromium`)
        shutil.which("chromium"),  # Debian's wrapper script
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _unavailable(reason: str) -> None:
    message = (
        f"browser tests need Playwright and Chromium: {reason}. Install them with "
        "`apt-get install -y chromium` and `pip install playwright` (no `playwright install`)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Browser tests run on SQLite only: the pages are the same on both engines, and each
    page's behaviour on PostgreSQL is covered by the page tests in ``tests/survey_service``
    (this keeps ``make test`` within its time budget)."""
    path = tmp_path / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def browser(database_url: str) -> Iterator[Any]:
    """A headless Chromium for one test. It starts after the test's database exists and stops
    before it is dropped: Playwright's sync API holds a running event loop in this thread, so
    database set-up (``asyncio.run``) must not overlap it (see ``browser_support.off_loop``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium binary found (looked for /usr/lib/chromium/chromium, chromium)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
