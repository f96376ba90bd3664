"""Care of a student: cases, their workflow and history, care groups, crisis plans,
referrals, incidents, observations, the student's file; the staff case pages and API.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
