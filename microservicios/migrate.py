"""`python -m microservicios.migrate orders`: bring one service's database to the newest
schema, as a deployment step of its own (a Kubernetes Job, a compose one-shot)."""

import sys

from sqlalchemy.exc import SQLAlchemyError

from microservicios.common.cli import spanish_parser
from microservicios.common.settings import Settings
from microservicios.migrations import SERVICES_WITH_DATABASE, upgrade

DESCRIPTION = """\
Aplica las migraciones de un servicio a su base de datos (la de <SERVICIO>_DATABASE_URL,
o su archivo SQLite en DATA_DIR), hasta la versión más nueva. Se puede correr las veces
que haga falta: lo que ya está aplicado no se vuelve a aplicar."""


def main(argv: list[str] | None = None) -> int:
    parser = spanish_parser("python -m microservicios.migrate", DESCRIPTION)
    parser.add_argument("service", choices=SERVICES_WITH_DATABASE, metavar="SERVICIO",
                        help=f"cuál: {', '.join(SERVICES_WITH_DATABASE)}")  # fmt: skip
    args = parser.parse_args(argv)
    url = Settings().database_url(args.service)
    try:
        upgrade(args.service, url)
    except SQLAlchemyError as exc:
        print(
            f"Error: no se pudo migrar la base de '{args.service}': {type(exc).__name__}: "
            f"{exc.args[0] if exc.args else exc}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"Error: no se pudo conectar con la base de '{args.service}': {exc}", file=sys.stderr)
        return 1
    print(f"Base de datos de '{args.service}' al día.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
