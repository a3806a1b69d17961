"""The README's shell commands, run as a student runs them: the curl block says what a
second run answers (the data stays), curl shows its errors, and the container example
starts as written."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import free_port, make_cluster, subprocess_env
from tests.unit.test_readme_windows import Block, blocks, paired, read

README = read("README.md")


def section(title: str) -> str:
    return README.split(f"### {title}", 1)[1].split("\n### ", 1)[0]


def curl_commands() -> list[list[str]]:
    """Every curl command line in the README's code blocks, split as a shell would."""
    return [
        shlex.split(line)
        for block in blocks(README)
        for line in block.commands()
        if line.startswith("curl ")
    ]


def test_silent_curls_still_show_their_errors():
    """`curl -s` alone prints nothing when the cluster is not running: every silent curl
    also has -S, so «Failed to connect» reaches the student."""
    commands = curl_commands()
    assert commands
    for words in commands:
        flags = "".join(w[1:] for w in words if re.fullmatch(r"-[a-zA-Z]+", w))
        if "s" in flags:
            assert "S" in flags, shlex.join(words)


def run_curl_block(block: Block, gateway: str, orders: str) -> str:
    script = block.text.replace("localhost:8080", gateway.removeprefix("http://"))
    script = script.replace("localhost:8003", orders.removeprefix("http://"))
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_curl_block_says_what_a_second_run_answers(tmp_path):
    """Run twice on one cluster: the first time the stock falls to 8; the second, users and
    items are 409 «Ya existe», the key gives back the order (now CANCELLED) and the stock
    is 10. The paragraph before the block says so, and how to start afresh."""
    text = section("Sin /docs: con curl")
    [(bash, _powershell)] = paired(text)
    before = text.split("```", 1)[0]
    for promise in ("--data-dir", "409", "CANCELLED", "10", "Idempotency-Key"):
        assert promise in before, promise
    cluster = make_cluster(tmp_path)
    cluster.start()
    try:
        runs = [
            run_curl_block(bash, cluster.url("gateway"), cluster.url("orders")) for _ in range(2)
        ]
    finally:
        cluster.stop()
    first, second = runs
    assert '"stock":8' in first and "Ya existe" not in first
    assert second.count("Ya existe") == 2, second
    assert '"status":"CANCELLED"' in second.split('"stock"', 1)[0], second
    assert '"stock":10' in second


def container_command() -> str:
    """The first command of «Un servicio solo» that starts users with `serve` on 0.0.0.0,
    in a code block or inline, as one line."""
    text = section("Un servicio solo")
    spans = [line for block in blocks(text) for line in block.commands()]
    outside_blocks = re.sub(r"```.*?```", "", text, flags=re.S)
    spans += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", outside_blocks)]
    return next(span for span in spans if "microservicios.serve users --host 0.0.0.0" in span)


def test_the_container_example_starts_as_written(tmp_path):
    """The README's `serve users --host 0.0.0.0` command, run in bash without a secret of
    one's own in the environment: the service starts and answers /health/live."""
    port = free_port()
    command = container_command().replace("--port 8000", f"--port {port}")
    # `python` in the README is the venv's, as in a student's activated venv.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=tmp_path, env=subprocess_env(DATA_DIR="data", PATH=path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    live = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None and live is None:
            try:
                live = httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # bash and the service it started
        output, _ = process.communicate(timeout=30)
    assert live is not None and live.status_code == 200, output


def test_the_container_example_has_its_powershell_form():
    """Next to it, the same command for PowerShell, the secret set with $env: first."""
    bash_command = container_command()
    text = section("Un servicio solo")
    [powershell] = [b for b in blocks(text) if b.language == "powershell" and "serve" in b.text]
    lines = powershell.commands()
    assert lines[0].startswith("$env:SERVICE_SECRET = "), lines
    assert bash_command.endswith(lines[-1]), (bash_command, lines)
