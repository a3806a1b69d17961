"""What the command-line tools share: argparse speaking Spanish, in help and in errors."""

import argparse
import re
import sys
from typing import NoReturn

# argparse's own error texts (Python 3.11 to 3.13), most specific first; anything not
# listed here is printed as argparse wrote it.
ERROR_TRANSLATIONS = (
    (r"^argument (\S+): ", r"argumento \1: "),
    (r"the following arguments are required: ", "faltan argumentos obligatorios: "),
    (r"unrecognized arguments: ", "argumentos desconocidos: "),
    (r"invalid choice: (.*) \(choose from (.*)\)$", r"opción inválida: \1 (elegí entre \2)"),
    (r"invalid int value: (.*)$", r"\1 no es un número entero"),
    (r"invalid float value: (.*)$", r"\1 no es un número"),
    (r"invalid (\w+) value: (.*)$", r"valor inválido: \2"),
    (r"expected one argument", "falta su valor"),
    (r"expected at least one argument", "falta al menos un valor"),
    (r"expected at most one argument", "sobra un valor"),
    (r"expected (\d+) arguments?", r"se esperaban \1 valores"),
    (r"ambiguous option: (\S+) could match (.*)$", r"opción ambigua: \1 puede ser \2"),
    (r"not allowed with argument (.*)$", r"no se puede usar junto con \1"),
    (r"one of the arguments (.*) is required", r"hace falta uno de estos argumentos: \1"),
    (r"ignored explicit argument (.*)$", r"se ignoró el valor \1"),
)


MAX_PORT = 65535


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535 (a bigger one would wrap around, and 0
    means any free port, which nobody could then find)."""
    if not text.strip().isdecimal() or not 1 <= int(text) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"'{text}' no es un puerto: van de 1 a {MAX_PORT}")
    return int(text)


def translate_error(message: str) -> str:
    """argparse's English error message, in Spanish where we know the phrase."""
    for pattern, replacement in ERROR_TRANSLATIONS:
        message = re.sub(pattern, replacement, message)
    return message


class SpanishHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, with "uso:" instead of "usage:"."""

    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001, ANN201
        # An empty prefix is how argparse builds a subcommand's prog: keep it empty.
        return super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class SpanishArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are in Spanish; subcommands inherit it."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._optionals.title = "opciones"
        self._positionals.title = "argumentos"
        self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")

    def add_subparsers(self, **kwargs) -> argparse._SubParsersAction:  # noqa: ANN003
        kwargs.setdefault("title", "comandos")
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        """Usage and a Spanish error line on stderr, exit 2 (as argparse does, translated)."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {translate_error(message)}\n")


def spanish_parser(
    prog: str, description: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """An ArgumentParser whose help texts (titles, -h) and errors are in Spanish."""
    return SpanishArgumentParser(prog=prog, description=description, epilog=epilog)
