"""Notifications: the outbox, routes per school and role, the on-call rota, the in-app
queue; their API and pages.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
