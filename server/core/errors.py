"""Domain errors: a stable code, a kind the API maps to an HTTP status, and parameters.

The core holds no user-facing text; the edge renders each code from the message catalog
(common/locales) in Japanese and English.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the request itself is wrong (422)
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # not possible in the current state (409)
    UNAVAILABLE = "unavailable"  # refused for now, e.g. outside reception hours (503)


class DomainError(Exception):
    """A rule of the office was not met. ``code`` is stable and documented."""

    def __init__(self, code: str, kind: ErrorKind, **params: object) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.kind = kind
        self.params = params


def invalid(code: str, **params: object) -> DomainError:
    return DomainError(code, ErrorKind.INVALID, **params)


def not_found(code: str, **params: object) -> DomainError:
    return DomainError(code, ErrorKind.NOT_FOUND, **params)


def conflict(code: str, **params: object) -> DomainError:
    return DomainError(code, ErrorKind.CONFLICT, **params)


def unavailable(code: str, **params: object) -> DomainError:
    return DomainError(code, ErrorKind.UNAVAILABLE, **params)
