"""EXPLAIN plans captured from real PostgreSQL servers, and the scenarios that produce them.

``scenarios.py`` says what each plan is and what the analysis must find in it; ``capture_plans.py``
runs the scenarios and (re)writes ``pg<major>/<scenario>.json``.
"""
