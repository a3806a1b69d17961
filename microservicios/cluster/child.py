"""One service of `--processes`: `python -m microservicios.cluster.child <factory> <host> <port>`.

It serves like `python -m uvicorn <factory> --factory` and also exits when the launcher is
gone, however the launcher ended (even `kill -9` or a crash), so no service keeps serving
alone. How it knows: the launcher holds the only other end of this process's stdin, and the
operating system closes that end when the launcher dies, so reading stdin hits "end of file".
That works the same on Linux, macOS and Windows, with no polling, and without a parent pid
that the system might give to another process. (Run by hand, Ctrl-D does the same.)

It ignores Ctrl-C: a terminal sends it to the launcher and to every child at once, and the
launcher stops its children itself (SIGTERM), so a child's own reaction (a traceback while
loading, uvicorn's "stop now" at a second Ctrl-C) would only print noise.
"""

import os
import signal
import sys
import threading
import time

GRACE_S = 5.0


def exit_when_launcher_is_gone() -> None:
    """Wait until stdin is closed, then stop gracefully (as `kill` would ask), or for sure."""
    while os.read(sys.stdin.fileno(), 1024):  # not sys.stdin: its lock would block our exit
        pass
    signal.raise_signal(signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)  # the graceful stop did not finish in time


def main(factory: str, host: str, port: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # first: loading the app takes a second
    from microservicios.serve.errors import PortUnavailableError
    from microservicios.serve.uvicorn_server import run_service

    threading.Thread(target=exit_when_launcher_is_gone, daemon=True).start()
    try:
        run_service(factory, host, int(port), ctrl_c=False)
    except PortUnavailableError as exc:  # taken since the launcher checked it: say so, briefly
        print(f"Error: no se pudo abrir el puerto {exc.port}: {exc.reason}.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:])
