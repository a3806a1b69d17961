"""The README's first command on a venv that has only `pip install -e .`: start, one order, stop.

Run by .ci/run before the test extra is installed, so a runtime dependency that only a test
dependency brings in (greenlet through Playwright, once) fails here instead of hiding.
Standard library only; every request goes to 127.0.0.1; bounded in time.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

START_DEADLINE_S = 60
STOP_DEADLINE_S = 30
GATEWAY_LINE = re.compile(r"^gateway\s+(http://127\.0\.0\.1:\d+)", re.MULTILINE)


def request(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def read_output(process: subprocess.Popen, lines: list[str]) -> None:
    for line in process.stdout:
        lines.append(line)


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="first-command-")
    process = subprocess.Popen(
        [sys.executable, "-m", "microservicios.cluster", *sys.argv[1:]],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    threading.Thread(target=read_output, args=(process, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        match = None
        while match is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            match = GATEWAY_LINE.search("".join(lines))
        if match is None:
            raise RuntimeError("the cluster printed no gateway URL")
        gateway = match.group(1)
        status, user = request(
            "POST", f"{gateway}/users/", {"name": "Ana", "email": "ana@example.com"}
        )
        assert status == 201, (status, user)
        status, item = request(
            "POST", f"{gateway}/items/", {"sku": "SKU-1", "name": "Taza", "stock": 3}
        )
        assert status == 201, (status, item)
        order_body = {"user_id": user["id"], "item_sku": "SKU-1", "qty": 1}
        status, order = request("POST", f"{gateway}/orders/", order_body)
        assert status == 201 and order["status"] == "CREATED", (status, order)
        print(f"first command: order {order['id']} created through {gateway}")
    except BaseException:
        process.kill()
        process.wait()
        sys.stdout.write("".join(lines))
        raise
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        sys.stdout.write("".join(lines))
        print("first command: the cluster did not stop after Ctrl-C")
        return 1
    time.sleep(0.2)
    output = "".join(lines)
    if code != 0 or "Cluster detenido." not in output or "Traceback" in output:
        sys.stdout.write(output)
        print(f"first command: exit code {code}")
        return 1
    print("first command: started, answered and stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
