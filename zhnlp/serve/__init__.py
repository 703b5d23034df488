"""``zhnlp serve``: an HTTP server for trained runs and ``zhnlp export`` folders.

One job per module:
    models.py    load what the command names, describe it (name, task, labels, encoder, source)
    batcher.py   dynamic batching: one queue and one model thread per model
    validate.py  request bodies -> texts, or an ``ApiError`` with the status and the reason
    metrics.py   Prometheus metrics and the middleware that counts every request
    openapi.py   the OpenAPI document behind ``/openapi.json`` and ``/docs``
    app.py       the Starlette routes
    cli.py       the command: arguments, loading, the socket, uvicorn
    page/        the try-it page (``GET /``) and the docs page: plain HTML, JS and CSS

Start one in-process with :func:`zhnlp.serve.app.build_app` (an ASGI app) or run the command.
Starlette, uvicorn and prometheus-client come with the ``serve`` extra: ``pip install "zhnlp[serve]"``.
"""
