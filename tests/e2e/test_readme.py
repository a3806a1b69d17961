"""The README tells the truth: its Python example prints what it says, every time."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import subprocess_env

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CLUSTER_API = (
    "fresh", "settings", "breaker_factory", "factories", "app_options", "echo_logs",
    "inject", "heal", "trace", "breaker_transitions", "marks",
)  # fmt: skip


def python_example() -> str:
    section = README.split("### Desde Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def promised_output(code: str) -> list[str]:
    """What each print's trailing comment says it prints."""
    return [line.split("# ", 1)[1].strip() for line in code.splitlines() if "print(" in line]


@pytest.mark.parametrize("run", [1, 2])
def test_python_example_prints_what_its_comments_say(tmp_path_factory, run):
    """Run twice in the same folder, the example prints exactly what its comments promise."""
    folder = tmp_path_factory.getbasetemp() / "readme-example"
    folder.mkdir(exist_ok=True)
    code = python_example()
    finished = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=subprocess_env(), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.splitlines() == promised_output(code)


def test_readme_documents_the_cluster_api_and_the_venv_package():
    """Every Cluster option and method the notebooks and labs use is in the README, and so
    is Debian/Ubuntu's python3-venv; no mention of a document students do not have."""
    missing = [
        name for name in CLUSTER_API if f"`{name}" not in README and f" {name}(" not in README
    ]
    assert missing == []
    assert "python3 -m venv" in README and "python3-venv" in README
    assert "documento original" not in README
