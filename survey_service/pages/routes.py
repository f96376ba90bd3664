"""The page routes, gathered for ``api/routes.py``: student pages at ``/`` and ``/s/…``, staff
pages under one ``/staff`` router (session dependency, CSRF check, HTML error pages)."""

from __future__ import annotations

from typing import Any

from . import dashboards, on_call, staff, student, teacher

STUDENT_ROUTES: list[Any] = list(student.ROUTES)
STAFF_ROUTER = staff.router(*teacher.ROUTES, *dashboards.ROUTES, *on_call.ROUTES)
