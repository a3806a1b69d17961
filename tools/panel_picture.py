"""Regenerate the README's picture of the panel, on purpose (no test writes it):

    python tools/panel_picture.py docs/panel.png

It needs Playwright (the `test` extra) and Debian's chromium (`apt-get install chromium`):
it starts a cluster, opens its panel in headless Chromium, injects errors into items from
the page's form, sends ten orders, and saves the whole page once orders → items is open.
The browser test (tests/e2e/test_panel_browser.py) runs the same scene into a temporary
folder, so the picture and the test cannot drift apart.
"""

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from microservicios import Cluster

VIEWPORT = {"width": 1600, "height": 1000}
# A breaker that opens after three failures and tries again after one second: the scene
# fits in a few seconds.
SETTINGS = {"breaker_failure_threshold": 3, "breaker_reset_timeout": 1.0}
BREAKER = '#breakers [data-breaker="orders→items"] .state'


def order_body(gateway: str) -> dict[str, Any]:
    """A user and an item with stock, through the gateway; the order body for them."""
    user = httpx.post(f"{gateway}/users/", json={"name": "Ana", "email": "ana@example.com"})
    httpx.post(f"{gateway}/items/", json={"name": "Lápiz", "sku": "LAPIZ-B", "stock": 100})
    return {"user_id": user.json()["id"], "item_sku": "LAPIZ-B", "qty": 1}


def open_the_breaker(cluster: Cluster, page: Any) -> dict[str, Any]:
    """On the panel's page: error_rate=1 on items from the form and ten orders, until
    orders → items says 'abierto'. Returns the order body, for more orders."""
    from playwright.sync_api import expect

    gateway = cluster.url("gateway")
    body = order_body(gateway)
    page.goto(cluster.panel_url())
    expect(page.locator(BREAKER)).to_have_text("cerrado", timeout=5_000)
    form = page.locator("#faults-form")
    form.locator('select[name="service"]').select_option("items")
    form.locator('input[name="error_rate"]').fill("1")
    form.locator('input[name="status"]').fill("503")
    form.locator('button[data-action="inject"]').click()
    expect(page.locator("#message")).to_contain_text("Fallas inyectadas en 'items'")
    for _ in range(10):
        httpx.post(f"{gateway}/orders/", json=body)
    expect(page.locator(BREAKER)).to_have_text("abierto", timeout=5_000)
    expect(page.locator('#services tr[data-service="items"]')).to_contain_text("errores 100 %")
    return body


def save_picture(page: Any, path: Path) -> None:
    page.wait_for_timeout(600)  # one more snapshot: the metric charts catch up
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("Uso: python tools/panel_picture.py docs/panel.png")
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print('Falta Playwright: pip install -e ".[test]"')
        return 1
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Falta chromium: apt-get install chromium")
        return 1
    path = Path(argv[0])
    with tempfile.TemporaryDirectory() as data:
        with Cluster(ports="auto", data_dir=data, settings=SETTINGS) as cluster:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                page = browser.new_page(viewport=VIEWPORT)
                open_the_breaker(cluster, page)
                save_picture(page, path)
                browser.close()
    print(f"Listo: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
