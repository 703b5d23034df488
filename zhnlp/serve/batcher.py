"""Dynamic batching: requests for one model are coalesced into model batches.

Each request puts its texts on the model's queue with a future. One worker task per model takes
the oldest request, adds the requests queued behind it while the batch has room (``max_batch_size``
texts) and the oldest has waited less than ``max_wait_ms``, runs ``predict`` on the whole batch in
the model's own thread (off the event loop), and hands each request its slice of the results, in
order. Requests that arrive while the model is busy wait on the queue, so under load every batch
fills from what piled up during the previous one; ``max_wait_ms`` only adds a wait for stragglers.
A request with more texts than ``max_batch_size`` runs as a batch of its own.
"""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Pending:
    """One request's texts, the future its predictions go to, and when it was queued."""

    texts: list[str]
    future: asyncio.Future
    queued: float = field(default_factory=time.monotonic)


class Batcher:
    """The queue and worker of one model.

    Args:
        predict: ``predict(texts) -> predictions`` (one per text, in order); runs in the model thread.
        max_batch_size: the most texts per ``predict`` call (a bigger request runs alone).
        max_wait_ms: how long the oldest request may wait for others to join its batch.
        on_batch: called on the event loop after each batch with ``(texts, seconds)``.
        on_queue: called with the number of texts waiting whenever it changes.
    """

    def __init__(self, predict: Callable[[list[str]], list[Any]], max_batch_size: int = 32, max_wait_ms: float = 2.0,
                 on_batch: Callable[[int, float], None] | None = None,
                 on_queue: Callable[[int], None] | None = None):
        self.predict, self.max_batch_size, self.max_wait = predict, max(1, int(max_batch_size)), max_wait_ms / 1000
        self.on_batch, self.on_queue = on_batch or (lambda n, s: None), on_queue or (lambda n: None)
        self.queue: asyncio.Queue[Pending] | None = None
        self.waiting = 0  # texts queued, not yet in a batch
        self.carry: Pending | None = None  # the request that did not fit in the last batch
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhnlp-model")
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        """Start the worker on the running loop."""
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self.work())

    async def stop(self) -> None:
        """Stop the worker (after the server finished its requests) and the model thread."""
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=True)

    async def submit(self, texts: list[str]) -> list[Any]:
        """The predictions of ``texts``, in order, once their batch has run."""
        if not texts:
            return []
        pending = Pending(list(texts), asyncio.get_running_loop().create_future())
        self._count(len(texts))
        self.queue.put_nowait(pending)
        return await pending.future

    def _count(self, delta: int) -> None:
        self.waiting += delta
        self.on_queue(self.waiting)

    async def work(self) -> None:
        """The worker loop: gather a batch, run it in the model thread, hand out the results."""
        loop = asyncio.get_running_loop()
        while True:
            batch = await self.gather()
            texts = [t for p in batch for t in p.texts]
            self._count(-len(texts))
            started = time.perf_counter()
            try:
                predictions = await loop.run_in_executor(self.executor, self.predict, texts)
                if len(predictions) != len(texts):
                    raise RuntimeError(f"the model returned {len(predictions)} predictions for {len(texts)} texts")
            except Exception as error:  # noqa: BLE001 - every waiting request gets the error, the worker lives on
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(error)
                continue
            self.on_batch(len(texts), time.perf_counter() - started)
            start = 0
            for p in batch:
                if not p.future.done():  # a client that went away cancelled its future
                    p.future.set_result(predictions[start : start + len(p.texts)])
                start += len(p.texts)

    async def gather(self) -> list[Pending]:
        """The next batch: the oldest request, then those behind it while there is room and time."""
        first = self.carry or await self.queue.get()
        self.carry = None
        batch, size = [first], len(first.texts)
        deadline = first.queued + self.max_wait
        while size < self.max_batch_size:
            try:
                nxt = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            if size + len(nxt.texts) > self.max_batch_size:
                self.carry = nxt
                break
            batch.append(nxt)
            size += len(nxt.texts)
        return batch
