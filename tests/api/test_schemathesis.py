"""Property-based contract test over the whole OpenAPI document (schemathesis).

Every operation gets generated requests (valid and invalid) with an owner's
admin token; no answer may be a 5xx, and every answer must match the spec:
its status is documented, its content type and body match the schema.
(The schemathesis pytest plugin does not work with pytest 9 yet, so the
operations are driven from one test with hypothesis directly.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.api.conftest import Api

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


def test_every_operation_answers_within_its_contract(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.client.app)
    auth = api.as_("owner")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers={**(case.headers or {}), **auth}, checks=CHECKS)

        check()
