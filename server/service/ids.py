"""Ticket ids and status-page tokens for the server: random, and the token unguessable."""

from __future__ import annotations

import secrets
import uuid


class RandomIds:
    def ticket_id(self) -> str:
        return str(uuid.uuid4())

    def token(self) -> str:
        return secrets.token_urlsafe(16)
