"""The Starlette app: routes, error answers, and the batchers' lifetime.

    POST /predict                  {"texts": [...]} -> {"predictions": [...]} with the first model
    POST /models/{name}/predict    the same with the named model
    GET  /models  /health  /metrics  /openapi.json  /docs  /  (the try-it page)
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from zhnlp.serve.batcher import Batcher
from zhnlp.serve.metrics import Metrics, MetricsMiddleware
from zhnlp.serve.models import ServedModel
from zhnlp.serve.openapi import document
from zhnlp.serve.validate import ApiError, Limits, parse_texts

PAGE = Path(__file__).resolve().parent / "page"
log = logging.getLogger("zhnlp.serve")


def build_app(models: list[ServedModel], limits: Limits = Limits(), max_batch_size: int = 32,
              max_wait_ms: float = 2.0) -> Starlette:
    """The ASGI app serving ``models`` (run it with uvicorn, or ``zhnlp serve``).

    Args:
        models: loaded models (:func:`zhnlp.serve.models.load_models`); the first one serves ``/predict``.
        limits: the most texts per request and characters per text.
        max_batch_size: the most texts per model call.
        max_wait_ms: how long a request may wait for others to join its batch.

    Returns:
        A Starlette app; its lifespan starts and stops one batcher per model.
    """
    from zhnlp import __version__

    if not models:
        raise ValueError("build_app needs at least one model")
    metrics = Metrics()
    by_name = {m.name: m for m in models}
    batchers = {m.name: make_batcher(m, metrics, max_batch_size, max_wait_ms) for m in models}
    openapi = document(list(by_name), limits, __version__)

    async def predict_with(name: str, request: Request) -> Response:
        texts = parse_texts(await read_body(request, limits.max_body_bytes), limits)
        try:
            predictions = await batchers[name].submit(texts)
        except Exception as error:  # noqa: BLE001 - a failing batch answers 500; the server keeps serving
            log.exception("prediction failed (model %s)", name)
            raise ApiError(500, f"prediction failed: {type(error).__name__}: {error}") from None
        return JSONResponse({"predictions": predictions})

    async def predict_first(request: Request) -> Response:
        return await predict_with(models[0].name, request)

    async def predict_named(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in by_name:
            raise ApiError(404, f"no model named {name!r}; the models are: {', '.join(by_name)}", models=list(by_name))
        return await predict_with(name, request)

    async def list_models(request: Request) -> Response:
        return JSONResponse([m.info() for m in models])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": list(by_name)})

    async def show_metrics(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, headers={"Content-Type": content_type})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    routes = [
        Route("/predict", predict_first, methods=["POST"]),
        Route("/models/{name}/predict", predict_named, methods=["POST"]),
        Route("/models", list_models),
        Route("/health", health),
        Route("/metrics", show_metrics),
        Route("/openapi.json", openapi_json),
        Route("/docs", page("docs.html")),
        Route("/", page("index.html")),
        Mount("/static", StaticFiles(directory=PAGE), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        for batcher in batchers.values():
            await batcher.start()
        try:
            yield
        finally:  # uvicorn has answered every request in flight by now
            for batcher in batchers.values():
                await batcher.stop()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ApiError: api_error, HTTPException: http_error, Exception: server_error})
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=routes)
    app.state.models, app.state.metrics, app.state.batchers = models, metrics, batchers
    return app


def make_batcher(model: ServedModel, metrics: Metrics, max_batch_size: int, max_wait_ms: float) -> Batcher:
    """A batcher calling ``model.predictor.predict`` and reporting batch sizes, times and queue depth."""
    sizes, seconds = metrics.batch_size.labels(model.name), metrics.batch_seconds.labels(model.name)
    depth = metrics.queue_depth.labels(model.name)

    def on_batch(n: int, took: float) -> None:
        sizes.observe(n)
        seconds.observe(took)

    return Batcher(lambda texts: model.predictor.predict(texts), max_batch_size, max_wait_ms,
                   on_batch=on_batch, on_queue=depth.set)


def page(name: str):
    """A route endpoint answering the static file ``page/<name>``."""
    async def endpoint(request: Request) -> Response:
        return FileResponse(PAGE / name, media_type="text/html")

    return endpoint


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    too_big = ApiError(413, f"request body over {limit} bytes, more than --max-texts texts of --max-chars "
                            f"characters can need")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def api_error(request: Request, error: ApiError) -> Response:
    return JSONResponse({"error": error.message, **error.extra}, status_code=error.status)


async def http_error(request: Request, error: HTTPException) -> Response:
    """Starlette's own errors (unknown path 404, wrong method 405) as JSON too."""
    headers = getattr(error, "headers", None)
    return JSONResponse({"error": f"{error.detail}: {request.method} {request.url.path}"},
                        status_code=error.status_code, headers=headers)


async def server_error(request: Request, error: Exception) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"error": f"internal error: {type(error).__name__}: {error}"}, status_code=500)
