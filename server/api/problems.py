"""One error shape for the whole API: application/problem+json with a stable code (RFC 9457).

``title`` is the English message, ``detail`` the message in the caller's language (Accept-Language,
Japanese by default), ``messages`` both. Bad input is always a 4xx with a message a person can act on.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from madoguchi.common.i18n import message
from madoguchi.server.core.errors import DomainError, ErrorKind
from madoguchi.server.service.container import StorageUnavailable

log = logging.getLogger(__name__)

STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAVAILABLE: 409,  # refused in the present state (hours, full band): not a server failure
}
CODE_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """An error raised by the edge itself (auth, idempotency…), rendered like domain errors."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None, **params: object) -> None:
        super().__init__(code)
        self.status, self.code, self.params, self.headers = status, code, params, headers or {}


def preferred_language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("ja"):
            return "ja"
    return "ja"


def problem(request: Request, http_status: int, code: str, headers: dict[str, str] | None = None,
            params: dict[str, object] | None = None) -> JSONResponse:
    messages = {lang: message("errors", code, lang, **(params or {})) for lang in ("ja", "en")}
    body = {
        "type": f"/problems/{code}",
        "title": messages["en"],
        "status": http_status,
        "detail": messages[preferred_language(request)],
        "code": code,
        "messages": messages,
    }
    return JSONResponse(body, status_code=http_status, media_type="application/problem+json", headers=headers)


def _field_list(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{where or 'body'} ({error.get('msg', 'invalid')})")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem(request, STATUS_BY_KIND[exc.kind], exc.code, params=exc.params)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.headers, exc.params)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(request, 422, "invalid_request", params={"fields": _field_list(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODE_BY_STATUS.get(exc.status_code, "invalid_request")
        return problem(request, exc.status_code, code, params={"fields": str(exc.detail)})

    @app.exception_handler(StorageUnavailable)
    async def storage_error(request: Request, exc: StorageUnavailable) -> JSONResponse:
        return problem(request, 503, "storage_unavailable", {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem(request, 500, "internal_error")
