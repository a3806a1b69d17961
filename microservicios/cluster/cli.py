"""The command line of `python -m microservicios.cluster`: run the services until Ctrl-C."""

import argparse
import difflib
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from microservicios.cluster.base import BaseCluster
from microservicios.cluster.cluster import MAX_PORT, Cluster, resolve_ports
from microservicios.cluster.data_location import data_location
from microservicios.cluster.processes import ProcessCluster
from microservicios.cluster.startup_checks import check_data_dir, check_factory, uses_data_dir
from microservicios.common.cli import spanish_parser
from microservicios.common.registry import SERVICES, ServiceEntry, ServiceRegistry
from microservicios.database.urls import UnsupportedDatabaseError
from microservicios.serve.errors import ClusterError, PortUnavailableError
from microservicios.telemetry.logs import LogSink, ReadableSink, StreamSink, errors_only

DESCRIPTION = """\
Levanta el gateway y los servicios users, items y orders en 127.0.0.1.
Por defecto corren en hilos de este mismo proceso; con --processes, cada uno
en su propio proceso uvicorn, que se reinicia solo si muere. Ctrl-C (o SIGTERM,
o SIGHUP) los detiene a todos."""

EPILOG = """\
ejemplos:
  python -m microservicios.cluster
  python -m microservicios.cluster --ports auto
  python -m microservicios.cluster --ports gateway=9080,users=9001 --data-dir data/prueba
  python -m microservicios.cluster --processes
  python -m microservicios.cluster --log-format json 2> logs.jsonl
  python -m microservicios.cluster --service avisos=mis_servicios.avisos:create_app"""

LOG_FORMATS = ("texto", "json")
INTERRUPTED_EXIT = 130  # the shell's code for "stopped by Ctrl-C"
TICK_S = 0.25  # how often the launcher looks at its --processes children
# Ctrl-C; `kill` and an IDE's stop button; a closed terminal (Windows has no SIGHUP).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def parse_ports(text: str | None) -> None | str | dict[str, int]:
    """'auto', or servicio=puerto pairs (the names are checked against the registry later)."""
    if text is None or text == "auto":
        return text
    ports: dict[str, int] = {}
    for pair in text.split(","):
        name, _, number = pair.partition("=")
        name = name.strip()
        if not name.isidentifier() or not number.strip().isdecimal():
            raise argparse.ArgumentTypeError(
                f"'{pair}' no es válido: usá servicio=puerto, con servicio en "
                f"{', '.join(SERVICES.names)} o uno agregado con --service."
            )
        if name in ports:  # a dict would silently keep the last one
            raise argparse.ArgumentTypeError(
                f"'{name}' aparece dos veces ({ports[name]} y {int(number)}): "
                "dale un solo puerto a cada servicio."
            )
        ports[name] = int(number)
        if not 1 <= ports[name] <= MAX_PORT:
            raise argparse.ArgumentTypeError(
                f"'{pair}' no es válido: los puertos van de 1 a {MAX_PORT} "
                "(--ports auto elige puertos libres)."
            )
    return ports


def check_port_names(ports: None | str | dict[str, int], registry: ServiceRegistry) -> None:
    """Refuse a --ports name that is no service of this run, guessing the one meant."""
    if not isinstance(ports, dict):
        return
    names = list(registry.names)
    unknown = next((name for name in ports if name not in names), None)
    if unknown is None:
        return
    guess = difflib.get_close_matches(unknown, names, n=1)
    raise ClusterError(
        f"--ports: servicio desconocido '{unknown}' (los servicios son: {', '.join(names)})"
        + (f"; ¿quisiste decir '{guess[0]}'?" if guess else ".")
    )


def parse_service(text: str) -> ServiceEntry:
    """nombre=modulo:funcion, a service added to the registry for this run (lab 6)."""
    name, _, factory = text.partition("=")
    module, _, function = factory.partition(":")
    if not name.isidentifier() or not module or not function.isidentifier():
        raise argparse.ArgumentTypeError(
            f"'{text}' no es válido: usá nombre=modulo:funcion, por ejemplo "
            "notifications=labs.lab06_nuevo_servicio.notifications:create_app."
        )
    return ServiceEntry(name, factory)


def build_parser() -> argparse.ArgumentParser:
    parser = spanish_parser("python -m microservicios.cluster", DESCRIPTION, EPILOG)
    parser.add_argument(
        "--ports",
        type=parse_ports,
        default=None,
        help="'auto' para puertos libres, o servicio=puerto,... (por defecto 8080/8001/8002/8003)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="carpeta de las bases SQLite (data)"
    )
    parser.add_argument(
        "--processes", action="store_true", help="un proceso uvicorn por servicio, en vez de hilos"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no mostrar los logs de los servicios (sí los errores)"
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="texto",
        help="texto: una línea legible por registro (por defecto); json: las líneas JSON de "
        "cada servicio, como las escribe solo, para un sistema de logs (van a stderr)",
    )
    parser.add_argument("--no-panel", action="store_true", help="no levantar el panel en vivo")
    parser.add_argument(
        "--service",
        type=parse_service,
        action="append",
        default=[],
        metavar="NOMBRE=MODULO:FUNCION",
        help="sumar un servicio más detrás del gateway (se puede repetir)",
    )
    return parser


def print_table(
    urls: dict[str, str],
    data_dir: Path,
    pids: dict[str, int] | None = None,
    panel_url: str | None = None,
) -> None:
    """One row per service (with --processes, also its process id), the panel's address,
    then where the data is: a relative --data-dir depends on the folder the cluster was
    started from."""
    pid_header = f"{'PID':<8} " if pids else ""
    print(f"{'Servicio':<10} {'URL':<26} {pid_header}Documentación")
    for name, url in urls.items():
        pid = f"{pids[name]:<8} " if pids else ""
        print(f"{name:<10} {url:<26} {pid}{url}/docs")
    if panel_url is not None:
        print(f"\nPanel en vivo: {panel_url}")
    print(f"\n{data_location(data_dir, urls)}")
    print("Ctrl-C para detener.", flush=True)


class StopRequest:
    """Set by a stop signal, read by the main loop (so a signal during a start acts once the
    start, which has a deadline, is over). A flag, not an exception as Ctrl-C raises by
    default: an exception can land between any two steps, even inside a `subprocess.Popen`'s
    bookkeeping, and leave a child that can no longer be waited for."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def listen(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._receive)

    def _receive(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum


def build_cluster(args: argparse.Namespace, registry: ServiceRegistry) -> BaseCluster:
    """The cluster the options ask for, not started yet."""
    if args.processes:
        ports = resolve_ports(args.ports, registry)
        return ProcessCluster(
            ports,
            args.data_dir,
            quiet=args.quiet,
            registry=registry,
            hold_output=True,
            json_logs=args.log_format == "json",
            panel=not args.no_panel,
            announce=lambda line: print(line, flush=True),
        )
    return Cluster(
        ports=args.ports,
        data_dir=args.data_dir,
        echo_logs=False,  # serve() starts the echo once the table is printed
        factories={entry.name: entry.factory for entry in args.service},
        panel=not args.no_panel,
    )


def serve(cluster: BaseCluster, stop: StopRequest, echo: LogSink | None) -> bool:
    """Start the cluster, print its table, then show its logs (threads mode echoes them to
    `echo`; --processes lets its children's through) and keep it up until a stop signal,
    reporting the children that die and get restarted. False if a stop signal came while it
    was starting (then there is no table)."""
    cluster.start()
    if stop.signal is not None:
        return False
    print(f"{cluster.title}:\n")
    panel_url = cluster.panel_url() if cluster.has_panel else None
    print_table(cluster.urls(), cluster.data_dir, cluster.pids(), panel_url)
    cluster.show_logs(echo)
    while stop.signal is None:
        for died in cluster.supervise():
            print(died.message(), flush=True)
        time.sleep(TICK_S)
    return True


def explain(exc: ClusterError | UnsupportedDatabaseError) -> str:
    """The error line for a terminal: the fix is a command-line option, not Python."""
    if isinstance(exc, PortUnavailableError):
        return exc.message(fix="usá --ports auto (puertos libres)")
    return str(exc)


def check_options(args: argparse.Namespace, registry: ServiceRegistry) -> None:
    """Refuse, before anything starts, a --ports, --service or --data-dir the services
    would fail on."""
    check_port_names(args.ports, registry)
    for entry in args.service:
        check_factory(entry)
    if uses_data_dir(registry, args.data_dir):
        check_data_dir(args.data_dir)


def log_echo(args: argparse.Namespace) -> LogSink:
    """Where threads mode echoes its logs: stderr (as a service alone), readable or JSON;
    with --quiet only the errors, as --processes shows them."""
    sink = StreamSink() if args.log_format == "json" else ReadableSink()
    return errors_only(sink) if args.quiet else sink


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stop = StopRequest()
    stop.listen()
    registry = SERVICES.with_services(*args.service)
    try:
        check_options(args, registry)
        cluster = build_cluster(args, registry)
    except (ClusterError, UnsupportedDatabaseError) as exc:
        print(f"Error: {explain(exc)}", file=sys.stderr)
        return 1
    try:
        served = serve(cluster, stop, log_echo(args))
    except (ClusterError, UnsupportedDatabaseError) as exc:  # start() undid what it started
        print(f"Error: {explain(exc)}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()
    if not served:
        print("Arranque interrumpido: detuve los servicios que llegaron a arrancar.", flush=True)
        return INTERRUPTED_EXIT
    print("Cluster detenido.", flush=True)
    return 0
