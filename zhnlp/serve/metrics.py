"""Prometheus metrics of one server (its own registry), and the ASGI middleware that counts requests.

    zhnlp_requests_total{route,method,status}   every answered request
    zhnlp_errors_total{route,status}            the ones answered with status >= 400
    zhnlp_request_seconds{route}                latency, from the request's arrival to its last byte
    zhnlp_batch_size{model}                     texts per model call (how well batching coalesces)
    zhnlp_batch_seconds{model}                  time of one model call
    zhnlp_queue_depth{model}                    texts waiting for a batch now
"""
from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    """The server's metric families, registered in a registry of their own (one per app)."""

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("zhnlp_requests", "Requests answered, by route, method and status.",
                                ["route", "method", "status"], registry=r)
        self.errors = Counter("zhnlp_errors", "Requests answered with an error status (>= 400).",
                              ["route", "status"], registry=r)
        self.latency = Histogram("zhnlp_request_seconds", "Request latency in seconds.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("zhnlp_batch_size", "Texts per model call.", ["model"],
                                    buckets=BATCH_BUCKETS, registry=r)
        self.batch_seconds = Histogram("zhnlp_batch_seconds", "Seconds per model call.", ["model"],
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("zhnlp_queue_depth", "Texts waiting for a model batch.", ["model"], registry=r)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, method, str(status)).inc()
        if status >= 400:
            self.errors.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware: times every HTTP request and counts it under its route template
    (``/models/{name}/predict``, not the raw path, so the label set stays small; ``other``
    for paths no route matches).

    Args:
        app: the wrapped ASGI app.
        metrics: where to count.
        routes: the app's routes, matched to find the template.
    """

    def __init__(self, app, metrics: Metrics, routes):
        self.app, self.metrics, self.routes = app, metrics, routes

    def route_of(self, scope) -> str:
        from starlette.routing import Match

        matches = [(route.matches(scope)[0], route.path) for route in self.routes]
        for wanted in (Match.FULL, Match.PARTIAL):  # PARTIAL: the path matches, the method does not (405)
            for match, path in matches:
                if match is wanted:
                    return path
        return "other"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.observe_request(self.route_of(scope), scope["method"], status, time.perf_counter() - started)
