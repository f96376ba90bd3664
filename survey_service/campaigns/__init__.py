"""Screening campaigns: rosters, batteries and their validity, slips, consent, coverage,
rescoring; the campaign API and the coverage dashboards.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
