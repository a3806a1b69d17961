"""`python -m microservicios.cluster` (the command line itself is in cli.py).

Ctrl-C is caught before anything heavy is imported: loading FastAPI takes about a second,
and a Ctrl-C then would otherwise print an English KeyboardInterrupt traceback.
"""

import os
import signal
import sys
from types import FrameType

INTERRUPTED_EXIT = 130  # the shell's code for "stopped by Ctrl-C"


def interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C before the cluster code is loaded: nothing has started, nothing to stop.

    It exits at once rather than raise: raised in the middle of a compiled module's own
    start (pydantic_core's, say), an exception turns into that module's crash report.
    """
    print("Arranque interrumpido (Ctrl-C): no quedó nada en marcha.", file=sys.stderr)
    sys.stderr.flush()
    os._exit(INTERRUPTED_EXIT)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, interrupted_while_loading)
    from microservicios.cluster.cli import main

    sys.exit(main())
