"""schemathesis walks the published OpenAPI with generated requests: nothing answers 5xx.

(Driven through hypothesis directly: schemathesis' pytest plugin does not run under pytest 9.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.conftest import make_api


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory):
    api = make_api(tmp_path_factory.mktemp("fuzz"))
    # some state to walk into: waiting visits, one at a counter
    for body in ({"procedures": ["juminhyo"]}, {"procedures": ["inkan"]}, {"life_event": "tenshutsu"}):
        api.post("/api/v1/tickets", "kiosk", json=body)
    api.post("/api/v1/counters/c1/call-next", "counter")
    yield api
    api.client.close()
    api.services.close()


def operations(api):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.client.app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("role, mode, examples", [
    ("admin", GenerationMode.POSITIVE, 25),
    ("admin", GenerationMode.NEGATIVE, 25),
    ("kiosk", GenerationMode.POSITIVE, 8),
])
def test_no_generated_request_gets_a_server_error(fuzzed_api, role, mode, examples):
    headers = fuzzed_api.headers(role)
    walked = []
    for operation in operations(fuzzed_api):
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(mode))
        def call(case):
            response = case.call(headers={**(case.headers or {}), **headers})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")
            if response.status_code >= 400 and case.formatted_path.startswith("/api/"):
                content_type = response.headers.get("content-type", [""])[0]
                assert content_type.startswith("application/problem+json"), (case.formatted_path, content_type)
        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # an operation without inputs has no invalid request
            continue
        walked.append(f"{operation.method.upper()} {operation.path}")
    assert len(walked) >= (30 if mode is GenerationMode.POSITIVE else 15), walked
