"""``zhnlp serve`` in-process: predictions equal ``zhnlp.load(RUN).predict([text])[0]``, several
models, dynamic batching, bad input (each answered and followed by a good request), metrics, docs."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from serve_helpers import TEXTS, call, server_thread, tiny_runs

import zhnlp  # noqa: E402  (after serve_helpers: it skips this module without the serve extra)
from zhnlp.serve.app import build_app
from zhnlp.serve.batcher import Batcher
from zhnlp.serve.models import ServedModel, load_models
from zhnlp.serve.validate import Limits


class Recorder:
    """A fake predictor: echoes each text, records every batch, can be slow, fails on ``"boom"``."""

    def __init__(self, delay: float = 0.0):
        self.batches: list[list[str]] = []
        self.delay = delay
        self.busy = threading.Event()

    def predict(self, texts, batch_size: int = 64):
        self.batches.append(list(texts))
        self.busy.set()
        time.sleep(self.delay)
        if "boom" in texts:
            raise RuntimeError("the model broke")
        return [{"echo": t} for t in texts]


def fake(name: str = "echo", delay: float = 0.0) -> ServedModel:
    return ServedModel(name=name, source="-", predictor=Recorder(delay), task="unknown", labels=[], encoder=None)


def as_json(value):
    return json.loads(json.dumps(value, ensure_ascii=False))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tiny_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def served(runs):
    """One server for the real models: the NER run twice (names deduplicated), classification, ONNX."""
    paths = [str(runs["ner"]), str(runs["cls"]), str(runs["ner"])] + ([str(runs["onnx"])] if "onnx" in runs else [])
    models = load_models(paths, threads=2)
    with server_thread(build_app(models, Limits(max_texts=20, max_chars=500), max_batch_size=8, max_wait_ms=5)) as url:
        yield url, models


# ---- predictions -----------------------------------------------------------------------------------
def test_predictions_equal_direct_predict(served, runs):
    url, _ = served
    for name, path in (("ner", runs["ner"]), ("cls", runs["cls"]), ("ner_onnx", runs.get("onnx"))):
        if path is None:
            continue
        model = zhnlp.load(str(path))
        want = [as_json(model.predict([text])[0]) for text in TEXTS]
        status, body = call(f"{url}/models/{name}/predict", {"texts": TEXTS})
        assert status == 200, body
        assert body["predictions"] == want, name
    status, body = call(f"{url}/predict", {"texts": TEXTS})  # the first model
    assert status == 200 and body["predictions"] == [as_json(zhnlp.load(str(runs["ner"])).predict([t])[0]) for t in TEXTS]
    assert any(body["predictions"][0]), "the tiny NER model should find an entity in the first text"


def test_empty_string_gives_the_empty_prediction(served, runs):
    url, _ = served
    status, body = call(f"{url}/predict", {"texts": [""]})
    assert status == 200 and body == {"predictions": [zhnlp.load(str(runs["ner"])).predict([""])[0]]} == {"predictions": [[]]}
    assert call(f"{url}/predict", {"texts": []}) == (200, {"predictions": []})


def test_concurrent_requests_get_their_own_results(served, runs):
    url, _ = served
    model = zhnlp.load(str(runs["ner"]))
    texts = [f"{name}在{place}工作。" for name in ("张伟", "李娜", "王芳", "刘洋") for place in ("北京", "上海", "深圳")]
    want = {t: as_json(model.predict([t])[0]) for t in texts}
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: call(f"{url}/models/ner-2/predict", {"texts": [t, ""]}), texts))
    for text, (status, body) in zip(texts, answers):
        assert status == 200 and body["predictions"] == [want[text], []]


def test_models_lists_every_model(served, runs):
    url, models = served
    status, listed = call(f"{url}/models")
    assert status == 200
    names = [m["name"] for m in listed]
    assert names[:3] == ["ner", "cls", "ner-2"] and len(set(names)) == len(names) == len(models)
    ner, cls = listed[0], listed[1]
    assert ner["task"] == "ner" and ner["encoder"] == "char" and ner["source"] == str(runs["ner"].resolve())
    assert sorted(ner["labels"]) == ["LOC", "ORG", "PER"]
    assert cls["task"] == "classify" and cls["encoder"] == "textcnn" and cls["labels"]
    if "onnx" in runs:
        assert listed[3]["name"] == "ner_onnx" and listed[3]["predictor"] == "OnnxPredictor"
        assert models[3].predictor.workers == 2  # --threads reaches the ONNX loader
    assert call(f"{url}/health") == (200, {"status": "ok", "models": names})


# ---- bad input: each answered, then the next request is served ------------------------------------
BAD = [
    (b'{"texts": ["a"', 400, r"malformed JSON: .+ at line 1 column \d+"),
    (b"\xff\xfe", 400, r"malformed JSON: the body is not UTF-8"),
    (b'{"text": ["a"]}', 422, r"field 'texts' is missing"),
    (b'["a"]', 422, r"field 'texts' is missing.*not a JSON array"),
    (b'{"texts": "a"}', 422, r"field 'texts' must be a list of strings, not a JSON string"),
    (b'{"texts": ["a", 3]}', 422, r"field 'texts\[1\]' must be a string, not a JSON number"),
    (b'{"texts": ["a", null]}', 422, r"field 'texts\[1\]' must be a string, not a JSON null"),
    (json.dumps({"texts": ["a"] * 21}).encode(), 413, r"too many texts: 21; the limit is 20 .*--max-texts"),
    (json.dumps({"texts": ["a", "长" * 501]}).encode(), 413, r"texts\[1\] has 501 characters; the limit is 500 .*--max-chars"),
]


@pytest.mark.parametrize("raw,status,message", BAD, ids=[f"{s}-{i}" for i, (_, s, _m) in enumerate(BAD)])
def test_bad_input_is_answered_and_the_server_keeps_serving(served, raw, status, message):
    url, _ = served
    got, body = call(f"{url}/predict", raw=raw)
    assert got == status and re.search(message, body["error"]), body
    got, body = call(f"{url}/predict", {"texts": ["张伟在北京大学读书。"]})
    assert got == 200 and len(body["predictions"]) == 1


def test_unknown_model_lists_the_models(served):
    url, _ = served
    status, body = call(f"{url}/models/nope/predict", {"texts": ["a"]})
    assert status == 404 and "no model named 'nope'" in body["error"] and "ner, cls, ner-2" in body["error"]
    assert body["models"][:3] == ["ner", "cls", "ner-2"]
    assert call(f"{url}/nowhere")[0] == 404 and call(f"{url}/predict")[0] == 405  # JSON errors too
    assert call(f"{url}/models/ner/predict", {"texts": ["a"]})[0] == 200


def test_oversized_body_is_refused_before_parsing(fake_server):
    url, _ = fake_server(limits=Limits(max_texts=2, max_chars=3))
    status, body = call(f"{url}/predict", raw=b'{"texts": ["' + b"x" * 5000 + b'"]}')
    assert status == 413 and "request body over" in body["error"]
    assert call(f"{url}/predict", {"texts": ["abc"]}) == (200, {"predictions": [{"echo": "abc"}]})


# ---- batching --------------------------------------------------------------------------------------
@pytest.fixture
def fake_server():
    """``fake_server(**build_app options) -> (url, Recorder)`` serving one echoing fake model."""
    with contextlib.ExitStack() as stack:
        def start(delay: float = 0.0, **options):
            model = fake(delay=delay)
            url = stack.enter_context(server_thread(build_app([model], **options)))
            return url, model.predictor

        yield start


def test_concurrent_requests_are_coalesced_into_batches(fake_server):
    url, recorder = fake_server(delay=0.05, max_batch_size=8, max_wait_ms=20)
    texts = [[f"r{i}-a", f"r{i}-b"] for i in range(24)]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda ts: call(f"{url}/predict", {"texts": ts}), texts))
    for ts, (status, body) in zip(texts, answers):
        assert status == 200 and body["predictions"] == [{"echo": t} for t in ts]
    sizes = [len(b) for b in recorder.batches]
    assert sum(sizes) == 48 and max(sizes) <= 8
    assert len(sizes) <= 12, sizes  # 24 requests of 2 texts: without batching, 24 model calls
    assert all(b[i].split("-")[0] == b[i + 1].split("-")[0] for b in recorder.batches for i in range(0, len(b), 2))


def test_model_runs_off_the_event_loop(fake_server):
    url, recorder = fake_server(delay=1.0)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(call, f"{url}/predict", {"texts": ["slow"]})
        assert recorder.busy.wait(10)
        started = time.perf_counter()
        assert call(f"{url}/health")[0] == 200
        assert time.perf_counter() - started < 0.5  # answered while predict() still runs
        assert slow.result()[0] == 200


def test_a_failing_batch_answers_500_and_the_next_one_works(fake_server):
    url, _ = fake_server()
    status, body = call(f"{url}/predict", {"texts": ["boom"]})
    assert status == 500 and "RuntimeError: the model broke" in body["error"]
    assert call(f"{url}/predict", {"texts": ["ok"]}) == (200, {"predictions": [{"echo": "ok"}]})


def test_batcher_limits_waits_and_order():
    """Unit level: a request bigger than max_batch_size runs alone; one that does not fit waits for
    the next batch; max_wait_ms=0 takes only what is queued; results keep request order."""
    recorder = Recorder()

    async def scenario():
        batcher = Batcher(recorder.predict, max_batch_size=4, max_wait_ms=50)
        await batcher.start()
        try:
            results = await asyncio.gather(batcher.submit(["a", "b", "c"]), batcher.submit(["d", "e"]),
                                           batcher.submit(list("fghijk")), batcher.submit([]),
                                           batcher.submit(["l"]))
        finally:
            await batcher.stop()
        return results

    results = asyncio.run(scenario())
    assert results == [[{"echo": t} for t in ts] for ts in (["a", "b", "c"], ["d", "e"], list("fghijk"), [], ["l"])]
    assert recorder.batches == [["a", "b", "c"], ["d", "e"], list("fghijk"), ["l"]]

    async def later(wait_ms: float):
        """x, then y 50 ms later: y joins x's batch only when x may wait for it."""
        recorder.batches.clear()
        batcher = Batcher(recorder.predict, max_batch_size=32, max_wait_ms=wait_ms)
        await batcher.start()
        first = asyncio.create_task(batcher.submit(["x"]))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(batcher.submit(["y"]))
        out = [await first, await second]
        await batcher.stop()
        return out, recorder.batches

    assert asyncio.run(later(0)) == ([[{"echo": "x"}], [{"echo": "y"}]], [["x"], ["y"]])
    assert asyncio.run(later(1000)) == ([[{"echo": "x"}], [{"echo": "y"}]], [["x", "y"]])


# ---- metrics and docs -------------------------------------------------------------------------------
def sample(text: str, name: str, **labels) -> float:
    """The value of one Prometheus sample (0.0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(rf'{name}\{{(.*)\}} (\S+)', line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == labels:
            return float(match.group(2))
    return 0.0


def test_metrics_count_requests_errors_latency_and_batches(fake_server):
    url, _ = fake_server(max_batch_size=8, max_wait_ms=0)
    for _ in range(3):
        call(f"{url}/predict", {"texts": ["a", "b"]})
    call(f"{url}/predict", raw=b"{")
    call(f"{url}/models/x/predict", {"texts": ["a"]})
    status, text = call(f"{url}/metrics")
    assert status == 200
    assert sample(text, "zhnlp_requests_total", route="/predict", method="POST", status="200") == 3
    assert sample(text, "zhnlp_requests_total", route="/predict", method="POST", status="400") == 1
    assert sample(text, "zhnlp_errors_total", route="/predict", status="400") == 1
    assert sample(text, "zhnlp_errors_total", route="/models/{name}/predict", status="404") == 1
    assert sample(text, "zhnlp_errors_total", route="/predict", status="200") == 0
    assert sample(text, "zhnlp_request_seconds_count", route="/predict") == 4
    assert sample(text, "zhnlp_batch_size_count", model="echo") == 3
    assert sample(text, "zhnlp_batch_size_sum", model="echo") == 6
    assert sample(text, "zhnlp_batch_size_bucket", model="echo", le="1.0") == 0
    assert sample(text, "zhnlp_batch_size_bucket", model="echo", le="2.0") == 3
    assert "zhnlp_queue_depth" in text and sample(text, "zhnlp_queue_depth", model="echo") == 0


def test_queue_depth_shows_waiting_texts(fake_server):
    url, recorder = fake_server(delay=1.0, max_batch_size=1)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(call, f"{url}/predict", {"texts": ["a"]})
        assert recorder.busy.wait(10)
        rest = [pool.submit(call, f"{url}/predict", {"texts": [t]}) for t in ("b", "c")]
        deadline = time.monotonic() + 5
        while sample(call(f"{url}/metrics")[1], "zhnlp_queue_depth", model="echo") != 2:
            assert time.monotonic() < deadline, "the queue never showed the two waiting texts"
            time.sleep(0.02)
        assert [f.result()[0] for f in (first, *rest)] == [200, 200, 200]


def test_openapi_and_docs_page(fake_server):
    url, _ = fake_server(limits=Limits(max_texts=7, max_chars=99))
    status, doc = call(f"{url}/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert {"/predict", "/models/{name}/predict", "/models", "/health", "/metrics"} <= set(doc["paths"])
    texts = doc["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert texts["maxItems"] == 7 and texts["items"]["maxLength"] == 99
    assert doc["paths"]["/models/{name}/predict"]["post"]["parameters"][0]["schema"]["enum"] == ["echo"]
    status, html = call(f"{url}/docs")
    assert status == 200 and "/static/docs.js" in html
    assert call(f"{url}/static/docs.js")[0] == 200


def test_page_is_self_contained(fake_server):
    """No CDN, no build step: the page and its script and style load from this server only."""
    url, _ = fake_server()
    status, html = call(f"{url}/")
    assert status == 200 and "<textarea" in html
    for path in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert path.startswith("/"), path
        assert call(url + path)[0] == 200, path
    for asset in ("page.js", "page.css", "docs.js"):
        assert not re.search(r"https?://", call(f"{url}/static/{asset}")[1]), asset
