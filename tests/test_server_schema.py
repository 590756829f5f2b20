"""Schemathesis over the race server's OpenAPI schema: no request makes it fail with a 5xx.

Every operation gets generated requests (valid and invalid bodies, paths and queries) sent
with the organiser's token, so the authorised code paths run too, then the checks of the
schema: no server error, and every answer matches the status codes and bodies the schema
declares.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from tests.server_support import Server, make_server, tiny_onnx


def _server() -> Server:
    tmp = Path(tempfile.mkdtemp(prefix="racer-schema-"))
    srv = make_server(f"sqlite:///{tmp / 'db.sqlite'}", tmp / "data", max_upload_bytes=500_000)
    srv.race(name="cup")
    srv.racer("Ada")
    assert srv.submit("cup", "Ada", tiny_onnx(tmp / "m.onnx")).status_code == 201
    return srv


SERVER = _server()
schema = schemathesis.openapi.from_asgi("/openapi.json", SERVER.client.app)
NO_SERVER_ERROR = [c for c in CHECKS.get_all() if c.__name__ == "not_a_server_error"]


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: Any) -> None:
    case.call_and_validate(headers=SERVER.auth(), checks=NO_SERVER_ERROR)


def test_the_checks_ran() -> None:
    assert NO_SERVER_ERROR, "schemathesis no longer has its not_a_server_error check"


def test_every_operation_is_covered() -> None:
    assert len(list(schema.get_all_operations())) >= 15
