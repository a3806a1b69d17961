"""`Panel`: the live lab panel of one cluster, served on its own thread at 127.0.0.1.

The cluster (either mode) creates one, hands every log record to `panel.activity`, and
prints `panel.url`, which carries the panel's token.
"""

import time

from microservicios.common.settings import Settings
from microservicios.panel.access import PanelAccess, new_token
from microservicios.panel.activity import Activity
from microservicios.panel.app import PanelState, create_panel_app
from microservicios.panel.source import PanelSource
from microservicios.serve.runner import START_TIMEOUT_S, ServiceRunner

DEFAULT_HOST = "127.0.0.1"


class Panel:
    """Serves the panel of `source`; `start()` binds a free port unless one is given."""

    def __init__(self, source: PanelSource, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.source = source
        self.activity = Activity()
        self.host = host
        self._token = new_token()
        self._state: PanelState | None = None
        self._runner = ServiceRunner("panel", host, port, self._build_app)

    def _build_app(self):  # noqa: ANN202
        access = PanelAccess(self._token, self.host, self._runner.port)
        self._state = PanelState(self.source, self.activity, access)
        return create_panel_app(self._state)

    def start(self) -> "Panel":
        self._runner.bind()
        # The panel has no Settings of its own: its server keeps the settings' defaults.
        self._runner.launch(
            Settings.default_for("server_keepalive_timeout"), Settings.default_for("header_timeout")
        )
        self._runner.wait_started(time.monotonic() + START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        if self._state is not None:
            self._state.stopping.set()  # open streams end at their next tick
        self._runner.request_stop()
        self._runner.release_port()
        self._runner.join()

    @property
    def running(self) -> bool:
        return self._runner.running

    @property
    def thread_id(self) -> int | None:
        return self._runner.thread_id

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._runner.port}"

    @property
    def token(self) -> str:
        return self._token

    @property
    def url(self) -> str:
        """The address to open: the panel's page, with its token."""
        return f"{self.base_url}/?token={self._token}"
