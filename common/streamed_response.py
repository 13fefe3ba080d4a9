"""Response bodies that leave as they are made, under ASGI as under WSGI.

Django serves a StreamingHttpResponse built on a plain (sync) iterator under ASGI by first collecting the whole
iterator into a list (django/http/response.py, `__aiter__`): a ledger export or a clip would sit whole in memory
before its first byte left. `streamed` hands ASGI an async iterator instead, which pulls the sync one in batches
in Django's sync thread (`thread_sensitive`: a database cursor stays on its own connection), and WSGI the plain
iterator it already streams.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest

BATCH = 200  # items per hop to the sync thread: CSV rows are small, so one hop per a few dozen KB


def streamed(request, items: Iterable, *, batch: int = BATCH):
    """What to give StreamingHttpResponse for this request: `items`, or an async view of them under ASGI."""
    if isinstance(request, ASGIRequest):
        return aiterate(items, batch=batch)
    return items


async def aiterate(items: Iterable, *, batch: int = BATCH) -> AsyncIterator:
    iterator = iter(items)

    def take() -> list:
        taken = []
        for item in iterator:
            taken.append(item)
            if len(taken) == batch:
                break
        return taken

    pull = sync_to_async(take, thread_sensitive=True)
    try:
        while taken := await pull():
            for item in taken:
                yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            # Shielded: a client that goes away cancels the task, and a cancelled await here would leave the
            # iterator's file or cursor to the garbage collector.
            await asyncio.shield(sync_to_async(close, thread_sensitive=True)())
