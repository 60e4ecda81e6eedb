"""Answers already validated by their pydantic model, sent as they are.

FastAPI validates and serializes a returned model a second time against ``response_model``; on the
hot paths (issuing, counter actions) the handler builds the model itself, so it is serialized once.
``response_model`` stays on the route for the published OpenAPI.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, headers=headers,
                    media_type="application/json")
