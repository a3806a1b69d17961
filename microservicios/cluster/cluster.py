"""`Cluster`: the gateway and the three services, each on its own thread, in this process."""

import threading
import time
from pathlib import Path
from typing import Any, Self

from fastapi import FastAPI
from pydantic import SecretStr

from microservicios.cluster.base import BaseCluster
from microservicios.common.context import context_of
from microservicios.common.faults import Faults
from microservicios.common.registry import SERVICES, AppFactory, ServiceRegistry
from microservicios.common.secrets import random_secret
from microservicios.common.service_clients import BreakerFactory
from microservicios.common.settings import Settings
from microservicios.database.sqlite import SQLITE_COMPANIONS
from microservicios.serve.runner import (
    START_TIMEOUT_S,
    ClusterError,
    ServiceRunner,
    wait_until_healthy,
)
from microservicios.telemetry.logbook import LogBook
from microservicios.telemetry.logs import LogRecord, LogSink
from microservicios.telemetry.traces import Trace, build_trace

Ports = None | str | dict[str, int]
MAX_PORT = 65535


def check_ports(ports: dict[str, int]) -> None:
    """Each port a valid number, and no two services on the same one (0, "any free", aside)."""
    owners: dict[int, str] = {}
    for name, port in ports.items():
        if not 0 <= port <= MAX_PORT:
            raise ClusterError(
                f"El puerto {port} de '{name}' no existe: los puertos van de 1 a {MAX_PORT}."
            )
        if port and port in owners:
            raise ClusterError(
                f"'{owners[port]}' y '{name}' tienen el mismo puerto, {port}: "
                "cada servicio necesita uno propio."
            )
        owners[port] = name


def resolve_ports(ports: Ports, registry: ServiceRegistry = SERVICES) -> dict[str, int]:
    """None → the classic ports; "auto" → free ports (0); a dict overrides some of them.

    A service without a classic port (one added in lab 6) gets a free port.
    """
    names = registry.names
    classic = registry.classic_ports()
    if ports is None:
        return classic
    if ports == "auto":
        return {name: 0 for name in names}
    if isinstance(ports, dict):
        unknown = set(ports) - set(names)
        if unknown:
            raise ClusterError(
                f"Servicios desconocidos en ports: {sorted(unknown)}. Válidos: {list(names)}."
            )
        chosen = {**classic, **ports}
        check_ports(chosen)
        return chosen
    raise ClusterError("ports debe ser None, 'auto' o un diccionario {servicio: puerto}.")


def _status_badge(up: bool) -> str:
    """A coloured dot drawn with CSS, not an emoji: a projector PC may lack emoji fonts."""
    color, text = ("#2e7d32", "activo") if up else ("#c62828", "detenido")
    dot = (
        "display:inline-block;width:0.8em;height:0.8em;border-radius:50%;"
        f"background:{color};margin-right:0.4em;vertical-align:middle"
    )
    return f"<span style='{dot}'></span>{text}"


class Cluster(BaseCluster):
    """Starts, stops, kills and revives the four apps; each owns its database and clients.

    `fresh=True` deletes the data of earlier runs before the first start. `settings` is a
    complete `Settings` (used as given: no environment or `.env` is read) or a dict of
    overrides on top of the environment; either way the cluster sets the service URLs.

    >>> with Cluster(ports="auto", data_dir="data/demo") as cluster:
    ...     print(cluster.url("gateway"))
    """

    def __init__(
        self,
        ports: Ports = None,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        echo_logs: bool = False,
        settings: Settings | dict[str, Any] | None = None,
        fresh: bool = False,
        factories: dict[str, str | AppFactory] | None = None,
        breaker_factory: BreakerFactory | None = None,
        app_options: dict[str, dict[str, Any]] | None = None,
        panel: bool = True,
    ) -> None:
        self._base_settings = settings if isinstance(settings, Settings) else None
        self._overrides = {} if isinstance(settings, Settings) else dict(settings or {})
        if data_dir is None:
            data_dir = self._base_settings.data_dir if self._base_settings else "data"
        # The registry's services plus any given here (lab 6), in start order: the gateway
        # last, once everything it routes to is up.
        registry = SERVICES.with_factories(factories or {})
        super().__init__(registry, Path(data_dir), host=host, panel=panel)
        self.logbook = LogBook(echo=echo_logs)
        self.fresh = fresh
        self._app_options = {name: dict((app_options or {}).get(name, {})) for name in self.names}
        if breaker_factory is not None:
            for options in self._app_options.values():
                options.setdefault("breaker_factory", breaker_factory)
        self._requested_ports = resolve_ports(ports, self.registry)
        self.settings: Settings | None = None
        self._runners: dict[str, ServiceRunner] = {}
        # One kill, revive or stop at a time: the panel's buttons run them on other threads,
        # and a revive must not start while a kill is still waiting for the old server.
        self._lifecycle = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        """Start all four services; returns once each answers /health."""
        if self._runners and any(runner.running for runner in self._runners.values()):
            print("El cluster ya está en marcha:", ", ".join(self.urls().values()))
            return self
        if self.fresh:
            self.delete_data()
            self.fresh = False  # only the first start: revive and restart keep the data
        self._runners = {
            name: ServiceRunner(name, self.host, port, self._factory_for(name))
            for name, port in self._requested_ports.items()
        }
        try:
            ports = {name: runner.bind() for name, runner in self._runners.items()}
            self.settings = self._build_settings(ports)
            for name in self.names:
                self._runners[name].launch(*self._server_timeouts())
            deadline = time.monotonic() + START_TIMEOUT_S
            for name in self.names:
                self._runners[name].wait_started(deadline)
            for name in self.names:
                self._wait_healthy(name, deadline)
            if self._panel is not None:
                self._panel.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every service (gracefully, all at once) and free their ports."""
        if self._panel is not None:
            self._panel.stop()
        with self._lifecycle:
            for runner in self._runners.values():
                runner.request_stop()
                runner.release_port()
            for runner in self._runners.values():
                runner.join()

    def delete_data(self) -> None:
        """Delete the SQLite database of each service, and the files SQLite keeps beside it."""
        if any(runner.running for runner in self._runners.values()):
            raise ClusterError("No se pueden borrar los datos con el cluster en marcha.")
        for service in self.names:
            for suffix in ("", *SQLITE_COMPANIONS):
                (self.data_dir / f"{service}.db{suffix}").unlink(missing_ok=True)

    def kill(self, name: str) -> None:
        """Stop one service abruptly: requests in flight are cut, its port refuses connections."""
        runner = self._runner(name)
        with self._lifecycle:
            runner.request_stop(abrupt=True)
            runner.join()
        self._mark(name, "kill")

    def revive(self, name: str) -> None:
        """Start a killed service again on the same port, with the same data."""
        runner = self._runner(name)
        with self._lifecycle:
            if runner.running:
                print(f"El servicio '{name}' ya está en marcha.")
                return
            runner.launch(*self._server_timeouts())
            deadline = time.monotonic() + START_TIMEOUT_S
            runner.wait_started(deadline)
            self._wait_healthy(name, deadline)
        self._mark(name, "revive")

    # --- inspection ----------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self._runner(name).port}"

    def status(self) -> dict[str, bool]:
        """Which services are up right now."""
        return {name: self._runner(name).running for name in self.names}

    def logs(
        self,
        service: str | None = None,
        event: str | None = None,
        trace_id: str | None = None,
        request_id: str | None = None,
        since: Any = None,
        **fields: Any,
    ) -> list[LogRecord]:
        """Captured JSON log records of this cluster, filtered, oldest first.

        `since` is a datetime or an ISO 8601 text; other keywords match record fields.
        """
        return self.logbook.records(
            service=service,
            event=event,
            trace_id=trace_id,
            request_id=request_id,
            since=since,
            **fields,
        )

    def show_logs(self, echo: LogSink | None) -> None:
        """Echo the captured log records to `echo` from now on (the CLI's stderr)."""
        if echo is not None:
            self.logbook.start_echo(echo)

    def trace(self, request_or_trace_id: str, wait: float = 1.0) -> Trace:
        """The timeline of one request across services (a waterfall in a notebook).

        Each service logs its span just after answering, so the outermost one can land a
        moment after the client got its response: wait up to `wait` s for it.
        """
        deadline = time.monotonic() + wait
        while True:
            trace = build_trace(self.logbook.records(), request_or_trace_id)
            if trace.complete or time.monotonic() > deadline:
                return trace
            time.sleep(0.01)

    def breaker_transitions(self) -> list[dict[str, Any]]:
        """Every circuit-breaker transition seen in this cluster, oldest first."""
        return self.logbook.transitions()

    def __repr__(self) -> str:
        if not self._runners:
            return "<Cluster detenido>"
        states = ", ".join(
            f"{name}={'activo' if up else 'detenido'}" for name, up in self.status().items()
        )
        return f"<Cluster {states}>"

    def _repr_html_(self) -> str:
        if not self._runners:
            return "<p>Cluster detenido.</p>"
        status = self.status()
        rows = "".join(
            f"<tr><td><b>{name}</b></td><td><a href='{url}' target='_blank'>{url}</a></td>"
            f"<td><a href='{url}/docs' target='_blank'>{url}/docs</a></td>"
            f"<td>{_status_badge(status[name])}</td></tr>"
            for name, url in self.urls().items()
        )
        table = (
            "<table><thead><tr><th>Servicio</th><th>URL</th><th>Documentación</th>"
            f"<th>Estado</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        if self._panel is None or not self._panel.running:
            return table
        url = self._panel.url
        return f"{table}<p>Panel en vivo: <a href='{url}' target='_blank'>{url}</a></p>"

    # --- helpers -------------------------------------------------------------------

    def _set_faults(self, name: str, faults: Faults | None) -> None:
        injector = context_of(self._running_app(name)).faults
        if faults is None:
            injector.heal()
        else:
            injector.inject(faults)

    def _running_app(self, name: str) -> FastAPI:
        runner = self._runner(name)
        if not runner.running or runner.app is None:
            raise ClusterError(f"El servicio '{name}' no está en marcha: usá revive('{name}').")
        return runner.app

    def _runner(self, name: str) -> ServiceRunner:
        if name not in self.names:
            raise self._unknown_service(name)
        if name not in self._runners:
            raise ClusterError("El cluster no está en marcha: llamá primero a start().")
        return self._runners[name]

    def _build_settings(self, ports: dict[str, int]) -> Settings:
        urls = {name: f"http://{self.host}:{port}" for name, port in ports.items()}
        placement = {"service_urls": urls, "data_dir": self.data_dir}
        if self._base_settings is not None:
            return self._base_settings.model_copy(update=placement)
        settings = Settings(**{**self._overrides, **placement})
        if not settings.secret_configured:
            # Nobody chose a secret: one of this run's own, so no one else knows it.
            return settings.model_copy(update={"service_secret": SecretStr(random_secret())})
        return settings

    def _factory_for(self, name: str):  # noqa: ANN202
        def build():  # noqa: ANN202
            sinks = [self.logbook] if self._panel is None else [self.logbook, self._panel.activity]
            options = {"log_sinks": sinks, "host": self.host, **self._app_options[name]}
            return self.registry[name].load_factory()(self.settings, **options)

        return build

    def _server_timeouts(self) -> tuple[float, float]:
        """(keep-alive, header) timeouts of every server, from the settings."""
        assert self.settings is not None
        return self.settings.server_keepalive_timeout, self.settings.header_timeout

    def _wait_healthy(self, name: str, deadline: float) -> None:
        wait_until_healthy(name, self.host, self._runner(name).port, deadline)
