"""`python -m microservicios.serve users --host 0.0.0.0 --port 8000`: one service in the
foreground, as a container or a Kubernetes pod runs it (the service may also come from the
SERVICE variable). Settings come from the environment, as for any service."""

import os
import sys

from microservicios.common.cli import port_number, spanish_parser
from microservicios.common.registry import SERVICES
from microservicios.common.secrets import UnsafeSecretError, check_secret
from microservicios.common.settings import Settings
from microservicios.serve.errors import PortUnavailableError
from microservicios.serve.schema_check import exit_unless_database_is_ready
from microservicios.serve.uvicorn_server import run_service

DESCRIPTION = """\
Levanta un solo servicio en primer plano, como lo corre un contenedor o un pod de
Kubernetes. Los ajustes (URLs de los otros servicios, bases de datos, secreto) se leen
del entorno, como siempre."""


def main(argv: list[str] | None = None) -> int:
    parser = spanish_parser("python -m microservicios.serve", DESCRIPTION)
    parser.add_argument(
        "service",
        nargs="?",
        default=os.environ.get("SERVICE"),
        metavar="SERVICIO",
        help=f"cuál: {', '.join(SERVICES.names)} (o la variable SERVICE)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="dirección (0.0.0.0 en un contenedor)")
    parser.add_argument("--port", type=port_number, default=8000, help="puerto (8000)")
    args = parser.parse_args(argv)
    known = ", ".join(SERVICES.names)
    if not args.service:
        parser.error(f"falta el servicio: elegí uno de {known} (o poné la variable SERVICE)")
    if args.service not in SERVICES.names:
        parser.error(f"servicio desconocido: {args.service!r}; elegí uno de {known}")
    exit_unless_database_is_ready(args.service)
    try:
        # The app refuses too, but inside uvicorn's lifespan, which adds a traceback.
        check_secret(Settings(), args.host)
    except UnsafeSecretError as refusal:  # the fix is in the environment
        print(f"Error: {refusal}", file=sys.stderr)
        return 1
    try:
        run_service(SERVICES[args.service].import_path, args.host, args.port, args.service)
    except PortUnavailableError as exc:
        print(f"Error: {exc.message(fix='elegí otro con --port')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
