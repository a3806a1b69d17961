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
