"""Load test of ``zhnlp serve`` (dynamic batching) against a naive server, same model, same run.

The naive server is how public Chinese NER repos serve a model: one ``predict`` call per request,
no batching (a Starlette sync endpoint, run in its thread pool as Flask's threaded server would).
Both servers run on 127.0.0.1 with the same torch threads, pinned to the same core(s); the clients
(asyncio, keep-alive HTTP/1.1, one text per request) run in this process on the other core. Each
concurrency level sends a fixed number of requests and stops by itself.

For each model (the README's default NER run, trained here unless ``--run`` is given, and the tiny
BERT-CRF of ``benchmarks/ner_speed.py``, untrained: speed only) it prints throughput and
p50/p95/p99 latency at 1, 8, 32 and 128 clients for both servers, the direct in-process
``predict([text])`` p50, and the batching server's RSS after the first 1,000 and after 20,000
requests.

    python benchmarks/serve_load.py [--run RUN] [--requests 600] [--threads 1] [--json out.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLUENER_DEV = ROOT.parent / "shared" / "datasets" / "cluener" / "dev.json"
SAMPLE_TEST = ROOT / "datasets" / "sample_ner" / "test.txt"
CONCURRENCY = (1, 8, 32, 128)


# ---------------------------------------------------------------------------- the naive server
def naive_app(model_path: str, threads: int):
    """A Starlette app that calls ``predict([text])`` once per request (no batching)."""
    import torch
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import zhnlp

    torch.set_num_threads(threads)
    model = zhnlp.load(model_path)

    def predict_each(texts: list[str]) -> list:
        return [model.predict([text])[0] for text in texts]  # one predict call per text

    async def predict(request):
        texts = json.loads(await request.body())["texts"]
        return JSONResponse({"predictions": await run_in_threadpool(predict_each, texts)})

    async def health(_request):
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/predict", predict, methods=["POST"]),
                             Route("/health", health)])


def run_naive(model_path: str, port: int, threads: int) -> None:
    import uvicorn

    uvicorn.run(naive_app(model_path, threads), host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------------------- the client
async def one_client(host: str, port: int, bodies: list[bytes], latencies: list[float]) -> None:
    """Send ``bodies`` one after another on one keep-alive connection; append each latency."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for body in bodies:
            start = time.perf_counter()
            writer.write(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if b" 200 " not in status:
                raise RuntimeError(f"server answered {status!r}")
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


async def load(port: int, texts: list[str], clients: int, requests: int) -> dict:
    """``requests`` requests from ``clients`` concurrent clients: throughput and latency percentiles."""
    bodies = [json.dumps({"texts": [texts[i % len(texts)]]}, ensure_ascii=False).encode() for i in range(requests)]
    shares = [bodies[i::clients] for i in range(clients)]
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(one_client("127.0.0.1", port, share, latencies) for share in shares if share))
    seconds = time.perf_counter() - start
    ms = sorted(1000 * x for x in latencies)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return {"clients": clients, "requests": requests, "rps": requests / seconds,
            "p50": statistics.median(ms), "p95": pick(0.95), "p99": pick(0.99)}


# ---------------------------------------------------------------------------- servers as processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no healthy server on port {port} after {timeout:.0f} s")


def start_server(kind: str, model_path: str, args) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    if kind == "zhnlp":
        cmd = [sys.executable, "-m", "zhnlp", "serve", model_path, "--port", str(port), "--threads",
               str(args.threads), "--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms)]
    else:
        cmd = [sys.executable, __file__, "--naive-server", model_path, "--port", str(port), "--threads", str(args.threads)]
    if args.server_cpus:
        cmd = ["taskset", "-c", args.server_cpus, *cmd]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    wait_healthy(port, proc)
    return proc, port


def rss_mb(pid: int) -> float:
    """Resident memory of the server (the process taskset execs into keeps the pid)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------------------- models and texts
def read_texts(limit: int) -> list[str]:
    if CLUENER_DEV.is_file():
        lines = CLUENER_DEV.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines[:limit]]
    sentences, chars = [], []
    for line in SAMPLE_TEST.read_text(encoding="utf-8").splitlines():
        if line.strip():
            chars.append(line.split()[0])
        elif chars:
            sentences.append("".join(chars))
            chars = []
    return sentences[:limit]


def default_run(workdir: Path) -> str:
    """Train the README's default job (``zhnlp train``) and return its model folder."""
    subprocess.run([sys.executable, "-m", "zhnlp", "train", f"hydra.run.dir={workdir / 'default'}"],
                   check=True, cwd=workdir, env={**os.environ, "OMP_NUM_THREADS": "1"},
                   stdout=subprocess.DEVNULL)
    return str(workdir / "default")


def tiny_bert_crf(workdir: Path) -> str:
    """The tiny BERT-CRF of ``benchmarks/ner_speed.py`` (random weights), saved as a model folder."""
    sys.path.insert(0, str(Path(__file__).parent))
    from ner_speed import SHARED_VOCAB, SIZE

    from zhnlp.model import TaskModel
    from zhnlp_transformers.tiny import write_checkpoint

    vocab = SHARED_VOCAB if SHARED_VOCAB.is_file() else None
    directory = write_checkpoint(workdir / "tiny-bert", "bert", vocab, size=SIZE, with_head=False)
    labels = ["address", "book", "company", "game", "government", "movie", "name", "organization",
              "position", "scene"]
    model = TaskModel.build({"name": "bert_wwm", "pretrained": str(directory)}, {"name": "crf", "lstm_layers": 0},
                            labels)
    return str(model.save_pretrained(workdir / "tiny-bert-crf"))


def direct_p50(model_path: str, texts: list[str], threads: int, cpus: str | None) -> float:
    """Median ms of an in-process ``predict([text])``, on the servers' cores."""
    import torch

    import zhnlp

    before = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    torch.set_num_threads(threads)
    model = zhnlp.load(model_path)
    for text in texts[:20]:
        model.predict([text])
    times = []
    for text in texts[:300]:
        start = time.perf_counter()
        model.predict([text])
        times.append(1000 * (time.perf_counter() - start))
    os.sched_setaffinity(0, before)
    return statistics.median(times)


# ---------------------------------------------------------------------------- the benchmark
def bench_model(name: str, model_path: str, texts: list[str], args) -> dict:
    result = {"model": name, "path": model_path,
              "direct_p50_ms": direct_p50(model_path, texts, args.threads, args.server_cpus)}
    for kind in ("naive", "zhnlp"):
        proc, port = start_server(kind, model_path, args)
        try:
            asyncio.run(load(port, texts, 4, 100))  # warm-up
            rows = []
            for clients in CONCURRENCY:
                rows.append(asyncio.run(load(port, texts, clients, max(args.requests, 4 * clients))))
                print(f"  {name:>12} {kind:>5} {clients:>3} clients: {rows[-1]['rps']:7.1f} req/s  "
                      f"p50 {rows[-1]['p50']:7.1f}  p95 {rows[-1]['p95']:7.1f}  p99 {rows[-1]['p99']:7.1f} ms",
                      flush=True)
            result[kind] = rows
            if kind == "zhnlp" and args.memory_requests:
                asyncio.run(load(port, texts, 32, 1000))
                result["rss_after_1000_mb"] = rss_mb(proc.pid)
                asyncio.run(load(port, texts, 32, args.memory_requests - 1000))
                result["rss_after_all_mb"] = rss_mb(proc.pid)
                result["memory_requests"] = args.memory_requests
        finally:
            stop(proc)
    return result


def report(results: list[dict], args) -> None:
    print(f"\nthreads {args.threads}, servers on CPU(s) {args.server_cpus or 'any'}, clients on CPU(s) "
          f"{args.client_cpus or 'any'}, max batch {args.max_batch_size}, max wait {args.max_wait_ms} ms, "
          f"load {os.getloadavg()[0]:.1f}")
    for res in results:
        print(f"\n### {res['model']}  (direct predict([text]) p50 {res['direct_p50_ms']:.1f} ms)\n")
        print("| clients | naive req/s | naive p50 / p95 / p99 ms | zhnlp serve req/s | zhnlp p50 / p95 / p99 ms | ratio |")
        print("|---|---|---|---|---|---|")
        for naive, ours in zip(res["naive"], res["zhnlp"]):
            print(f"| {naive['clients']} | {naive['rps']:.1f} | {naive['p50']:.1f} / {naive['p95']:.1f} / {naive['p99']:.1f} "
                  f"| {ours['rps']:.1f} | {ours['p50']:.1f} / {ours['p95']:.1f} / {ours['p99']:.1f} "
                  f"| {ours['rps'] / naive['rps']:.2f}x |")
        one = res["zhnlp"][0]["p50"]
        bound = 1.2 * res["direct_p50_ms"] + 5
        print(f"\n1 client p50 {one:.1f} ms vs 1.2 x direct + 5 ms = {bound:.1f} ms: {'ok' if one <= bound else 'MISSED'}")
        at32 = {r["clients"]: r["rps"] for r in res["zhnlp"]}[32] / {r["clients"]: r["rps"] for r in res["naive"]}[32]
        print(f"32 clients throughput ratio {at32:.2f}x (target >= 3x): {'ok' if at32 >= 3 else 'MISSED'}")
        if "rss_after_all_mb" in res:
            growth = res["rss_after_all_mb"] / res["rss_after_1000_mb"] - 1
            print(f"RSS after 1,000 requests {res['rss_after_1000_mb']:.0f} MB, after {res['memory_requests']:,} "
                  f"{res['rss_after_all_mb']:.0f} MB ({100 * growth:+.1f}%, target within 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained run folder instead of training the default job here")
    parser.add_argument("--models", nargs="+", default=["default", "tiny_bert_crf"], choices=["default", "tiny_bert_crf"])
    parser.add_argument("--requests", type=int, default=600, help="requests per concurrency level")
    parser.add_argument("--memory-requests", type=int, default=20000, help="0 skips the memory phase")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of both servers")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=5)
    parser.add_argument("--server-cpus", default="1", help="taskset CPU list of the servers ('' = no pinning)")
    parser.add_argument("--client-cpus", default="0", help="CPU list of the clients ('' = no pinning)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--naive-server", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        return run_naive(args.naive_server, args.port, args.threads)

    texts = read_texts(2000)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"default": args.run or (default_run(Path(tmp)) if "default" in args.models else None),
                 "tiny_bert_crf": tiny_bert_crf(Path(tmp)) if "tiny_bert_crf" in args.models else None}
        if args.client_cpus:
            os.sched_setaffinity(0, {int(c) for c in args.client_cpus.split(",")})
        results = [bench_model(name, paths[name], texts, args) for name in args.models]
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
