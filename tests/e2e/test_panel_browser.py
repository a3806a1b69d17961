"""The live panel in a real browser (headless Chromium), with the network outside 127.0.0.1
blocked: kill and revive from the page, a breaker opening and closing live, a trace's
waterfall, log filters, the token, and a page that stays readable (labels of close marks,
a short half-open, the sticky bar). The breaker scenario is the README's picture
(tools/panel_picture.py), saved into a temporary folder."""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from microservicios import Cluster
from microservicios.cluster.cluster import resolve_ports
from microservicios.cluster.processes import ProcessCluster
from tests.helpers import (
    CHROMIUM,
    REPO_ROOT,
    block_outside_loopback,
    browser_or_skip,
    make_settings,
)
from tools.panel_picture import BREAKER, open_the_breaker, order_body, save_picture

SCREENSHOT = REPO_ROOT / "docs" / "panel.png"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_playwright = browser_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    opened = context.new_page()
    opened.outside = block_outside_loopback(context)
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()
    assert opened.outside == [], opened.outside  # nothing loaded from outside the package
    assert opened.errors == [], opened.errors  # no JavaScript error


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    settings = make_settings(tmp_path, breaker_failure_threshold=3, breaker_reset_timeout=1.0)
    with Cluster(ports="auto", settings=settings) as running:
        yield running


def row_state(page, service: str):  # noqa: ANN001, ANN201
    return page.locator(f'#services tbody tr[data-service="{service}"] .state')


def test_kill_and_revive_with_the_buttons(cluster: Cluster, page):  # noqa: ANN001
    """Apagar items → its row says 'caído' within 2 s and it refuses connections; Revivir
    → 'activo' again and it answers."""
    from playwright.sync_api import expect

    page.goto(cluster.panel_url())
    expect(row_state(page, "items")).to_have_text("activo", timeout=5_000)
    page.locator('#services tr[data-service="items"] button[data-action="kill"]').click()
    expect(row_state(page, "items")).to_have_text("caído", timeout=2_000)
    assert cluster.status()["items"] is False
    # With the keyboard, as from a projector's laptop: the button takes focus and Enter.
    page.locator('#services tr[data-service="items"] button[data-action="revive"]').focus()
    page.keyboard.press("Enter")
    expect(row_state(page, "items")).to_have_text("activo", timeout=10_000)
    assert httpx.get(cluster.url("items") + "/health").status_code == 200


@contextmanager
def framing_page(panel_url: str) -> Iterator[str]:
    """The address of a page that shows the panel in an IFrame, as cluster.panel() does in
    JupyterLab: served from this machine, on another port (another origin)."""
    html = f'<iframe src="{panel_url}" width="1400" height="900"></iframe>'.encode()

    class Jupyter(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jupyter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/lab"
    finally:
        server.shutdown()
        server.server_close()


def test_inside_another_page_as_in_jupyterlab(cluster: Cluster, page):  # noqa: ANN001
    """cluster.panel() puts the panel in an IFrame of JupyterLab's page (another origin):
    it shows live there, and its buttons work."""
    from playwright.sync_api import expect

    with framing_page(cluster.panel_url()) as jupyter:
        page.goto(jupyter)
        frame = page.frame_locator("iframe")
        state = frame.locator('#services tbody tr[data-service="users"] .state')
        expect(state).to_have_text("activo", timeout=5_000)
        frame.locator('#services tr[data-service="users"] button[data-action="kill"]').click()
        expect(state).to_have_text("caído", timeout=2_000)
    assert cluster.status()["users"] is False


def test_a_web_site_cannot_show_the_panel_inside_its_page(cluster: Cluster, browser):  # noqa: ANN001
    """A web site's page that frames the panel (to trick a click on «Apagar») has it
    refused by the browser: frame-ancestors admits only pages of this machine. (Chromium's
    own check on pages of the internet reaching this machine is off here, as in browsers
    without it: the refusal is the panel's.)"""
    without_checks = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-features=LocalNetworkAccessChecks"],
    )
    try:
        page = without_checks.new_page()
        outside = block_outside_loopback(page.context)
        html = f'<iframe src="{cluster.panel_url()}"></iframe>'
        page.route("http://evil.example/", lambda route: route.fulfill(body=html))
        refused = 'violates the following Content Security Policy directive: "frame-ancestors'
        with page.expect_console_message(lambda message: refused in message.text, timeout=30_000):
            page.goto("http://evil.example/")
        assert page.frame_locator("iframe").locator("#services").count() == 0
        assert outside == []
    finally:
        without_checks.close()


def test_the_breaker_opens_and_closes_live(cluster: Cluster, page, tmp_path: Path):  # noqa: ANN001
    """error_rate=1 on items from the form and ten orders: orders → items 'abierto' within
    5 s (the README's picture, saved here into a temporary folder: the tracked one is left
    alone); Curar and the wait: 'cerrado' again, and the short half-open shows."""
    from playwright.sync_api import expect

    picture_before = SCREENSHOT.read_bytes()
    gateway = cluster.url("gateway")
    body = open_the_breaker(cluster, page)
    save_picture(page, tmp_path / "panel.png")
    assert (tmp_path / "panel.png").read_bytes().startswith(b"\x89PNG")

    page.locator('#services tr[data-service="items"] button[data-action="heal"]').click()
    expect(page.locator("#message")).to_contain_text("curado")
    page.wait_for_timeout(1_200)  # the breaker's wait (1 s) before it lets a probe through
    assert httpx.post(f"{gateway}/orders/", json=body).status_code == 201
    expect(page.locator(BREAKER)).to_have_text("cerrado", timeout=5_000)
    assert SCREENSHOT.read_bytes() == picture_before  # the README's picture is left alone
    half_open = page.locator('#breakers [data-breaker="orders→items"] .seg-half_open rect')
    expect(half_open.first).to_be_attached(timeout=5_000)
    widths = [shown_width(half_open.nth(i)) for i in range(half_open.count())]
    assert min(widths) >= 3, widths  # a probe's few milliseconds, still visible


def shown_width(locator) -> float:  # noqa: ANN001
    box = locator.bounding_box()  # None for an element with nothing to show
    return box["width"] if box else 0.0


def boxes_overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_close_marks_keep_readable_labels(cluster: Cluster, page):  # noqa: ANN001
    """Apagar and Revivir items twice in a row: on the orders → items strip every tick is
    labelled (alone or with its neighbours), no two labels overlap and none leaves the strip."""
    from playwright.sync_api import expect

    page.goto(cluster.panel_url())
    buttons = '#services tr[data-service="items"] button[data-action="{}"]'
    for _ in range(2):
        page.locator(buttons.format("kill")).click()
        expect(row_state(page, "items")).to_have_text("caído", timeout=5_000)
        page.locator(buttons.format("revive")).click()
        expect(row_state(page, "items")).to_have_text("activo", timeout=10_000)
    strip = page.locator('#breakers [data-breaker="orders→items"] svg.strip')
    expect(strip.locator(".mark line")).to_have_count(4, timeout=5_000)
    marks = strip.locator(".mark")
    for i in range(marks.count()):
        expect(marks.nth(i).locator(".mark-label")).to_have_count(1)
    # One snapshot of the strip: the page redraws it twice a second, so element by element
    # a label could be measured after it was replaced (no box at all).
    snapshot = strip.evaluate(
        """strip => {
            const box = element => {
                const r = element.getBoundingClientRect();
                return {x: r.x, y: r.y, width: r.width, height: r.height};
            };
            const labels = [...strip.querySelectorAll(".mark-label")];
            return {
                words: labels.map(label => label.textContent).join(" "),
                boxes: labels.map(box),
                outline: box(strip),
            };
        }"""
    )
    words, boxes, outline = snapshot["words"], snapshot["boxes"], snapshot["outline"]
    assert len(boxes) == marks.count(), snapshot
    assert "apagado" in words and "revivido" in words
    for i, box in enumerate(boxes):
        for other in boxes[i + 1 :]:
            assert not boxes_overlap(box, other), (words, boxes)
    left, right = outline["x"], outline["x"] + outline["width"]
    for box in boxes:
        assert left <= box["x"] and box["x"] + box["width"] <= right, (words, boxes, outline)


def test_the_status_bar_never_covers_a_focused_row(cluster: Cluster, page):  # noqa: ANN001
    """Scrolled down past «Trazas», Shift+Tab back to a trace row: the browser brings it into
    view below the sticky «En vivo» bar, not under it."""
    from playwright.sync_api import expect

    for _ in range(6):
        httpx.get(cluster.url("gateway") + "/users/")
    page.goto(cluster.panel_url())
    rows = page.locator("#traces tbody tr.trace-row")
    expect(rows).to_have_count(6, timeout=5_000)
    first, second = rows.nth(0), rows.nth(1)
    # The first row just above the window's top edge, the second one focused.
    page.evaluate(
        "(row) => window.scrollTo(0, row.getBoundingClientRect().bottom + window.scrollY)",
        first.element_handle(),
    )
    second.evaluate("(row) => row.focus({preventScroll: true})")
    page.keyboard.press("Shift+Tab")
    expect(first).to_be_focused()
    bar = page.locator(".statusbar").bounding_box()
    row = first.bounding_box()
    assert row["y"] >= bar["y"] + bar["height"], (row, bar)


def test_a_decimal_comma_means_a_decimal(cluster: Cluster, page):  # noqa: ANN001
    """Latencia '0,3' (as Spanish is written) is 0.3 s, not 3 s."""
    from playwright.sync_api import expect

    page.goto(cluster.panel_url())
    form = page.locator("#faults-form")
    form.locator('select[name="service"]').select_option("users")
    form.locator('input[name="latency"]').fill("0,3")
    form.locator('button[data-action="inject"]').click()
    expect(page.locator('#services tr[data-service="users"]')).to_contain_text("latencia 0.3 s")
    assert cluster.marks[-1]["latency"] == 0.3


def test_a_click_opens_the_latest_orders_waterfall(cluster: Cluster, page):  # noqa: ANN001
    """The newest trace row is the order; clicking it draws spans of at least three services."""
    from playwright.sync_api import expect

    gateway = cluster.url("gateway")
    assert httpx.post(f"{gateway}/orders/", json=order_body(gateway)).status_code == 201
    page.goto(cluster.panel_url())
    latest = page.locator("#traces tbody tr.trace-row").first
    expect(latest).to_contain_text("/orders/", timeout=5_000)
    latest.click()
    spans = page.locator("#waterfall .span-row")
    expect(spans.first).to_be_visible(timeout=5_000)
    expect(spans.first).to_be_in_viewport(timeout=5_000)  # not opened off screen
    services = {spans.nth(i).get_attribute("data-service") for i in range(spans.count())}
    assert len(services) >= 3 and {"gateway", "orders", "items"} <= services


def test_logs_filter_by_service_and_event(cluster: Cluster, page):  # noqa: ANN001
    """Filtering on items and 'reserve' leaves only items' lines of that event... and some."""
    from playwright.sync_api import expect

    gateway = cluster.url("gateway")
    page.goto(cluster.panel_url())
    expect(page.locator("#logs .log-line").first).to_be_attached(timeout=5_000)
    httpx.post(f"{gateway}/orders/", json=order_body(gateway))
    page.locator("#log-service").select_option("items")
    page.locator("#log-event").fill("stock.reserved")
    visible = page.locator("#logs .log-line:visible")
    expect(visible.first).to_be_visible(timeout=5_000)
    for i in range(visible.count()):
        line = visible.nth(i)
        assert line.get_attribute("data-service") == "items"
        assert "stock.reserved" in line.get_attribute("data-event")
    page.locator("#log-service").select_option("users")
    expect(page.locator("#logs .log-line:visible")).to_have_count(0)


def test_without_the_token_the_panel_refuses(cluster: Cluster, page):  # noqa: ANN001
    """The page without its token says why in Spanish; an action sent from the page without
    the token header is refused (403) and kills nothing."""
    base = re.sub(r"/\?token=.*$", "", cluster.panel_url())
    answer = page.goto(base + "/")
    assert answer.status == 403
    assert "Falta el token del panel" in page.content()
    status = page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST'})).status",
        base + "/api/services/items/kill",
    )
    assert status == 403
    assert cluster.status()["items"] is True


def test_processes_mode_kill_from_the_page(tmp_path: Path, page):  # noqa: ANN001
    """With a process per service the same page kills items' process and revives it."""
    from playwright.sync_api import expect

    cluster = ProcessCluster(resolve_ports("auto"), tmp_path / "data", quiet=True, panel=True)
    cluster.start()
    try:
        page.goto(cluster.panel_url())
        expect(row_state(page, "items")).to_have_text("activo", timeout=5_000)
        page.locator('#services tr[data-service="items"] button[data-action="kill"]').click()
        expect(row_state(page, "items")).to_have_text("caído", timeout=2_000)
        page.locator('#services tr[data-service="items"] button[data-action="revive"]').click()
        expect(row_state(page, "items")).to_have_text("activo", timeout=30_000)
        assert httpx.get(cluster.url("items") + "/health").status_code == 200
    finally:
        cluster.stop()
