"""Issue 13: an alert's link opens the case. Every notification links to the case page
``/staff/cases/{id}``; a tap without a session goes to the sign-in page and, after signing in,
back to that case (``next`` only ever a local staff path).

Real parts: the app in process, SQLite and PostgreSQL, the outbox rows the dispatcher sends.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from page_support import api_submit, hidden, sql
from svc_support import app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def test_every_alert_links_to_the_case_page_and_sign_in_leads_back_to_it(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0).access_codes
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        api_submit(http, codes[0], battery_answers(RED))
        payloads = [
            json.loads(p) if isinstance(p, str) else p
            for (p,) in sql(database_url, "SELECT payload FROM outbox")
        ]
        ((case_id,),) = sql(database_url, "SELECT id FROM cases")
        case_hex = str(case_id).replace("-", "")
        links = {urlsplit(p["link"]).path for p in payloads}
        assert payloads and len(links) == 1
        (path,) = links
        assert path.startswith("/staff/cases/") and path.replace("-", "").endswith(case_hex)

        # ``next`` never leaves the staff pages of this service.
        for hostile in ("//evil.example/x", "https://evil.example/", "/staff\\..\\x", "/api/v1"):
            form = http.get("/staff/login", params={"next": hostile})
            assert hidden(form.text, "next") in ("", "/staff"), hostile

        # Tapped without a session: the sign-in page, which remembers where to go.
        tapped = http.get(path, follow_redirects=False)
        assert tapped.status_code in (302, 303)
        assert tapped.headers["location"] == f"/staff/login?next={path}"
        form = http.get(tapped.headers["location"])
        assert form.status_code == 200 and hidden(form.text, "next") == path
        signed_in = http.post(
            "/staff/login",
            data={
                "_csrf": hidden(form.text, "_csrf"),
                "username": "counsellor1",
                "password": "pw-test-123",
                "next": path,
            },
            follow_redirects=False,
        )
        assert signed_in.status_code in (302, 303)
        assert signed_in.headers["location"] == path
        page = http.get(path)
        assert page.status_code == 200 and f'action="{path}/' in page.text
