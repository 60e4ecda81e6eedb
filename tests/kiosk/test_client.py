"""The kiosk's REST client against a live server: its models match the server's OpenAPI, a retry with
the same Idempotency-Key never makes a second ticket, refusals carry the server's code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from madoguchi.kiosk.client import KioskClient, RequestRefusedError, ServerUnreachableError, read_token
from madoguchi.kiosk.effects import flow_catalog
from madoguchi.kiosk.models import (
    Estimate,
    Guidance,
    GuidanceRequest,
    PlanStep,
    Ticket,
    TicketRequest,
)
from madoguchi.kiosk.printing import ticket_content
from tests.live import LiveServer, free_port

TENNYU = TicketRequest(life_event="tennyu", answers={
    "household": [{"age": 40, "relation": "self"}, {"age": 10, "relation": "child"}], "kokuho": True},
    language="vi")


@pytest.fixture
def client(live_server: LiveServer) -> KioskClient:
    with KioskClient(live_server.url, live_server.tokens["kiosk"]) as kiosk:
        yield kiosk


def _schema(openapi: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _types(schema: dict[str, Any]) -> set[str]:
    if "type" in schema:
        return {schema["type"]}
    found: set[str] = set()
    for option in schema.get("anyOf", []):
        found |= _types(option)
    if "$ref" in schema:
        found.add("object")
    return found


def _check_answer(openapi: dict[str, Any], server: dict[str, Any], model: type, name: str) -> None:
    """Every field the kiosk reads is one the server always sends, with the same JSON type."""
    ours = model.model_json_schema()
    for field, info in model.model_fields.items():
        if not info.is_required():
            continue
        assert field in server.get("required", []), f"{name}.{field} is not always sent by the server"
        theirs = _types(server["properties"][field])
        mine = _types(ours["properties"][field]) if field in ours["properties"] else theirs
        assert mine & theirs or {"number", "integer"} & mine & theirs or "object" in mine | theirs, \
            f"{name}.{field}: kiosk expects {mine}, server says {theirs}"


def _check_request(server: dict[str, Any], model: type, name: str) -> None:
    """Every field the kiosk sends is one the server takes, and the kiosk can send all it requires."""
    for field in model.model_fields:
        assert field in server["properties"], f"{name}.{field} is not in the server's schema"
    for field in server.get("required", []):
        assert field in model.model_fields, f"{name}: the server requires {field}"


def test_kiosk_models_match_the_servers_openapi(live_server: LiveServer) -> None:
    openapi = httpx.get(f"{live_server.url}/api/v1/openapi.json", timeout=10).json()
    paths = openapi["paths"]
    tickets = paths["/api/v1/tickets"]["post"]
    guidance = paths["/api/v1/guidance"]["post"]
    parameters = {p["name"] for p in tickets.get("parameters", [])}
    assert "Idempotency-Key" in parameters
    ticket_out = _schema(openapi, tickets["responses"]["201"]["content"]["application/json"]["schema"])
    _check_answer(openapi, ticket_out, Ticket, "Ticket")
    _check_answer(openapi, _schema(openapi, ticket_out["properties"]["estimate"]), Estimate, "Estimate")
    plan_items = _schema(openapi, ticket_out["properties"]["plan"]["items"])
    _check_answer(openapi, plan_items, PlanStep, "PlanStep")
    guidance_out = _schema(openapi, guidance["responses"]["200"]["content"]["application/json"]["schema"])
    _check_answer(openapi, guidance_out, Guidance, "Guidance")
    ticket_in = _schema(openapi, tickets["requestBody"]["content"]["application/json"]["schema"])
    _check_request(ticket_in, TicketRequest, "TicketRequest")
    card_in = _schema(openapi, next(o for o in ticket_in["properties"]["card"]["anyOf"] if "$ref" in o))
    from madoguchi.kiosk.models import CardData
    _check_request(card_in, CardData, "CardData")
    _check_request(_schema(openapi, guidance["requestBody"]["content"]["application/json"]["schema"]),
                   GuidanceRequest, "GuidanceRequest")
    assert "/api/v1/catalog" in paths  # no response schema there: checked against its answer below


def test_the_live_catalog_parses_and_offers_what_the_kiosk_shows(client: KioskClient) -> None:
    catalog = client.catalog()
    flow = flow_catalog(catalog)
    assert flow.moving == ("tennyu", "tenkyo", "tenshutsu")
    assert "okuyami" in flow.other_life_events and "juminhyo" in flow.simple_procedures
    assert set(catalog.languages) == {"ja", "ja-easy", "en", "vi", "zh", "ko", "ne"}
    for question in catalog.questions:
        assert set(catalog.languages) <= set(question.label), question.id


def test_guidance_gives_the_plan_without_issuing(client: KioskClient) -> None:
    plan = client.guidance(GuidanceRequest(life_event="tennyu", answers=TENNYU.answers, language="en"))
    assert [s.procedure for s in plan.plan][:1] == ["tennyu_todoke"]
    assert {"tennyugaku", "jidou_teate", "kokuho"} <= {s.procedure for s in plan.plan}


def test_the_same_key_gives_the_same_ticket_and_a_new_key_a_new_one(client: KioskClient) -> None:
    first = client.issue(TENNYU, "kiosk-test-same-1")
    again = client.issue(TENNYU, "kiosk-test-same-1")
    other = client.issue(TENNYU, "kiosk-test-same-2")
    assert again.id == first.id and again.number == first.number
    assert other.number != first.number


def test_a_retry_across_a_server_restart_keeps_one_ticket(live_server: LiveServer) -> None:
    with KioskClient(live_server.url, live_server.tokens["kiosk"], timeout_s=2) as kiosk:
        first = kiosk.issue(TENNYU, "kiosk-test-restart-1")
        live_server.kill()
        with pytest.raises(ServerUnreachableError):
            kiosk.issue(TENNYU, "kiosk-test-restart-1")
        live_server.start()
        again = kiosk.issue_until_answered(TENNYU, "kiosk-test-restart-1")
    assert again.id == first.id


def test_refusals_carry_the_servers_code(live_server: LiveServer, client: KioskClient) -> None:
    with pytest.raises(RequestRefusedError) as refused:
        client.issue(TicketRequest(life_event="no_such_event"), "kiosk-test-refused-1")
    assert refused.value.code == "unknown_life_event" and refused.value.problem.status == 422
    with KioskClient(live_server.url, "not-a-token") as stranger, pytest.raises(RequestRefusedError) as denied:
        stranger.catalog()
    assert denied.value.problem.status == 401


def test_nobody_listening_is_unreachable_not_a_refusal() -> None:
    with KioskClient(f"http://127.0.0.1:{free_port()}", "t", timeout_s=1) as nowhere, \
            pytest.raises(ServerUnreachableError):
        nowhere.catalog()


def test_token_file_must_hold_a_token(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "t").write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        read_token(tmp_path / "t")
    (tmp_path / "t").write_text("abc\n", encoding="utf-8")
    assert read_token(tmp_path / "t") == "abc"


def test_the_printed_ticket_has_the_servers_number_japanese_procedures_and_notes_in_the_language(
        client: KioskClient) -> None:
    catalog = client.catalog()
    ticket = client.issue(TENNYU, "kiosk-test-print-1")
    content = ticket_content(ticket, catalog, "vi")
    assert content.display_number == ticket.display_number and content.status_url == ticket.status_url
    assert content.procedure_labels[0] == "住民異動届（転入）"
    assert content.band_label == "ワンストップ窓口" and content.site_name == "中央区役所"
    assert content.language == "vi" and content.notes and all(n.isascii() is False for n in content.notes)
    assert (content.estimate_low_min, content.estimate_high_min) == (ticket.estimate.low, ticket.estimate.high)
    same = ticket_content(ticket.model_dump(mode="json"), catalog.model_dump(mode="json"), "vi")
    assert same == content
