"""Staff accounts: login, tokens, password hashing use, and the role and scope rules.

A feature slice: its services, JSON controllers (``api``) and page controllers over the
shared ``db`` and ``schemas``; see tests/architecture for the rules between them.
"""
