"""Issue 13: Chinese everywhere in the Chinese UI. Every staff page a role can reach by links,
and the student flow, in zh-CN: no internal code (a tier, state, band, flag, role, task kind,
policy id …) shows as an English word in the visible text or in what a screen reader reads
(``title``, ``aria-label``, ``placeholder``, ``alt``).

The codes come from the label tables themselves (every code that has a display label) and the
shipped triage policy, so a new code is covered the day it gets its label. The crawl follows
every local ``/staff`` link from each role's home (no sign-out, no downloads), with open cases of
every tier in the database so the case pages have content.
"""

from __future__ import annotations

import html
import re
from collections import deque
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from page_support import api_submit, staff_login
from svc_support import another_client, app_client, battery_answers, make_settings, seed

import triage
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.pages.i18n import LABELS

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ROLES = ("counsellor1", "lead1", "admin1", "headteacher1", "district1", "auditor1")
MAX_PAGES = 80  # per role: enough for every page kind, bounded if a list links to many objects
SKIP = re.compile(r"^/staff/(logout|exports/|audit/export|students/[^/]+/export)")


def internal_codes() -> set[str]:
    """Every code with a display label, and the shipped policy's id: none of them may show as
    such on a Chinese page. Codes shorter than three letters are left out (they are not words)."""
    codes = {code for labels in LABELS.values() for code in labels}
    codes |= set(triage.CASE_STATES)
    policy = triage.load_policy()
    codes.add(policy.version)  # the policy id, e.g. default-2026.1
    codes |= {rule.id for rule in policy.rules}
    return {c for c in codes if len(c) >= 3 and re.fullmatch(r"[A-Za-z][\w.\-]*", c)}


class _Visible(HTMLParser):
    """The text a reader sees or hears: text outside ``script``/``style``, and the attributes
    read aloud. Also the page's local links."""

    SPOKEN = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        named = dict(attrs)
        for name in self.SPOKEN:
            if named.get(name):
                self.parts.append(str(named[name]))
        if tag == "a" and named.get("href"):
            self.links.append(str(named["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def leaks(page: str, codes: set[str]) -> set[str]:
    """The internal codes that appear as whole words in the page's visible text."""
    reader = _Visible()
    reader.feed(page)
    text = html.unescape(" ".join(reader.parts))
    words = set(re.findall(r"[A-Za-z][\w.\-]*[A-Za-z0-9]|[A-Za-z]", text))
    return words & codes


def _links(page: str, here: str) -> list[str]:
    reader = _Visible()
    reader.feed(page)
    out = []
    for href in reader.links:
        url = urlsplit(urljoin(here, href))
        if url.netloc not in ("", "testserver.local") or not url.path.startswith("/staff"):
            continue
        if SKIP.match(url.path) or "lang=" in url.query:
            continue
        out.append(url.path + (f"?{url.query}" if url.query else ""))
    return out


def crawl(http: httpx.Client, start: str, codes: set[str]) -> tuple[dict[str, set[str]], int]:
    """Pages reachable from ``start`` with the codes each leaks; and how many were read."""
    seen, queue, found = {start}, deque([start]), {}
    read = 0
    while queue and read < MAX_PAGES:
        path = queue.popleft()
        r = http.get(path)
        if r.status_code in (301, 302, 303):
            target = r.headers["location"]
            if target not in seen and target.startswith("/staff"):
                seen.add(target)
                queue.append(target)
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        read += 1
        bad = leaks(r.text, codes)
        if bad:
            found[path] = bad
        for link in _links(r.text, path):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return found, read


def test_the_leak_check_sees_a_leak() -> None:
    codes = {"acute_positive", "counsellor", "default-2026.1"}
    page = (
        "<p>风险：acute_positive</p><script>var x='counsellor'</script>"
        '<a title="default-2026.1" href="/x">策略</a>'
    )
    assert leaks(page, codes) == {"acute_positive", "default-2026.1"}
    assert leaks("<p>阳性（PHQ-9）</p><option value='counsellor'>心理老师</option>", codes) == set()


@SQLITE_ONLY
def test_every_reachable_page_in_chinese_shows_no_internal_code(database_url: str) -> None:
    codes = internal_codes()
    assert {"red", "acute_positive", "counsellor", "phq_item9_positive"} <= codes
    settings = make_settings(database_url)
    access = seed(settings, now=T0, students=8).access_codes
    problems: dict[str, dict[str, set[str]]] = {}
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        # Cases of every tier: acute ASQ (red), item 9 (orange), elevated GAD-7 (yellow).
        api_submit(http, access[0], battery_answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}))
        api_submit(http, access[1], battery_answers({"q1": 1, "q2": 1, "q3": 0, "q4": 0, "q5": 0}))
        api_submit(http, access[2], battery_answers(gad7=2))
        # The student flow, as a student sees it.
        student = http.get(f"/s/{access[3]}", follow_redirects=True)
        assert student.status_code == 200
        bad = leaks(student.text, codes)
        if bad:
            problems["student"] = {f"/s/{access[3]}": bad}
        for username in ROLES:
            with another_client(http) as staff:
                signed_in = staff_login(staff, username)
                assert signed_in.status_code in (302, 303), username
                found, read = crawl(staff, signed_in.headers["location"], codes)
                assert read >= 1, username
                if found:
                    problems[username] = found
    found = [
        f"{who} {path}: {sorted(bad)}"
        for who, pages in problems.items()
        for path, bad in pages.items()
    ]
    assert not found, "\n".join(found)
