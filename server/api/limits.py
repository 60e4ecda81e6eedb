"""A body size limit in front of everything else, authentication included (pure ASGI).

Every body the API takes is small (a ticket with card data is about 1 kB), so a request whose
``Content-Length`` or streamed bytes exceed the limit is refused with 413 at once: a 300 MB upload
is never read, parsed or authenticated. The body is read here up to the limit and handed on intact.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from madoguchi.server.api.problems import language_of, messages_for, problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: App, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _refuse(scope, send, self.max_bytes)
            return
        try:
            body = await _read_body(receive, self.max_bytes)
        except BodyTooLarge:
            await _refuse(scope, send, self.max_bytes)
            return
        except ClientGone:
            return  # nobody is left to answer
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ClientGone
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not msg.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would say

    return replay


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    accept = dict(scope.get("headers") or ()).get(b"accept-language", b"").decode("latin-1")
    code = "body_too_large"
    document = problem_body(413, code, language_of(accept), messages_for(code, {"max_kb": limit // 1024}))
    body = json.dumps(document, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
