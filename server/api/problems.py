"""One error shape for the whole API: application/problem+json with a stable code (RFC 9457).

``title`` is the English message, ``detail`` the message in the caller's language (Accept-Language,
Japanese by default), ``messages`` both. Bad input is always a 4xx with a message a person can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from madoguchi.common.i18n import catalog, message
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.server.api import validation
from madoguchi.server.core.catalog import Label, text_in
from madoguchi.server.core.errors import DomainError, ErrorKind
from madoguchi.server.core.office import Office
from madoguchi.server.service.container import StorageUnavailable

log = logging.getLogger(__name__)

STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAVAILABLE: 409,  # refused in the present state (hours, full band): not a server failure
}
CODE_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 413: "body_too_large"}
ERROR_LANGUAGES = ("ja", "en")
MAX_QUOTED = 40  # characters of a value the client sent that an error may repeat
MAX_LISTED = 50
LIST_SEPARATORS = {"ja": "、", "en": ", "}
LIST_MORE = {"ja": " ほか{n}件", "en": " and {n} more"}


class ApiError(Exception):
    """An error raised by the edge itself (auth, idempotency…), rendered like domain errors."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None, **params: object) -> None:
        super().__init__(code)
        self.status, self.code, self.params, self.headers = status, code, params, headers or {}


def language_of(accept_language: str) -> str:
    """Japanese or English for error messages, from an Accept-Language header (Japanese by default)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("ja"):
            return "ja"
    return "ja"


def preferred_language(request: Request) -> str:
    return language_of(request.headers.get("accept-language", ""))


def messages_for(code: str, params: Mapping[str, object] | None = None,
                 names: Names | None = None) -> dict[str, str]:
    """The message of ``code`` in Japanese and English; ``names`` turns ids into what people call them."""
    return {lang: _clean(message("errors", code, lang, **_rendered(params or {}, lang, names)))
            for lang in ERROR_LANGUAGES}


def problem_body(http_status: int, code: str, language: str, messages: Mapping[str, str],
                 **extra: object) -> dict[str, object]:
    """The problem+json document (``title`` English, ``detail`` in ``language``, ``messages`` both)."""
    return {"type": f"/problems/{code}", "title": messages["en"], "status": http_status,
            "detail": messages[language], "code": code, "messages": dict(messages), **extra}


def problem(request: Request, http_status: int, code: str, headers: dict[str, str] | None = None,
            params: Mapping[str, object] | None = None, messages: Mapping[str, str] | None = None,
            **extra: object) -> JSONResponse:
    services = getattr(request.app.state, "services", None)
    names = Names(services.office) if services is not None else None
    body = problem_body(http_status, code, preferred_language(request),
                        messages or messages_for(code, params, names), **extra)
    return JSONResponse(body, status_code=http_status, media_type="application/problem+json", headers=headers)


class Names:
    """Counters, procedures, life events and bands as residents and staff know them (「12番窓口」)."""

    def __init__(self, office: Office) -> None:
        self.office = office

    def name(self, kind: str, value: str, language: str) -> str:
        office = self.office
        found: Label | None = None
        if kind == "counter":
            counter = office.counters.get(value)
            found = counter.label if counter else None
        elif kind in ("procedure", "skill"):
            procedure = office.catalog.procedures.get(value)
            band = office.bands.get(value)
            found = procedure.label if procedure else band.label if band else None
        elif kind == "life_event":
            event = office.catalog.life_events.get(value)
            found = event.label if event else None
        elif kind == "question":
            question = office.catalog.questions.get(value)
            found = question.label if question else None
        elif kind == "band":
            band = office.bands.get(value)
            found = band.label if band else None
        if found is None:
            if kind == "question" and ("errors", f"field.{value}") in catalog("ja"):
                return message("errors", f"field.{value}", language)  # 「言語」 for the language asked
            return _short(value)
        return text_in(found, language)

    def option(self, question_id: str, value: str, language: str) -> str:
        """A choice of a catalog question with its label: 「from_75（75歳以上）」."""
        question = self.office.catalog.questions.get(question_id)
        option = next((o for o in question.options if o.id == value), None) if question else None
        if option is not None:
            label = text_in(option.label, language)
        elif question_id == "language" and value in LANGUAGE_NAMES:
            label = LANGUAGE_NAMES[value]
        else:
            return _short(value)
        return f"{value}（{label}）" if language == "ja" else f"{value} ({label})"

    def listing(self, kind: str, value: str, language: str) -> str:
        """An id with its name, for lists of what may be chosen: 「tennyu（転入）」."""
        label = self.name(kind, value, language)
        if label == value:
            return _short(value)
        return f"{value}（{label}）" if language == "ja" else f"{value} ({label})"


# parameter name → (kind of id, named alone or listed with its id)
NAMED = {
    "counter": ("counter", False), "signed_in_at": ("counter", False), "procedure": ("procedure", False),
    "life_event": ("life_event", False), "band": ("band", False), "bands": ("band", False),
    "skills": ("skill", False), "state": ("state", False), "status": ("state", False), "expected": ("state", False),
    "life_events": ("life_event", True), "procedures": ("procedure", True), "questions": ("question", True),
    "question": ("question", False),
}


def _rendered(params: Mapping[str, object], language: str, names: Names | None) -> dict[str, object]:
    """Parameters as text: ids named, lists joined, long values cut (a 5 MB id is not echoed)."""
    out: dict[str, object] = {}
    for key, value in params.items():
        kind, listed = NAMED.get(key, ("", False))
        if not isinstance(value, list | tuple | set | frozenset):
            out[key] = _text(value, kind, listed, language, names)
            continue
        items = list(value)
        if key == "options" and names is not None:
            shown = [names.option(str(params.get("question", "")), str(i), language) for i in items[:MAX_LISTED]]
        else:
            shown = [_text(i, kind, listed, language, names) for i in items[:MAX_LISTED]]
        joined = LIST_SEPARATORS[language].join(shown)
        more = len(items) - MAX_LISTED
        out[key] = joined + (LIST_MORE[language].format(n=more) if more > 0 else "")
    return out


def _text(value: object, kind: str, listed: bool, language: str, names: Names | None) -> str:
    if kind == "state" and ("errors", f"state.{value}") in catalog("ja"):
        return message("errors", f"state.{value}", language)
    if names is None or not kind:
        return _short(str(value))
    return names.listing(kind, str(value), language) if listed else names.name(kind, str(value), language)


def _short(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "…"


def _clean(text: str) -> str:
    """Lone surrogates a client sent must not break the answer (JSON is UTF-8)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem(request, STATUS_BY_KIND[exc.kind], exc.code, params=exc.params)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.headers, exc.params)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(request, 422, "invalid_json")
        messages = {lang: _clean(message("errors", "invalid_request", lang, fields=validation.sentences(errors, lang)))
                    for lang in ERROR_LANGUAGES}
        return problem(request, 422, "invalid_request", messages=messages, errors=validation.summary(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODE_BY_STATUS.get(exc.status_code, "bad_request")
        return problem(request, exc.status_code, code)

    @app.exception_handler(StorageUnavailable)
    async def storage_error(request: Request, exc: StorageUnavailable) -> JSONResponse:
        return problem(request, 503, "storage_unavailable", {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem(request, 500, "internal_error")
