"""OpenAPI links between operations: how a client (and schemathesis' stateful tests) goes on from an answer.

A ticket just issued can be called out of order at a counter, re-flagged or cancelled by its id; a
counter's answer leads to its next action at the same counter (call → start → finish → call-next).
"""

from __future__ import annotations

from typing import Any

CREATE_TICKET = "create_ticket"
CALL_TICKET = "call_ticket"
CALL_NEXT = "call_next"
START = "start_serving"
FINISH = "finish_step"
SET_PRIORITY = "set_ticket_priority"
CANCEL = "cancel_ticket"


def _at_same_counter(*operation_ids: str) -> dict[str, Any]:
    return {op: {"operationId": op, "parameters": {"counter_id": "$request.path.counter_id"}} for op in operation_ids}


def issued_ticket() -> dict[str, Any]:
    """From POST /tickets: the new ticket's id."""
    return {
        CALL_TICKET: {"operationId": CALL_TICKET,
                      "requestBody": {"ticket_id": "$response.body#/id", "reason": "out of order"},
                      "description": "Call this visit at a counter out of order"},
        SET_PRIORITY: {"operationId": SET_PRIORITY, "parameters": {"ticket_id": "$response.body#/id"}},
        CANCEL: {"operationId": CANCEL, "parameters": {"ticket_id": "$response.body#/id"}},
    }


def after_call() -> dict[str, Any]:
    return _at_same_counter(START)


def after_start() -> dict[str, Any]:
    return _at_same_counter(FINISH)


def after_finish() -> dict[str, Any]:
    return _at_same_counter(CALL_NEXT, START)
