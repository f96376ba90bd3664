"""Operating the service (issue 14): readiness (``/readyz``), the worker heartbeat and
Prometheus metrics (``/metrics``). See docs/operations.md."""
