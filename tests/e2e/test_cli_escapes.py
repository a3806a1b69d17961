"""A request path full of terminal escapes cannot drive the terminal the CLI prints to.

`GET /users/%1b[2J...` used to reach the CLI's readable lines as raw ESC and BEL: the
screen cleared, the window renamed, earlier lines overwritten by forged ones.
"""

import json
import os
import re
import subprocess

import pytest

from tests.helpers import LineReader, raw_request, start_cli, stop_cli

GATEWAY_ROW = re.compile(r"^\s*gateway\s+(http://127\.0\.0\.1:\d+)")
# Clear the screen, retitle the window (OSC ... BEL), a C1 CSI (U+009B) in red, DEL, NUL.
HOSTILE_PATH = "/users/%1b[2J%1b]0;PWNED%07%c2%9b31mforged%7f%00end"
# What a terminal would obey: C0 (a line's own \n aside), DEL and C1.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def output_after_a_hostile_request(tmp_path, *options: str) -> tuple[str, list[str]]:  # noqa: ANN001
    """Everything the CLI printed (stdout and stderr) around one hostile request through the
    gateway, and the lines that mention it."""
    process = start_cli(
        tmp_path,
        *["--ports", "auto", "--no-panel", "--data-dir", str(tmp_path / "data"), *options],
        stderr=subprocess.STDOUT,  # one stream, as a terminal shows it
        encoding="utf-8",
        errors="backslashreplace",  # a stray byte would show, not hide
    )
    try:
        reader = LineReader(process.stdout)
        gateway = reader.wait_for(GATEWAY_ROW, seconds=60)
        assert gateway, reader.seen
        answer = raw_request(gateway.group(1), "GET", HOSTILE_PATH)
        assert answer.status in (404, 422), answer
        assert reader.wait_for(re.compile("PWNED"), seconds=30), reader.seen
    finally:
        stop_cli(process)
    output = reader.rest(10)
    return output, [line for line in output.splitlines() if "PWNED" in line]


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_readable_lines_show_control_characters_escaped(tmp_path, mode):
    """No control character of the path reaches the terminal; the line shows each one as
    a visible escape (\\x1b, \\x07, \\x9b, \\x7f, \\x00) instead."""
    output, lines = output_after_a_hostile_request(tmp_path, *mode)
    assert not [line for line in output.splitlines() if CONTROL.search(line)]
    assert any(
        r"path=/users/\x1b[2J\x1b]0;PWNED\x07\x9b31mforged\x7f\x00end" in line for line in lines
    ), lines


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_json_lines_carry_control_characters_as_json_escapes(tmp_path, mode):
    """--log-format json: no raw control character either (C1 and DEL included, which
    json.dumps leaves raw); each line still parses back to the path the client sent."""
    output, lines = output_after_a_hostile_request(tmp_path, "--log-format", "json", *mode)
    assert not [line for line in output.splitlines() if CONTROL.search(line)]
    paths = {json.loads(line).get("path") for line in lines}
    assert "/users/\x1b[2J\x1b]0;PWNED\x07\x9b31mforged\x7f\x00end" in paths, lines
