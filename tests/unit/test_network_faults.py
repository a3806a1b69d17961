"""Network faults emulated in the application: jitter and dropped requests.

Who is dropped and how much jitter comes from the injector's own seeded `random.Random`, so
every count here is exact; the delays go to a fake sleep. Requests go through a tiny app with
the real FaultMiddleware, in memory (httpx's ASGI transport) or on a loopback port.
"""

import asyncio
import random
import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from microservicios.common.faults import FaultInjector, Faults
from microservicios.common.web.faults import FaultMiddleware
from microservicios.serve.errors import ClusterError
from microservicios.telemetry.logs import EventLogger
from tests.helpers import make_cluster

SEED = 20240611
DEADLINE_S = 10.0  # upper bound for every wait here; only reached when something is wrong


class FakeSleep:
    """Records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def new_injector(seed: int = SEED, sleep: FakeSleep | None = None) -> FaultInjector:
    logger = EventLogger("items", sinks=[])
    if sleep is None:
        return FaultInjector(logger, rng=random.Random(seed))
    return FaultInjector(logger, rng=random.Random(seed), sleep=sleep)


def faulty_app(injector: FaultInjector) -> Starlette:
    """GET / answers "ok", behind the FaultMiddleware reading `injector`."""

    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", ok)])
    app.add_middleware(FaultMiddleware)
    app.state.context = SimpleNamespace(faults=injector)  # what context_of(app) reads
    return app


def in_memory(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://items")


# --- the model -----------------------------------------------------------------------------


def test_jitter_and_drop_rate_are_off_by_default_and_count_as_active():
    assert Faults().jitter == 0 and Faults().drop_rate == 0 and not Faults().active
    assert Faults(jitter=0.2).active
    assert Faults(drop_rate=0.3).active


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jitter", 31, "'jitter' debe ser menor o igual que 30"),
        ("jitter", -1, "'jitter' debe ser mayor o igual que 0"),
        ("drop_rate", 1.5, "'drop_rate' debe ser menor o igual que 1"),
    ],
)
def test_out_of_range_network_faults_are_refused_in_spanish(tmp_path, field, value, message):
    with pytest.raises(ValidationError):
        Faults(**{field: value})
    cluster = make_cluster(tmp_path)  # never started: the faults are checked first
    with pytest.raises(ClusterError, match="Fallas no válidas") as refused:
        cluster.inject("items", **{field: value})
    assert message in str(refused.value)


# --- jitter ----------------------------------------------------------------------------------


def test_jitter_delays_lie_between_latency_and_latency_plus_jitter():
    """Each request waits latency + uniform(0, jitter), drawn from the injector's rng."""
    sleep = FakeSleep()
    injector = new_injector(sleep=sleep)
    injector.inject(Faults(latency=0.2, jitter=0.3))

    async def scenario() -> list[int]:
        async with in_memory(faulty_app(injector)) as client:
            return [(await client.get("/")).status_code for _ in range(30)]

    assert asyncio.run(scenario()) == [200] * 30
    replay = random.Random(SEED)
    assert sleep.delays == [0.2 + replay.uniform(0, 0.3) for _ in range(30)]
    assert all(0.2 <= delay <= 0.5 for delay in sleep.delays)
    assert len(set(sleep.delays)) == 30  # they vary: that is the jitter


def test_without_jitter_the_delay_is_exactly_the_latency():
    injector = new_injector()
    assert injector.delay(Faults(latency=0.25)) == 0.25
    assert injector.delay(Faults()) == 0.0


# --- drop_rate -------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[FaultInjector, str]]:
    """The tiny app on a loopback port (a real uvicorn), and its injector; healed at the end."""
    injector = new_injector()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        faulty_app(injector), lifespan="off", log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    give_up_at = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < give_up_at, "el servidor de prueba nunca arrancó"
        time.sleep(0.01)
    try:
        yield injector, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        injector.heal()
        server.should_exit = True
        thread.join(DEADLINE_S)
        sock.close()


def test_with_drop_rate_1_the_client_gets_no_answer_at_all(served):
    """No status, not even a 500: the client only finds out through its own timeout."""
    injector, url = served
    injector.inject(Faults(drop_rate=1))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=httpx.Timeout(0.3, connect=DEADLINE_S))
    injector.heal()
    assert httpx.get(url, timeout=DEADLINE_S).text == "ok"


def test_heal_releases_a_dropped_request(served):
    """A request still waiting when the loss is healed gets its answer, like a retransmission."""
    injector, url = served
    injector.inject(Faults(drop_rate=1))
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=DEADLINE_S)))
    waiting.start()
    with pytest.raises(httpx.ReadTimeout):  # a request sent later is not answered either
        httpx.get(url, timeout=httpx.Timeout(0.3, connect=DEADLINE_S))
    assert answers == []
    injector.heal()
    waiting.join(DEADLINE_S)
    assert [a.status_code for a in answers] == [200]


def test_drop_rate_half_leaves_exactly_the_seeded_share_unanswered_until_healed():
    """40 requests at once with drop_rate=0.5: the seeded rng says exactly which count is
    answered; the rest stay unanswered until heal, and then all of them are answered."""
    total = 40
    replay = random.Random(SEED)
    expected_dropped = sum(replay.random() < 0.5 for _ in range(total))
    assert 0 < expected_dropped < total
    injector = new_injector()
    injector.inject(Faults(drop_rate=0.5))

    async def scenario() -> tuple[int, list[int]]:
        async with in_memory(faulty_app(injector)) as client:
            requests = [asyncio.create_task(client.get("/")) for _ in range(total)]
            give_up_at = time.monotonic() + DEADLINE_S
            while sum(r.done() for r in requests) < total - expected_dropped:
                assert time.monotonic() < give_up_at, "las no perdidas nunca respondieron"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # a little longer: the dropped ones still say nothing
            unanswered = sum(not r.done() for r in requests)
            injector.heal()
            answers = await asyncio.wait_for(asyncio.gather(*requests), DEADLINE_S)
            return unanswered, [a.status_code for a in answers]

    unanswered, statuses = asyncio.run(scenario())
    assert unanswered == expected_dropped
    assert statuses == [200] * total
