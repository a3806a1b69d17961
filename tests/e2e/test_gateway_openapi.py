"""The gateway's OpenAPI: every public route of the services it routes, no internal one."""

import httpx

from tests.helpers import make_cluster


def test_gateway_openapi_is_the_union_of_public_routes(tmp_path):
    """All of users', items' and orders' public paths, none with /internal/; with items down
    the document still answers, without items' paths and naming it."""
    cluster = make_cluster(tmp_path)
    cluster.start()
    try:
        document = httpx.get(cluster.url("gateway") + "/openapi.json", timeout=30).json()
        paths = set(document["paths"])
        for service in ("users", "items", "orders"):
            own = httpx.get(cluster.url(service) + "/openapi.json", timeout=30).json()["paths"]
            assert {p for p in own if "/internal" not in p} <= paths
        assert not [p for p in paths if "internal" in p]
        assert "ErrorOut" in document["components"]["schemas"]

        cluster.kill("items")
        without = httpx.get(cluster.url("gateway") + "/openapi.json", timeout=30).json()
        assert "/items/" not in without["paths"] and "/users/" in without["paths"]
        assert "items" in without["info"]["description"]
    finally:
        cluster.stop()


def test_gateway_docs_offer_no_authorize_button(tmp_path):
    """The gateway's document lists no security scheme (Swagger's «Authorize» button) and no
    operation asks for one: its routes are all public; each service's own document keeps
    the token scheme on its internal routes."""
    cluster = make_cluster(tmp_path)
    cluster.start()
    try:
        document = httpx.get(cluster.url("gateway") + "/openapi.json", timeout=30).json()
        assert "securitySchemes" not in document.get("components", {})
        secured = [
            f"{method.upper()} {path}"
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
            if operation.get("security")
        ]
        assert secured == []
        for service in ("users", "items", "orders"):
            own = httpx.get(cluster.url(service) + "/openapi.json", timeout=30).json()
            assert "ServiceToken" in own["components"]["securitySchemes"], service
            assert own["paths"]["/internal/faults"]["put"]["security"] == [{"ServiceToken": []}]
    finally:
        cluster.stop()
