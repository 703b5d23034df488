"""Helpers of the ``zhnlp serve`` tests: tiny trained runs (trained once per session), a server in a
thread of the test process, one in a subprocess, and JSON over urllib."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")

NER_TINY = ["encoder.char_dim=16", "encoder.bigram_dim=16", "encoder.seg_dim=8", "head.lstm_hidden=16",
            "trainer.max_epochs=3", "optim.lr=1e-2"]
CLS_TINY = ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16", "encoder.bigram_dim=16",
            "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max", "optim.lr=5e-3", "trainer.max_epochs=1"]
TEXTS = ["张伟在北京大学读书。", "", "   ", "李娜😀去了上海，华为在深圳发布了Mate60。", "ＡＢＣ银行",
         "王小明在北京大学读书，" * 40]
_RUNS: dict[str, Path] = {}


def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    """``{"ner", "cls", "onnx"}`` -> a tiny NER run, a tiny classification run and the NER run's
    ONNX export (trained once per test session, whichever serve test asks first)."""
    if not _RUNS:
        import torch

        from zhnlp.config import compose_train_config
        from zhnlp.train import train

        tmp = tmp_path_factory.mktemp("serve_runs")
        torch.set_num_threads(1)
        for name, overrides in (("ner", NER_TINY), ("cls", CLS_TINY)):
            train(compose_train_config([*overrides, "trainer.enable_progress_bar=false"]), tmp / name)
            _RUNS[name] = tmp / name
        if _has("onnxruntime") and _has("onnx"):
            from zhnlp.export import export_onnx

            _RUNS["onnx"] = export_onnx(tmp / "ner", tmp / "ner_onnx")
    return _RUNS


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def call(url: str, body=None, raw: bytes | None = None, timeout: float = 60) -> tuple[int, object]:
    """``(status, decoded JSON or text)`` of a GET (no body) or POST (``body`` as JSON, or ``raw``)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload, kind = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read(), error.headers.get("Content-Type", "")
    text = payload.decode("utf-8")
    return status, json.loads(text) if kind.startswith("application/json") else text


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def server_thread(app):
    """Serve the ASGI ``app`` with uvicorn in a thread of this process; yields the base URL."""
    import uvicorn

    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextlib.contextmanager
def server_process(*args: str, cwd: Path, env: dict | None = None):
    """``python -m zhnlp serve ARGS --port 0`` in a subprocess; yields ``(process, base URL)`` once
    ``/health`` answers 200; terminates it on exit if it still runs."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1", **(env or {})}
    full_env.pop("ZHNLP_SUBCOMMAND", None)
    proc = subprocess.Popen([sys.executable, "-m", "zhnlp", "serve", *args, "--port", "0", "--threads", "1"],
                            cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # "zhnlp serve: NAME (task) on http://127.0.0.1:PORT ..."
        assert " on http://" in line, f"exit {proc.poll()}: {line}{proc.stderr.read() if proc.poll() is not None else ''}"
        url = line.split(" on ", 1)[1].split()[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(url + "/health", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, f"the server did not come up: {line}"
            time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
