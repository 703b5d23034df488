"""``zhnlp serve RUN_OR_EXPORT [MORE ...] [--host H] [--port P] [--max-batch-size N] [--max-wait-ms MS]
[--max-texts N] [--max-chars N] [--threads N]``.

Loads every model first (a folder that does not load ends the command with one line naming it, exit
status 2), binds the socket, then serves until SIGTERM or Ctrl+C: uvicorn stops accepting, answers
the requests in flight, and the command exits 0.
"""
from __future__ import annotations

import argparse
import signal
import socket
import sys

from zhnlp.errors import ZhnlpError


def parser() -> argparse.ArgumentParser:
    """The arguments of ``zhnlp serve``."""
    p = argparse.ArgumentParser(prog="zhnlp serve", description="Serve trained runs or export folders over HTTP "
                                "(POST /predict, a try-it page at /, docs at /docs, metrics at /metrics).")
    p.add_argument("models", nargs="+", metavar="RUN_OR_EXPORT",
                   help="run folder, model/ folder, .ckpt file or `zhnlp export` folder; the first serves /predict, "
                        "each one /models/NAME/predict (NAME: its folder name)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--max-batch-size", type=int, default=32, help="most texts per model call (default 32)")
    p.add_argument("--max-wait-ms", type=float, default=2.0,
                   help="how long a request waits for others to join its batch (default 2)")
    p.add_argument("--max-texts", type=int, default=256, help="most texts per request (default 256)")
    p.add_argument("--max-chars", type=int, default=5000, help="most characters per text (default 5000)")
    p.add_argument("--threads", type=int, default=None,
                   help="intra-op threads of torch / onnxruntime (default: torch's choice)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default warning; info logs every request)")
    return p


def check(args: argparse.Namespace) -> None:
    """Option values that cannot work: a ZhnlpError naming the option."""
    for option in ("max_batch_size", "max_texts", "max_chars", "threads"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise ZhnlpError(f"--{option.replace('_', '-')} {value}: must be at least 1.")
    if args.max_wait_ms < 0:
        raise ZhnlpError(f"--max-wait-ms {args.max_wait_ms}: must be 0 or more.")
    if not 0 <= args.port <= 65535:
        raise ZhnlpError(f"--port {args.port}: must be 0-65535.")


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (a ZhnlpError when the address is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose protocol says
    # TCP; with Nagle on, a keep-alive client waits ~40 ms (delayed ACK) for every answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ZhnlpError(f"cannot listen on {host}:{port}: {error.strerror or error}.") from None
    sock.set_inheritable(True)
    return sock


def main(argv: list[str]) -> None:
    """Entry point of ``zhnlp serve`` (registered in ``zhnlp.commands``)."""
    args = parser().parse_args(argv)
    check(args)
    try:
        import uvicorn

        from zhnlp.serve.app import build_app
    except ImportError as error:
        raise ZhnlpError(f"zhnlp serve needs the serve extra ({error.name} is missing): "
                         f"pip install \"zhnlp[serve]\"") from None
    import torch

    from zhnlp.serve.models import load_models
    from zhnlp.serve.validate import Limits

    if args.threads:
        torch.set_num_threads(args.threads)
    models = load_models(args.models, threads=args.threads)
    app = build_app(models, Limits(args.max_texts, args.max_chars), args.max_batch_size, args.max_wait_ms)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, timeout_graceful_shutdown=None))
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; with these
    # handlers that ends the command with status 0 instead of a kill status or a KeyboardInterrupt.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    names = ", ".join(f"{m.name} ({m.task})" for m in models)
    print(f"zhnlp serve: {names} on {url}  (page {url}/, docs {url}/docs, metrics {url}/metrics)",
          file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    print("zhnlp serve: stopped", file=sys.stderr, flush=True)
