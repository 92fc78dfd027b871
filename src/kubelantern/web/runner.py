"""The aiohttp runner `serve` listens with: aiohttp's own, except for the answers aiohttp
makes itself when a request cannot be parsed.

aiohttp answers a malformed request (a bad header line, a too-long URL or header,
`Content-Length` beside `Transfer-Encoding`) with a 400 whose body quotes the offending
bytes, e.g. `b'Authorization: Bearer <token>\\x01'`. That reflects a client's secrets into
a response (and into whatever logs or caches it); the answer here is the bare status line
instead. Its log record is one line with the parser's reason and not the quoted bytes
either: the redacting filter (`observe/logfilter.py`) knows credential shapes, but a
folded `Authorization` continuation line or a body quoted alone has no shape to find.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

# aiohttp's parser messages put the offending bytes after the reason: `reason:\n\n  b'…'`,
# `Got more than 8190 bytes when reading: b'…'.`, `…: bytearray(b'…')`.
_QUOTE_START = re.compile(r":\s|\s*b'|\s*bytearray\(|\n")


def generic_error_text(status: int) -> str:
    """What a parser-error answer says: its status and phrase, nothing of the request."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{status} {phrase}: kubelantern could not read this request\n"


def parser_reason(exc: BaseException | None) -> str:
    """The parser's reason for refusing a request, without the bytes it quotes."""
    if exc is None:
        return "no detail"
    text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return _QUOTE_START.split(str(text), maxsplit=1)[0][:120] or type(exc).__name__


class _GenericErrorHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # 500 keeps aiohttp's answer (fixed text) and its traceback in the log: a defect of
        # ours, not the client's bytes. Every other status made here carries the parser's
        # message, which quotes the request.
        if status == HTTPStatus.INTERNAL_SERVER_ERROR:
            return super().handle_error(request, status, exc, message)
        # Non-HTTP bytes (TLS to the plain port, scanners) are routine: debug, like aiohttp.
        log = self.logger.debug if isinstance(exc, BadHttpMethod) else self.logger.error
        log("Error handling request from %s: %s %s", request.remote, status, parser_reason(exc))
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already under way; the connection is dropped")
        response = web.Response(status=status, text=generic_error_text(status))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.force_close()
        return response


class _GenericErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _GenericErrorHandler(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """`web.AppRunner` whose connections answer unparsable requests without echoing them."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app made the Server (startup, freeze, request factory); only the class of
        # the per-connection handler it creates changes. Neither class adds state.
        server.__class__ = _GenericErrorServer
        return server


def make_runner(app: web.Application, **kwargs: Any) -> web.AppRunner:
    return Runner(app, **kwargs)
