"""`/docs` in a real browser with the network blocked: served by the package, no CDN."""

from pathlib import Path

import pytest

from microservicios import Cluster
from tests.helpers import CHROMIUM, block_outside_loopback, browser_or_skip, make_settings


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    running = Cluster(ports="auto", settings=make_settings(Path(tmp_path_factory.mktemp("docs"))))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page():  # noqa: ANN201
    sync_playwright = browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context()
        outside = block_outside_loopback(context)
        page = context.new_page()
        page.outside = outside
        yield page
        browser.close()


def operations(page, url: str) -> list[str]:  # noqa: ANN001
    page.goto(url)
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    return page.locator(".opblock-summary-path").all_inner_texts()


def test_a_service_docs_list_its_operations_offline(cluster, page):
    """users' /docs shows its operations with every external request blocked."""
    paths = operations(page, cluster.url("users") + "/docs")
    assert "/users/" in paths and "/users/{user_id}" in paths
    assert page.outside == []


def test_the_gateway_docs_list_every_public_route_and_no_internal_one(cluster, page):
    """The gateway's /docs lists the users, items and orders routes, and no /internal/."""
    paths = operations(page, cluster.url("gateway") + "/docs")
    for expected in ("/users/", "/items/{item_id}", "/orders/", "/orders/{order_id}/cancel"):
        assert expected in paths
    assert not [path for path in paths if "internal" in path]
    assert page.outside == []
