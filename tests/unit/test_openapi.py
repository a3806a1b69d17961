"""What the OpenAPI documents promise, read without starting any app.

The contract test (tests/e2e/test_contract.py) checks the promises against real answers;
these check a few that it cannot see, or that a student reading /docs relies on.
"""

import pytest

from microservicios.common.registry import SERVICES
from tests.helpers import make_settings


def openapi(service, tmp_path):
    app = SERVICES[service].load_factory()(make_settings(tmp_path))
    return app.openapi()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("service", SERVICES.names)
def test_every_422_is_the_spanish_validation_error(service, tmp_path):
    """No operation keeps FastAPI's default 422 schema, whose `detail` is a list."""
    document = openapi(service, tmp_path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for name, operation in operations(document):
        if "422" in operation["responses"]:
            schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ValidationErrorOut"}, name


@pytest.mark.parametrize("service", SERVICES.names)
def test_metrics_are_documented_as_text(service, tmp_path):
    """/metrics is Prometheus text, and its document says text/plain, not JSON."""
    content = openapi(service, tmp_path)["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/plain"]


@pytest.mark.parametrize("service", SERVICES.names)
def test_internal_routes_need_the_token_and_document_401(service, tmp_path):
    """Every route under /internal/ declares the ServiceToken scheme and its 401."""
    document = openapi(service, tmp_path)
    scheme = document["components"]["securitySchemes"]["ServiceToken"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Service-Token",
        "description": scheme["description"],
    }
    internal = [(n, op) for n, op in operations(document) if "/internal/" in n + "/"]
    assert internal
    for name, operation in internal:
        assert operation["security"] == [{"ServiceToken": []}], name
        assert "401" in operation["responses"], name
