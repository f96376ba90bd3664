"""Runxin web service: the only package with HTTP, database and processes.

The public entry points are :func:`survey_service.app.create_app` and the ``runxin`` CLI
(:mod:`survey_service.cli`).
"""
