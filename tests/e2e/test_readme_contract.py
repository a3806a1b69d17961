"""The README's schemathesis commands, run as written from the project folder against a
started cluster, for each service: they run cleanly, with no warning about the config."""

import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest

from microservicios import Cluster
from microservicios.common.registry import SERVICES
from tests import helpers

README = (helpers.REPO_ROOT / "README.md").read_text(encoding="utf-8")
SECRET = "mi-secreto-de-prueba"  # the one the README tells you to start the cluster with
RUN_TIMEOUT_S = 300


def readme_commands() -> list[list[str]]:
    """The `schemathesis run` commands of the README's contract block, as argument lists."""
    section = README.split("**prueba de contrato**", 1)[1].split("```bash\n", 1)[1]
    block = section.split("```", 1)[0].replace("\\\n", " ")
    lines = [line.strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("schemathesis run")]


def for_service(command: list[str], service: str, cluster: Cluster) -> list[str]:
    """The README's command for users pointed at `service`, as its comment says («items en
    :8002 y orders en :8003»), with this cluster's ports."""
    swaps = {
        "http://127.0.0.1:8001": cluster.url(service),
        "http://127.0.0.1:8080": cluster.url("gateway"),
        "^/users/": f"^/{service}/",
    }
    swapped = []
    for argument in command:
        for old, new in swaps.items():
            argument = argument.replace(old, new)
        swapped.append(argument)
    return swapped


@pytest.fixture(scope="module")
def readme_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A cluster started with the README's SERVICE_SECRET."""
    running = helpers.make_cluster(
        tmp_path_factory.mktemp("readme-contract"), service_secret=SECRET, **helpers.PATIENT
    )
    running.start()
    try:
        yield running
    finally:
        helpers.settle_and_stop(running)


def test_readme_has_both_schemathesis_commands():
    """The block has the direct command and the one through the gateway."""
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert any("--url" in command for command in commands)


@pytest.mark.parametrize("which", ["direct", "gateway"])
@pytest.mark.parametrize("service", SERVICES.backends)
def test_readme_schemathesis_command_runs_cleanly(readme_cluster, service, which):
    """From the project folder, with one example per operation: it passes, and schemathesis
    prints no «Unmatched filters» (a filter of schemathesis.toml that matches nothing)."""
    [command] = [c for c in readme_commands() if ("--url" in c) == (which == "gateway")]
    command = for_service(command, service, readme_cluster)
    command[command.index("--max-examples") + 1] = "1"
    executable = [sys.executable, "-m", "schemathesis.cli"]
    finished = subprocess.run(
        [*executable, *command[1:], "--generation-database", "none", "--no-color"],
        cwd=helpers.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert "Unmatched filters" not in output, output[-6000:]
    assert finished.returncode == 0, output[-6000:]
