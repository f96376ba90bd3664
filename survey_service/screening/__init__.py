"""A student's screening: sessions, saved answers, submission, scoring and triage of it,
the student pages and the student API.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
