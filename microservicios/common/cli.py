"""What the command-line tools share: argparse speaking Spanish."""

import argparse


class SpanishHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, with "uso:" instead of "usage:"."""

    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001, ANN201
        return super().add_usage(usage, actions, groups, prefix or "uso: ")


def spanish_parser(
    prog: str, description: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """An ArgumentParser whose help texts (titles, -h) are in Spanish."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=SpanishHelpFormatter,
        add_help=False,
    )
    parser._optionals.title = "opciones"
    parser._positionals.title = "comandos"
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    return parser
