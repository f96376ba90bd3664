"""A school's settings: its calendars and its on-call rota endpoints.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
